"""Classification metrics and seed statistics: mean ± std, and paired differences over seeds with
a Student-t 95% confidence interval."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["accuracy", "macro_f1", "mean_std", "paired_difference", "t_quantile_975"]


def accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of ``predictions`` equal to ``labels``.

    >>> accuracy(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]))
    0.6666666666666666
    """
    return float((predictions == labels).double().mean()) if len(labels) else math.nan


def macro_f1(predictions: torch.Tensor, labels: torch.Tensor, num_classes: int) -> float:
    """The unweighted mean over classes of the F1 score; a class that is neither predicted nor
    present scores 0 (as in scikit-learn with ``zero_division=0``) and counts only if present
    in ``labels`` or ``predictions``.

    >>> round(macro_f1(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]), 2), 4)
    0.6667
    """
    confusion = torch.bincount(labels * num_classes + predictions, minlength=num_classes ** 2)
    confusion = confusion.view(num_classes, num_classes).double()
    true_positive = confusion.diag()
    support, predicted = confusion.sum(1), confusion.sum(0)
    denominator = support + predicted
    f1 = torch.where(denominator > 0, 2 * true_positive / denominator.clamp(min=1), torch.zeros_like(denominator))
    seen = denominator > 0
    return float(f1[seen].mean()) if bool(seen.any()) else math.nan


def mean_std(values: Sequence[float]) -> dict[str, float | int]:
    """``{"mean", "std", "n"}`` of ``values``; ``std`` is the sample standard deviation (0 for
    one value).

    >>> mean_std([1.0, 3.0])
    {'mean': 2.0, 'std': 1.4142135623730951, 'n': 2}
    """
    n = len(values)
    if n == 0:
        return {"mean": math.nan, "std": math.nan, "n": 0}
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "std": std, "n": n}


# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom.
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788,
         2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639,
         2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)
_Z975 = 1.959964


def t_quantile_975(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom: a table up to 30, then
    the Cornish-Fisher expansion about the normal quantile (within 1e-4 beyond 30).

    >>> t_quantile_975(2), round(t_quantile_975(100), 3)
    (4.3027, 1.984)
    """
    if df < 1:
        raise ValueError(f"df must be >= 1; got {df!r}")
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    return (z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3))


def paired_difference(ours: dict[int, float], theirs: dict[int, float]) -> dict[str, float | int] | None:
    """The mean over the seeds both have of ``ours[seed] - theirs[seed]``, with the 95% confidence
    interval of a paired t-test (``low``, ``high``; ``None`` with one seed) and the seeds used.
    ``None`` when no seed is shared.

    >>> d = paired_difference({0: 0.80, 1: 0.82, 2: 0.79}, {0: 0.75, 1: 0.76, 2: 0.75})
    >>> round(d["mean"], 4), round(d["low"], 4), round(d["high"], 4), d["n"]
    (0.05, 0.0252, 0.0748, 3)
    """
    seeds = sorted(ours.keys() & theirs.keys())
    if not seeds:
        return None
    stats = mean_std([ours[s] - theirs[s] for s in seeds])
    low = high = None
    if stats["n"] > 1:
        half = t_quantile_975(stats["n"] - 1) * stats["std"] / math.sqrt(stats["n"])
        low, high = stats["mean"] - half, stats["mean"] + half
    return {**stats, "low": low, "high": high, "seeds": seeds}
