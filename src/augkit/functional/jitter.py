"""Colour jitter: brightness, contrast, saturation and hue in one call, in a per-image order,
and the C backend of the four adjustments and of the jitter on CPU tensors and uint8 RGB arrays.

float32 and uint8 tensors on the CPU with 1 or 3 channels, and contiguous uint8 HWC RGB arrays
(read and written interleaved, no split into planes), are jittered by the ``c`` backend of their
rows in the kernel table (``csrc/jitter.c``, built when augkit is installed): the same float
operations as the torch code of the other devices, all the steps of an image in one or two passes
over its memory (about 10x faster on a batch). It gives the same bits, except float contrast
means, which are summed in another order (within ``1e-6``), and the uint8 hue step, computed in
units of grey levels with one reciprocal of the chroma (within one rounding, 1 level). Without a C
compiler augkit installs without it and runs the torch code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ..core import executor
from ..core.kernels import backend, numpy_kernel, op, tensor_kernel, when
from ._utils import (PerSample, broadcast_per_sample, cast_result, channels, lookup, require_channels, through_tensor,
                     work_dtype)
from .color import (adjust_brightness_numpy, adjust_contrast_numpy, adjust_hue_numpy, adjust_saturation_numpy,
                    affine_lut, check_factor, luma_mean_numpy, luma_mean_tensor, rotate_hue_work)
from .colorspace import rgb_to_gray_tensor
from .convert import max_value

try:
    from .. import _native  # the C kernel of colour jitter on CPU tensors (see csrc/jitter.c)
except ImportError:  # built without a C compiler: the torch operations compute the same
    _native = None

__all__ = ["color_jitter", "color_jitter_tensor", "color_jitter_numpy"]

JITTER_OPS = ("brightness", "contrast", "saturation", "hue")
_JITTER_IDENTITY = (1.0, 1.0, 1.0, 0.0)
_JITTER_NAMES = ("brightness", "contrast", "saturation", "hue")


# -- the C kernel of float32 and uint8 CPU tensors (see the module doc) ------------------------------

_C_TENSORS = when(device="cpu", dtypes=(torch.float32, torch.uint8), contiguous=True, plain=True,
                  test=lambda x: x.ndim >= 3 and x.shape[-3] in (1, 3), text="1/3 channels")
"""The tensors the C kernel takes (registered as the ``c`` backend of the jitter rows)."""

_C_ARRAYS = when(dtypes=(np.uint8,), channels=(3,), contiguous=True)
"""The arrays the C kernel takes, interleaved (the ``c`` backend of the array rows of the jitter,
saturation and hue; brightness and contrast alone are lookup tables)."""


def _per_image_table(values: Sequence[PerSample], n: int, x: torch.Tensor) -> np.ndarray:
    """Per-image values (numbers or CPU tensors, checked by ``broadcast_per_sample``) as a C-contiguous
    float32 ``(n, len(values))`` array (NumPy: no small torch ops for one image)."""
    columns = [np.broadcast_to(np.asarray(broadcast_per_sample(v, x, torch.float32), dtype=np.float32).reshape(-1), (n,))
               for v in values]
    return np.stack(columns, 1)


def _order_table(order: Sequence[int] | torch.Tensor, n: int) -> np.ndarray:
    """The order of each of ``n`` images as a C-contiguous int64 ``(n, 4)`` array, checked."""
    orders = np.ascontiguousarray(np.broadcast_to(np.asarray(order, dtype=np.int64).reshape(-1, 4), (n, 4)))
    if orders.size and not (orders.min() >= 0 and orders.max() < 4):
        raise ValueError(f"order lists ops 0 to 3; got {np.unique(orders).tolist()}")
    return orders


def _jitter_native(x: torch.Tensor, factors: Sequence[PerSample], order: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """The C kernel: ``factors`` (brightness, contrast, saturation, hue) applied in ``order`` to the
    images of ``x``, one after the other on one thread (parallel DataLoader workers scale; threads
    beside torch's own pool would compete with it)."""
    c, h, w = x.shape[-3:]
    n = math.prod(x.shape[:-3])
    table, orders = _per_image_table(factors, n, x), _order_table(order, n)
    out = executor.empty(tuple(x.shape), x.dtype)
    _native.color_jitter(x.data_ptr(), out.data_ptr(), n, c, h * w, table.ctypes.data, orders.ctypes.data,
                         x.dtype == torch.uint8, False)
    return out


def _jitter_native_hwc(x: np.ndarray, factors: Sequence[float], order: Sequence[int]) -> np.ndarray:
    """The C kernel on a contiguous HWC RGB array, read and written interleaved: the same values as
    on its planes."""
    table, orders = np.array([factors], dtype=np.float32), _order_table(order, 1)
    out = np.empty_like(x)
    _native.color_jitter(x.ctypes.data, out.ctypes.data, 1, 3, x.shape[0] * x.shape[1], table.ctypes.data,
                         orders.ctypes.data, x.dtype == np.uint8, True)
    return out


def _one_op(op: int, factor: PerSample) -> list[PerSample]:
    """The jitter factors of one op (0 brightness, 1 contrast, 2 saturation, 3 hue), the others at identity."""
    factors: list[PerSample] = list(_JITTER_IDENTITY)
    factors[op] = factor
    return factors


def _check_jitter(x: torch.Tensor | np.ndarray, factors: Sequence[PerSample]) -> None:
    require_channels(x, "color_jitter")
    for value, name, low, high in zip(factors, _JITTER_NAMES, (0.0, 0.0, 0.0, -0.5), (None, None, None, 0.5)):
        check_factor(value, name, low, high)


if _native is not None:
    @backend("color_jitter", "tensor", "c", _C_TENSORS)
    def _color_jitter_c(x: torch.Tensor, brightness: PerSample = 1.0, contrast: PerSample = 1.0,
                        saturation: PerSample = 1.0, hue: PerSample = 0.0,
                        order: Sequence[int] | torch.Tensor = (0, 1, 2, 3)) -> torch.Tensor:
        _check_jitter(x, (brightness, contrast, saturation, hue))
        return _jitter_native(x, (brightness, contrast, saturation, hue), order)

    @backend("color_jitter", "numpy", "c", _C_ARRAYS)
    def _color_jitter_c_hwc(x: np.ndarray, brightness: float = 1.0, contrast: float = 1.0, saturation: float = 1.0,
                            hue: float = 0.0, order: Sequence[int] = (0, 1, 2, 3)) -> np.ndarray:
        factors = (float(brightness), float(contrast), float(saturation), float(hue))
        _check_jitter(x, factors)
        return _jitter_native_hwc(x, factors, order)

    @backend("adjust_brightness", "tensor", "c", _C_TENSORS)
    def _adjust_brightness_c(x: torch.Tensor, factor: PerSample) -> torch.Tensor:
        check_factor(factor, "factor")
        return _jitter_native(x, _one_op(0, factor), (0, 1, 2, 3))

    @backend("adjust_contrast", "tensor", "c", _C_TENSORS)
    def _adjust_contrast_c(x: torch.Tensor, factor: PerSample) -> torch.Tensor:
        check_factor(factor, "factor")
        return _jitter_native(x, _one_op(1, factor), (0, 1, 2, 3))

    @backend("adjust_saturation", "tensor", "c", _C_TENSORS)
    def _adjust_saturation_c(x: torch.Tensor, factor: PerSample) -> torch.Tensor:
        require_channels(x, "adjust_saturation", (3,))
        check_factor(factor, "factor")
        return _jitter_native(x, _one_op(2, factor), (0, 1, 2, 3))

    @backend("adjust_saturation", "numpy", "c", _C_ARRAYS)
    def _adjust_saturation_c_hwc(x: np.ndarray, factor: float) -> np.ndarray:
        check_factor(factor, "factor")
        return _jitter_native_hwc(x, _one_op(2, float(factor)), (0, 1, 2, 3))

    @backend("adjust_hue", "tensor", "c", _C_TENSORS)
    def _adjust_hue_c(x: torch.Tensor, factor: PerSample) -> torch.Tensor:
        require_channels(x, "adjust_hue", (3,))
        check_factor(factor, "factor", -0.5, 0.5)
        return _jitter_native(x, _one_op(3, factor), (0, 1, 2, 3))

    @backend("adjust_hue", "numpy", "c", _C_ARRAYS)
    def _adjust_hue_c_hwc(x: np.ndarray, factor: float) -> np.ndarray:
        check_factor(factor, "factor", -0.5, 0.5)
        return _jitter_native_hwc(x, _one_op(3, float(factor)), (0, 1, 2, 3))


# -- colour jitter ------------------------------------------------------------------------------------



def _jitter_schedule(factors: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """``(n, 4 positions, 4 ops)``: the factor of op k where image i runs it at that position,
    the identity elsewhere."""
    ops = torch.arange(4, device=order.device)
    chosen = order.to(torch.long).unsqueeze(-1) == ops
    identity = torch.tensor(_JITTER_IDENTITY, dtype=factors.dtype, device=factors.device)
    return torch.where(chosen, factors.T.unsqueeze(1), identity)


@tensor_kernel("color_jitter")
def color_jitter_tensor(x: torch.Tensor, brightness: PerSample = 1.0, contrast: PerSample = 1.0,
                        saturation: PerSample = 1.0, hue: PerSample = 0.0,
                        order: Sequence[int] | torch.Tensor = (0, 1, 2, 3)) -> torch.Tensor:
    """Adjust brightness, contrast, saturation and hue in ``order``: the same result as calling
    the four kernels one after the other, in one float buffer.

    ``order`` lists the ops (0 brightness, 1 contrast, 2 saturation, 3 hue) as a sequence (all
    images) or a ``(B, 4)`` tensor (one order per image); factors are numbers or ``(B,)`` tensors.
    Ops at their identity factor are skipped; saturation and hue leave 1-channel images as they are.
    At each position the brightness, contrast and saturation of all images are one per-image blend
    ``x * scale + (1 - scale) * reference``.

    >>> x = torch.tensor([[[0.2, 0.6]]])
    >>> color_jitter_tensor(x, brightness=2.0, contrast=0.5, order=[1, 0, 2, 3]).tolist()
    [[[0.6000000238418579, 1.0]]]
    """
    _check_jitter(x, (brightness, contrast, saturation, hue))
    lead, (c, h, w) = x.shape[:-3], x.shape[-3:]
    n = math.prod(lead)
    work = work_dtype(x.dtype)
    factors = torch.stack([torch.as_tensor(f, dtype=work, device=x.device).reshape(-1).expand(n)
                           for f in (brightness, contrast, saturation, hue)])
    order = torch.as_tensor(order, device=x.device).reshape(-1, 4).expand(n, 4)
    schedule = _jitter_schedule(factors, order)  # (n, position, op)
    y = x.reshape(n, c, h, w)
    if x.device.type != "cpu":  # every step on every image: no host sync
        return cast_result(_jitter_steps(y.to(work, copy=True), schedule, [[True] * 4] * 4, None, x.dtype),
                       x.dtype).reshape(x.shape)
    # on the CPU, skip the steps no image needs, and sort the images by the position of their hue
    # step so that each step rotates one slice of images in place
    identity = torch.tensor(_JITTER_IDENTITY, dtype=work, device=x.device)
    needed = (schedule != identity).any(0).tolist()
    turns = schedule[:, :, 3]
    hue_position = torch.where(turns != 0, torch.arange(4), 4).amin(1) if c == 3 else torch.full((n,), 4)
    hue_position, perm = hue_position.sort(stable=True)
    bounds = torch.searchsorted(hue_position, torch.arange(5)).tolist()
    sorted_ = bool((perm == torch.arange(n)).all())
    y = y.to(work, copy=True) if sorted_ else y.index_select(0, perm).to(work)
    y = _jitter_steps(y, schedule if sorted_ else schedule[perm], needed, bounds, x.dtype)
    if not sorted_:
        y = y.index_select(0, perm.argsort())
    return cast_result(y, x.dtype).reshape(x.shape)


def _jitter_steps(y: torch.Tensor, schedule: torch.Tensor, needed: list[list[bool]],
                  hue_slices: list[int] | None, dtype: torch.dtype) -> torch.Tensor:
    """The four jitter positions on the work batch ``y`` (in place where possible): the ops of
    ``needed[position]`` run; hue rotates images ``hue_slices[p]:hue_slices[p + 1]`` at position
    ``p`` (the images sorted by the position of their hue step), or, without ``hue_slices``, every
    image, keeping the old values where the turn is 0."""
    c = y.shape[1]
    # the brightness, contrast or saturation factor, else 1 (gray images have no saturation step)
    scales = schedule[:, :, :3 if c == 3 else 2].prod(-1)
    integral = not dtype.is_floating_point
    for position in range(4):
        run_brightness, run_contrast, run_saturation, run_hue = needed[position]
        changed = None  # the images this position changed (a slice), if not all
        if run_brightness or run_contrast or (run_saturation and c == 3):
            _blend_(y, scales[:, position], schedule[:, position, 1] if run_contrast else None,
                    schedule[:, position, 2] if run_saturation and c == 3 else None, integral)
            changed = slice(None)
        turns = schedule[:, position, 3]
        if run_hue and c == 3 and hue_slices is None:
            y = torch.where((turns != 0).view(-1, 1, 1, 1), rotate_hue_work(y.clone(), turns, dtype), y)
            changed = slice(None)
        elif run_hue and c == 3 and hue_slices[position] < hue_slices[position + 1]:
            part = slice(hue_slices[position], hue_slices[position + 1])
            y[part] = rotate_hue_work(y[part], turns[part], dtype)
            changed = changed or part
        if changed is not None:  # the other images are clamped already
            _round_clamp_(y[changed], dtype)
    return y


def _blend_(y: torch.Tensor, scale: torch.Tensor, contrast: torch.Tensor | None,
            saturation: torch.Tensor | None, integral: bool) -> None:
    """One jitter position on the ``(n, C, H, W)`` work batch ``y``, in place: every image is
    blended ``y * scale + term`` with its mean grey (``contrast``), its grayscale image
    (``saturation``) or black (brightness), ``term`` being ``(1 - factor) * reference``. The
    factor of an op an image does not run here is 1, so its term is an exact 0 and its result is
    bit for bit the single kernel's."""
    n = len(y)
    term = None
    if saturation is not None:
        gray = rgb_to_gray_tensor(y)
        if integral:
            gray = gray.floor_()  # as torchvision does
        term = gray.mul_((1.0 - saturation).view(n, 1, 1, 1))
    if contrast is not None:
        bias = (1.0 - contrast).view(n, 1, 1, 1) * luma_mean_tensor(y, integral).to(y.dtype).view(n, 1, 1, 1)
        term = bias if term is None else term.add_(bias)
    y.mul_(scale.view(n, 1, 1, 1))
    if term is not None:
        y.add_(term)


def _round_clamp_(y: torch.Tensor, dtype: torch.dtype) -> None:
    """Clamp the work values ``y`` in place to the range of ``dtype`` (integers rounded first)."""
    if not dtype.is_floating_point:
        y.round_()
    y.clamp_(0, max_value(dtype))


@numpy_kernel("color_jitter")
def color_jitter_numpy(x: np.ndarray, brightness: float = 1.0, contrast: float = 1.0,
                       saturation: float = 1.0, hue: float = 0.0,
                       order: Sequence[int] = (0, 1, 2, 3)) -> np.ndarray:
    """:func:`color_jitter_tensor` on an HW/HWC array. On uint8, brightness and contrast are
    lookup tables, and consecutive ones compose into one table; with saturation or hue the
    image's planes go through the tensor kernel once (its pixels, in one or two passes). Where
    augkit is built with its C extension, a contiguous uint8 RGB array goes to the C kernel,
    which reads and writes it interleaved."""
    factors = (float(brightness), float(contrast), float(saturation), float(hue))
    if x.dtype == np.uint8 and channels(x) == 3 and factors[2:] != _JITTER_IDENTITY[2:]:
        _check_jitter(x, factors)
        return through_tensor(x, color_jitter_tensor, *factors, list(np.asarray(order).reshape(-1)))
    kernels = (adjust_brightness_numpy, adjust_contrast_numpy, adjust_saturation_numpy, adjust_hue_numpy)
    tables = x.dtype == np.uint8
    gray = channels(x) == 1
    pending = None  # uint8: the composed table of the brightness and contrast steps not applied yet
    for step in np.asarray(order).reshape(-1).tolist():
        factor = factors[step]
        if factor == _JITTER_IDENTITY[step] or (step >= 2 and gray):  # saturation, hue: RGB only
            continue
        if tables and step < 2:  # brightness or contrast
            if step == 1 and pending is not None:  # the mean is of the image after the table
                x, pending = lookup(x, pending), None
            lut = affine_lut(factor, (1.0 - factor) * luma_mean_numpy(x) if step == 1 else 0.0)
            pending = lut if pending is None else lut[pending]
            continue
        if pending is not None:
            x, pending = lookup(x, pending), None
        x = kernels[step](x, factor)
    return x if pending is None else lookup(x, pending)


color_jitter = op("color_jitter")
