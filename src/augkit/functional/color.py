"""Colour and pixel-level kernels: brightness, contrast, saturation, hue, sharpness, posterize,
solarize, equalize, autocontrast, invert, channel permutation and the four jitter adjustments
in one call.

Semantics follow ``torchvision.transforms.v2.functional`` for the same arguments:

* float images: the same formulas, results within ``1e-5`` of torchvision (the grayscale used by
  contrast and saturation weighs red by 0.299 where torchvision uses 0.2989);
* integer images: the same formulas computed in float32 on the integer values and **rounded**
  (torchvision truncates), so results are within 1 level of torchvision's. Contrast uses the
  exact mean luma, where torchvision floors each grey value first.
* float hue is rotated straight from RGB to RGB (the maximum and chroma of each pixel are kept,
  its hue sixths move), within ``1e-6`` of torchvision's HSV round trip.
* uint8 arrays (and PIL images) are rotated in hue by the tensor kernel on their planes, the same
  pixels as tensors; so is their saturation (float arrays blend in one colour matrix).

float32 and uint8 tensors on the CPU are jittered (brightness, contrast, saturation, hue and
:func:`color_jitter`) by the ``c`` backend of their rows in the kernel table (``csrc/jitter.c``, built
when augkit is installed): the same
float operations as the torch code of the other devices, all the steps of an image in one or two
passes over its memory (about 10x faster on a batch). It gives the same bits, except float
contrast means, which are summed in another order (within ``1e-6``). Without a C compiler augkit
installs without it and runs the torch code.

Per-sample arguments: tensor kernels take a Python number or a tensor of shape ``(B,)`` (one value
per image of a ``(B, C, H, W)`` batch); NumPy kernels take numbers. ``solarize`` thresholds are
fractions of white (``0.5`` is 128 on uint8), whatever the dtype.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Union

import cv2
import numpy as np
import stringzilla
import torch

from ..core import executor
from ..core.kernels import backend, numpy_kernel, op, tensor_kernel, when
from .colorspace import (
    LUMA,
    hsv_to_rgb_numpy,
    rgb_to_gray_tensor,
    rgb_to_hsv_numpy,
)
from ._utils import through_tensor
from .convert import max_value, to_dtype_numpy

try:
    from .. import _native  # the C kernel of colour jitter on CPU tensors (see csrc/jitter.c)
except ImportError:  # built without a C compiler: the torch operations compute the same
    _native = None

__all__ = [
    "adjust_brightness", "adjust_brightness_tensor", "adjust_brightness_numpy",
    "adjust_contrast", "adjust_contrast_tensor", "adjust_contrast_numpy",
    "adjust_saturation", "adjust_saturation_tensor", "adjust_saturation_numpy",
    "adjust_hue", "adjust_hue_tensor", "adjust_hue_numpy",
    "adjust_sharpness", "adjust_sharpness_tensor", "adjust_sharpness_numpy",
    "posterize", "posterize_tensor", "posterize_numpy",
    "solarize", "solarize_tensor", "solarize_numpy",
    "equalize", "equalize_tensor", "equalize_numpy",
    "autocontrast", "autocontrast_tensor", "autocontrast_numpy",
    "invert", "invert_tensor", "invert_numpy",
    "permute_channels", "permute_channels_tensor", "permute_channels_numpy",
    "color_jitter", "color_jitter_tensor", "color_jitter_numpy",
]

Factor = Union[float, torch.Tensor]
_EYE = np.eye(3, dtype=np.float32)
_LUMA_ROWS = np.float32([LUMA] * 3)  # each row gives the luma: the grayscale matrix


# -- helpers --------------------------------------------------------------------------------------

def _channels(x: torch.Tensor | np.ndarray) -> int:
    if isinstance(x, torch.Tensor):
        return x.shape[-3]
    return 1 if x.ndim == 2 else x.shape[2]


def _require(x: torch.Tensor | np.ndarray, op: str, allowed: tuple[int, ...] = (1, 3)) -> None:
    channels = _channels(x)
    if channels not in allowed:
        expected = " or ".join(str(c) for c in allowed)
        raise ValueError(f"{op} expects {expected}-channel images; got {channels} channel(s)")


def _work_dtype(x: torch.Tensor) -> torch.dtype:
    return x.dtype if x.is_floating_point() else torch.float32


def _work(x: torch.Tensor) -> torch.Tensor:
    """The image as a float tensor in its own value range (integers keep their values)."""
    return x.to(_work_dtype(x))


def _finish(y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Clamp a float result to the range of ``dtype`` and cast it (integers rounded)."""
    white = max_value(dtype)
    if dtype.is_floating_point:
        return y.clamp_(0, white).to(dtype)
    y = y.round_().clamp_(0, white)
    return y.to(torch.int32).to(dtype) if dtype == torch.uint16 else y.to(dtype)


def _finish_numpy(y: np.ndarray, dtype: np.dtype) -> np.ndarray:
    white = max_value(dtype)
    if dtype.kind == "f":
        return np.clip(y, 0, white, out=y).astype(dtype, copy=False)
    return np.clip(np.rint(y, out=y), 0, white, out=y).astype(dtype)


def _per_sample(value: Factor, x: torch.Tensor, dtype: torch.dtype | None = None) -> Factor:
    """A number, or a ``(B,)`` tensor shaped to broadcast over a ``(B, C, H, W)`` batch."""
    if not isinstance(value, torch.Tensor):
        return float(value)
    value = value.to(x.device, dtype or _work_dtype(x))
    lead = x.shape[:-3]
    if value.numel() == 1:
        return value.reshape((1,) * len(lead) + (1, 1, 1))
    if value.numel() != math.prod(lead):
        raise ValueError(f"got {value.numel()} per-sample values for a batch of shape {tuple(x.shape)}")
    return value.reshape(*lead, 1, 1, 1)


def _affine_tensor(x: torch.Tensor, scale: Factor, bias: Factor) -> torch.Tensor:
    return _finish(_work(x) * scale + bias, x.dtype)


def _lookup(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table[x]`` for a uint8 array and a 256-entry uint8 table: a byte translation, about ten
    times faster than ``cv2.LUT``."""
    out = np.array(x, order="C")
    stringzilla.translate(memoryview(out.reshape(-1)), memoryview(table), inplace=True)
    return out


_LEVELS = np.arange(256, dtype=np.float32)


def _affine_lut(scale: float, bias: float) -> np.ndarray:
    """The uint8 table of ``x * scale + bias``, rounded and clamped (float32 as the tensor kernels)."""
    lut = _LEVELS * np.float32(scale)
    lut += np.float32(bias)
    return np.rint(lut, out=lut).clip(0, 255, out=lut).astype(np.uint8)


def _affine_numpy(x: np.ndarray, scale: float, bias: float) -> np.ndarray:
    """``x * scale + bias`` (bias in the image's value range), clamped; a LUT on uint8."""
    if x.dtype == np.uint8:
        return _lookup(x, _affine_lut(scale, bias))
    y = np.multiply(x, np.float32(scale), dtype=np.float32)
    y += np.float32(bias)
    return _finish_numpy(y, x.dtype)


def _check_factor(value: Factor, name: str, low: float = 0.0, high: float | None = None) -> None:
    """Reject out-of-range factors given as numbers (tensors are checked by the transforms)."""
    if isinstance(value, torch.Tensor):
        return
    if not (value >= low and (high is None or value <= high)):
        bounds = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bounds}; got {value!r}")


# -- the C kernel of float32 and uint8 CPU tensors (see the module doc) ------------------------------

_C_TENSORS = when(device="cpu", dtypes=(torch.float32, torch.uint8), contiguous=True, plain=True,
                  test=lambda x: x.ndim >= 3 and x.shape[-3] in (1, 3), text="1/3 channels")
"""The tensors the C kernel takes (registered as the ``c`` backend of the jitter rows)."""


def _per_image_table(values: Sequence[Factor], n: int, x: torch.Tensor) -> torch.Tensor:
    """Per-image values (numbers or tensors checked by :func:`_per_sample`) as a contiguous float32
    ``(n, len(values))`` table."""
    columns = [torch.as_tensor(_per_sample(v, x, torch.float32), dtype=torch.float32).reshape(-1).expand(n)
               for v in values]
    return torch.stack(columns, 1)


def _jitter_native(x: torch.Tensor, factors: Sequence[Factor], order: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """The C kernel: ``factors`` (brightness, contrast, saturation, hue) applied in ``order`` to the
    images of ``x``, one after the other on one thread (parallel DataLoader workers scale; threads
    beside torch's own pool would compete with it)."""
    c, h, w = x.shape[-3:]
    n = math.prod(x.shape[:-3])
    table = _per_image_table(factors, n, x)
    orders = torch.as_tensor(order, dtype=torch.int64, device="cpu").reshape(-1, 4).expand(n, 4).contiguous()
    if not bool(((orders >= 0) & (orders < 4)).all()):
        raise ValueError(f"order lists ops 0 to 3; got {orders.unique().tolist()}")
    out = executor.empty(tuple(x.shape), x.dtype)
    _native.color_jitter(x.data_ptr(), out.data_ptr(), n, c, h * w, table.data_ptr(), orders.data_ptr(),
                         x.dtype == torch.uint8)
    return out


def _adjust_native(x: torch.Tensor, op: int, factor: Factor) -> torch.Tensor:
    """One jitter op (0 brightness, 1 contrast, 2 saturation, 3 hue) by the C kernel."""
    factors: list[Factor] = list(_JITTER_IDENTITY)
    factors[op] = factor
    return _jitter_native(x, factors, (0, 1, 2, 3))


def _check_jitter(x: torch.Tensor | np.ndarray, factors: Sequence[Factor]) -> None:
    _require(x, "color_jitter")
    for value, name, low, high in zip(factors, _JITTER_NAMES, (0.0, 0.0, 0.0, -0.5), (None, None, None, 0.5)):
        _check_factor(value, name, low, high)


if _native is not None:
    @backend("color_jitter", "tensor", "c", _C_TENSORS)
    def _color_jitter_c(x: torch.Tensor, brightness: Factor = 1.0, contrast: Factor = 1.0,
                        saturation: Factor = 1.0, hue: Factor = 0.0,
                        order: Sequence[int] | torch.Tensor = (0, 1, 2, 3)) -> torch.Tensor:
        _check_jitter(x, (brightness, contrast, saturation, hue))
        return _jitter_native(x, (brightness, contrast, saturation, hue), order)

    @backend("adjust_brightness", "tensor", "c", _C_TENSORS)
    def _adjust_brightness_c(x: torch.Tensor, factor: Factor) -> torch.Tensor:
        _check_factor(factor, "factor")
        return _adjust_native(x, 0, factor)

    @backend("adjust_contrast", "tensor", "c", _C_TENSORS)
    def _adjust_contrast_c(x: torch.Tensor, factor: Factor) -> torch.Tensor:
        _check_factor(factor, "factor")
        return _adjust_native(x, 1, factor)

    @backend("adjust_saturation", "tensor", "c", _C_TENSORS)
    def _adjust_saturation_c(x: torch.Tensor, factor: Factor) -> torch.Tensor:
        _require(x, "adjust_saturation", (3,))
        _check_factor(factor, "factor")
        return _adjust_native(x, 2, factor)

    @backend("adjust_hue", "tensor", "c", _C_TENSORS)
    def _adjust_hue_c(x: torch.Tensor, factor: Factor) -> torch.Tensor:
        _require(x, "adjust_hue", (3,))
        _check_factor(factor, "factor", -0.5, 0.5)
        return _adjust_native(x, 3, factor)


# -- brightness and contrast -------------------------------------------------------------------------

@tensor_kernel("adjust_brightness")
def adjust_brightness_tensor(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """Multiply the pixels by ``factor`` (>= 0; 0 gives black, 1 the image), clamped.

    >>> adjust_brightness_tensor(torch.tensor([[[100, 200]]], dtype=torch.uint8), 1.5).tolist()
    [[[150, 255]]]
    """
    _check_factor(factor, "factor")
    return _affine_tensor(x, _per_sample(factor, x), 0.0)


@numpy_kernel("adjust_brightness")
def adjust_brightness_numpy(x: np.ndarray, factor: float) -> np.ndarray:
    """:func:`adjust_brightness_tensor` on an HW/HWC array (one LUT on uint8)."""
    _check_factor(factor, "factor")
    return _affine_numpy(x, float(factor), 0.0)


def _luma_mean_tensor(x: torch.Tensor, integral: bool | None = None) -> torch.Tensor:
    """Mean grayscale value of each image, shape ``x.shape[:-3]``, in the image's value range;
    ``integral`` values (integer images, by default) are summed exactly in float64."""
    if not (integral if integral is not None else not x.is_floating_point()):
        means = x.mean(dim=(-2, -1), dtype=torch.float32)
    else:  # exact integer sums
        means = x.sum(dim=(-2, -1), dtype=torch.float64).div_(x.shape[-2] * x.shape[-1])
    if x.shape[-3] == 1:
        return means[..., 0]
    r, g, b = means.unbind(-1)  # elementwise, so that a batch sums as its images do
    return r * LUMA[0] + g * LUMA[1] + b * LUMA[2]


def _luma_mean_numpy(x: np.ndarray) -> float:
    means = cv2.mean(x)
    return means[0] if _channels(x) == 1 else sum(w * m for w, m in zip(LUMA, means))


@tensor_kernel("adjust_contrast")
def adjust_contrast_tensor(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """Blend with the mean grayscale value of the image: ``factor * x + (1 - factor) * mean``.

    0 gives a flat grey image, 1 the image; 1- or 3-channel images.

    >>> adjust_contrast_tensor(torch.tensor([[[0.2, 0.6]]]), 0.5).tolist()
    [[[0.30000001192092896, 0.5]]]
    """
    _require(x, "adjust_contrast")
    _check_factor(factor, "factor")
    scale = _per_sample(factor, x)
    mean = _luma_mean_tensor(x).to(_work_dtype(x))
    mean = mean.reshape(*mean.shape, 1, 1, 1)
    return _affine_tensor(x, scale, (1.0 - scale) * mean)


@numpy_kernel("adjust_contrast")
def adjust_contrast_numpy(x: np.ndarray, factor: float) -> np.ndarray:
    """:func:`adjust_contrast_tensor` on an HW/HWC array (one LUT on uint8)."""
    _require(x, "adjust_contrast")
    _check_factor(factor, "factor")
    factor = float(factor)
    return _affine_numpy(x, factor, (1.0 - factor) * _luma_mean_numpy(x))


# -- saturation and hue ---------------------------------------------------------------------------

@tensor_kernel("adjust_saturation")
def adjust_saturation_tensor(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """Blend with the grayscale image: 0 gives gray, 1 the image, 2 doubles the saturation.

    >>> adjust_saturation_tensor(torch.tensor([[[1.0]], [[0.0]], [[0.0]]]), 0.0).flatten().tolist()
    [0.29899999499320984, 0.29899999499320984, 0.29899999499320984]
    """
    _require(x, "adjust_saturation", (3,))
    _check_factor(factor, "factor")
    scale = _per_sample(factor, x)
    y = _work(x)
    gray = rgb_to_gray_tensor(y)
    if not x.is_floating_point():
        gray = gray.floor_()  # as torchvision does
    return _finish(y * scale + gray * (1.0 - scale), x.dtype)


@numpy_kernel("adjust_saturation")
def adjust_saturation_numpy(x: np.ndarray, factor: float) -> np.ndarray:
    """:func:`adjust_saturation_tensor` on an HWC RGB array: one 3x3 colour matrix on floats,
    the tensor kernel on the planes of uint8 (which floors the grey as torchvision does)."""
    _require(x, "adjust_saturation", (3,))
    _check_factor(factor, "factor")
    if x.dtype == np.uint8:
        return through_tensor(x, adjust_saturation_tensor, float(factor))
    factor = float(factor)
    matrix = np.float32(factor) * _EYE + np.float32(1.0 - factor) * _LUMA_ROWS
    out = cv2.transform(x, matrix)
    return np.clip(out, 0.0, 1.0, out=out) if x.dtype == np.float32 else out


# per channel (red, green, blue), added to the hue in sixths so that ``||k| - 3|`` is the distance
# from the hue to where the channel is at its minimum (see _rotate_hue_unit_)
_HUE_OFFSETS = (-6.0, -2.0, -4.0)


def _rotate_hue_unit_(y: torch.Tensor, turns: Factor) -> torch.Tensor:
    """Rotate the hue of the float ``(n, 3, H, W)`` batch ``y`` (values in ``[0, 1]``) by ``turns``
    (a number or ``(n,)``), in place, as the HSV round trip of torchvision: every pixel keeps its
    maximum ``v`` and chroma ``c``, and channel ``k`` becomes ``v - c + c * clamp(d_k, 1, 2)``,
    with ``d_k`` the distance (in sixths of a turn) from the new hue to the hue where channel
    ``k`` is the minimum. Plain float arithmetic on a few planes: no masks, no remainder."""
    n, _, h, w = y.shape
    r, g, b = y.unbind(-3)
    planes = torch.empty(9, n, h, w, dtype=y.dtype, device=y.device)
    value, low, chroma, safe, nr, ng, nb, pick_r, to_r = planes.unbind(0)
    torch.maximum(r, g, out=value).clamp_min_(b)
    torch.minimum(r, g, out=low).clamp_max_(b)
    torch.sub(value, low, out=chroma)
    torch.clamp_min(chroma, torch.finfo(y.dtype).tiny, out=safe)
    # distances above the minimum in units of chroma: exactly 1 for the maximum, 0 for greys
    for channel, normed in zip((r, g, b), (nr, ng, nb)):
        torch.sub(channel, low, out=normed).div_(safe)
    # the channel holding the maximum, red before green before blue, as exact 0/1 weights
    torch.floor(nr, out=pick_r)
    pick_b = torch.mul(pick_r, -1.0, out=safe).add_(1.0)
    pick_g = torch.floor(ng, out=value).mul_(pick_b)
    pick_b.sub_(pick_g)
    # the hue in sixths for each case: red ng - nb, green 2 + nb - nr, blue 4 + nr - ng
    torch.sub(ng, nb, out=to_r).mul_(pick_r)
    to_g = nb.sub_(nr).add_(2.0).mul_(pick_g)
    sixths = nr.sub_(ng).add_(4.0).mul_(pick_b).add_(to_r).add_(to_g)
    if isinstance(turns, torch.Tensor):
        sixths.add_(turns.to(y.dtype).reshape(-1, 1, 1) * 6.0)
    else:
        sixths.add_(float(turns) * 6.0)
    turn = torch.mul(sixths, 1.0 / 6.0, out=ng).floor_().mul_(6.0)
    sixths.sub_(turn)  # in [0, 6)
    offsets = torch.tensor(_HUE_OFFSETS, dtype=y.dtype, device=y.device).view(3, 1, 1)
    out = torch.add(sixths.unsqueeze(-3), offsets, out=y)
    out.abs_().sub_(3.0).abs_().clamp_(1.0, 2.0)
    return out.mul_(chroma.unsqueeze(-3)).add_(low.sub_(chroma).unsqueeze(-3))


def _rotate_hue_work(y: torch.Tensor, factor: Factor, dtype: torch.dtype) -> torch.Tensor:
    """Rotate the hue of ``y`` (float values in the range of ``dtype``, integral for integer
    dtypes) by ``factor`` turns; overwrites ``y``."""
    white = max_value(dtype)
    unit = y if white == 1.0 else y.div_(white)
    lead = y.shape[:-3]
    turns = _per_sample(factor, y)
    turns = turns.reshape(-1) if isinstance(turns, torch.Tensor) else turns
    out = _rotate_hue_unit_(unit.reshape(-1, *y.shape[-3:]), turns).reshape(*lead, *y.shape[-3:])
    return out if white == 1.0 else out.mul_(white)


@tensor_kernel("adjust_hue")
def adjust_hue_tensor(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """Rotate the hue by ``factor`` turns (in ``[-0.5, 0.5]``) in HSV space; RGB images.

    >>> adjust_hue_tensor(torch.tensor([[[1.0]], [[0.0]], [[0.0]]]), 1 / 3).flatten().tolist()
    [0.0, 1.0, 0.0]
    """
    _require(x, "adjust_hue", (3,))
    _check_factor(factor, "factor", -0.5, 0.5)
    return _finish(_rotate_hue_work(x.to(_work_dtype(x), copy=True), factor, x.dtype), x.dtype)


@numpy_kernel("adjust_hue")
def adjust_hue_numpy(x: np.ndarray, factor: float) -> np.ndarray:
    """:func:`adjust_hue_tensor` on an HWC RGB array: uint8 planes go through the tensor kernel
    (the same pixels; OpenCV's 8-bit ``HSV_FULL`` hue would be up to 7 levels off)."""
    _require(x, "adjust_hue", (3,))
    _check_factor(factor, "factor", -0.5, 0.5)
    if x.dtype == np.uint8:
        return through_tensor(x, adjust_hue_tensor, float(factor))
    unit = x if x.dtype == np.float32 else to_dtype_numpy(x, "float32")
    hsv = rgb_to_hsv_numpy(unit)
    hue = hsv[:, :, 0]
    hue += np.float32(factor)
    hue %= 1.0
    rgb = hsv_to_rgb_numpy(hsv)
    return rgb if x.dtype == np.float32 else to_dtype_numpy(rgb, x.dtype)


# -- sharpness ------------------------------------------------------------------------------------

_SMOOTH = ((1, 1, 1), (1, 5, 1), (1, 1, 1))  # divided by 13


@tensor_kernel("adjust_sharpness")
def adjust_sharpness_tensor(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """Blend with the image smoothed by a 3x3 kernel (borders kept): 0 smooths, 1 is the image,
    2 sharpens. 1- or 3-channel images.

    The smoothing kernel (1 around a 5, over 13) is the 3x3 box sum (three shifted adds per axis)
    plus 4 times the centre; float images blend in one pass from it, integer images round the
    smoothed image first, as torchvision does.

    >>> x = torch.zeros(1, 3, 3); x[0, 1, 1] = 1.0
    >>> round(adjust_sharpness_tensor(x, 0.0)[0, 1, 1].item(), 4)  # 5 / 13
    0.3846
    """
    _require(x, "adjust_sharpness")
    _check_factor(factor, "factor")
    h, w = x.shape[-2:]
    if h <= 2 or w <= 2:
        return x
    y = _work(x)
    rows = y[..., :-2] + y[..., 1:-1]
    rows += y[..., 2:]
    box = rows[..., :-2, :] + rows[..., 1:-1, :]
    box += rows[..., 2:, :]
    out = torch.empty_like(y)
    out[..., 0, :], out[..., -1, :] = y[..., 0, :], y[..., -1, :]
    out[..., 1:-1, 0], out[..., 1:-1, -1] = y[..., 1:-1, 0], y[..., 1:-1, -1]
    inner, target = y[..., 1:-1, 1:-1], out[..., 1:-1, 1:-1]
    scale = _per_sample(factor, x)
    if x.is_floating_point():  # smooth + (inner - smooth) * scale, smooth = (box + 4 inner) / 13
        centre = scale + (1.0 - scale) * (4 / 13)
        torch.mul(box, (1.0 - scale) / 13, out=target)
        target.addcmul_(inner, centre) if isinstance(centre, torch.Tensor) else target.add_(inner, alpha=centre)
    else:
        smooth = box.add_(inner, alpha=4).div_(13).round_()
        torch.sub(inner, smooth, out=target).mul_(scale).add_(smooth)
    return _finish(out, x.dtype)


@numpy_kernel("adjust_sharpness")
def adjust_sharpness_numpy(x: np.ndarray, factor: float) -> np.ndarray:
    """:func:`adjust_sharpness_tensor` on an HW/HWC array."""
    _require(x, "adjust_sharpness")
    _check_factor(factor, "factor")
    if x.shape[0] <= 2 or x.shape[1] <= 2:
        return x
    kernel = np.asarray(_SMOOTH, np.float32) / 13
    smooth = cv2.filter2D(x, -1, kernel)
    out = x.copy()
    factor = float(factor)
    inner = cv2.addWeighted(x[1:-1, 1:-1], factor, smooth[1:-1, 1:-1], 1.0 - factor, 0.0)
    if x.dtype == np.float32:
        np.clip(inner, 0.0, 1.0, out=inner)
    out[1:-1, 1:-1] = inner.reshape(out[1:-1, 1:-1].shape)  # OpenCV drops a single channel
    return out


# -- posterize, solarize, invert --------------------------------------------------------------------

def _posterize_mask(dtype, bits: int) -> int:
    width = 16 if dtype in (torch.uint16, np.uint16) else 8
    return ((1 << bits) - 1) << (width - bits)


def _check_bits(bits: int) -> None:
    if isinstance(bits, bool) or not isinstance(bits, int) or not 0 <= bits <= 8:
        raise ValueError(f"bits must be an int in [0, 8]; got {bits!r}")


@tensor_kernel("posterize")
def posterize_tensor(x: torch.Tensor, bits: int | torch.Tensor) -> torch.Tensor:
    """Keep the ``bits`` most significant bits of each value (floats: ``2 ** bits`` levels);
    ``bits`` may be a ``(B,)`` integer tensor, one value in ``[0, 8]`` per image.

    >>> posterize_tensor(torch.tensor([[[255, 100]]], dtype=torch.uint8), 2).tolist()
    [[[192, 64]]]
    """
    if isinstance(bits, torch.Tensor):
        return _posterize_per_sample(x, _per_sample(bits, x, torch.int64))
    _check_bits(bits)
    if x.is_floating_point():
        levels = 1 << bits
        return x.mul(levels).floor_().clamp_(0, levels - 1).mul_(1.0 / levels)
    if x.dtype == torch.uint16:
        return x.view(torch.int16).bitwise_and(_posterize_mask(x.dtype, bits) - (1 << 16)).view(torch.uint16)
    return x.bitwise_and(_posterize_mask(x.dtype, bits))


def _posterize_per_sample(x: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
    """:func:`posterize_tensor` with ``bits`` shaped to broadcast over the batch."""
    levels = torch.ones_like(bits).bitwise_left_shift_(bits)
    if x.is_floating_point():
        levels = levels.to(x.dtype)
        y = x.mul(levels).floor_()
        return torch.minimum(y, levels - 1, out=y).clamp_(min=0).div_(levels)
    width = 16 if x.dtype == torch.uint16 else 8
    mask = (levels - 1).bitwise_left_shift_(width - bits)
    if x.dtype == torch.uint16:
        return x.view(torch.int16).bitwise_and(torch.where(mask >= 1 << 15, mask - (1 << 16), mask)
                                               .to(torch.int16)).view(torch.uint16)
    return x.bitwise_and(mask.to(x.dtype))


@numpy_kernel("posterize")
def posterize_numpy(x: np.ndarray, bits: int) -> np.ndarray:
    """:func:`posterize_tensor` on an HW/HWC array."""
    _check_bits(bits)
    if x.dtype == np.float32:
        levels = 1 << bits
        return np.clip(np.floor(x * np.float32(levels)), 0, levels - 1) * np.float32(1.0 / levels)
    return np.bitwise_and(x, x.dtype.type(_posterize_mask(x.dtype, bits)))


@tensor_kernel("invert")
def invert_tensor(x: torch.Tensor) -> torch.Tensor:
    """White minus the image: ``255 - x`` on uint8, ``1 - x`` on floats.

    >>> invert_tensor(torch.tensor([[[0, 200]]], dtype=torch.uint8)).tolist()
    [[[255, 55]]]
    """
    if x.is_floating_point():
        return 1.0 - x
    if x.dtype == torch.uint16:
        return x.view(torch.int16).bitwise_not().view(torch.uint16)
    return x.bitwise_not()


@numpy_kernel("invert")
def invert_numpy(x: np.ndarray) -> np.ndarray:
    """:func:`invert_tensor` on an HW/HWC array."""
    return 1.0 - x if x.dtype == np.float32 else cv2.bitwise_not(x)


def _check_threshold(threshold: Factor) -> None:
    if not isinstance(threshold, torch.Tensor) and not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a fraction of white in [0, 1]; got {threshold!r}")


@tensor_kernel("solarize")
def solarize_tensor(x: torch.Tensor, threshold: Factor) -> torch.Tensor:
    """Invert the values ``>= threshold * white`` (``threshold`` in ``[0, 1]``).

    >>> solarize_tensor(torch.tensor([[[100, 200]]], dtype=torch.uint8), 0.5).tolist()
    [[[100, 55]]]
    """
    _check_threshold(threshold)
    level = _per_sample(threshold, x, torch.float32) * max_value(x.dtype)
    if not x.is_floating_point():
        return torch.where(_work(x) >= level, invert_tensor(x), x)
    # a {0, 1} weight: lerp picks x or 1 - x exactly, several times faster than where on the CPU
    weight = torch.ge(x, level, out=torch.empty_like(x))
    inverse = invert_tensor(x)
    return torch.lerp(x, inverse, weight, out=inverse)


@numpy_kernel("solarize")
def solarize_numpy(x: np.ndarray, threshold: float) -> np.ndarray:
    """:func:`solarize_tensor` on an HW/HWC array (a LUT on uint8)."""
    _check_threshold(threshold)
    level = np.float32(threshold) * np.float32(max_value(x.dtype))
    if x.dtype == np.uint8:
        levels = np.arange(256, dtype=np.uint8)
        return _lookup(x, np.where(levels >= level, 255 - levels, levels).astype(np.uint8))
    return np.where(x >= level, invert_numpy(x), x).astype(x.dtype, copy=False)


# -- equalize and autocontrast ----------------------------------------------------------------------

def _equalize_luts(hist: torch.Tensor | np.ndarray, pixels: int, lib):
    """PIL's equalization tables (as torchvision computes them) for histograms ``(N, L)`` of
    ``L`` levels: the levels of each image spread by the cumulative histogram, ignoring the top
    level's count. On 256 levels the step is PIL's whole number; on 65,536 it is exact (a whole
    step would leave every image under 65,536 pixels unchanged)."""
    top_level = hist.shape[1] - 1
    cum = lib.cumsum(hist, 1) if lib is np else hist.cumsum(1)
    top = cum.argmax(1)  # the first bin reaching the total: the last non-empty one
    top_count = np.take_along_axis(hist, top[:, None], 1) if lib is np else hist.gather(1, top[:, None])
    spread = pixels - top_count
    if top_level == 255:
        step = spread // top_level
    else:
        step = (spread.astype(np.float64) if lib is np else spread.double()) / top_level
    safe = lib.where(step > 0, step, 1)
    lut = lib.floor((cum[:, :-1] + step / 2) / safe) if top_level > 255 else (cum[:, :-1] + step // 2) // safe
    lut = lib.clip(lut, 0, top_level) if lib is np else lut.clamp(0, top_level)
    zeros = lib.zeros_like(lut[:, :1])
    lut = lib.concatenate([zeros, lut], 1) if lib is np else torch.cat([zeros, lut], 1)
    return lut, step[:, 0] != 0


def _planes(x: np.ndarray) -> list[np.ndarray]:
    """The channels of an HW/HWC array as contiguous HW planes (fast per-channel reductions)."""
    return list(cv2.split(x)) if x.ndim == 3 and x.shape[2] > 1 else [x.reshape(x.shape[:2])]


# torchvision's binning of floats to 256 levels: floor(x * (256 - 1e-3)), the top bin closed
_FLOAT_BINS = 256 - 1e-3


def _equalize_levels(x: torch.Tensor | np.ndarray) -> int:
    """The histogram levels of ``x``: 65,536 for uint16, 256 otherwise."""
    return 65536 if x.dtype in (torch.uint16, np.uint16) else 256


def _refuse_non_finite(x: torch.Tensor | np.ndarray) -> None:
    """A float image with NaN or infinity has no histogram: refuse it (checked where the pixels
    are, on the host; on an accelerator the check is the strict mode's, at the door)."""
    if isinstance(x, torch.Tensor):
        bad = x.is_floating_point() and x.device.type == "cpu" and not bool(torch.isfinite(x).all())
    else:
        bad = x.dtype.kind == "f" and not np.isfinite(x).all()
    if bad:
        raise ValueError("equalize needs finite pixels; got NaN or infinity in the image")


@tensor_kernel("equalize")
def equalize_tensor(x: torch.Tensor) -> torch.Tensor:
    """Histogram equalization of each channel (torchvision's, from PIL): uint8 on 256 levels,
    uint16 on all 65,536, floats binned to 256 levels as torchvision bins them
    (``floor(x * (256 - 1e-3))``) and mapped back to ``level / 255``.

    Every plane's levels are offset by ``levels * plane``, so one histogram call counts all
    planes and one table lookup maps every pixel to its equalized value.

    >>> x = torch.full((1, 8, 64), 60, dtype=torch.uint8); x[:, 4:] = 100
    >>> equalize_tensor(x).unique().tolist()
    [0, 255]
    """
    _refuse_non_finite(x)
    levels = _equalize_levels(x)
    planes, pixels = x.shape[:-2].numel(), x.shape[-2] * x.shape[-1]
    on_cpu = x.device.type == "cpu"
    codes = x.reshape(planes, pixels)
    if x.is_floating_point():
        codes = codes.mul(_FLOAT_BINS).floor_().clamp_(0, 255)
    small = on_cpu and planes * levels < 2**31
    codes = codes.to(torch.int32 if small else torch.int64).contiguous()
    codes += torch.arange(0, planes * levels, levels, dtype=codes.dtype, device=x.device).view(-1, 1)
    if on_cpu:  # bincount needs the largest code, a host sync elsewhere
        hist = torch.bincount(codes.view(-1), minlength=planes * levels)
    else:
        hist = torch.zeros(planes * levels, dtype=torch.int64, device=x.device)
        hist.scatter_add_(0, codes.view(-1), torch.ones_like(codes.view(-1)))
    lut, valid = _equalize_luts(hist.view(planes, levels), pixels, torch)
    table = torch.where(valid[:, None], lut, torch.arange(levels, device=x.device))
    if x.dtype == torch.uint8:
        table = table.to(torch.uint8)
    elif x.is_floating_point():
        table = table.to(x.dtype) / 255
    out = table.view(-1).index_select(0, codes.view(-1)).view(x.shape)
    return out.to(torch.int32).to(x.dtype) if x.dtype == torch.uint16 else out


@numpy_kernel("equalize")
def equalize_numpy(x: np.ndarray) -> np.ndarray:
    """:func:`equalize_tensor` on an HW/HWC array."""
    _refuse_non_finite(x)
    levels = _equalize_levels(x)
    codes = x
    if x.dtype.kind == "f":
        codes = np.clip(np.floor(x * np.float32(_FLOAT_BINS)), 0, 255).astype(np.uint8)
    planes = _planes(codes)
    hist = np.stack([np.bincount(p.reshape(-1), minlength=levels) for p in planes])
    lut, valid = _equalize_luts(hist, planes[0].size, np)
    lut = np.where(valid[:, None], lut, np.arange(levels))
    if levels == 65536:
        out = [np.take(lut[i].astype(np.uint16), p) for i, p in enumerate(planes)]
        return out[0].reshape(x.shape) if len(out) == 1 else np.stack(out, -1)
    lut = lut.astype(np.uint8)
    out = cv2.LUT(codes, lut[0] if len(lut) == 1 else np.ascontiguousarray(lut.T[None]))
    return out if x.dtype == np.uint8 else np.divide(out, np.float32(255), dtype=x.dtype)


@tensor_kernel("autocontrast")
def autocontrast_tensor(x: torch.Tensor) -> torch.Tensor:
    """Stretch each channel so that its darkest value becomes black and its brightest white
    (constant channels are kept).

    >>> autocontrast_tensor(torch.tensor([[[50, 100, 150]]], dtype=torch.uint8)).tolist()
    [[[0, 128, 255]]]
    """
    y = _work(x)
    low, high = y.amin(dim=(-2, -1), keepdim=True), y.amax(dim=(-2, -1), keepdim=True)
    flat = high == low
    scale = torch.where(flat, 1.0, max_value(x.dtype) / torch.where(flat, 1.0, high - low))
    return _finish((y - torch.where(flat, 0.0, low)).mul_(scale), x.dtype)


@numpy_kernel("autocontrast")
def autocontrast_numpy(x: np.ndarray) -> np.ndarray:
    """:func:`autocontrast_tensor` on an HW/HWC array (a LUT per channel on uint8)."""
    low, high = np.array([cv2.minMaxLoc(p)[:2] for p in _planes(x)], np.float32).T
    flat = high == low
    scale = np.where(flat, 1.0, np.float32(max_value(x.dtype)) / np.where(flat, 1.0, high - low)).astype(np.float32)
    low = np.where(flat, 0.0, low).astype(np.float32)
    if x.dtype == np.uint8:
        levels = np.arange(256, dtype=np.float32)[:, None]
        lut = np.clip(np.rint((levels - low) * scale), 0, 255).astype(np.uint8)
        return cv2.LUT(x, lut[:, 0] if lut.shape[1] == 1 else np.ascontiguousarray(lut[None]))
    y = (x.astype(np.float32) - low.reshape(-1)[: _channels(x)]) * scale
    return _finish_numpy(y.reshape(x.shape), x.dtype)


# -- channels -------------------------------------------------------------------------------------

@tensor_kernel("permute_channels")
def permute_channels_tensor(x: torch.Tensor, permutation: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """Reorder channels: output channel ``i`` is input channel ``permutation[i]``.

    ``permutation`` is a sequence (all images) or a ``(B, C)`` integer tensor (one per image).

    >>> permute_channels_tensor(torch.tensor([[[1]], [[2]], [[3]]]), [2, 0, 1]).flatten().tolist()
    [3, 1, 2]
    """
    c = x.shape[-3]
    if not isinstance(permutation, torch.Tensor) or permutation.ndim == 1:
        permutation = list(permutation.tolist() if isinstance(permutation, torch.Tensor) else permutation)
        if sorted(permutation) != list(range(c)):
            raise ValueError(f"permutation must reorder the {c} channels 0..{c - 1}; got {permutation!r}")
        return x[..., permutation, :, :]
    index = permutation.to(x.device, torch.long).reshape(*x.shape[:-3], c, 1, 1).expand(x.shape)
    if x.dtype == torch.uint16:
        return x.view(torch.int16).gather(-3, index).view(torch.uint16)
    return x.gather(-3, index)


@numpy_kernel("permute_channels")
def permute_channels_numpy(x: np.ndarray, permutation: Sequence[int]) -> np.ndarray:
    """:func:`permute_channels_tensor` on an HWC array."""
    permutation = [int(i) for i in np.asarray(permutation).reshape(-1)]
    c = _channels(x)
    if sorted(permutation) != list(range(c)):
        raise ValueError(f"permutation must reorder the {c} channels 0..{c - 1}; got {permutation!r}")
    return x if c == 1 else np.ascontiguousarray(x[:, :, permutation])


# -- colour jitter ------------------------------------------------------------------------------------

JITTER_OPS = ("brightness", "contrast", "saturation", "hue")
_JITTER_IDENTITY = (1.0, 1.0, 1.0, 0.0)
_JITTER_NAMES = ("brightness", "contrast", "saturation", "hue")


def _jitter_schedule(factors: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """``(n, 4 positions, 4 ops)``: the factor of op k where image i runs it at that position,
    the identity elsewhere."""
    ops = torch.arange(4, device=order.device)
    chosen = order.to(torch.long).unsqueeze(-1) == ops
    identity = torch.tensor(_JITTER_IDENTITY, dtype=factors.dtype, device=factors.device)
    return torch.where(chosen, factors.T.unsqueeze(1), identity)


@tensor_kernel("color_jitter")
def color_jitter_tensor(x: torch.Tensor, brightness: Factor = 1.0, contrast: Factor = 1.0,
                        saturation: Factor = 1.0, hue: Factor = 0.0,
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
    work = _work_dtype(x)
    factors = torch.stack([torch.as_tensor(f, dtype=work, device=x.device).reshape(-1).expand(n)
                           for f in (brightness, contrast, saturation, hue)])
    order = torch.as_tensor(order, device=x.device).reshape(-1, 4).expand(n, 4)
    schedule = _jitter_schedule(factors, order)  # (n, position, op)
    y = x.reshape(n, c, h, w)
    if x.device.type != "cpu":  # every step on every image: no host sync
        return _finish(_jitter_steps(y.to(work, copy=True), schedule, [[True] * 4] * 4, None, x.dtype),
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
    return _finish(y, x.dtype).reshape(x.shape)


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
            y = torch.where((turns != 0).view(-1, 1, 1, 1), _rotate_hue_work(y.clone(), turns, dtype), y)
            changed = slice(None)
        elif run_hue and c == 3 and hue_slices[position] < hue_slices[position + 1]:
            part = slice(hue_slices[position], hue_slices[position + 1])
            y[part] = _rotate_hue_work(y[part], turns[part], dtype)
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
        bias = (1.0 - contrast).view(n, 1, 1, 1) * _luma_mean_tensor(y, integral).to(y.dtype).view(n, 1, 1, 1)
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
    image's planes go through the tensor kernel once (its pixels, in one or two passes)."""
    factors = (float(brightness), float(contrast), float(saturation), float(hue))
    if x.dtype == np.uint8 and _channels(x) == 3 and factors[2:] != _JITTER_IDENTITY[2:]:
        _check_jitter(x, factors)
        return through_tensor(x, color_jitter_tensor, *factors, list(np.asarray(order).reshape(-1)))
    kernels = (adjust_brightness_numpy, adjust_contrast_numpy, adjust_saturation_numpy, adjust_hue_numpy)
    tables = x.dtype == np.uint8
    gray = _channels(x) == 1
    pending = None  # uint8: the composed table of the brightness and contrast steps not applied yet
    for step in np.asarray(order).reshape(-1).tolist():
        factor = factors[step]
        if factor == _JITTER_IDENTITY[step] or (step >= 2 and gray):  # saturation, hue: RGB only
            continue
        if tables and step < 2:  # brightness or contrast
            if step == 1 and pending is not None:  # the mean is of the image after the table
                x, pending = _lookup(x, pending), None
            lut = _affine_lut(factor, (1.0 - factor) * _luma_mean_numpy(x) if step == 1 else 0.0)
            pending = lut if pending is None else lut[pending]
            continue
        if pending is not None:
            x, pending = _lookup(x, pending), None
        x = kernels[step](x, factor)
    return x if pending is None else _lookup(x, pending)


adjust_brightness = op("adjust_brightness")
adjust_contrast = op("adjust_contrast")
adjust_saturation = op("adjust_saturation")
adjust_hue = op("adjust_hue")
adjust_sharpness = op("adjust_sharpness")
posterize = op("posterize")
solarize = op("solarize")
equalize = op("equalize")
autocontrast = op("autocontrast")
invert = op("invert")
permute_channels = op("permute_channels")
color_jitter = op("color_jitter")
