"""Occlusion transforms: random erasing (cutout)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np
import torch

from .. import functional as F
from ..core.image import ImageSpec
from ..core.params import Params
from ..core.transform import Transform
from ..core.validation import check_number, check_range_pair, check_sequence

__all__ = ["RandomErasing"]

TRIES = 10


@dataclass(frozen=True, kw_only=True)
class ErasingParams(Params):
    top: torch.Tensor
    left: torch.Tensor
    height: torch.Tensor  # 0 when no try fitted: nothing erased
    width: torch.Tensor
    fill: Optional[torch.Tensor] = None  # (n, C, H, W) per-pixel values for value="random"


class RandomErasing(Transform):
    """Erase a random rectangle of each image, as torchvision's ``RandomErasing``.

    Per image, up to 10 tries draw an area fraction from ``scale`` and an aspect ratio
    (log-uniform) from ``ratio``; the first box that fits is placed uniformly, and the image is
    left as it is when none does. All tries of all images are drawn at once as ``(B, 10)`` tensors.
    ``value`` (``[0, 1]`` scale) is a number, one per channel, or ``"random"``: per-pixel values
    uniform over the dtype's range, drawn from the generator (torchvision draws standard normal
    values, meant for normalized tensors).

    >>> import torch, augkit
    >>> out = augkit.RandomErasing(p=1.0)(torch.ones(4, 3, 32, 32), generator=torch.Generator().manual_seed(0))
    >>> bool((out == 0).any())
    True
    """

    reads_values = False  # pastes a fill, whatever the values

    params_type = ErasingParams

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33), ratio: Sequence[float] = (0.3, 3.3),
                 value: Union[float, Sequence[float], str] = 0.0, same_on_batch: bool = False) -> None:
        super().__init__(p)
        self.scale = check_range_pair(scale, "scale", low=0.0, high=1.0)
        self.ratio = check_range_pair(ratio, "ratio", low=0.0)
        if self.ratio[0] <= 0:
            raise ValueError(f"ratio must be > 0; got {ratio!r}")
        if isinstance(value, str):
            if value != "random":
                raise ValueError(f"value must be a number, a sequence of numbers or 'random'; got {value!r}")
        elif isinstance(value, numbers.Real):
            value = float(check_number(value, "value", low=0.0, high=1.0))
        else:
            value = tuple(float(check_number(v, f"value[{i}]", low=0.0, high=1.0))
                          for i, v in enumerate(check_sequence(value, "value")))
        self.value = value
        self.same_on_batch = bool(same_on_batch)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        n, (h, w), device = spec.n, spec.size, spec.device
        u = torch.rand(4, n, TRIES, generator=generator, device=device, dtype=torch.float64)
        area = h * w * (u[0] * (self.scale[1] - self.scale[0]) + self.scale[0])
        log_lo, log_hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        aspect = torch.exp(u[1] * (log_hi - log_lo) + log_lo)
        heights = (area * aspect).sqrt().round().long()
        widths = (area / aspect).sqrt().round().long()
        fits = (heights < h) & (widths < w)
        first = fits.long().argmax(1, keepdim=True)
        found = fits.any(1)
        height = torch.where(found, heights.gather(1, first).squeeze(1), 0)
        width = torch.where(found, widths.gather(1, first).squeeze(1), 0)
        top = (u[2].gather(1, first).squeeze(1) * (h - height + 1)).floor().long()
        left = (u[3].gather(1, first).squeeze(1) * (w - width + 1)).floor().long()
        fill = None
        if self.value == "random":
            fill = torch.rand(n, spec.channels, h, w, generator=generator, device=device)
        return {"top": top, "left": left, "height": height, "width": width, "fill": fill}

    def _fill(self, params: ErasingParams) -> Any:
        return params.fill if params.fill is not None else self.value

    def _apply_tensor(self, x: torch.Tensor, params: ErasingParams) -> torch.Tensor:
        fill = self._fill(params)
        return F.erase_tensor(x, params.top, params.left, params.height, params.width,
                              fill if not isinstance(fill, tuple) else torch.tensor(fill))

    def _apply_numpy(self, x: np.ndarray, params: ErasingParams) -> np.ndarray:
        fill = self._fill(params)
        if isinstance(fill, torch.Tensor):
            fill = fill[0].permute(1, 2, 0).numpy()  # on the CPU: the image's device
        return F.erase_numpy(x, int(params.top), int(params.left), int(params.height), int(params.width),
                             np.asarray(fill, dtype=np.float32))
