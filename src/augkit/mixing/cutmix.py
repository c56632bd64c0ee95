"""CutMix: a box of every image is replaced by the same box of its partner; the label share is
the fraction of pixels kept."""

from __future__ import annotations

import torch

from ..core.validation import check_number, check_range_pair
from .base import Mixer
from .beta import sample_beta
from .kernels import box_kept_fraction

__all__ = ["CutMix", "draw_boxes", "draw_cutmix"]


def _uniform_int(low: torch.Tensor | int, high: torch.Tensor | int, n: int, generator: torch.Generator | None,
                 device: torch.device) -> torch.Tensor:
    """Integers uniform in ``[low, high)`` (``low`` where ``high <= low``), as int64."""
    u = torch.rand(n, generator=generator, device=device)
    span = torch.as_tensor(high, device=device) - torch.as_tensor(low, device=device)
    return torch.as_tensor(low, device=device) + (u * span.clamp_min(0)).floor().long()


def draw_boxes(lam: torch.Tensor, size: tuple[int, int], *, generator: torch.Generator | None = None,
               minmax: tuple[float, float] | None = None, centre_margin: float = 0.0) -> torch.Tensor:
    """Boxes ``(n, 4)`` as int64 ``(top, bottom, left, right)``, clipped to the image.

    Without ``minmax``, a box has sides ``floor(H * sqrt(1 - lam))`` by ``floor(W * sqrt(1 - lam))``
    around a centre uniform over the pixels (over ``[m H, (1 - m) H)`` with ``centre_margin=m``,
    e.g. 0.125 for ``[H/8, 7H/8)``), then clipped. With ``minmax=(a, b)``, sides are uniform in
    ``[int(a H), int(b H))`` and the box lies inside the image. Drawn on ``lam``'s device.

    >>> import torch
    >>> draw_boxes(torch.tensor([0.75]), (8, 8), generator=torch.Generator().manual_seed(0)).shape
    torch.Size([1, 4])
    """
    n, device = lam.shape[0], lam.device
    height, width = size
    if minmax is None:
        sides, span, margin = _box_grid(size, centre_margin, device)
        cut = (torch.sqrt(1.0 - lam).unsqueeze(1) * sides).floor().long()  # (n, 2): height, width
        u = torch.stack([torch.rand(n, generator=generator, device=device) for _ in range(2)], 1)
        centre = (u * span).floor().long() + margin
        start, end = (centre - cut // 2).clamp_min_(0), torch.minimum(centre + (cut + 1) // 2, sides)
    else:  # inside the image
        start = torch.stack([_uniform_int(int(side * minmax[0]), int(side * minmax[1]), n, generator, device)
                             for side in size], 1)  # the sides first
        end = start.clone()
        for k, side in enumerate(size):
            start[:, k] = _uniform_int(0, side - end[:, k] + 1, n, generator, device)
        end += start
    return torch.stack([start, end], 2).flatten(1)  # (top, bottom, left, right)


def _box_grid(size: tuple[int, int], centre_margin: float, device: torch.device) -> torch.Tensor:
    """``(3, 2)`` int64: the image sides, and the span and start of the box centres."""
    margin = [int(centre_margin * side) for side in size]
    span = [max(0, side - 2 * m) for side, m in zip(size, margin)]
    return torch.tensor([list(size), span, margin], device=device)


class CutMix(Mixer):
    """CutMix (Yun et al., 2019): paste a box of the partner image, ``lam ~ Beta(alpha, alpha)``.

    Args:
        alpha: the Beta parameter, > 0; the box covers about ``1 - lam`` of the image.
        correct_lam: recompute lam from the clipped box, so the label share equals the fraction of
            pixels kept (default); when false, labels use the drawn lam (always corrected with
            ``cutmix_minmax``).
        cutmix_minmax: ``(min, max)`` box side as a fraction of the image side, drawn uniformly
            instead of from lam (timm's ``cutmix_minmax``).
        centre_margin: keep box centres at least this fraction of the side from the borders, in
            ``[0, 0.5)``; 0.125 gives centres in ``[W/8, 7W/8)``. Not used with ``cutmix_minmax``.
        num_classes, mode, pairing, label_smoothing, multi_label, inplace: see
            :class:`~augkit.mixing.base.Mixer`.

    Works on uint8 and float batches, channels-first or channels-last, on any device.

    Example:
        >>> import torch, augkit
        >>> mix = augkit.mixing.CutMix(alpha=1.0, num_classes=10, mode="elem")
        >>> x, y = torch.rand(4, 3, 16, 16), torch.tensor([0, 1, 2, 3])
        >>> g = torch.Generator().manual_seed(0)
        >>> params = mix.sample_params(x, generator=g)
        >>> x2, y2 = mix.apply(x, y, params)
        >>> kept = (x2 == x).all(1).float().mean((1, 2))   # fraction of own pixels, per sample
        >>> bool(torch.allclose(kept[params.index != torch.arange(4)], params.lam[params.index != torch.arange(4)]))
        True
    """

    def __init__(self, alpha: float = 1.0, *, correct_lam: bool = True,
                 cutmix_minmax: tuple[float, float] | None = None, centre_margin: float = 0.0,
                 num_classes: int | None = None, mode: str = "batch", pairing: str = "permutation",
                 label_smoothing: float = 0.0, multi_label: bool = False, inplace: bool = False) -> None:
        super().__init__(num_classes=num_classes, mode=mode, pairing=pairing, label_smoothing=label_smoothing,
                         multi_label=multi_label, inplace=inplace)
        self.alpha = float(check_number(alpha, "alpha", low=0.0, low_inclusive=False))
        self.correct_lam, self.cutmix_minmax, self.centre_margin = check_box_options(
            correct_lam, cutmix_minmax, centre_margin)

    def _draw(self, n: int, size: tuple[int, int], generator: torch.Generator | None,
              device: torch.device) -> dict[str, torch.Tensor | None]:
        return draw_cutmix(n, size, alpha=self.alpha, correct_lam=self.correct_lam, minmax=self.cutmix_minmax,
                           centre_margin=self.centre_margin, generator=generator, device=device)


def check_box_options(correct_lam: bool, cutmix_minmax: tuple[float, float] | None,
                      centre_margin: float) -> tuple[bool, tuple[float, float] | None, float]:
    """Validate the CutMix box options shared by :class:`CutMix` and ``RandomMix``."""
    if not isinstance(correct_lam, bool):
        raise TypeError(f"correct_lam must be a bool; got {correct_lam!r}")
    if cutmix_minmax is not None:
        cutmix_minmax = check_range_pair(cutmix_minmax, "cutmix_minmax", low=0.0, high=1.0)
    centre_margin = float(check_number(centre_margin, "centre_margin", low=0.0, high=0.5))
    if centre_margin >= 0.5:
        raise ValueError(f"centre_margin must be in [0, 0.5); got {centre_margin!r}")
    if cutmix_minmax is not None and centre_margin > 0:
        raise ValueError("centre_margin cannot be combined with cutmix_minmax (those boxes lie inside the image); "
                         f"got centre_margin={centre_margin!r}")
    return correct_lam, cutmix_minmax, centre_margin


def draw_cutmix(n: int, size: tuple[int, int], *, alpha: float, correct_lam: bool,
                minmax: tuple[float, float] | None, centre_margin: float, generator: torch.Generator | None,
                device: torch.device) -> dict[str, torch.Tensor | None]:
    """``n`` CutMix draws: ``lam`` (corrected from the clipped box unless told not to), ``box``."""
    lam = sample_beta(alpha, alpha, n, generator=generator, device=device)
    box = draw_boxes(lam, size, generator=generator, minmax=minmax, centre_margin=centre_margin)
    if correct_lam or minmax is not None:
        lam = box_kept_fraction(box, *size)
    return {"lam": lam, "weight": None, "box": box}
