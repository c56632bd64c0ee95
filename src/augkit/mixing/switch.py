"""RandomMix: MixUp, CutMix or neither, chosen at random per call (or per sample / pair)."""

from __future__ import annotations

import torch

from ..core.validation import check_number, check_probability
from .base import Mixer
from .beta import sample_beta
from .cutmix import check_box_options, draw_cutmix

__all__ = ["RandomMix"]


class RandomMix(Mixer):
    """Choose MixUp with probability ``p_mixup``, CutMix with ``p_cutmix``, else leave the batch.

    In ``mode="batch"`` one choice (and one lambda) is drawn per call; in ``"elem"`` each sample
    draws its own choice, lambda and box, and in ``"pair"`` each pair does. timm's
    ``Mixup(prob=p, switch_prob=s)`` is ``p_mixup=p * (1 - s), p_cutmix=p * s``. The choice is a
    tensor too: both candidates are drawn and selected with ``torch.where``, so there is no
    host synchronisation and no data-dependent branch.

    Args:
        mixup_alpha, cutmix_alpha: Beta parameters (> 0) of MixUp and CutMix.
        p_mixup, p_cutmix: probabilities, with ``p_mixup + p_cutmix <= 1``.
        correct_lam, cutmix_minmax, centre_margin: CutMix box options, see :class:`CutMix`.
        num_classes, mode, pairing, label_smoothing, multi_label, inplace: see
            :class:`~augkit.mixing.base.Mixer`.

    Example:
        >>> import torch, augkit
        >>> mix = augkit.mixing.RandomMix(num_classes=120, mixup_alpha=0.2, cutmix_alpha=1.0,
        ...                               p_mixup=0.4, p_cutmix=0.4)
        >>> x, y = mix(torch.rand(8, 3, 32, 32), torch.randint(0, 120, (8,)))
        >>> y.shape, bool(torch.allclose(y.sum(1), torch.ones(8)))
        (torch.Size([8, 120]), True)
    """

    def __init__(self, *, mixup_alpha: float = 0.8, cutmix_alpha: float = 1.0, p_mixup: float = 0.5,
                 p_cutmix: float = 0.5, correct_lam: bool = True, cutmix_minmax: tuple[float, float] | None = None,
                 centre_margin: float = 0.0, num_classes: int | None = None, mode: str = "batch",
                 pairing: str = "permutation", label_smoothing: float = 0.0, multi_label: bool = False,
                 inplace: bool = False) -> None:
        super().__init__(num_classes=num_classes, mode=mode, pairing=pairing, label_smoothing=label_smoothing,
                         multi_label=multi_label, inplace=inplace)
        self.mixup_alpha = float(check_number(mixup_alpha, "mixup_alpha", low=0.0, low_inclusive=False))
        self.cutmix_alpha = float(check_number(cutmix_alpha, "cutmix_alpha", low=0.0, low_inclusive=False))
        self.p_mixup = check_probability(p_mixup, "p_mixup")
        self.p_cutmix = check_probability(p_cutmix, "p_cutmix")
        if self.p_mixup + self.p_cutmix > 1.0 + 1e-9:
            raise ValueError(f"p_mixup + p_cutmix must be <= 1; got {p_mixup!r} + {p_cutmix!r}")
        self.correct_lam, self.cutmix_minmax, self.centre_margin = check_box_options(
            correct_lam, cutmix_minmax, centre_margin)

    def _draw(self, n: int, size: tuple[int, int], generator: torch.Generator | None,
              device: torch.device) -> dict[str, torch.Tensor | None]:
        u = torch.rand(n, generator=generator, device=device)
        use_mixup = u < self.p_mixup
        use_cutmix = ~use_mixup & (u < self.p_mixup + self.p_cutmix)
        lam = torch.ones(n, device=device)
        weight = box = None
        if self.p_cutmix > 0:
            cut = draw_cutmix(n, size, alpha=self.cutmix_alpha, correct_lam=self.correct_lam,
                              minmax=self.cutmix_minmax, centre_margin=self.centre_margin,
                              generator=generator, device=device)
            box = torch.where(use_cutmix.unsqueeze(1), cut["box"], 0)
            lam = torch.where(use_cutmix, cut["lam"], lam)
        if self.p_mixup > 0:
            weight = torch.where(use_mixup, sample_beta(self.mixup_alpha, self.mixup_alpha, n,
                                                        generator=generator, device=device), 1.0)
            lam = torch.where(use_mixup, weight, lam)
        return {"lam": lam, "weight": weight, "box": box}
