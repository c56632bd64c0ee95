"""AugMix (Hendrycks et al. 2020): chains of policy ops mixed with the image.

The ops and magnitude bins are torchvision's ``AugMix``'s (``AUGMIX_SPACE`` of
:mod:`augkit.transforms.policies`); each chain is applied like a policy's ops (see
:mod:`augkit.transforms.policy_ops`), so an image gives the same pixels alone or in a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..core.image import ImageSpec
from ..core.params import Params
from ..core.transform import Transform
from ..core.validation import check_choice, check_fill, check_number
from ..functional._utils import cast_result, cast_result_numpy
from ..functional.geometry import WARP_INTERPOLATIONS
from ..mixing.beta import sample_beta, sample_dirichlet
from .policies import AUGMIX_PARTIAL_OPS, AUGMIX_SPACE, bin_magnitudes, op_names, uniform_choice
from ..targets.sample import BOX_FIELDS
from .policy_ops import apply_ops, apply_ops_numpy

__all__ = ["AugMix", "AugMixParams"]


@dataclass(frozen=True, kw_only=True)
class AugMixParams(Params):
    """Per image: ``ops`` and ``magnitudes`` ``(n, width, depth)`` of each chain (-1: none),
    ``weights`` ``(n, width)`` of the chains in the mix and ``original`` ``(n,)``, the weight of the
    image itself."""

    ops: torch.Tensor
    magnitudes: torch.Tensor
    weights: torch.Tensor
    original: torch.Tensor


class AugMix(Transform):
    """AugMix (Hendrycks et al. 2020): ``width`` chains of ``depth`` ops (``-1``: 1 to 3, drawn per
    image and chain) drawn uniformly with replacement, each at a magnitude bin drawn from the first
    ``severity`` of 10 (torchvision's ranges, translate a third of the side, posterize 4 to 0
    bits), mixed with weights ``~ Dirichlet(alpha)`` and blended with the image by
    ``Beta(alpha, alpha)``. ``all_ops=False`` leaves out Brightness, Color, Contrast and Sharpness
    (they overlap ImageNet-C corruptions).

    Mixing is in float32; integer images are rounded (torchvision truncates).

    >>> import torch, augkit
    >>> augkit.AugMix(severity=3, width=3)(torch.rand(2, 3, 32, 32)).shape
    torch.Size([2, 3, 32, 32])
    """

    params_type = AugMixParams
    space = AUGMIX_SPACE
    bins = 10

    def _apply_sample(self, sample: Any, spec: ImageSpec, params: Params) -> Any:
        moved = [k for k in sample.targets if k not in BOX_FIELDS]
        if moved:
            raise TypeError(f"AugMix blends differently warped copies of an image, so no single {moved[0]} "
                            f"fits the result; apply it to images only (after the geometric transforms)")
        return super()._apply_sample(sample, spec, params)

    def __init__(self, severity: int = 3, width: int = 3, depth: int = -1, alpha: float = 1.0,
                 all_ops: bool = True, interpolation: str = "bilinear", fill: float | Sequence[float] = 0.0,
                 p: float = 1.0) -> None:
        super().__init__(p)
        self.severity = check_number(severity, "severity", low=1, high=self.bins, integer=True)
        self.width = check_number(width, "width", low=1, integer=True)
        self.depth = check_number(depth, "depth", low=-1, integer=True)
        if self.depth == 0:
            raise ValueError("depth must be -1 (1 to 3 ops, drawn per chain) or positive; got 0")
        self.alpha = float(check_number(alpha, "alpha", low=0.0, low_inclusive=False))
        self.all_ops = bool(all_ops)
        self.interpolation = check_choice(interpolation, "interpolation", WARP_INTERPOLATIONS)
        self.fill = check_fill(fill)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        n, depth = spec.n, self.depth if self.depth > 0 else 3
        u = torch.rand(n, self.width, depth, 3, generator=generator, device=spec.device)
        count = len(self.space) if self.all_ops else AUGMIX_PARTIAL_OPS
        ops = uniform_choice(u[..., 0], torch.arange(count))
        levels = (u[..., 2] * self.severity).long().clamp_(max=self.severity - 1)
        values = bin_magnitudes(self.space, spec.size, ops, levels, self.bins, u[..., 1] <= 0.5)
        if self.depth < 0:
            chain = 1 + (torch.rand(n, self.width, 1, generator=generator, device=spec.device) * 3).long().clamp_(max=2)
            ops = torch.where(torch.arange(depth, device=spec.device) < chain, ops, -1)
        original = sample_beta(self.alpha, self.alpha, n, generator=generator, device=spec.device)
        weights = sample_dirichlet(self.alpha, self.width, n, generator=generator, device=spec.device)
        return {"ops": ops, "magnitudes": values, "weights": weights * (1.0 - original)[:, None],
                "original": original}

    def _apply_tensor(self, x: torch.Tensor, params: AugMixParams) -> torch.Tensor:
        work = x.dtype if x.is_floating_point() else torch.float32
        mix = x.to(work) * params.original.to(work).view(-1, 1, 1, 1)
        names = op_names(self.space)
        for chain in range(self.width):
            aug = apply_ops(x, params.ops[:, chain], params.magnitudes[:, chain], names, self.interpolation,
                            self.fill)
            mix += aug.to(work) * params.weights[:, chain].to(work).view(-1, 1, 1, 1)
        return cast_result(mix, x.dtype)

    def _apply_numpy(self, x: np.ndarray, params: AugMixParams) -> np.ndarray:
        weights = params.weights[0].tolist()
        mix = x.astype(np.float32) * np.float32(params.original[0])
        names = op_names(self.space)
        for chain in range(self.width):
            aug = apply_ops_numpy(x, params.ops[0, chain].tolist(), params.magnitudes[0, chain].tolist(), names,
                                  self.interpolation, self.fill)
            mix += aug.reshape(x.shape).astype(np.float32) * np.float32(weights[chain])
        return cast_result_numpy(mix, x.dtype)
