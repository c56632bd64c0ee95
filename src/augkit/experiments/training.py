"""One training run: a model trained from scratch on the training set with one recipe and one seed.

Every recipe gets the same model, initial weights, optimizer, learning-rate schedule and batch
order for a given seed: the seed derives three independent generators (initialization, batch
order, augmentation), so the only difference between recipes is the augmentation. Evaluation
reads the stored images as they are: :func:`evaluate` has no access to a recipe.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..core.random import derive_seed, make_generator
from .data import ImageSet, Splits
from .metrics import accuracy, macro_f1
from .models import build_model
from .recipes import Recipe
from .shift import ShiftSet

__all__ = ["TrainSettings", "EpochStats", "RunResult", "train_run", "evaluate", "channel_stats"]


@dataclass(frozen=True)
class TrainSettings:
    """Everything about training that is the same for every recipe.

    The optimizer is SGD with Nesterov momentum and weight decay; the learning rate follows a
    one-cycle schedule (linear warm-up over ``warmup`` of the steps, then cosine decay to zero).
    The gradient's global norm is clipped to ``clip_grad_norm`` (``None``: no clipping), so that
    one batch of strongly mixed images at the peak learning rate cannot throw the weights away.
    Every epoch reshuffles the training set and drops the incomplete last batch (a batch of a few
    images makes batch-norm statistics, and so small-data training, unstable).
    The validation set is evaluated every ``eval_every`` epochs (default: often enough for about
    25 points on the curves) and after the last epoch.
    """

    model: str = "small-cnn"
    width: int | None = None
    weights: str | None = None  # a local state_dict / checkpoint for the model (see models.build_model)
    freeze_backbone: bool = False
    epochs: int = 100
    batch_size: int = 16
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-5
    warmup: float = 0.15
    clip_grad_norm: float | None = 2.0
    eval_every: int | None = None
    eval_batch_size: int = 1000
    device: str = "cpu"


@dataclass
class EpochStats:
    """Per-epoch curves: train loss/accuracy on the augmented batches, the largest gradient norm
    of the epoch (before clipping), val loss/accuracy (``None`` in epochs without a validation pass)."""

    epoch: int
    train_loss: float
    train_accuracy: float
    grad_norm_max: float
    val_loss: float | None = None
    val_accuracy: float | None = None


@dataclass
class RunResult:
    recipe: str
    seed: int
    val_accuracy: float
    val_macro_f1: float
    test_accuracy: float | None
    test_macro_f1: float | None
    seconds: float
    history: list[EpochStats] = field(default_factory=list)
    shift_clean: float | None = None  # accuracy on the clean images of the shift set
    shift: dict[str, list[float]] | None = None  # accuracy per corruption and severity

    def to_dict(self) -> dict:
        return asdict(self)


def channel_stats(images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of a ``(N, C, H, W)`` uint8 tensor, in ``[0, 1]`` units."""
    x = images.double().div(255).transpose(0, 1).flatten(1)
    return x.mean(1).tolist(), x.std(1).clamp(min=1e-3).tolist()


@torch.inference_mode()
def evaluate(model: nn.Module, data: ImageSet, *, batch_size: int = 1000,
             device: str | torch.device = "cpu") -> tuple[float, torch.Tensor]:
    """Mean cross-entropy and predicted classes of ``model`` on ``data`` as stored (no augmentation)."""
    model.eval()
    total, predictions = 0.0, []
    for start in range(0, len(data), batch_size):
        x = data.images[start:start + batch_size].to(device).float().div_(255)
        y = data.labels[start:start + batch_size].to(device)
        logits = model(x)
        total += float(F.cross_entropy(logits, y, reduction="sum"))
        predictions.append(logits.argmax(1).cpu())
    return total / max(len(data), 1), torch.cat(predictions) if predictions else torch.zeros(0, dtype=torch.int64)


def _one_cycle(optimizer: torch.optim.Optimizer, settings: TrainSettings, total_steps: int):
    warmup = max(1, round(settings.warmup * total_steps))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total_steps - warmup)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train_run(recipe: Recipe, splits: Splits, settings: TrainSettings, seed: int, *,
              on_epoch: Callable[[EpochStats], None] | None = None, shift: ShiftSet | None = None) -> RunResult:
    """Train a fresh model with ``recipe`` and ``seed``; evaluate on val during training (see
    :class:`TrainSettings`) and on val and test at the end, and on every corrupted test set of
    ``shift`` if given. ``on_epoch`` is called after each epoch (e.g. to update a progress bar)."""
    started = time.perf_counter()
    device = torch.device(settings.device)
    mean, std = channel_stats(splits.train.images)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, 0))
        model = build_model(settings.model, splits.channels, splits.num_classes, mean=mean, std=std,
                            width=settings.width, weights=settings.weights,
                            freeze_backbone=settings.freeze_backbone).to(device)
    order_generator = make_generator(derive_seed(seed, 1))
    augment_generator = make_generator(derive_seed(seed, 2))
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=settings.lr, momentum=settings.momentum, nesterov=True,
                                weight_decay=settings.weight_decay)
    n = len(splits.train)
    batch_size = min(settings.batch_size, n)
    steps_per_epoch = n // batch_size
    seen = steps_per_epoch * batch_size
    scheduler = _one_cycle(optimizer, settings, settings.epochs * steps_per_epoch)
    eval_every = settings.eval_every or math.ceil(settings.epochs / 25)
    history = []
    for epoch in range(settings.epochs):
        model.train()
        order = torch.randperm(n, generator=order_generator)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        grad_norm_max = torch.zeros((), device=device)
        for start in range(0, seen, batch_size):
            index = order[start:start + batch_size]
            x, y = splits.train.images[index], splits.train.labels[index]
            if recipe.transform is not None:
                x = recipe.transform(x, generator=augment_generator)
            x, y = x.to(device).float().div_(255), y.to(device)
            target = y
            if recipe.mix is not None:
                x, target = recipe.mix(x, y, generator=augment_generator)
            logits = model(x)
            loss = F.cross_entropy(logits, target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            limit = math.inf if settings.clip_grad_norm is None else settings.clip_grad_norm
            grad_norm_max = torch.maximum(grad_norm_max, nn.utils.clip_grad_norm_(model.parameters(), limit))
            optimizer.step()
            scheduler.step()
            loss_sum += loss.detach() * len(index)
            dominant = target if target.ndim == 1 else target.argmax(1)
            correct += (logits.argmax(1) == dominant).sum()
        stats = EpochStats(epoch + 1, float(loss_sum) / seen, int(correct) / seen, float(grad_norm_max))
        if (epoch + 1) % eval_every == 0 or epoch + 1 == settings.epochs:
            stats.val_loss, val_predictions = evaluate(model, splits.val, batch_size=settings.eval_batch_size,
                                                       device=device)
            stats.val_accuracy = accuracy(val_predictions, splits.val.labels)
        history.append(stats)
        if on_epoch is not None:
            on_epoch(stats)
    test_accuracy = test_f1 = None
    if splits.test is not None:
        _, test_predictions = evaluate(model, splits.test, batch_size=settings.eval_batch_size, device=device)
        test_accuracy = accuracy(test_predictions, splits.test.labels)
        test_f1 = macro_f1(test_predictions, splits.test.labels, splits.num_classes)
    shift_clean = shift_accuracy = None
    if shift is not None:
        _, predictions = evaluate(model, ImageSet(shift.clean, shift.labels), batch_size=settings.eval_batch_size,
                                  device=device)
        shift_clean, shift_accuracy = accuracy(predictions, shift.labels), {}
        for name, _, images in shift:
            _, predictions = evaluate(model, ImageSet(images, shift.labels), batch_size=settings.eval_batch_size,
                                      device=device)
            shift_accuracy.setdefault(name, []).append(accuracy(predictions, shift.labels))
    return RunResult(
        recipe=recipe.name, seed=seed,
        val_accuracy=accuracy(val_predictions, splits.val.labels),
        val_macro_f1=macro_f1(val_predictions, splits.val.labels, splits.num_classes),
        test_accuracy=test_accuracy, test_macro_f1=test_f1,
        seconds=time.perf_counter() - started, history=history,
        shift_clean=shift_clean, shift=shift_accuracy,
    )
