"""How CPU batches are executed: in cache-sized blocks, into outputs from a buffer cache.

This is augkit's one CPU execution policy; transforms and kernels know nothing of it.

**Blocks.** A CPU batch larger than :data:`TILE_BYTES` (counted as float32 at the larger of the
input and output sizes, about a core's L2 cache) given to a transform registered with
:func:`in_blocks` is transformed in blocks of whole images of about that size (at least two
each), every block one vectorized call with its slice of the params, written into one output
allocated once. Those are transforms that make several passes over the pixels (resampling with
float intermediates, warps); a container of several transforms runs its whole chain on a block
before the next, so the intermediates stay in the caches instead of mapping fresh pages. Each
image's result depends only on that image and its params, so the output is the same as in one
call; a transform whose kernel sees the whole batch at once is registered with
:func:`whole_batch`, and a container holding one is not split. Measured with one thread on a
64-image float batch: RandomResizedCrop 2.5x (224 px input) to 4.3x (375x500), the float train
pipeline 1.8x; a single-pass transform would only gain a copy, and RandAugment, whose ops
group the images of a block, loses 15%, so neither is split. Other devices always get one call.

**Buffers.** On Linux the C library serves a request of 32 MiB or more with newly mapped memory,
which the kernel then fills page by page, 4 KiB at a time, on the first write, and unmaps again
when the tensor is freed: for a float32 batch of 64x3x224x224 (38.5 MB), allocating the output
costs more than copying the batch into it, on every call. :func:`empty` serves such CPU tensors
from a small cache of buffers instead, as PyTorch's caching allocator does on a GPU: a buffer is
handed out again only once no tensor uses it any more (its reference count says so, so a tensor
still held anywhere, a view of it or an array made from it, is never overwritten). New buffers
are backed by 2 MiB transparent huge pages (``madvise(MADV_HUGEPAGE)``), so that even the first
use is filled in a few hundred steps instead of ten thousand. Idle buffers take at most
:data:`CACHE_MAX_BYTES`; :func:`clear_cache` frees them. Elsewhere (smaller tensors, other
devices, code being compiled by ``torch.compile``) it is plain ``torch.empty``.
"""

from __future__ import annotations

import ctypes
import math
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch

from .config import child_transforms

if TYPE_CHECKING:
    from .image import ImageSpec
    from .params import Params
    from .transform import Transform

__all__ = ["CACHE_MAX_BYTES", "HUGE_PAGE_MIN_BYTES", "TILE_BYTES", "block_bounds", "clear_cache", "empty",
           "in_blocks", "run_batch", "whole_batch"]

TILE_BYTES = 1 << 22
"""CPU batches above this many bytes go to :func:`in_blocks` transforms in blocks (module doc)."""

HUGE_PAGE_MIN_BYTES = 32 << 20
"""Tensors from this size on (the largest threshold of glibc's ``malloc`` for fresh mappings) come
from the cache of huge-page buffers."""

CACHE_MAX_BYTES = 1 << 30
"""The most bytes of buffers the cache keeps (in use or idle)."""

_HUGE_PAGE = 2 << 20
_MADV_HUGEPAGE = 14
_ALIGN = 64  # a cache line: vector loads never straddle two


def _load_madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    madvise.restype = ctypes.c_int
    return madvise


_madvise = _load_madvise()


def _new_buffer(nbytes: int) -> np.ndarray:
    """``nbytes`` of fresh, cache-line aligned memory, advised huge pages where the system has them."""
    raw = np.empty(nbytes + _ALIGN, dtype=np.uint8)
    skip = -raw.ctypes.data % _ALIGN
    buffer = raw[skip:skip + nbytes]
    if _madvise is not None:
        start = -(-buffer.ctypes.data // _HUGE_PAGE) * _HUGE_PAGE  # whole huge pages inside it
        end = (buffer.ctypes.data + nbytes) // _HUGE_PAGE * _HUGE_PAGE
        if end > start:
            _madvise(start, end - start, _MADV_HUGEPAGE)  # advice only: a refusal changes nothing
    return buffer


class _BufferCache:
    """Large buffers, reused once idle: a buffer is idle when the cache holds the only reference
    to it (a tensor made by ``torch.from_numpy`` holds one until its storage is freed)."""

    def __init__(self) -> None:
        self._buffers: list[np.ndarray] = []  # least recently handed out first
        self._lock = threading.Lock()
        self._probe = [np.empty(0)]  # the reference count of an idle buffer, read the same way

    def _idle(self, i: int) -> bool:
        return sys.getrefcount(self._buffers[i]) <= sys.getrefcount(self._probe[0])

    def take(self, nbytes: int) -> np.ndarray:
        with self._lock:
            for i in reversed(range(len(self._buffers))):  # the most recently used: warm in the caches
                if self._buffers[i].nbytes == nbytes and self._idle(i):
                    self._buffers.append(self._buffers.pop(i))
                    return self._buffers[-1]
            total = nbytes + sum(b.nbytes for b in self._buffers)
            i = 0
            while total > CACHE_MAX_BYTES and i < len(self._buffers):  # evict the least recently used idle ones
                if self._idle(i):
                    total -= self._buffers.pop(i).nbytes
                else:
                    i += 1
            buffer = _new_buffer(nbytes)
            if total <= CACHE_MAX_BYTES:
                self._buffers.append(buffer)
            return buffer

    def clear(self) -> None:
        with self._lock:
            for i in reversed(range(len(self._buffers))):
                if self._idle(i):
                    del self._buffers[i]


_cache = _BufferCache()


def empty(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device | str = "cpu") -> torch.Tensor:
    """``torch.empty(shape, dtype=dtype, device=device)``, from the cache of huge-page buffers for
    large CPU tensors (see the module doc).

    >>> empty((2, 3), torch.float32).shape
    torch.Size([2, 3])
    """
    nbytes = math.prod(shape) * dtype.itemsize
    if (nbytes < HUGE_PAGE_MIN_BYTES or torch.device(device).type != "cpu"
            or torch.compiler.is_compiling()):
        return torch.empty(shape, dtype=dtype, device=device)
    return torch.from_numpy(_cache.take(nbytes)).view(dtype).view(shape)


def clear_cache() -> None:
    """Free the idle buffers of :func:`empty` (those no tensor uses)."""
    _cache.clear()


def block_bounds(n: int, image_bytes: int, block_bytes: int) -> list[int]:
    """Boundaries ``[0, ..., n]`` splitting ``n`` images of ``image_bytes`` each into blocks of
    about ``block_bytes``, as even as possible and of at least two images (one block if ``n < 4``
    or the batch is small): the blocks a CPU batch is computed in so that each stays in cache.

    >>> block_bounds(7, 100, 1)
    [0, 2, 4, 7]
    >>> block_bounds(7, 100, 10_000)
    [0, 7]
    """
    blocks = max(1, min(-(-n * image_bytes // block_bytes), n // 2))
    return [i * n // blocks for i in range(blocks + 1)]


# -- blocks -----------------------------------------------------------------------------------------

_IN_BLOCKS: set[type] = set()
_WHOLE_BATCH: set[type] = set()


def in_blocks(cls: type) -> type:
    """Class decorator: large CPU batches given to this transform are split into blocks."""
    _IN_BLOCKS.add(cls)
    return cls


def whole_batch(cls: type) -> type:
    """Class decorator: this transform's result for an image may depend on the whole batch, so
    neither it nor a container holding it is split into blocks."""
    _WHOLE_BATCH.add(cls)
    return cls


def _splits(transform: Transform) -> bool:
    """Whether a large CPU batch is worth splitting for ``transform`` (and may be)."""
    if any(cls in _WHOLE_BATCH for cls in type(transform).__mro__):
        return False
    children = [child for _, child in child_transforms(transform)]
    if not all(_per_image(child) for child in children):
        return False
    return type(transform) in _IN_BLOCKS or len(children) > 1 or any(_splits(c) for c in children)


def _per_image(transform: Transform) -> bool:
    return not any(cls in _WHOLE_BATCH for cls in type(transform).__mro__) and all(
        _per_image(child) for _, child in child_transforms(transform))


def _tile_bounds(spec: ImageSpec, out_size: tuple[int, int]) -> list[int] | None:
    """Block boundaries ``[0, ..., n]`` splitting a batch into blocks of about :data:`TILE_BYTES`
    and at least two images, or ``None`` for one block."""
    pixels = max(spec.size[0] * spec.size[1], out_size[0] * out_size[1])
    bounds = block_bounds(spec.n, spec.channels * pixels * 4, TILE_BYTES)
    return bounds if len(bounds) > 2 else None


def run_batch(transform: Transform, x: torch.Tensor, spec: ImageSpec, params: Params,
              apply: Callable[[torch.Tensor, ImageSpec, Params], torch.Tensor]) -> torch.Tensor:
    """``apply(x, spec, params)`` on the BCHW batch ``x``, block by block where the policy of the
    module doc says so."""
    bounds = None
    if x.device.type == "cpu" and spec.n >= 4:
        bounds = _tile_bounds(spec, transform.output_size(spec.size, params))
        if bounds is not None and not _splits(transform):
            bounds = None
    if bounds is None:
        return apply(x, spec, params)
    out = None
    for start, stop in zip(bounds, bounds[1:]):
        part = slice(start, stop)
        y = apply(x[part], spec._replace(n=stop - start), params[part])
        if out is None:
            out = empty((spec.n, *y.shape[1:]), y.dtype, y.device)
        out[part] = y
    return out
