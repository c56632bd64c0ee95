"""Losses for soft targets: the mixed, smoothed labels of :mod:`augkit.mixing`.

Each loss computes in float32 (float64 stays float64), so it is finite under bf16/fp16 autocast,
and delegates the arithmetic to ``torch.nn.functional`` (``cross_entropy`` with probability
targets, ``binary_cross_entropy_with_logits``), so results match PyTorch exactly and timm's
``SoftTargetCrossEntropy`` / ``LabelSmoothingCrossEntropy`` numerically. Shapes are checked on
every call; target values (negative entries, class indices out of range) are checked where it
costs no device synchronisation: on CPU tensors, or on any device in strict mode
(:func:`augkit.set_strict`), never while compiling.

>>> import torch
>>> logits, target = torch.zeros(2, 4), torch.tensor([[1.0, 0, 0, 0], [0.5, 0.5, 0, 0]])
>>> round(float(soft_target_cross_entropy(logits, target)), 4)   # log(4)
1.3863
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .core.validation import check_number, value_checks_enabled

__all__ = [
    "soft_target_cross_entropy", "label_smoothing_cross_entropy", "soft_target_bce_with_logits",
    "SoftTargetCrossEntropy", "LabelSmoothingCrossEntropy", "SoftTargetBCEWithLogits",
]

REDUCTIONS = ("mean", "sum", "none")


def _compute_dtype(logits: torch.Tensor) -> torch.dtype:
    return torch.float64 if logits.dtype == torch.float64 else torch.float32


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}; got {reduction!r}")


def _check_logits(logits: torch.Tensor) -> None:
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError(f"logits must be a floating-point tensor; got {getattr(logits, 'dtype', type(logits).__name__)}")
    if logits.ndim < 2:
        raise ValueError(f"logits must be (B, K) (or (B, K, ...)); got shape {tuple(logits.shape)}")


def _check_soft_target(logits: torch.Tensor, target: torch.Tensor, what: str) -> torch.Tensor:
    _check_logits(logits)
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a tensor of {what}; got {type(target).__name__}")
    if target.shape != logits.shape:
        if target.ndim == logits.ndim and target.shape[0] != logits.shape[0]:
            raise ValueError(f"logits and target disagree on the batch size: {logits.shape[0]} vs {target.shape[0]}")
        if target.ndim == logits.ndim and target.shape[1] != logits.shape[1]:
            raise ValueError(f"logits have {logits.shape[1]} classes but target has {target.shape[1]}")
        hint = " (class indices? use label_smoothing_cross_entropy)" if target.ndim == logits.ndim - 1 else ""
        raise ValueError(f"target must have the shape of logits {tuple(logits.shape)} ({what}); "
                         f"got {tuple(target.shape)}{hint}")
    if value_checks_enabled(target) and bool((target < 0).any()):
        raise ValueError(f"target holds negative values (min {float(target.min())}); expected {what}")
    return target.to(_compute_dtype(logits))


def soft_target_cross_entropy(logits: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean",
                              weight: torch.Tensor | None = None) -> torch.Tensor:
    """Cross entropy ``-sum_k weight_k * target_k * log_softmax(logits)_k`` per sample.

    ``target`` has the shape of ``logits`` (``(B, K)``): probability rows, e.g. from a mixer.
    ``reduction`` ``"mean"`` averages over samples (as ``F.cross_entropy`` does for probability
    targets), ``"sum"`` adds, ``"none"`` returns ``(B,)``. ``weight`` is a per-class ``(K,)``
    rescaling.

    >>> import torch
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    >>> soft_target_cross_entropy(logits, torch.eye(2), reduction="none")
    tensor([0.1269, 0.1269])
    """
    _check_reduction(reduction)
    target = _check_soft_target(logits, target, "probability rows")
    dtype = target.dtype
    weight = None if weight is None else weight.to(dtype)
    return F.cross_entropy(logits.to(dtype), target, weight=weight, reduction=reduction)


def label_smoothing_cross_entropy(logits: torch.Tensor, target: torch.Tensor, *, smoothing: float = 0.1,
                                  reduction: str = "mean", weight: torch.Tensor | None = None) -> torch.Tensor:
    """Cross entropy of class indices ``target`` (``(B,)``) smoothed as ``(1 - s) one_hot + s / K``.

    Equals ``F.cross_entropy(logits, target, label_smoothing=s)`` computed in float32, and timm's
    ``LabelSmoothingCrossEntropy`` (which is ``(1 - s) * nll + s * mean(-log_softmax)``).

    >>> import torch
    >>> round(float(label_smoothing_cross_entropy(torch.zeros(1, 4), torch.tensor([1]))), 4)
    1.3863
    """
    _check_reduction(reduction)
    smoothing = float(check_number(smoothing, "smoothing", low=0.0, high=1.0))
    _check_logits(logits)
    if not isinstance(target, torch.Tensor) or target.is_floating_point() or target.dtype == torch.bool:
        raise TypeError(f"target must be an integer tensor of class indices; got {getattr(target, 'dtype', type(target).__name__)}"
                        " (probability rows? use soft_target_cross_entropy)")
    if target.shape != logits.shape[:1] + logits.shape[2:]:
        if target.ndim >= 1 and target.shape[0] != logits.shape[0]:
            raise ValueError(f"logits and target disagree on the batch size: {logits.shape[0]} vs {target.shape[0]}")
        raise ValueError(f"target must be class indices of shape {tuple(logits.shape[:1] + logits.shape[2:])}; "
                         f"got {tuple(target.shape)}")
    classes = logits.shape[1]
    if value_checks_enabled(target):
        bad = (target < 0) | (target >= classes)
        if bool(bad.any()):
            raise ValueError(f"target must be class indices in [0, {classes}); got {target[bad][:8].tolist()}")
    dtype = _compute_dtype(logits)
    weight = None if weight is None else weight.to(dtype)
    return F.cross_entropy(logits.to(dtype), target.long(), weight=weight, reduction=reduction,
                           label_smoothing=smoothing)


def soft_target_bce_with_logits(logits: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean",
                                weight: torch.Tensor | None = None,
                                pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Binary cross entropy on logits for multi-label soft targets in ``[0, 1]`` (``(B, K)``).

    ``reduction="mean"`` averages over all elements, like ``F.binary_cross_entropy_with_logits``.

    >>> import torch
    >>> round(float(soft_target_bce_with_logits(torch.zeros(1, 3), torch.tensor([[1.0, 0.0, 0.5]]))), 4)
    0.6931
    """
    _check_reduction(reduction)
    target = _check_soft_target(logits, target, "multi-label rows in [0, 1]")
    if value_checks_enabled(target) and bool((target > 1).any()):
        raise ValueError(f"target holds values above 1 (max {float(target.max())}); expected multi-label rows in [0, 1]")
    dtype = target.dtype
    return F.binary_cross_entropy_with_logits(
        logits.to(dtype), target, reduction=reduction,
        weight=None if weight is None else weight.to(dtype),
        pos_weight=None if pos_weight is None else pos_weight.to(dtype))


class SoftTargetCrossEntropy(torch.nn.Module):
    """Module form of :func:`soft_target_cross_entropy`; ``weight`` is kept as a buffer.

    >>> import torch
    >>> SoftTargetCrossEntropy()(torch.zeros(2, 4), torch.full((2, 4), 0.25)).item() > 0
    True
    """

    def __init__(self, *, reduction: str = "mean", weight: torch.Tensor | None = None) -> None:
        super().__init__()
        _check_reduction(reduction)
        self.reduction = reduction
        self.register_buffer("weight", weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return soft_target_cross_entropy(logits, target, reduction=self.reduction, weight=self.weight)


class LabelSmoothingCrossEntropy(torch.nn.Module):
    """Module form of :func:`label_smoothing_cross_entropy`.

    >>> import torch
    >>> LabelSmoothingCrossEntropy(smoothing=0.1)(torch.zeros(2, 4), torch.tensor([0, 3])).item() > 0
    True
    """

    def __init__(self, *, smoothing: float = 0.1, reduction: str = "mean",
                 weight: torch.Tensor | None = None) -> None:
        super().__init__()
        _check_reduction(reduction)
        self.smoothing = float(check_number(smoothing, "smoothing", low=0.0, high=1.0))
        self.reduction = reduction
        self.register_buffer("weight", weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return label_smoothing_cross_entropy(logits, target, smoothing=self.smoothing, reduction=self.reduction,
                                             weight=self.weight)


class SoftTargetBCEWithLogits(torch.nn.Module):
    """Module form of :func:`soft_target_bce_with_logits`.

    >>> import torch
    >>> SoftTargetBCEWithLogits()(torch.zeros(2, 3), torch.ones(2, 3)).item() > 0
    True
    """

    def __init__(self, *, reduction: str = "mean", weight: torch.Tensor | None = None,
                 pos_weight: torch.Tensor | None = None) -> None:
        super().__init__()
        _check_reduction(reduction)
        self.reduction = reduction
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return soft_target_bce_with_logits(logits, target, reduction=self.reduction, weight=self.weight,
                                           pos_weight=self.pos_weight)
