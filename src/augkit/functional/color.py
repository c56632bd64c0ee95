"""Colour kernels: brightness, contrast, saturation, hue, sharpness and channel permutation.

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

On float32 and uint8 CPU tensors, brightness, contrast, saturation and hue run on the ``c``
backend of their rows (:mod:`augkit.functional.jitter`), except brightness and contrast of uint8
tensors: their ``lut`` backends map the 256 levels through one table per image (the same bits).

Per-sample arguments: tensor kernels take a Python number or a tensor of shape ``(B,)`` (one value
per image of a ``(B, C, H, W)`` batch); NumPy kernels take numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import cv2
import numpy as np
import torch

from ..core.kernels import backend, numpy_kernel, op, run_numpy_per_image, tensor_kernel, when
from ._utils import (broadcast_per_sample, cast_result, cast_result_numpy, channels, lookup, lookup_planes,
                     per_sample, require_channels, through_tensor, to_work, work_dtype)
from .colorspace import LUMA, hsv_to_rgb_numpy, rgb_to_gray_tensor, rgb_to_hsv_numpy
from .convert import max_value, to_dtype_numpy

__all__ = [
    "adjust_brightness", "adjust_brightness_tensor", "adjust_brightness_numpy",
    "adjust_contrast", "adjust_contrast_tensor", "adjust_contrast_numpy",
    "adjust_saturation", "adjust_saturation_tensor", "adjust_saturation_numpy",
    "adjust_hue", "adjust_hue_tensor", "adjust_hue_numpy",
    "adjust_sharpness", "adjust_sharpness_tensor", "adjust_sharpness_numpy",
    "permute_channels", "permute_channels_tensor", "permute_channels_numpy",
]

Factor = Union[float, torch.Tensor]
_EYE = np.eye(3, dtype=np.float32)
_LUMA_ROWS = np.float32([LUMA] * 3)  # each row gives the luma: the grayscale matrix


# -- helpers --------------------------------------------------------------------------------------

def _affine_tensor(x: torch.Tensor, scale: Factor, bias: Factor) -> torch.Tensor:
    return cast_result(to_work(x) * scale + bias, x.dtype)


_LEVELS = np.arange(256, dtype=np.float32)


def affine_lut(scale: float | np.ndarray, bias: float | np.ndarray) -> np.ndarray:
    """The uint8 table of ``x * scale + bias``, rounded and clamped (float32 as the tensor kernels);
    ``(n,)`` arrays of scales and biases give ``(n, 256)`` tables."""
    scale, bias = np.float32(scale), np.float32(bias)
    lut = _LEVELS * (scale[..., None] if scale.ndim else scale)
    lut += bias[..., None] if bias.ndim else bias
    return np.rint(lut, out=lut).clip(0, 255, out=lut).astype(np.uint8)


# uint8 CPU tensors take lookup tables (the "lut" backends, tried before the C kernel): the torch
# kernels' float32 formulas on the 256 levels, the same pixels bit for bit
_UINT8_CPU = when(device="cpu", dtypes=(torch.uint8,), plain=True)


def _factors(factor: Factor, x: torch.Tensor) -> np.ndarray:
    """One float32 factor per image of the CPU tensor ``x``."""
    return per_sample(factor, x.shape[:-3].numel(), "cpu", torch.float32).numpy()


def _affine_numpy(x: np.ndarray, scale: float, bias: float) -> np.ndarray:
    """``x * scale + bias`` (bias in the image's value range), clamped; a LUT on uint8."""
    if x.dtype == np.uint8:
        return lookup(x, affine_lut(scale, bias))
    y = np.multiply(x, np.float32(scale), dtype=np.float32)
    y += np.float32(bias)
    return cast_result_numpy(y, x.dtype)


def check_factor(value: Factor, name: str, low: float = 0.0, high: float | None = None) -> None:
    """Reject out-of-range factors given as numbers (tensors are checked by the transforms)."""
    if isinstance(value, torch.Tensor):
        return
    if not (value >= low and (high is None or value <= high)):
        bounds = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bounds}; got {value!r}")


# -- brightness and contrast -------------------------------------------------------------------------

@tensor_kernel("adjust_brightness")
def adjust_brightness_tensor(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """Multiply the pixels by ``factor`` (>= 0; 0 gives black, 1 the image), clamped.

    >>> adjust_brightness_tensor(torch.tensor([[[100, 200]]], dtype=torch.uint8), 1.5).tolist()
    [[[150, 255]]]
    """
    check_factor(factor, "factor")
    return _affine_tensor(x, broadcast_per_sample(factor, x), 0.0)


@numpy_kernel("adjust_brightness")
def adjust_brightness_numpy(x: np.ndarray, factor: float) -> np.ndarray:
    """:func:`adjust_brightness_tensor` on an HW/HWC array (one LUT on uint8)."""
    check_factor(factor, "factor")
    return _affine_numpy(x, float(factor), 0.0)


@backend("adjust_brightness", "tensor", "lut", _UINT8_CPU)
def _adjust_brightness_lut(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    check_factor(factor, "factor")
    return lookup_planes(x, affine_lut(_factors(factor, x), 0.0))


def luma_mean_tensor(x: torch.Tensor, integral: bool | None = None) -> torch.Tensor:
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


def luma_mean_numpy(x: np.ndarray) -> float:
    means = cv2.mean(x)
    return means[0] if channels(x) == 1 else sum(w * m for w, m in zip(LUMA, means))


@tensor_kernel("adjust_contrast")
def adjust_contrast_tensor(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """Blend with the mean grayscale value of the image: ``factor * x + (1 - factor) * mean``.

    0 gives a flat grey image, 1 the image; 1- or 3-channel images.

    >>> adjust_contrast_tensor(torch.tensor([[[0.2, 0.6]]]), 0.5).tolist()
    [[[0.30000001192092896, 0.5]]]
    """
    require_channels(x, "adjust_contrast")
    check_factor(factor, "factor")
    scale = broadcast_per_sample(factor, x)
    mean = luma_mean_tensor(x).to(work_dtype(x.dtype))
    mean = mean.reshape(*mean.shape, 1, 1, 1)
    return _affine_tensor(x, scale, (1.0 - scale) * mean)


@backend("adjust_contrast", "tensor", "lut", _UINT8_CPU)
def _adjust_contrast_lut(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    require_channels(x, "adjust_contrast")
    check_factor(factor, "factor")
    scale = _factors(factor, x)
    if not x.numel():
        return x.clone()
    # luma_mean_tensor's exact float64 means, from integer sums
    means = x.contiguous().numpy().reshape(*x.shape[:-2], -1).sum(-1, dtype=np.uint64) / (x.shape[-2] * x.shape[-1])
    means = means.reshape(-1, x.shape[-3])
    mean = (means[:, 0] if x.shape[-3] == 1 else
            means[:, 0] * LUMA[0] + means[:, 1] * LUMA[1] + means[:, 2] * LUMA[2]).astype(np.float32)
    # 1 - factor as the torch kernel takes it: in float64 for a number, float32 for a tensor
    keep = np.float32(1.0) - scale if isinstance(factor, torch.Tensor) else np.float32(1.0 - factor)
    return lookup_planes(x, affine_lut(scale, keep * mean))


@numpy_kernel("adjust_contrast")
def adjust_contrast_numpy(x: np.ndarray, factor: float) -> np.ndarray:
    """:func:`adjust_contrast_tensor` on an HW/HWC array (one LUT on uint8)."""
    require_channels(x, "adjust_contrast")
    check_factor(factor, "factor")
    factor = float(factor)
    return _affine_numpy(x, factor, (1.0 - factor) * luma_mean_numpy(x))


# -- saturation and hue ---------------------------------------------------------------------------

@tensor_kernel("adjust_saturation")
def adjust_saturation_tensor(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """Blend with the grayscale image: 0 gives gray, 1 the image, 2 doubles the saturation.

    >>> adjust_saturation_tensor(torch.tensor([[[1.0]], [[0.0]], [[0.0]]]), 0.0).flatten().tolist()
    [0.29899999499320984, 0.29899999499320984, 0.29899999499320984]
    """
    require_channels(x, "adjust_saturation", (3,))
    check_factor(factor, "factor")
    scale = broadcast_per_sample(factor, x)
    y = to_work(x)
    gray = rgb_to_gray_tensor(y)
    if not x.is_floating_point():
        gray = gray.floor_()  # as torchvision does
    return cast_result(y * scale + gray * (1.0 - scale), x.dtype)


@numpy_kernel("adjust_saturation")
def adjust_saturation_numpy(x: np.ndarray, factor: float) -> np.ndarray:
    """:func:`adjust_saturation_tensor` on an HWC RGB array: one 3x3 colour matrix on floats,
    the tensor kernel on the planes of uint8 (which floors the grey as torchvision does)."""
    require_channels(x, "adjust_saturation", (3,))
    check_factor(factor, "factor")
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


def rotate_hue_work(y: torch.Tensor, factor: Factor, dtype: torch.dtype) -> torch.Tensor:
    """Rotate the hue of ``y`` (float values in the range of ``dtype``, integral for integer
    dtypes) by ``factor`` turns; overwrites ``y``."""
    white = max_value(dtype)
    unit = y if white == 1.0 else y.div_(white)
    lead = y.shape[:-3]
    turns = broadcast_per_sample(factor, y)
    turns = turns.reshape(-1) if isinstance(turns, torch.Tensor) else turns
    out = _rotate_hue_unit_(unit.reshape(-1, *y.shape[-3:]), turns).reshape(*lead, *y.shape[-3:])
    return out if white == 1.0 else out.mul_(white)


@tensor_kernel("adjust_hue")
def adjust_hue_tensor(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """Rotate the hue by ``factor`` turns (in ``[-0.5, 0.5]``) in HSV space; RGB images.

    >>> adjust_hue_tensor(torch.tensor([[[1.0]], [[0.0]], [[0.0]]]), 1 / 3).flatten().tolist()
    [0.0, 1.0, 0.0]
    """
    require_channels(x, "adjust_hue", (3,))
    check_factor(factor, "factor", -0.5, 0.5)
    return cast_result(rotate_hue_work(x.to(work_dtype(x.dtype), copy=True), factor, x.dtype), x.dtype)


@numpy_kernel("adjust_hue")
def adjust_hue_numpy(x: np.ndarray, factor: float) -> np.ndarray:
    """:func:`adjust_hue_tensor` on an HWC RGB array: uint8 planes go through the tensor kernel
    (the same pixels; OpenCV's 8-bit ``HSV_FULL`` hue would be up to 7 levels off)."""
    require_channels(x, "adjust_hue", (3,))
    check_factor(factor, "factor", -0.5, 0.5)
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
    require_channels(x, "adjust_sharpness")
    check_factor(factor, "factor")
    h, w = x.shape[-2:]
    if h <= 2 or w <= 2:
        return x
    y = to_work(x)
    rows = y[..., :-2] + y[..., 1:-1]
    rows += y[..., 2:]
    box = rows[..., :-2, :] + rows[..., 1:-1, :]
    box += rows[..., 2:, :]
    out = torch.empty_like(y)
    out[..., 0, :], out[..., -1, :] = y[..., 0, :], y[..., -1, :]
    out[..., 1:-1, 0], out[..., 1:-1, -1] = y[..., 1:-1, 0], y[..., 1:-1, -1]
    inner, target = y[..., 1:-1, 1:-1], out[..., 1:-1, 1:-1]
    scale = broadcast_per_sample(factor, x)
    if x.is_floating_point():  # smooth + (inner - smooth) * scale, smooth = (box + 4 inner) / 13
        centre = scale + (1.0 - scale) * (4 / 13)
        torch.mul(box, (1.0 - scale) / 13, out=target)
        target.addcmul_(inner, centre) if isinstance(centre, torch.Tensor) else target.add_(inner, alpha=centre)
    else:
        smooth = box.add_(inner, alpha=4).div_(13).round_()
        torch.sub(inner, smooth, out=target).mul_(scale).add_(smooth)
    return cast_result(out, x.dtype)


@numpy_kernel("adjust_sharpness")
def adjust_sharpness_numpy(x: np.ndarray, factor: float) -> np.ndarray:
    """:func:`adjust_sharpness_tensor` on an HW/HWC array."""
    require_channels(x, "adjust_sharpness")
    check_factor(factor, "factor")
    if x.shape[0] <= 2 or x.shape[1] <= 2:
        return x
    kernel = np.asarray(_SMOOTH, np.float32) / 13
    smooth = cv2.filter2D(x, -1, kernel)
    out = x.copy()
    factor = float(np.float32(factor))  # the float32 factor of the tensor kernel
    inner = cv2.addWeighted(x[1:-1, 1:-1], factor, smooth[1:-1, 1:-1], 1.0 - factor, 0.0)
    if x.dtype == np.float32:
        np.clip(inner, 0.0, 1.0, out=inner)
    out[1:-1, 1:-1] = inner.reshape(out[1:-1, 1:-1].shape)  # OpenCV drops a single channel
    return out


@backend("adjust_sharpness", "tensor", "opencv", when(device="cpu", dtypes=(torch.uint8,), plain=True))
def _adjust_sharpness_opencv(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """uint8 CPU tensors, image by image with :func:`adjust_sharpness_numpy` (HWC): the same
    pixels as arrays bit for bit (OpenCV's filter rounds the smoothed image on its own float weights)."""
    require_channels(x, "adjust_sharpness")
    check_factor(factor, "factor")
    factors = per_sample(factor, x.shape[:-3].numel(), "cpu", torch.float64).tolist()
    return run_numpy_per_image(x, adjust_sharpness_numpy, factors)


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
    c = channels(x)
    if sorted(permutation) != list(range(c)):
        raise ValueError(f"permutation must reorder the {c} channels 0..{c - 1}; got {permutation!r}")
    return x if c == 1 else np.ascontiguousarray(x[:, :, permutation])


adjust_brightness = op("adjust_brightness")
adjust_contrast = op("adjust_contrast")
adjust_saturation = op("adjust_saturation")
adjust_hue = op("adjust_hue")
adjust_sharpness = op("adjust_sharpness")
permute_channels = op("permute_channels")
