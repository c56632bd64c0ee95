"""Benchmark inputs made from the real photos bundled with augkit (noise would flatter codecs
and some kernels)."""

from __future__ import annotations

import functools
from typing import NamedTuple

import cv2
import numpy as np
import torch

from augkit.data import sample_image

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
DEVICE = torch.device("cpu")  # where the batches are made; run.py --device sets it before the tasks are built


@functools.lru_cache(maxsize=None)
def photo(height: int, width: int, index: int = 0) -> np.ndarray:
    """Photo ``index`` (cycling over the bundled ones) resized to height x width, RGB uint8 HWC."""
    image = sample_image(PHOTOS[index % len(PHOTOS)])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def photo_tensor(height: int, width: int, index: int = 0) -> torch.Tensor:
    return torch.from_numpy(photo(height, width, index)).permute(2, 0, 1).contiguous()


def photo_batch(n: int, height: int, width: int, dtype: torch.dtype = torch.uint8) -> torch.Tensor:
    """A batch of ``n`` photos on :data:`DEVICE`, uint8 or floating point in [0, 1]."""
    batch = torch.stack([photo_tensor(height, width, i) for i in range(n)]).to(DEVICE)
    return batch if dtype == torch.uint8 else batch.to(dtype) / 255


def batch_generator(seed: int = 0) -> torch.Generator:
    """A generator on :data:`DEVICE`, for the draws of augkit's batch rows."""
    return torch.Generator(DEVICE).manual_seed(seed)


class Inputs(NamedTuple):
    """The inputs most tasks share: one photo as an array and a tensor, a float batch of photos."""

    side: int
    batch_n: int
    array: np.ndarray
    image: torch.Tensor
    batch: torch.Tensor


def standard_inputs(scale: float = 1.0, height: int = 224, width: int = 224) -> Inputs:
    """One ``height x width`` photo (scaled) and a float batch of 64 (scaled) 224x224 photos."""
    side = max(16, int(224 * scale))
    h, w = max(16, int(height * scale)), max(16, int(width * scale))
    batch_n = max(2, int(64 * scale))
    return Inputs(side, batch_n, photo(h, w), photo_tensor(h, w), photo_batch(batch_n, side, side, torch.float32))
