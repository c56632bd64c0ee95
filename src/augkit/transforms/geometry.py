"""Geometric transforms: flips (more join this module as they are added)."""

from __future__ import annotations

import numpy as np
import torch

from .. import functional as F
from ..core.params import Params
from ..core.transform import Transform

__all__ = ["HorizontalFlip", "VerticalFlip"]


class HorizontalFlip(Transform):
    """Mirror images left-right with probability ``p``, drawn per image.

    >>> import torch, augkit
    >>> augkit.HorizontalFlip(p=1.0)(torch.tensor([[[1, 2, 3]]], dtype=torch.uint8)).tolist()
    [[[3, 2, 1]]]
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p)

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.hflip_tensor(x)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.hflip_numpy(x)


class VerticalFlip(Transform):
    """Mirror images top-bottom with probability ``p``, drawn per image.

    >>> import torch, augkit
    >>> augkit.VerticalFlip(p=1.0)(torch.tensor([[[1], [2]]], dtype=torch.uint8)).tolist()
    [[[2], [1]]]
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p)

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.vflip_tensor(x)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.vflip_numpy(x)
