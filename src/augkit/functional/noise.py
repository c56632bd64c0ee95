"""Noise and compression-artefact kernels: additive noise and JPEG round trips.

Noise is given on the ``[0, 1]`` scale for every dtype and added on the image's scale (times
255 for uint8, 65535 for uint16); integer results are rounded and clamped, float results clipped
to ``[0, 1]`` when asked.

JPEG has one backend, OpenCV's codec, which runs on the CPU only: tensors on other devices raise
``TypeError`` naming their device (move them with ``.cpu()``; an implicit copy would stall the
device's stream on every call).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

from ..core.kernels import numpy_kernel, op, run_numpy_per_image, tensor_kernel, when
from .convert import max_value, to_dtype_numpy, to_dtype_tensor
from ._utils import cast_result, cast_result_numpy, per_sample, work_dtype

__all__ = [
    "add_noise", "add_noise_tensor", "add_noise_numpy",
    "jpeg_compression", "jpeg_compression_tensor", "jpeg_compression_numpy",
]


@tensor_kernel("add_noise")
def add_noise_tensor(x: torch.Tensor, noise: torch.Tensor, clip: bool = True) -> torch.Tensor:
    """``x + noise`` with ``noise`` on the ``[0, 1]`` scale, broadcastable to ``x`` (``(B, C|1, H, W)``).

    Integer images are always rounded and clamped; float images are clipped to ``[0, 1]`` if
    ``clip``.

    >>> add_noise_tensor(torch.tensor([[[250]]], dtype=torch.uint8), torch.tensor([[[0.1]]])).tolist()
    [[[255]]]
    """
    white = max_value(x.dtype)
    y = x.to(work_dtype(x.dtype)) + noise.to(work_dtype(x.dtype)) * white
    return cast_result(y, x.dtype, clamp=clip)


@numpy_kernel("add_noise")
def add_noise_numpy(x: np.ndarray, noise: np.ndarray, clip: bool = True) -> np.ndarray:
    """``x + noise`` on an HW/HWC array; ``noise`` is HW/HWC (or HW1) on the ``[0, 1]`` scale."""
    white = np.float32(max_value(x.dtype))
    noise = noise.astype(np.float32).reshape(noise.shape[0], noise.shape[1], -1)
    values = x.astype(np.float32).reshape(x.shape[0], x.shape[1], -1)
    y = (values + noise * white).reshape(*x.shape[:2], -1)
    y = y if x.ndim == 3 else y[:, :, 0]
    return cast_result_numpy(y, x.dtype, clamp=clip)


def _jpeg_array(x: np.ndarray, quality: int) -> np.ndarray:
    """JPEG round trip of a uint8 HW/HWC (1 or 3 channels) array with OpenCV."""
    channels = x.shape[2] if x.ndim == 3 else 1
    if channels not in (1, 3):
        raise ValueError(f"jpeg_compression takes 1- or 3-channel images; got {channels} channels")
    bgr = cv2.cvtColor(x, cv2.COLOR_RGB2BGR) if channels == 3 else x
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV failed to encode the image as JPEG")
    if channels == 3:
        return cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE).reshape(x.shape)


@tensor_kernel("jpeg_compression", "opencv", when(device="cpu"))
def jpeg_compression_tensor(x: torch.Tensor, quality: int | Sequence[int] | torch.Tensor) -> torch.Tensor:
    """Encode to JPEG at ``quality`` (1-100; one per image) and decode, on CPU tensors
    ``(..., C, H, W)`` with 1 or 3 channels. Non-uint8 images go through uint8 and come back in
    their dtype. Codecs work one image at a time: this is :func:`jpeg_compression_numpy` image by
    image, the same bytes. Tensors on other devices raise ``TypeError`` (see the module doc).

    >>> x = torch.full((3, 16, 16), 128, dtype=torch.uint8)
    >>> int((jpeg_compression_tensor(x, 75).int() - 128).abs().max())
    0
    """
    images = to_dtype_tensor(x, "uint8")
    qualities = per_sample(quality, images.reshape(-1, *x.shape[-3:]).shape[0], "cpu", torch.int64).tolist()
    return to_dtype_tensor(run_numpy_per_image(images, _jpeg_array, qualities), x.dtype)


@numpy_kernel("jpeg_compression")
def jpeg_compression_numpy(x: np.ndarray, quality: int) -> np.ndarray:
    """JPEG round trip of an HW/HWC array (``cv2.imencode``/``cv2.imdecode``); non-uint8 images
    go through uint8 and come back in their dtype."""
    out = _jpeg_array(to_dtype_numpy(x, "uint8"), int(quality))
    return to_dtype_numpy(out, x.dtype.name)


add_noise = op("add_noise")
jpeg_compression = op("jpeg_compression")
