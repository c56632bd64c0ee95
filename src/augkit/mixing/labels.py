"""Soft labels: class indices, one-hot or probability rows, and multi-hot rows as float32 targets.

Label smoothing follows timm: a one-hot row becomes ``s / K`` off and ``1 - s + s / K`` on (any
probability row ``y`` becomes ``y * (1 - s) + s / K``), and a multi-hot row is smoothed toward 0.5
(``y * (1 - s) + s / 2``). Smoothing happens before mixing; mixing is linear, so the order does not
change the result.

Checks that read label values (indices in range, no negative entries) cost a device
synchronisation on accelerators, so they run only where they are free: on CPU tensors, or on any
device in strict mode (:func:`augkit.set_strict`). They are skipped while ``torch.compile`` traces.
"""

from __future__ import annotations

import torch

from ..core.validation import value_checks_enabled

__all__ = ["soft_labels", "mix_labels"]


def _class_count(labels: torch.Tensor, num_classes: int | None) -> int:
    count = labels.shape[1]
    if num_classes is not None and count != num_classes:
        raise ValueError(f"labels have {count} columns but num_classes={num_classes}; expected (B, {num_classes})")
    return count


def soft_labels(labels: torch.Tensor, num_classes: int | None = None, *, label_smoothing: float = 0.0,
                multi_label: bool = False, device: torch.device | None = None) -> torch.Tensor:
    """Float32 target rows of shape ``(B, K)`` for ``labels``, smoothed.

    ``labels`` are integer class indices ``(B,)`` (``num_classes`` required), or rows ``(B, K)``:
    one-hot or probability rows for single-label problems, multi-hot rows (any dtype) when
    ``multi_label`` is true. Rows are moved to ``device`` if given.

    >>> import torch
    >>> soft_labels(torch.tensor([2, 0]), 4, label_smoothing=0.2)
    tensor([[0.0500, 0.0500, 0.8500, 0.0500],
            [0.8500, 0.0500, 0.0500, 0.0500]])
    >>> soft_labels(torch.tensor([[1, 0, 1]]), multi_label=True, label_smoothing=0.2)
    tensor([[0.9000, 0.1000, 0.9000]])
    """
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels must be a torch.Tensor; got {type(labels).__name__}")
    if labels.is_complex():
        raise TypeError(f"labels must be integer, bool or real; got dtype {labels.dtype}")
    labels = labels.to(device) if device is not None else labels
    if labels.ndim == 1 and not multi_label and not labels.is_floating_point() and labels.dtype != torch.bool:
        if num_classes is None:
            raise ValueError("num_classes is required to turn class indices of shape (B,) into soft labels")
        if value_checks_enabled(labels):
            bad = (labels < 0) | (labels >= num_classes)
            if bool(bad.any()):
                raise ValueError(f"labels must be class indices in [0, {num_classes}); got {labels[bad][:8].tolist()}")
        rows = torch.zeros(labels.shape[0], num_classes, dtype=torch.float32, device=labels.device)
        rows.scatter_(1, labels.long().unsqueeze(1), 1.0)
        count = num_classes
    elif labels.ndim == 2:
        count = _class_count(labels, num_classes)
        rows = labels.to(torch.float32)
        if value_checks_enabled(rows) and bool((rows < 0).any()):
            raise ValueError("labels hold negative values; expected one-hot, probability or multi-hot rows")
    else:
        expected = "multi-hot rows (B, K)" if multi_label else "class indices (B,) or rows (B, K)"
        raise ValueError(f"labels must be {expected}; got shape {tuple(labels.shape)} and dtype {labels.dtype}")
    if label_smoothing == 0.0:
        return rows
    floor = 0.5 * label_smoothing if multi_label else label_smoothing / count
    return rows * (1.0 - label_smoothing) + floor


def mix_labels(rows: torch.Tensor, index: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """``lam * rows + (1 - lam) * rows[index]`` per row, computed with ``torch.lerp`` so that a row
    mixed with an equal row (or with ``lam == 1``) is returned exactly.

    >>> import torch
    >>> rows = torch.eye(2)
    >>> mix_labels(rows, torch.tensor([1, 0]), torch.tensor([0.75, 1.0]))
    tensor([[0.7500, 0.2500],
            [0.0000, 1.0000]])
    """
    return torch.lerp(rows[index], rows, lam.to(rows.dtype).unsqueeze(1))
