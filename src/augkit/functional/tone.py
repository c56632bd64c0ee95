"""Tone kernels: posterize, solarize, invert, histogram equalization and autocontrast.

They follow ``torchvision.transforms.v2.functional``: integer images keep their levels
(``equalize`` is PIL's, on 256 levels for uint8 and all 65,536 for uint16), float images are
binned or stretched on the ``[0, 1]`` scale. ``solarize`` thresholds are fractions of white
(``0.5`` is 128 on uint8), whatever the dtype. Tensor kernels take per-sample ``(B,)`` arguments.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ..core.kernels import backend, numpy_kernel, op, tensor_kernel, when
from ._utils import (PerSample, broadcast_per_sample, cast_result, cast_result_numpy, channels, lookup, lookup_planes,
                     per_sample,
                     split_planes, to_work)
from .convert import max_value

__all__ = [
    "posterize", "posterize_tensor", "posterize_numpy",
    "solarize", "solarize_tensor", "solarize_numpy",
    "equalize", "equalize_tensor", "equalize_numpy",
    "autocontrast", "autocontrast_tensor", "autocontrast_numpy",
    "invert", "invert_tensor", "invert_numpy",
]


# uint8 CPU tensors take lookup tables (the "lut" backends): the torch kernels' float32 formulas
# evaluated on the 256 levels, so the same pixels bit for bit, without a float pass over the image
_UINT8_CPU = when(device="cpu", dtypes=(torch.uint8,), plain=True)
_BYTES = np.arange(256, dtype=np.uint8)


def _images(x: torch.Tensor) -> int:
    return x.shape[:-3].numel()


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
        return _posterize_per_sample(x, broadcast_per_sample(bits, x, torch.int64))
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


@backend("posterize", "tensor", "lut", _UINT8_CPU)
def _posterize_lut(x: torch.Tensor, bits: int | torch.Tensor) -> torch.Tensor:
    if not isinstance(bits, torch.Tensor):
        _check_bits(bits)
    per_image = per_sample(bits, _images(x), "cpu", torch.int64).numpy()
    if ((per_image < 0) | (per_image > 8)).any():
        raise ValueError(f"bits must be in [0, 8]; got {per_image.tolist()}")
    masks = ((1 << per_image) - 1) << (8 - per_image)
    return lookup_planes(x, _BYTES & masks[:, None].astype(np.uint8))


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


def _check_threshold(threshold: PerSample) -> None:
    if not isinstance(threshold, torch.Tensor) and not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a fraction of white in [0, 1]; got {threshold!r}")


@tensor_kernel("solarize")
def solarize_tensor(x: torch.Tensor, threshold: PerSample) -> torch.Tensor:
    """Invert the values ``>= threshold * white`` (``threshold`` in ``[0, 1]``).

    >>> solarize_tensor(torch.tensor([[[100, 200]]], dtype=torch.uint8), 0.5).tolist()
    [[[100, 55]]]
    """
    _check_threshold(threshold)
    level = broadcast_per_sample(threshold, x, torch.float32) * max_value(x.dtype)
    if not x.is_floating_point():
        return torch.where(to_work(x) >= level, invert_tensor(x), x)
    # a {0, 1} weight: lerp picks x or 1 - x exactly, several times faster than where on the CPU
    weight = torch.ge(x, level, out=torch.empty_like(x))
    inverse = invert_tensor(x)
    return torch.lerp(x, inverse, weight, out=inverse)


@backend("solarize", "tensor", "lut", _UINT8_CPU)
def _solarize_lut(x: torch.Tensor, threshold: PerSample) -> torch.Tensor:
    _check_threshold(threshold)
    levels = per_sample(threshold, _images(x), "cpu", torch.float32).numpy()[:, None] * np.float32(255)
    return lookup_planes(x, np.where(_BYTES >= levels, 255 - _BYTES, _BYTES))


@numpy_kernel("solarize")
def solarize_numpy(x: np.ndarray, threshold: float) -> np.ndarray:
    """:func:`solarize_tensor` on an HW/HWC array (a LUT on uint8)."""
    _check_threshold(threshold)
    level = np.float32(threshold) * np.float32(max_value(x.dtype))
    if x.dtype == np.uint8:
        levels = np.arange(256, dtype=np.uint8)
        return lookup(x, np.where(levels >= level, 255 - levels, levels).astype(np.uint8))
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


def _equalize_tables(planes, levels: int) -> np.ndarray:
    """The ``(planes, levels)`` equalization tables of the integer code planes (NumPy; 8-bit
    histograms by OpenCV, exact counts)."""
    if levels == 256:
        hist = np.stack([cv2.calcHist([np.ascontiguousarray(p)], [0], None, [256], [0, 256]).reshape(-1) for p in planes])
        hist = hist.astype(np.int64)
    else:
        hist = np.stack([np.bincount(p.reshape(-1), minlength=levels) for p in planes])
    lut, valid = _equalize_luts(hist, planes[0].size, np)
    return np.where(valid[:, None], lut, np.arange(levels))


@backend("equalize", "tensor", "lut", _UINT8_CPU)
def _equalize_lut(x: torch.Tensor) -> torch.Tensor:
    if not x.numel():
        return x.clone()
    planes = x.contiguous().numpy().reshape(-1, x.shape[-2] * x.shape[-1])
    return lookup_planes(x, _equalize_tables(planes, 256))


@numpy_kernel("equalize")
def equalize_numpy(x: np.ndarray) -> np.ndarray:
    """:func:`equalize_tensor` on an HW/HWC array."""
    _refuse_non_finite(x)
    levels = _equalize_levels(x)
    codes = x
    if x.dtype.kind == "f":
        codes = np.clip(np.floor(x * np.float32(_FLOAT_BINS)), 0, 255).astype(np.uint8)
    planes = split_planes(codes)
    lut = _equalize_tables(planes, levels)
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
    y = to_work(x)
    low, high = y.amin(dim=(-2, -1), keepdim=True), y.amax(dim=(-2, -1), keepdim=True)
    flat = high == low
    scale = torch.where(flat, 1.0, max_value(x.dtype) / torch.where(flat, 1.0, high - low))
    return cast_result((y - torch.where(flat, 0.0, low)).mul_(scale), x.dtype)


def _stretch(low: np.ndarray, high: np.ndarray, white: float) -> tuple[np.ndarray, np.ndarray]:
    """The float32 offset and scale of :func:`autocontrast_tensor` for per-plane extremes."""
    low, high = low.astype(np.float32), high.astype(np.float32)
    flat = high == low
    # white / span as torch divides a number by a tensor: the reciprocal, times white
    scale = np.where(flat, 1.0, np.float32(1.0) / np.where(flat, 1.0, high - low) * np.float32(white)).astype(np.float32)
    return np.where(flat, 0.0, low).astype(np.float32), scale


def _stretch_tables(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``(planes, 256)`` uint8 tables of :func:`autocontrast_tensor` for uint8 planes."""
    low, scale = _stretch(low, high, 255)
    levels = np.arange(256, dtype=np.float32)
    return np.clip(np.rint((levels - low[:, None]) * scale[:, None]), 0, 255).astype(np.uint8)


@backend("autocontrast", "tensor", "lut", _UINT8_CPU)
def _autocontrast_lut(x: torch.Tensor) -> torch.Tensor:
    if not x.numel():
        return x.clone()
    planes = x.contiguous().numpy().reshape(-1, x.shape[-2] * x.shape[-1])
    return lookup_planes(x, _stretch_tables(planes.min(1), planes.max(1)))


@numpy_kernel("autocontrast")
def autocontrast_numpy(x: np.ndarray) -> np.ndarray:
    """:func:`autocontrast_tensor` on an HW/HWC array (a LUT per channel on uint8)."""
    low, high = np.array([cv2.minMaxLoc(p)[:2] for p in split_planes(x)], np.float32).T
    if x.dtype == np.uint8:
        lut = _stretch_tables(low, high).T
        return cv2.LUT(x, lut[:, 0] if lut.shape[1] == 1 else np.ascontiguousarray(lut[None]))
    low, scale = _stretch(low, high, max_value(x.dtype))
    y = (x.astype(np.float32) - low.reshape(-1)[: channels(x)]) * scale
    return cast_result_numpy(y.reshape(x.shape), x.dtype)


posterize = op("posterize")
solarize = op("solarize")
equalize = op("equalize")
autocontrast = op("autocontrast")
invert = op("invert")
