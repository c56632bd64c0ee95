"""Thresholding kernels: fixed, Otsu and adaptive (mean or Gaussian-weighted) binarization.

``threshold``, ``c`` and ``max_value`` are on the ``[0, 1]`` scale for every dtype. The tensor
kernel matches ``cv2.threshold`` and ``cv2.adaptiveThreshold`` on uint8 (the array kernel); the
two agree exactly on fixed and Otsu thresholds, and on adaptive ones up to pixels lying exactly
on the threshold, where OpenCV's fixed-point Gaussian can flip (at most 1 in 10^4 measured).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from ..core.kernels import numpy_kernel, op, tensor_kernel
from ..core.validation import check_choice
from .blur import gaussian_kernel1d, separable_filter
from .convert import max_value as white_level
from .convert import to_dtype_numpy, to_dtype_tensor

__all__ = ["threshold", "threshold_tensor", "threshold_numpy"]

THRESHOLD_METHODS = ("fixed", "otsu", "adaptive_mean", "adaptive_gaussian")


def _otsu_levels(v: torch.Tensor, levels: int) -> torch.Tensor:
    """Otsu's threshold (a grey level) of each integer plane of ``v`` ``(N, H, W)``, as OpenCV
    picks it: the first level maximizing the between-class variance."""
    n = v.shape[0]
    offsets = torch.arange(n, device=v.device).mul_(levels).view(n, 1, 1)
    hist = torch.bincount((v.long() + offsets).flatten(), minlength=n * levels).view(n, levels)
    p = hist.to(torch.float64) / (v.shape[-1] * v.shape[-2])
    level = torch.arange(levels, device=v.device, dtype=torch.float64)
    q1 = p.cumsum(-1)
    m1 = (p * level).cumsum(-1)
    mean = m1[:, -1:]
    q2 = 1.0 - q1
    eps = float(np.finfo(np.float32).eps)
    valid = (torch.minimum(q1, q2) >= eps) & (torch.maximum(q1, q2) <= 1.0 - eps)
    mu1 = m1 / q1.clamp(min=eps)
    mu2 = (mean - m1) / q2.clamp(min=eps)
    sigma = torch.where(valid, q1 * q2 * (mu1 - mu2).square(), torch.full_like(q1, -1.0))
    best = sigma.argmax(-1)
    return torch.where(sigma.amax(-1) > 0, best, torch.zeros_like(best))


def _box_mean(values: torch.Tensor, block_size: int) -> torch.Tensor:
    kernel = torch.full((1, block_size), 1.0 / block_size, dtype=values.dtype, device=values.device)
    return separable_filter(values, kernel, kernel, border="replicate")


# OpenCV's fixed kernels for sizes up to 7 when no sigma is given (binomial-like)
_SMALL_GAUSSIAN = {3: (0.25, 0.5, 0.25), 5: (0.0625, 0.25, 0.375, 0.25, 0.0625),
                   7: (0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125)}


def _gaussian_mean(values: torch.Tensor, block_size: int) -> torch.Tensor:
    if block_size in _SMALL_GAUSSIAN:
        kernel = torch.tensor([_SMALL_GAUSSIAN[block_size]], dtype=torch.float64, device=values.device)
    else:
        sigma = 0.3 * ((block_size - 1) * 0.5 - 1) + 0.8  # OpenCV's sigma for a kernel size
        kernel = gaussian_kernel1d(block_size, torch.tensor([sigma], dtype=torch.float64, device=values.device))
    return separable_filter(values, kernel, kernel, border="replicate")


@tensor_kernel("threshold")
def threshold_tensor(x: torch.Tensor, method: str = "fixed", threshold: float = 0.5, block_size: int = 11,
                     c: float = 0.0, max_value: float = 1.0) -> torch.Tensor:
    """Binarize each channel: ``max_value`` where the pixel is above the threshold, else 0.

    ``method``: ``"fixed"`` (above ``threshold``), ``"otsu"`` (Otsu's threshold per image and
    channel, from 256 levels, 65536 for uint16), ``"adaptive_mean"``/``"adaptive_gaussian"``
    (above the mean, or Gaussian-weighted mean, of the ``block_size`` neighbourhood minus ``c``;
    replicate borders). ``threshold``, ``c`` and ``max_value`` are on the ``[0, 1]`` scale.
    Matches ``cv2.threshold`` (``THRESH_BINARY``, ``THRESH_OTSU``) and ``cv2.adaptiveThreshold``
    on uint8: integer images compare with the rounded local mean and ``ceil(c * 255)``, as OpenCV.

    >>> threshold_tensor(torch.tensor([[[0.2, 0.6]]]), "fixed", 0.5).tolist()
    [[[0.0, 1.0]]]
    """
    check_choice(method, "method", THRESHOLD_METHODS)
    full = white_level(x.dtype)
    integer = not x.dtype.is_floating_point
    planes = x.reshape(-1, *x.shape[-3:])
    if x.dtype == torch.uint16:  # few uint16 kernels on the CPU: compare in int32
        planes = planes.to(torch.int32)
    if method == "fixed":
        above = planes > threshold * full
    elif method == "otsu":
        b, ch, h, w = planes.shape
        quantized = planes if integer else to_dtype_tensor(planes, "uint8")
        level = _otsu_levels(quantized.reshape(b * ch, h, w), int(full) + 1 if integer else 256)
        above = quantized > level.view(b, ch, 1, 1)
    else:
        if block_size < 3 or block_size % 2 == 0:
            raise ValueError(f"block_size must be odd and >= 3; got {block_size!r}")
        values = planes.to(torch.float64)
        mean = (_box_mean if method == "adaptive_mean" else _gaussian_mean)(values, block_size)
        if integer:
            mean, delta = mean.round(), math.ceil(round(c * full, 6))
        else:
            delta = c
        above = values - mean > -delta
    out = above * _level(max_value * full, integer)
    return (out.to(torch.int32) if integer else out).to(x.dtype).reshape(x.shape)


def _level(value: float, integer: bool) -> float:
    return float(round(value)) if integer else float(value)


@numpy_kernel("threshold")
def threshold_numpy(x: np.ndarray, method: str = "fixed", threshold: float = 0.5, block_size: int = 11,
                    c: float = 0.0, max_value: float = 1.0) -> np.ndarray:
    """Binarize an HW/HWC array with OpenCV, like :func:`threshold_tensor`."""
    check_choice(method, "method", THRESHOLD_METHODS)
    full = white_level(x.dtype)
    integer = x.dtype != np.float32
    on = _level(max_value * full, integer)
    if x.ndim == 3 and x.shape[2] > 1:
        return np.dstack([threshold_numpy(np.ascontiguousarray(x[:, :, i]), method, threshold, block_size, c,
                                          max_value) for i in range(x.shape[2])])
    plane = x if x.ndim == 2 else x[:, :, 0]
    if method == "fixed":
        return cv2.threshold(plane, threshold * full, on, cv2.THRESH_BINARY)[1]
    if method == "otsu":
        if integer:
            return cv2.threshold(plane, 0, on, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
        level = cv2.threshold(to_dtype_numpy(plane, "uint8"), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0]
        return np.where(to_dtype_numpy(plane, "uint8") > level, np.float32(on), np.float32(0))
    if block_size < 3 or block_size % 2 == 0:
        raise ValueError(f"block_size must be odd and >= 3; got {block_size!r}")
    if x.dtype == np.uint8:
        adaptive = cv2.ADAPTIVE_THRESH_MEAN_C if method == "adaptive_mean" else cv2.ADAPTIVE_THRESH_GAUSSIAN_C
        return cv2.adaptiveThreshold(plane, on, adaptive, cv2.THRESH_BINARY, block_size, c * full)
    values = plane.astype(np.float64)
    if method == "adaptive_mean":
        mean = cv2.blur(values, (block_size, block_size), borderType=cv2.BORDER_REPLICATE)
    else:
        mean = cv2.GaussianBlur(values, (block_size, block_size), 0, borderType=cv2.BORDER_REPLICATE)
    delta = math.ceil(round(c * full, 6)) if integer else c
    if integer:
        mean = np.rint(mean)
    return np.where(values - mean > -delta, on, 0).astype(x.dtype)


threshold = op("threshold")
