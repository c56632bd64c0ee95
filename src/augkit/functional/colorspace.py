"""Colour-space conversion kernels: RGB <-> grayscale, HSV and CIE Lab.

Encodings follow the value conventions of the dtype, so that a float result equals the uint8
result divided by 255 (up to rounding):

* grayscale: ITU-R BT.601 luma ``0.299 R + 0.587 G + 0.114 B``, rounded for integer images;
* HSV: hue, saturation and value scaled to the full range: hue 0..1 for one turn in float
  images; uint8 images use 256 hue steps per turn, like OpenCV's ``COLOR_RGB2HSV_FULL``; the hue
  and saturation of greys are 0;
* Lab (sRGB, D65): OpenCV's 8-bit encoding ``(L * 255 / 100, a + 128, b + 128)``, divided by 255
  for float images. Convert uint16 images to float first for Lab.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ..core.kernels import numpy_kernel, op, tensor_kernel
from ._utils import require_channels
from .convert import max_value, to_dtype_numpy

__all__ = [
    "rgb_to_gray", "rgb_to_gray_tensor", "rgb_to_gray_numpy",
    "gray_to_rgb", "gray_to_rgb_tensor", "gray_to_rgb_numpy",
    "rgb_to_hsv", "rgb_to_hsv_tensor", "rgb_to_hsv_numpy",
    "hsv_to_rgb", "hsv_to_rgb_tensor", "hsv_to_rgb_numpy",
    "rgb_to_lab", "rgb_to_lab_tensor", "rgb_to_lab_numpy",
    "lab_to_rgb", "lab_to_rgb_tensor", "lab_to_rgb_numpy",
]

LUMA = (0.299, 0.587, 0.114)
# sRGB primaries to XYZ (D65), and the D65 white point, as OpenCV uses them
_RGB_TO_XYZ = ((0.412453, 0.357580, 0.180423), (0.212671, 0.715160, 0.072169), (0.019334, 0.119193, 0.950227))
_WHITE = (0.950456, 1.0, 1.088754)


def _to_unit(x: torch.Tensor) -> torch.Tensor:
    """Integer images as float32 in [0, 1]; float images unchanged."""
    return x if x.is_floating_point() else x.to(torch.float32) / max_value(x.dtype)


def _from_unit(y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if dtype.is_floating_point:
        return y.to(dtype)
    white = max_value(dtype)
    wide = y.mul(white).round_().clamp_(0, white)
    return wide.to(torch.int32).to(dtype) if dtype == torch.uint16 else wide.to(dtype)


def _check_numpy(x: np.ndarray, channels: int, op: str) -> None:
    require_channels(x, op, (channels,))


def _numpy_via_float(x: np.ndarray, convert) -> np.ndarray:
    """Run an 8-bit/float-only OpenCV conversion on a uint16 image through float32."""
    if x.dtype != np.uint16:
        return convert(x)
    y = convert(x.astype(np.float32) / 65535.0)
    return np.clip(np.rint(y * 65535.0), 0, 65535).astype(np.uint16)


# -- grayscale -------------------------------------------------------------------------------------

@tensor_kernel("rgb_to_gray")
def rgb_to_gray_tensor(x: torch.Tensor, channels: int = 1) -> torch.Tensor:
    """BT.601 luma of an RGB ``(..., 3, H, W)`` tensor, with 1 or 3 (repeated) channels.

    >>> rgb_to_gray_tensor(torch.tensor([[[255]], [[0]], [[0]]], dtype=torch.uint8)).flatten().tolist()
    [76]
    """
    require_channels(x, "rgb_to_gray", (3,))
    r, g, b = _to_unit(x).unbind(-3)
    luma, term = r * LUMA[0], g * LUMA[1]  # in place after these two: big temporaries are slow
    luma += term
    luma += torch.mul(b, LUMA[2], out=term)
    luma = luma.unsqueeze(-3)
    out = _from_unit(luma, x.dtype)
    return out.expand(*x.shape).contiguous() if channels == 3 else out


@numpy_kernel("rgb_to_gray")
def rgb_to_gray_numpy(x: np.ndarray, channels: int = 1) -> np.ndarray:
    """BT.601 luma of an RGB HWC array, HWC with 1 or 3 (repeated) channels."""
    _check_numpy(x, 3, "rgb_to_gray")
    gray = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB) if channels == 3 else gray[:, :, None]


@tensor_kernel("gray_to_rgb")
def gray_to_rgb_tensor(x: torch.Tensor) -> torch.Tensor:
    """Repeat a ``(..., 1, H, W)`` grayscale tensor into 3 channels."""
    require_channels(x, "gray_to_rgb", (1,))
    return x.expand(*x.shape[:-3], 3, *x.shape[-2:]).contiguous()


@numpy_kernel("gray_to_rgb")
def gray_to_rgb_numpy(x: np.ndarray) -> np.ndarray:
    """Repeat an HW/HW1 grayscale array into HWC with 3 channels."""
    _check_numpy(x, 1, "gray_to_rgb")
    return cv2.cvtColor(x, cv2.COLOR_GRAY2RGB)


# -- HSV ------------------------------------------------------------------------------------------
# Both directions run on max, min and chroma with elementwise arithmetic (no argmax, gather or
# remainder, which are slow on the CPU); ``adjust_hue`` rotates RGB in place without the masks.

_SIXTH_OFFSETS = (5.0, 3.0, 1.0)  # red, green, blue: f(n) = v - c * clamp(min(k, 4 - k), 0, 1)


def _hue_sixths(rgb: torch.Tensor, value: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
    """Hue of the unit RGB ``(..., 3, H, W)`` tensor in sixths of a turn, in ``[-1, 5]`` (0 for
    greys); the channel holding the maximum ``value`` decides, red before green before blue."""
    r, g, b = rgb.unbind(-3)
    red = value == r
    green = (value == g) & ~red
    blue = ~(red | green)
    numerator = torch.where(red, g - b, torch.where(green, b - r, r - g))
    hue = numerator.div_(chroma.clamp(min=torch.finfo(chroma.dtype).tiny))  # greys: 0 / tiny = 0
    return hue.add_(green * 2.0).add_(blue * 4.0)


def _rgb_from_sixths(sixths: torch.Tensor, low: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
    """RGB ``(..., 3, H, W)`` of pixels with hue ``sixths`` (any real, one turn is 6), minimum
    ``low`` and chroma ``chroma`` (each ``(..., H, W)``)."""
    offsets = torch.tensor(_SIXTH_OFFSETS, device=sixths.device, dtype=sixths.dtype).view(3, 1, 1)
    k = sixths.unsqueeze(-3) + offsets
    k = k.sub_(torch.floor(k.mul(1.0 / 6.0)).mul_(6.0))  # k mod 6, in [0, 6)
    # v - c * clamp(min(k, 4 - k), 0, 1) = low + c * clamp(|k - 2| - 1, 0, 1)
    weight = k.sub_(2.0).abs_().clamp_(1.0, 2.0).sub_(1.0)
    return weight.mul_(chroma.unsqueeze(-3)).add_(low.unsqueeze(-3))


@tensor_kernel("rgb_to_hsv")
def rgb_to_hsv_tensor(x: torch.Tensor) -> torch.Tensor:
    """RGB to HSV with all three channels in the dtype's full range (see the module doc)."""
    require_channels(x, "rgb_to_hsv", (3,))
    rgb = _to_unit(x)
    value, low = rgb.amax(dim=-3), rgb.amin(dim=-3)
    chroma = value - low
    sixths = _hue_sixths(rgb, value, chroma)
    hue = sixths.add_((sixths < 0) * 6.0).mul_(1.0 / 6.0)  # in [0, 1)
    saturation = chroma.div_(value.clamp(min=torch.finfo(value.dtype).tiny))
    out = _from_unit(torch.stack([hue, saturation, value], -3), x.dtype)
    if x.dtype == torch.uint8:  # 256 hue steps per turn
        steps = hue.mul_(256).round_()
        out[..., 0, :, :] = steps.sub_((steps >= 256) * 256.0).to(torch.uint8)
    return out


@tensor_kernel("hsv_to_rgb")
def hsv_to_rgb_tensor(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_hsv_tensor`."""
    require_channels(x, "hsv_to_rgb", (3,))
    hue, saturation, value = _to_unit(x).unbind(-3)
    if x.dtype == torch.uint8:  # 256 hue steps per turn
        sixths = x[..., 0, :, :].to(hue.dtype) * (6.0 / 256)
    else:
        sixths = hue * 6.0
    chroma = value * saturation
    return _from_unit(_rgb_from_sixths(sixths, value - chroma, chroma), x.dtype)


@numpy_kernel("rgb_to_hsv")
def rgb_to_hsv_numpy(x: np.ndarray) -> np.ndarray:
    """RGB to HSV on an HWC array, like :func:`rgb_to_hsv_tensor`."""
    _check_numpy(x, 3, "rgb_to_hsv")
    if x.dtype == np.uint8:
        return cv2.cvtColor(x, cv2.COLOR_RGB2HSV_FULL)

    def convert(unit: np.ndarray) -> np.ndarray:
        hsv = cv2.cvtColor(unit, cv2.COLOR_RGB2HSV)
        hsv[:, :, 0] *= 1.0 / 360.0
        return hsv

    return _numpy_via_float(x, convert)


@numpy_kernel("hsv_to_rgb")
def hsv_to_rgb_numpy(x: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_hsv_numpy`."""
    _check_numpy(x, 3, "hsv_to_rgb")
    if x.dtype == np.uint8:
        return cv2.cvtColor(x, cv2.COLOR_HSV2RGB_FULL)

    def convert(unit: np.ndarray) -> np.ndarray:
        hsv = unit.copy()
        hsv[:, :, 0] *= 360.0
        return np.clip(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB), 0.0, 1.0)

    return _numpy_via_float(x, convert)


# -- Lab ------------------------------------------------------------------------------------------

def _lab_f(t: torch.Tensor) -> torch.Tensor:
    return torch.where(t > 0.008856, t.clamp(min=1e-12).pow(1 / 3), 7.787 * t + 16 / 116)


def _lab_f_inverse(t: torch.Tensor) -> torch.Tensor:
    return torch.where(t > 0.206893, t.pow(3), (t - 16 / 116) / 7.787)


@tensor_kernel("rgb_to_lab")
def rgb_to_lab_tensor(x: torch.Tensor) -> torch.Tensor:
    """sRGB to CIE Lab (D65) in OpenCV's encoding (see the module doc); uint8 or float."""
    require_channels(x, "rgb_to_lab", (3,))
    if x.dtype == torch.uint16:
        raise TypeError("rgb_to_lab supports uint8 and float images; got uint16 (convert to float first)")
    rgb = _to_unit(x)
    linear = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055).pow(2.4), rgb / 12.92)
    matrix = torch.tensor(_RGB_TO_XYZ, device=x.device, dtype=rgb.dtype)
    matrix = matrix / torch.tensor(_WHITE, device=x.device, dtype=rgb.dtype).view(3, 1)
    xyz = torch.einsum("ij,...jhw->...ihw", matrix, linear)
    fx, fy, fz = _lab_f(xyz).unbind(-3)
    y = xyz[..., 1, :, :]
    lightness = torch.where(y > 0.008856, 116 * fy - 16, 903.3 * y)
    lab = torch.stack([lightness / 100, (500 * (fx - fy) + 128) / 255, (200 * (fy - fz) + 128) / 255], -3)
    return _from_unit(lab.clamp(0, 1), x.dtype)


@tensor_kernel("lab_to_rgb")
def lab_to_rgb_tensor(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_lab_tensor` (out-of-gamut colours are clipped)."""
    require_channels(x, "lab_to_rgb", (3,))
    if x.dtype == torch.uint16:
        raise TypeError("lab_to_rgb supports uint8 and float images; got uint16 (convert to float first)")
    unit = _to_unit(x)
    lightness, a, b = unit[..., 0, :, :] * 100, unit[..., 1, :, :] * 255 - 128, unit[..., 2, :, :] * 255 - 128
    fy = (lightness + 16) / 116
    y = torch.where(lightness > 903.3 * 0.008856, fy.pow(3), lightness / 903.3)
    fy = torch.where(lightness > 903.3 * 0.008856, fy, 7.787 * y + 16 / 116)
    xyz = torch.stack([_lab_f_inverse(fy + a / 500), y, _lab_f_inverse(fy - b / 200)], -3)
    xyz = xyz * torch.tensor(_WHITE, device=x.device, dtype=xyz.dtype).view(3, 1, 1)
    inverse = torch.linalg.inv(torch.tensor(_RGB_TO_XYZ, dtype=torch.float64)).to(x.device, xyz.dtype)
    linear = torch.einsum("ij,...jhw->...ihw", inverse, xyz).clamp(0, 1)
    rgb = torch.where(linear > 0.0031308, 1.055 * linear.pow(1 / 2.4) - 0.055, linear * 12.92)
    return _from_unit(rgb.clamp(0, 1), x.dtype)


@numpy_kernel("rgb_to_lab")
def rgb_to_lab_numpy(x: np.ndarray) -> np.ndarray:
    """sRGB to Lab on an HWC uint8/float32 array, like :func:`rgb_to_lab_tensor`."""
    _check_numpy(x, 3, "rgb_to_lab")
    if x.dtype == np.uint16:
        raise TypeError("rgb_to_lab supports uint8 and float images; got uint16 (convert to float first)")
    # uint8 through OpenCV's float conversion, rounded: its 8-bit one is up to 3 levels off
    lab = cv2.cvtColor(to_dtype_numpy(x, "float32"), cv2.COLOR_RGB2Lab)
    unit = np.clip((lab + np.float32([0, 128, 128])) * np.float32([1 / 100, 1 / 255, 1 / 255]), 0, 1)
    return unit if x.dtype == np.float32 else to_dtype_numpy(unit, "uint8")


@numpy_kernel("lab_to_rgb")
def lab_to_rgb_numpy(x: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_lab_numpy`."""
    _check_numpy(x, 3, "lab_to_rgb")
    if x.dtype == np.uint16:
        raise TypeError("lab_to_rgb supports uint8 and float images; got uint16 (convert to float first)")
    lab = to_dtype_numpy(x, "float32") * np.float32([100, 255, 255]) - np.float32([0, 128, 128])
    unit = np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0, 1)
    return unit if x.dtype == np.float32 else to_dtype_numpy(unit, "uint8")


rgb_to_gray = op("rgb_to_gray")
gray_to_rgb = op("gray_to_rgb")
rgb_to_hsv = op("rgb_to_hsv")
hsv_to_rgb = op("hsv_to_rgb")
rgb_to_lab = op("rgb_to_lab")
lab_to_rgb = op("lab_to_rgb")
