"""Dtype conversion and normalization kernels.

Value conventions: integer images span ``[0, 255]`` (uint8) or ``[0, 65535]`` (uint16); float
images span ``[0, 1]``. Scaling conversions map one range onto the other: uint8 -> uint16 is
``x * 257`` (exact, 255 -> 65535), uint16 -> uint8 rounds ``x / 257``, float -> int rounds and
clamps.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Union

import cv2
import numpy as np
import torch

from ..core import executor
from ..core.kernels import backend, numpy_kernel, op, tensor_kernel, when

try:
    from .. import _native  # the one-pass C kernel of normalize on CPU tensors (see csrc/normalize.c)
except ImportError:  # pragma: no cover - a build without the C extension
    _native = None

__all__ = [
    "IMAGENET_MEAN", "IMAGENET_STD", "CLIP_MEAN", "CLIP_STD", "INCEPTION_MEAN", "INCEPTION_STD",
    "to_dtype", "to_dtype_tensor", "to_dtype_numpy", "normalize", "normalize_tensor",
    "normalize_numpy", "max_value", "torch_dtype", "numpy_dtype",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
INCEPTION_MEAN = (0.5, 0.5, 0.5)
INCEPTION_STD = (0.5, 0.5, 0.5)

DTypeLike = Union[str, torch.dtype, np.dtype, type]

_TORCH = {
    "uint8": torch.uint8, "uint16": torch.uint16, "float16": torch.float16,
    "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64,
}
_NUMPY = {"uint8": np.dtype(np.uint8), "uint16": np.dtype(np.uint16), "float32": np.dtype(np.float32)}


def dtype_name(dtype: DTypeLike, name: str = "dtype") -> str:
    """Canonical name (``"uint8"``, ``"float32"``, ...) of a torch/NumPy dtype or its name."""
    if isinstance(dtype, torch.dtype):
        text = str(dtype).removeprefix("torch.")
    elif isinstance(dtype, str):
        text = dtype.removeprefix("torch.")
    else:
        try:
            text = np.dtype(dtype).name
        except TypeError:
            text = ""
    if text not in _TORCH:
        raise ValueError(f"{name} must be one of {', '.join(_TORCH)}; got {dtype!r}")
    return text


def torch_dtype(dtype: DTypeLike) -> torch.dtype:
    return _TORCH[dtype_name(dtype)]


def numpy_dtype(dtype: DTypeLike) -> np.dtype:
    text = dtype_name(dtype)
    if text not in _NUMPY:
        raise TypeError(f"NumPy images can be uint8, uint16 or float32; dtype {text} is for tensors only")
    return _NUMPY[text]


def max_value(dtype: Any) -> float:
    """The value of white: 255 for uint8, 65535 for uint16, 1.0 for floats."""
    name = dtype_name(dtype)
    return {"uint8": 255.0, "uint16": 65535.0}.get(name, 1.0)


def _is_int(name: str) -> bool:
    return name.startswith("uint")


@tensor_kernel("to_dtype")
def to_dtype_tensor(x: torch.Tensor, dtype: DTypeLike, scale: bool = True) -> torch.Tensor:
    """Convert a tensor image to ``dtype``, rescaling values to the new range if ``scale``.

    >>> to_dtype_tensor(torch.tensor([[[0, 255]]], dtype=torch.uint8), "float32").tolist()
    [[[0.0, 1.0]]]
    """
    src, dst = dtype_name(x.dtype), dtype_name(dtype)
    target = _TORCH[dst]
    if src == dst:
        return x
    if not scale:
        if _is_int(dst) and not _is_int(src):
            x = x.round().clamp_(0, max_value(dst))
        elif dst == "uint8" and src == "uint16":
            x = x.clamp(max=255)
        return x.to(target)
    if _is_int(src) and _is_int(dst):
        wide = x.to(torch.int32)
        wide = wide * 257 if dst == "uint16" else torch.div(wide + 128, 257, rounding_mode="floor")
        return wide.to(target)
    if _is_int(src):
        return x.to(target) / max_value(src)
    if _is_int(dst):
        return x.mul(max_value(dst)).round_().clamp_(0, max_value(dst)).to(target)
    return x.to(target)


@numpy_kernel("to_dtype")
def to_dtype_numpy(x: np.ndarray, dtype: DTypeLike, scale: bool = True) -> np.ndarray:
    """Convert an HW/HWC array to ``dtype`` (uint8, uint16 or float32), like :func:`to_dtype_tensor`."""
    src, dst = x.dtype.name, dtype_name(dtype)
    target = numpy_dtype(dst)
    if src == dst:
        return x
    if not scale:
        if _is_int(dst):
            return np.clip(np.rint(x), 0, max_value(dst)).astype(target)
        return x.astype(target)
    if _is_int(src) and _is_int(dst):
        if dst == "uint16":
            return x.astype(np.uint16) * np.uint16(257)
        return ((x.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if _is_int(src):
        return np.multiply(x, np.float32(1.0 / max_value(src)), dtype=np.float32)
    return np.clip(np.rint(x * np.float32(max_value(dst))), 0, max_value(dst)).astype(target)


to_dtype = op("to_dtype")


@functools.lru_cache(maxsize=64)
def _affine_coefficients(mean: tuple[float, ...], std: tuple[float, ...], channels: int,
                         white: float) -> tuple[np.ndarray, np.ndarray]:
    """``scale, bias`` with ``normalize(x) = x * scale + bias`` for pixels in ``[0, white]``."""
    mean_a = np.asarray(mean, dtype=np.float64).reshape(-1)
    std_a = np.asarray(std, dtype=np.float64).reshape(-1)
    for name, values in (("mean", mean_a), ("std", std_a)):
        if len(values) not in (1, channels):
            raise ValueError(
                f"{name} has {len(values)} values but the image has {channels} channel(s); "
                f"expected 1 or {channels} values"
            )
    scale = np.broadcast_to(1.0 / (std_a * white), channels).astype(np.float32)
    return scale, np.broadcast_to(-mean_a / std_a, channels).astype(np.float32)


@functools.lru_cache(maxsize=64)
def _affine_tensors(mean: tuple[float, ...], std: tuple[float, ...], channels: int, white: float,
                    device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    scale, bias = _affine_coefficients(mean, std, channels, white)
    return (torch.from_numpy(scale).to(device, dtype).view(-1, 1, 1),
            torch.from_numpy(bias).to(device, dtype).view(-1, 1, 1))


@functools.lru_cache(maxsize=64)
def _normalize_matrix(mean: tuple[float, ...], std: tuple[float, ...], channels: int, white: float) -> np.ndarray:
    """The ``C x (C + 1)`` float32 matrix of ``cv2.transform``: ``x * scale + bias`` per channel."""
    scale, bias = _affine_coefficients(mean, std, channels, white)
    return np.concatenate([np.diag(scale), bias[:, None]], axis=1)


@tensor_kernel("normalize")
def normalize_tensor(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``(x - mean) / std`` per channel of a ``(..., C, H, W)`` tensor.

    Integer images are first scaled to ``[0, 1]`` (one fused multiply-add); the result is float32
    for integer input and keeps the dtype of float input.

    >>> normalize_tensor(torch.zeros(3, 1, 1, dtype=torch.uint8), (0.5,), (0.5,)).flatten().tolist()
    [-1.0, -1.0, -1.0]
    """
    dtype = x.dtype if x.is_floating_point() else torch.float32
    scale, bias = _affine_tensors(tuple(mean), tuple(std), x.shape[-3], max_value(x.dtype), x.device, dtype)
    out = executor.empty(x.shape, dtype, x.device) if x.is_contiguous() else torch.empty_like(x, dtype=dtype)
    # on the CPU, a multiply and an add are faster than a broadcast addcmul, and converting integers
    # first faster than multiplying across dtypes
    first = torch.mul(x, scale, out=out) if x.dtype == dtype else out.copy_(x).mul_(scale)
    return first.add_(bias)


if _native is not None:
    _coefficients = functools.lru_cache(maxsize=64)(_affine_coefficients)

    @backend("normalize", "tensor", "c", when(device="cpu", dtypes=(torch.float32, torch.uint8), contiguous=True,
                                              plain=True))
    def _normalize_c(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
        """Contiguous float32 or uint8 CPU tensors: ``csrc/normalize.c``, one pass with the two
        roundings of the torch kernel, its results bit for bit."""
        channels = x.shape[-3]
        scale, bias = _coefficients(tuple(mean), tuple(std), channels, max_value(x.dtype))
        out = executor.empty(x.shape, torch.float32)
        _native.normalize(x.data_ptr(), out.data_ptr(), x.numel() // max(1, x.shape[-1] * x.shape[-2]), channels,
                          x.shape[-1] * x.shape[-2], x.dtype == torch.uint8, scale.ctypes.data, bias.ctypes.data)
        return out


@numpy_kernel("normalize")
def normalize_numpy(x: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """``(x - mean) / std`` per channel of an HW/HWC array; float32 out, integers scaled first."""
    channels = x.shape[2] if x.ndim == 3 else 1
    if channels <= 4:  # one OpenCV pass (cv2.transform takes 1 to 4 channels): x * scale + bias
        return cv2.transform(x.astype(np.float32), _normalize_matrix(tuple(mean), tuple(std), channels,
                                                                     max_value(x.dtype)))
    scale, bias = _affine_coefficients(tuple(mean), tuple(std), channels, max_value(x.dtype))
    out = np.multiply(x, scale, dtype=np.float32)
    out += bias
    return out


normalize = op("normalize")
