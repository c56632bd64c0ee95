"""Classification metrics and seed statistics."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["accuracy", "macro_f1", "mean_std"]


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
