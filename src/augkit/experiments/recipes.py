"""The augmentation recipes that ``augkit compare`` trains with: one line of data each.

A recipe is a train transform (run on ``(B, C, H, W)`` uint8 training batches) and an optional
batch mixer (run on the float batch and its integer labels, returning soft labels). Validation
and test images never go through either. A recipe built from augkit pieces this installation
lacks raises :class:`RecipeUnavailable` naming them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import torch

from ..core.transform import Transform
from ..transforms import Compose, HorizontalFlip

__all__ = ["RECIPES", "DEFAULT_RECIPES", "Mixer", "Recipe", "RecipeSpec", "RecipeUnavailable", "TaskInfo",
           "build_recipes", "from_augkit"]


class Mixer(Protocol):
    """``mix(images, labels, generator=g) -> (mixed images, soft labels (B, num_classes))``."""

    def __call__(self, images: torch.Tensor, labels: torch.Tensor, *,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]: ...


@dataclass(frozen=True)
class TaskInfo:
    """What a recipe may depend on: the image size ``(H, W)``, channels and number of classes."""

    size: tuple[int, int]
    channels: int
    num_classes: int


@dataclass(frozen=True)
class Recipe:
    """A built recipe: ``transform`` for uint8 training batches, ``mix`` for the float batch."""

    name: str
    description: str
    transform: Transform | None = None
    mix: Mixer | None = None


@dataclass(frozen=True)
class RecipeSpec:
    """How to build a recipe for a task: builders of the transform and of the mixer."""

    description: str
    transform: Callable[[TaskInfo], Transform] | None = None
    mix: Callable[[TaskInfo], Mixer] | None = None

    def build(self, name: str, info: TaskInfo) -> Recipe:
        return Recipe(name, self.description, self.transform and self.transform(info), self.mix and self.mix(info))


class RecipeUnavailable(RuntimeError):
    """A recipe needs an augkit component that this installation does not have."""


def from_augkit(name: str) -> Any:
    """``augkit.<name>`` (e.g. ``"RandomCrop"``, ``"mixing.MixUp"``), or :class:`RecipeUnavailable`.

    >>> from_augkit("HorizontalFlip").__name__
    'HorizontalFlip'
    """
    module_name, _, attribute = f"augkit.{name}".rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError):
        raise RecipeUnavailable(f"augkit.{name} is missing from this augkit installation") from None


def crop_flip(info: TaskInfo) -> Transform:
    """Random crop after zero padding by 1/14 of the side (2 pixels at 28x28), then a horizontal
    flip with p = 0.5: the classic light augmentation for small images."""
    padding = max(1, round(min(info.size) / 14))
    return Compose([from_augkit("RandomCrop")(info.size, padding=padding), HorizontalFlip()])


RECIPES: dict[str, RecipeSpec] = {
    "none": RecipeSpec("no augmentation"),
    "flip": RecipeSpec("horizontal flip (p=0.5)", lambda i: HorizontalFlip()),
    "basic": RecipeSpec("random crop with 1/14 padding + horizontal flip", crop_flip),
    "randaugment": RecipeSpec("basic + RandAugment (defaults)",
                              lambda i: Compose([crop_flip(i), from_augkit("RandAugment")()])),
    "mixup": RecipeSpec("basic + MixUp (alpha=0.2)", crop_flip,
                        lambda i: from_augkit("mixing.MixUp")(0.2, num_classes=i.num_classes)),
    "cutmix": RecipeSpec("basic + CutMix (alpha=1)", crop_flip,
                         lambda i: from_augkit("mixing.CutMix")(1.0, num_classes=i.num_classes)),
    "mixup+cutmix": RecipeSpec("basic + MixUp (alpha=0.2) or CutMix (alpha=1), p=0.5 each", crop_flip,
                               lambda i: from_augkit("mixing.RandomMix")(
                                   mixup_alpha=0.2, cutmix_alpha=1.0, p_mixup=0.5, p_cutmix=0.5,
                                   num_classes=i.num_classes)),
}
DEFAULT_RECIPES = ("none", "basic", "randaugment", "mixup", "cutmix", "mixup+cutmix")


def build_recipes(names: list[str] | tuple[str, ...], info: TaskInfo) -> list[Recipe]:
    """Build the recipes ``names`` for ``info``; unknown names raise ``ValueError``, and recipes whose
    augkit components are missing raise one :class:`RecipeUnavailable` listing all of them.

    >>> [r.name for r in build_recipes(["none", "flip"], TaskInfo((28, 28), 1, 10))]
    ['none', 'flip']
    """
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        raise ValueError(f"unknown recipe(s) {', '.join(unknown)}; choose from {', '.join(RECIPES)}")
    if len(set(names)) != len(names):
        raise ValueError(f"recipes must not repeat; got {', '.join(names)}")
    recipes, missing = [], []
    for name in names:
        try:
            recipes.append(RECIPES[name].build(name, info))
        except RecipeUnavailable as error:
            missing.append(f"{name}: {error}")
    if missing:
        raise RecipeUnavailable("cannot build recipe(s): " + "; ".join(missing))
    return recipes
