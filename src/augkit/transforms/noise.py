"""Noise and compression-artefact transforms: Gaussian noise and JPEG compression."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import functional as F
from ..core.image import ImageSpec
from ..core.params import Params
from ..core.transform import Transform
from ..core.validation import check_number, check_range_pair
from .enhance import draw_range

__all__ = ["GaussianNoise", "JPEGCompression"]


@dataclass(frozen=True, kw_only=True)
class NoiseParams(Params):
    noise: torch.Tensor  # (n, C or 1, H, W) on the [0, 1] scale


class GaussianNoise(Transform):
    """Add Gaussian noise of ``mean`` and a standard deviation drawn per image from ``std``.

    Both are on the ``[0, 1]`` scale for every dtype (``std=0.1`` is 25.5 grey levels of a uint8
    image); integer results are rounded and clamped, float results clipped to ``[0, 1]`` if
    ``clip``. ``per_channel=False`` adds the same noise to every channel. The noise field is part
    of the parameters, so ``apply`` replays it exactly.

    >>> import torch, augkit
    >>> x = torch.full((1, 3, 8, 8), 0.5)
    >>> y = augkit.GaussianNoise(std=0.1)(x, generator=torch.Generator().manual_seed(0))
    >>> bool((y != x).any()), bool((y >= 0).all() and (y <= 1).all())
    (True, True)
    """

    params_type = NoiseParams

    def __init__(self, mean: float = 0.0, std: float | Sequence[float] = (0.01, 0.1), clip: bool = True,
                 per_channel: bool = True, p: float = 1.0, same_on_batch: bool = False) -> None:
        super().__init__(p)
        self.mean = float(check_number(mean, "mean", low=-1.0, high=1.0))
        if isinstance(std, numbers.Real) and not isinstance(std, bool):
            std = (check_number(std, "std", low=0.0), std)
        self.std = check_range_pair(std, "std", low=0.0)
        self.clip = bool(clip)
        self.per_channel = bool(per_channel)
        self.same_on_batch = bool(same_on_batch)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        std = draw_range(self.std, spec, generator).view(-1, 1, 1, 1)
        shape = (spec.n, spec.channels if self.per_channel else 1, *spec.size)
        noise = torch.randn(shape, generator=generator, device=spec.device)
        return {"noise": noise * std + self.mean}

    def _apply_tensor(self, x: torch.Tensor, params: NoiseParams) -> torch.Tensor:
        return F.add_noise_tensor(x, params.noise, self.clip)

    def _apply_numpy(self, x: np.ndarray, params: NoiseParams) -> np.ndarray:
        # params of array images are on the CPU (sample_params draws them on the image's device)
        return F.add_noise_numpy(x, params.noise[0].permute(1, 2, 0).numpy(), self.clip)


@dataclass(frozen=True, kw_only=True)
class JPEGParams(Params):
    quality: torch.Tensor  # (n,) int64


class JPEGCompression(Transform):
    """JPEG round trip at a quality drawn per image from the ``(min, max)`` range (1-100, inclusive).

    Images have 1 or 3 channels; non-uint8 images go through uint8 and come back in their dtype.
    OpenCV's codec works one image at a time on the CPU: CPU tensors are looped over (the same
    bytes as for arrays); tensors on other devices raise ``TypeError`` (move them with ``.cpu()``).

    >>> import numpy as np, augkit
    >>> augkit.JPEGCompression(quality=(50, 95))(np.zeros((16, 16, 3), np.uint8)).shape
    (16, 16, 3)
    """

    params_type = JPEGParams

    def __init__(self, quality: int | Sequence[int] = (50, 95), p: float = 1.0, same_on_batch: bool = False) -> None:
        super().__init__(p)
        if isinstance(quality, numbers.Integral) and not isinstance(quality, bool):
            quality = (quality, quality)
        lo, hi = check_range_pair(quality, "quality", low=1, high=100)
        if lo != int(lo) or hi != int(hi):
            raise TypeError(f"quality must be ints in [1, 100]; got {quality!r}")
        self.quality = (int(lo), int(hi))
        self.same_on_batch = bool(same_on_batch)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        lo, hi = self.quality
        u = torch.rand(spec.n, generator=generator, device=spec.device)
        return {"quality": (u * (hi - lo + 1)).floor().long().clamp_(max=hi - lo) + lo}

    def _apply_tensor(self, x: torch.Tensor, params: JPEGParams) -> torch.Tensor:
        return F.jpeg_compression_tensor(x, params.quality)

    def _apply_numpy(self, x: np.ndarray, params: JPEGParams) -> np.ndarray:
        return F.jpeg_compression_numpy(x, int(params.quality))
