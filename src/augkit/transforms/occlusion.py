"""Occlusion transforms: random erasing (cutout)."""

from __future__ import annotations

import dataclasses
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
from ..targets.sample import Sample
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

    Targets stay as they are, except semantic masks when ``mask_fill`` is given: their erased
    rectangle gets that value (an ignore index such as 255, so a segmentation loss skips what the
    image no longer shows).

    >>> import torch, augkit
    >>> out = augkit.RandomErasing(p=1.0)(torch.ones(4, 3, 32, 32), generator=torch.Generator().manual_seed(0))
    >>> bool((out == 0).any())
    True
    """

    reads_values = False  # pastes a fill, whatever the values

    params_type = ErasingParams

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33), ratio: Sequence[float] = (0.3, 3.3),
                 value: Union[float, Sequence[float], str] = 0.0, same_on_batch: bool = False,
                 mask_fill: Optional[int] = None) -> None:
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
        self.mask_fill = None if mask_fill is None else int(check_number(mask_fill, "mask_fill", integer=True))

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

    def _apply_sample(self, sample: Sample, spec: ImageSpec, params: ErasingParams) -> Sample:
        sample = super()._apply_sample(sample, spec, params)
        mask = sample.targets.get("mask")
        if self.mask_fill is None or mask is None:
            return sample
        return dataclasses.replace(sample, targets={**sample.targets, "mask": mask.with_data(
            self._erase_mask(mask.data, spec, params))})

    def _erase_mask(self, data: Any, spec: ImageSpec, params: ErasingParams) -> Any:
        """The mask with each applied image's rectangle set to ``mask_fill`` (no host sync)."""
        array = isinstance(data, np.ndarray)
        t = torch.from_numpy(data) if array else data
        planar = t if not array else (t.movedim(-1, 0) if t.ndim == 3 else t)  # channels first
        n = spec.n if spec.batched else 1
        rows = torch.arange(spec.height, device=t.device).view(1, -1, 1)
        cols = torch.arange(spec.width, device=t.device).view(1, 1, -1)

        def span(start: torch.Tensor, length: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
            start, length = start.view(n, 1, 1).to(t.device), length.view(n, 1, 1).to(t.device)
            return (index >= start) & (index < start + length)

        region = span(params.top, params.height, rows) & span(params.left, params.width, cols)
        if params.applied is not None:
            region &= params.applied.view(n, 1, 1).to(t.device)
        region = region[:, None] if spec.batched and planar.ndim == 4 else region if spec.batched else region[0]
        out = torch.where(region, torch.tensor(self.mask_fill, dtype=t.dtype, device=t.device), planar)
        if array:
            return (out.movedim(0, -1) if t.ndim == 3 else out).numpy()
        return out
