"""Benchmark inputs made from the real photos bundled with augkit (noise would flatter codecs
and some kernels)."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import torch

from augkit.data import sample_image

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


@functools.lru_cache(maxsize=None)
def photo(height: int, width: int, index: int = 0) -> np.ndarray:
    """Photo ``index`` (cycling over the bundled ones) resized to height x width, RGB uint8 HWC."""
    image = sample_image(PHOTOS[index % len(PHOTOS)])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def photo_tensor(height: int, width: int, index: int = 0) -> torch.Tensor:
    return torch.from_numpy(photo(height, width, index)).permute(2, 0, 1).contiguous()


def photo_batch(n: int, height: int, width: int, dtype: torch.dtype = torch.uint8) -> torch.Tensor:
    batch = torch.stack([photo_tensor(height, width, i) for i in range(n)])
    return batch if dtype == torch.uint8 else batch.to(dtype) / 255
