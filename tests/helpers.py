"""Test images of every kind, and comparison helpers."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import torch
from PIL import Image

from augkit.data import sample_image

KINDS = ("pil", "numpy", "tensor")
DTYPES = ("uint8", "uint16", "float32")


@functools.lru_cache(maxsize=None)
def _photo(height: int, width: int, channels: int, name: str) -> np.ndarray:
    photo = sample_image(name)
    photo = cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA)
    if channels == 1:
        return cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    if channels == 4:
        alpha = np.linspace(0, 255, height * width).reshape(height, width).astype(np.uint8)
        return np.dstack([photo, alpha])
    return photo


def photo_array(height: int = 24, width: int = 32, channels: int = 3, dtype: str = "uint8",
                name: str = "astronaut", layout: str = "hwc") -> np.ndarray:
    """A real photo resized to (height, width) as an HW/HWC array of ``dtype``."""
    array = _photo(height, width, channels, name).copy()
    if dtype == "uint16":
        array = array.astype(np.uint16) * 257
    elif dtype == "float32":
        array = array.astype(np.float32) / 255
    if channels == 1 and layout == "hwc":
        array = array[:, :, None]
    return array


def make_image(kind: str, dtype: str = "uint8", height: int = 24, width: int = 32,
               channels: int = 3, batch: int | None = None, name: str = "astronaut"):
    """The same photo as a PIL image, an HW/HWC array, or a CHW/BCHW tensor."""
    if kind == "pil":
        array = photo_array(height, width, channels, dtype, name, layout="hw")
        return Image.fromarray(array)
    if kind == "numpy":
        return photo_array(height, width, channels, dtype, name)
    array = photo_array(height, width, channels, dtype, name)
    x = torch.from_numpy(array).permute(2, 0, 1).contiguous()
    if batch is not None:
        names = ["astronaut", "coffee", "chelsea", "rocket"]
        x = torch.stack([make_image("tensor", dtype, height, width, channels, name=names[i % 4])
                         for i in range(batch)])
    return x


def as_numpy(image) -> np.ndarray:
    """Any kind as an HWC float64 array (for comparisons)."""
    if isinstance(image, Image.Image):
        image = np.asarray(image)
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu()
        if image.dtype in (torch.uint16, torch.bfloat16, torch.float16):
            image = image.float()
        image = image.permute(1, 2, 0).numpy()
    array = np.asarray(image, dtype=np.float64)
    return array[:, :, None] if array.ndim == 2 else array


def assert_close(actual, expected, atol: float = 0.0, msg: str = "") -> None:
    a, e = as_numpy(actual), as_numpy(expected)
    assert a.shape == e.shape, f"{msg}: shape {a.shape} != {e.shape}"
    diff = np.abs(a - e).max() if a.size else 0.0
    assert diff <= atol, f"{msg}: max abs difference {diff} > {atol}"


def same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    return np.array_equal(as_numpy(a), as_numpy(b))
