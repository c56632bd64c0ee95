"""Edge-preserving denoising kernels: the bilateral filter and non-local means.

``sigma_color`` and ``h`` are on the ``[0, 1]`` scale for every dtype (OpenCV's values divided
by 255).

Backends (``augkit list --kernels``): the bilateral filter of uint8 and float32 CPU tensors with
1 or 3 channels that need no gradient runs ``cv2.bilateralFilter`` image by image (``"opencv"``,
what arrays run); other inputs take the ``"torch"`` backend, a loop over the disc of
neighbours, each offset one vectorized step over the whole batch. They agree within 1 level on
uint8 (OpenCV truncates instead of rounding for some windows) and 1e-5 on float32 (OpenCV's
interpolated exponential table). Non-local means has only OpenCV: arrays, PIL images and uint8
CPU tensors (image by image); tensors elsewhere raise ``TypeError``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from ..core.kernels import backend, numpy_kernel, op, run_numpy_per_image, tensor_kernel, when
from ._utils import cast_result, pad2d, through_tensor, work_dtype
from .convert import max_value as white_level
from .convert import to_dtype_numpy

__all__ = [
    "bilateral_filter", "bilateral_filter_tensor", "bilateral_filter_numpy",
    "non_local_means", "non_local_means_tensor", "non_local_means_numpy",
]


def _bilateral_radius(diameter: int, sigma_space: float) -> int:
    radius = diameter // 2 if diameter > 0 else round(sigma_space * 1.5)
    return max(radius, 1)


@tensor_kernel("bilateral_filter")
def bilateral_filter_tensor(x: torch.Tensor, diameter: int, sigma_color: float, sigma_space: float) -> torch.Tensor:
    """Edge-preserving bilateral filter, OpenCV's definition.

    Each output pixel is the weighted mean over a disc of radius ``diameter // 2`` (from
    ``sigma_space`` when ``diameter <= 0``) with weights
    ``exp(-d^2 / (2 sigma_space^2)) * exp(-D^2 / (2 sigma_color^2))``, ``d`` the distance in pixels
    and ``D`` the sum over channels of absolute differences. ``sigma_color`` is on the ``[0, 1]``
    scale. Reflect-101 borders. uint8 results are within 1 grey level of ``cv2.bilateralFilter``.

    >>> x = torch.tensor([[[0, 0, 255, 255]]], dtype=torch.uint8)
    >>> bilateral_filter_tensor(x, 3, 0.1, 5.0).tolist()
    [[[0, 0, 255, 255]]]
    """
    planes = x.reshape(-1, *x.shape[-3:])
    white = white_level(x.dtype)
    sigma_color = max(float(sigma_color) * white, 1e-12)
    sigma_space = float(sigma_space) if sigma_space > 0 else 1.0
    radius = _bilateral_radius(int(diameter), sigma_space)
    values = planes.to(work_dtype(x.dtype))
    padded = pad2d(values, radius, radius, radius, radius, "reflect")
    h, w = values.shape[-2:]
    total = torch.zeros_like(values)
    weights = torch.zeros_like(values[:, :1])
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            distance2 = dy * dy + dx * dx
            if math.sqrt(distance2) > radius:
                continue
            shifted = padded[:, :, radius + dy:radius + dy + h, radius + dx:radius + dx + w]
            colour = (shifted - values).abs().sum(1, keepdim=True)
            space = np.float32(math.exp(-0.5 * distance2 / sigma_space ** 2))
            weight = torch.exp(colour.square() * (-0.5 / sigma_color ** 2)).mul_(float(space))
            total.addcmul_(shifted, weight)
            weights.add_(weight)
    return cast_result(total / weights, x.dtype, clamp=False).reshape(x.shape)


def _opencv_bilateral(x: np.ndarray, diameter: int, sigma_color: float, sigma_space: float) -> np.ndarray:
    """``cv2.bilateralFilter`` of a uint8 or float32 HW/HWC array with 1 or 3 channels."""
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    return cv2.bilateralFilter(x, int(diameter), float(sigma_color) * scale, float(sigma_space),
                               borderType=cv2.BORDER_REFLECT_101)


@backend("bilateral_filter", "tensor", "opencv",
         when(device="cpu", dtypes=(torch.uint8, torch.float32), channels=(1, 3), plain=True))
def _bilateral_filter_opencv(x: torch.Tensor, diameter: int, sigma_color: float, sigma_space: float) -> torch.Tensor:
    return run_numpy_per_image(x, lambda image: _opencv_bilateral(image, diameter, sigma_color, sigma_space))


@numpy_kernel("bilateral_filter")
def bilateral_filter_numpy(x: np.ndarray, diameter: int, sigma_color: float, sigma_space: float) -> np.ndarray:
    """Bilateral filter of an HW/HWC array (``cv2.bilateralFilter``), like the tensor kernel.

    OpenCV takes uint8 and float32 with 1 or 3 channels: uint16 goes through float32, other
    channel counts through the tensor kernel.
    """
    channels = x.shape[2] if x.ndim == 3 else 1
    if channels not in (1, 3):
        return through_tensor(x, bilateral_filter_tensor, diameter, sigma_color, sigma_space)  # not OpenCV
    if x.dtype == np.uint16:
        return to_dtype_numpy(_opencv_bilateral(to_dtype_numpy(x, "float32"), diameter, sigma_color, sigma_space),
                              "uint16")
    return _opencv_bilateral(x, diameter, sigma_color, sigma_space)


# -- non-local means -----------------------------------------------------------------------------

@numpy_kernel("non_local_means")
def non_local_means_numpy(x: np.ndarray, h: float, template_window: int = 7,
                          search_window: int = 21) -> np.ndarray:
    """Non-local means denoising of a uint8 HW/HWC array with OpenCV.

    ``h`` is the filter strength on the ``[0, 1]`` scale (OpenCV's ``h`` divided by 255).
    Grayscale uses ``cv2.fastNlMeansDenoising``; RGB uses ``cv2.fastNlMeansDenoisingColored``
    (in Lab, with the same strength for colour). Windows are odd sizes in pixels.

    >>> int(non_local_means_numpy(np.full((8, 8), 9, np.uint8), 0.05).max())
    9
    """
    if x.dtype != np.uint8:
        raise TypeError(f"non_local_means supports uint8 images only (OpenCV); got {x.dtype}")
    strength = float(h) * 255.0
    channels = x.shape[2] if x.ndim == 3 else 1
    if channels == 1:
        return cv2.fastNlMeansDenoising(x, None, strength, int(template_window), int(search_window))
    if channels != 3:
        raise ValueError(f"non_local_means takes 1- or 3-channel images; got {channels} channels")
    bgr = cv2.cvtColor(x, cv2.COLOR_RGB2BGR)
    out = cv2.fastNlMeansDenoisingColored(bgr, None, strength, strength, int(template_window), int(search_window))
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


@tensor_kernel("non_local_means", "opencv", when(device="cpu", dtypes=(torch.uint8,), channels=(1, 3)))
def non_local_means_tensor(x: torch.Tensor, h: float, template_window: int = 7,
                           search_window: int = 21) -> torch.Tensor:
    """Non-local means of uint8 CPU tensors with 1 or 3 channels: :func:`non_local_means_numpy`
    image by image (OpenCV only); other tensors raise ``TypeError`` naming their dtype and device.

    >>> int(non_local_means_tensor(torch.full((1, 8, 8), 9, dtype=torch.uint8), 0.05).max())
    9
    """
    return run_numpy_per_image(x, lambda image: non_local_means_numpy(image, h, template_window, search_window))


bilateral_filter = op("bilateral_filter")
non_local_means = op("non_local_means")
