"""MixUp: every image becomes ``lam * image + (1 - lam) * partner``, and so does its label."""

from __future__ import annotations

import torch

from ..core.validation import check_number
from .base import Mixer
from .beta import sample_beta

__all__ = ["MixUp"]


class MixUp(Mixer):
    """MixUp (Zhang et al., 2018) with ``lam ~ Beta(alpha, alpha)``.

    Args:
        alpha: the Beta parameter, > 0 (0.2 to 1.0 are common; small values mix little).
        num_classes, mode, pairing, label_smoothing, multi_label, inplace: see
            :class:`~augkit.mixing.base.Mixer`.

    Example:
        >>> import torch, augkit
        >>> mix = augkit.mixing.MixUp(alpha=0.2, num_classes=3)
        >>> x, y = torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 1])
        >>> x2, y2 = mix(x, y, generator=torch.Generator().manual_seed(0))
        >>> x2.shape, y2.dtype, torch.allclose(y2.sum(1), torch.ones(4))
        (torch.Size([4, 3, 8, 8]), torch.float32, True)
    """

    def __init__(self, alpha: float = 1.0, *, num_classes: int | None = None, mode: str = "batch",
                 pairing: str = "permutation", label_smoothing: float = 0.0, multi_label: bool = False,
                 inplace: bool = False) -> None:
        super().__init__(num_classes=num_classes, mode=mode, pairing=pairing, label_smoothing=label_smoothing,
                         multi_label=multi_label, inplace=inplace)
        self.alpha = float(check_number(alpha, "alpha", low=0.0, low_inclusive=False))

    def _draw(self, n: int, size: tuple[int, int], generator: torch.Generator | None,
              device: torch.device) -> dict[str, torch.Tensor | None]:
        lam = sample_beta(self.alpha, self.alpha, n, generator=generator, device=device)
        return {"lam": lam, "weight": lam, "box": None}
