"""Geometry kernels: flips (more ops join this module as they are added)."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ..core.dispatch import dispatch, numpy_kernel

__all__ = ["hflip", "hflip_tensor", "hflip_numpy", "vflip", "vflip_tensor", "vflip_numpy"]


def hflip_tensor(x: torch.Tensor) -> torch.Tensor:
    """Mirror left-right a ``(..., C, H, W)`` tensor."""
    return x.flip(-1)


@numpy_kernel
def hflip_numpy(x: np.ndarray) -> np.ndarray:
    """Mirror left-right an HW/HWC array."""
    return cv2.flip(x, 1)


def vflip_tensor(x: torch.Tensor) -> torch.Tensor:
    """Mirror top-bottom a ``(..., C, H, W)`` tensor."""
    return x.flip(-2)


@numpy_kernel
def vflip_numpy(x: np.ndarray) -> np.ndarray:
    """Mirror top-bottom an HW/HWC array."""
    return cv2.flip(x, 0)


hflip = dispatch(hflip_tensor, hflip_numpy)
vflip = dispatch(vflip_tensor, vflip_numpy)
