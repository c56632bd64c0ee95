"""CPU memory: large outputs, and batches split into cache-sized blocks.

On Linux the C library serves a request of 32 MiB or more with newly mapped memory, which the
kernel then fills page by page, 4 KiB at a time, on the first write: for a float32 batch of
64x3x224x224 (38.5 MB), allocating the output costs more than copying the batch into it.
:func:`empty` asks the kernel to back such a tensor with 2 MiB transparent huge pages
(``madvise(MADV_HUGEPAGE)``, what PyTorch's ``THP_MEM_ALLOC_ENABLE=1`` does for all its large
allocations), so it is filled in a few hundred steps instead of ten thousand. This touches only the
memory of the new tensor: no allocator setting of the process changes. Elsewhere (other systems,
smaller tensors, other devices, huge pages disabled, code being compiled by ``torch.compile``) it
is plain ``torch.empty``.
"""

from __future__ import annotations

import ctypes
import sys

import torch

__all__ = ["empty", "block_bounds", "HUGE_PAGE_MIN_BYTES"]

HUGE_PAGE_MIN_BYTES = 32 << 20
"""Tensors from this size on (the largest threshold of glibc's ``malloc`` for fresh mappings) get
huge pages."""

_HUGE_PAGE = 2 << 20
_MADV_HUGEPAGE = 14


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


def empty(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device | str = "cpu") -> torch.Tensor:
    """``torch.empty(shape, dtype=dtype, device=device)``, backed by huge pages where that helps
    (see the module doc).

    >>> empty((2, 3), torch.float32).shape
    torch.Size([2, 3])
    """
    out = torch.empty(shape, dtype=dtype, device=device)
    size = out.numel() * out.element_size()
    if (_madvise is not None and out.device.type == "cpu" and size >= HUGE_PAGE_MIN_BYTES
            and not torch.compiler.is_compiling()):
        start = -(-out.data_ptr() // _HUGE_PAGE) * _HUGE_PAGE  # whole huge pages inside the tensor
        end = (out.data_ptr() + size) // _HUGE_PAGE * _HUGE_PAGE
        _madvise(start, end - start, _MADV_HUGEPAGE)  # advice only: a refusal changes nothing
    return out


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
