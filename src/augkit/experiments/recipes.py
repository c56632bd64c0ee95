"""The augmentation recipes that ``augkit compare`` trains with: one line of data each.

A recipe is a train transform (run on ``(B, C, H, W)`` uint8 training batches) and an optional
batch mixer (run on the float batch and its integer labels, returning soft labels). Validation
and test images never go through either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import torch

from ..core.transform import Transform
from ..mixing import CutMix, MixUp, RandomMix
from ..transforms import Compose, HorizontalFlip, RandAugment, RandomCrop

__all__ = ["RECIPES", "DEFAULT_RECIPES", "Mixer", "Recipe", "RecipeSpec", "TaskInfo", "build_recipes"]


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


def crop_flip(info: TaskInfo) -> Transform:
    """Random crop after zero padding by 1/14 of the side (2 pixels at 28x28), then a horizontal
    flip with p = 0.5: the classic light augmentation for small images."""
    padding = max(1, round(min(info.size) / 14))
    return Compose([RandomCrop(info.size, padding=padding), HorizontalFlip()])


RECIPES: dict[str, RecipeSpec] = {
    "none": RecipeSpec("no augmentation"),
    "flip": RecipeSpec("horizontal flip (p=0.5)", lambda i: HorizontalFlip()),
    "basic": RecipeSpec("random crop with 1/14 padding + horizontal flip", crop_flip),
    "randaugment": RecipeSpec("basic + RandAugment (defaults)",
                              lambda i: Compose([crop_flip(i), RandAugment()])),
    "mixup": RecipeSpec("basic + MixUp (alpha=0.2)", crop_flip,
                        lambda i: MixUp(0.2, num_classes=i.num_classes)),
    "cutmix": RecipeSpec("basic + CutMix (alpha=1)", crop_flip,
                         lambda i: CutMix(1.0, num_classes=i.num_classes)),
    "mixup+cutmix": RecipeSpec("basic + MixUp (alpha=0.2) or CutMix (alpha=1), p=0.5 each", crop_flip,
                               lambda i: RandomMix(
                                   mixup_alpha=0.2, cutmix_alpha=1.0, p_mixup=0.5, p_cutmix=0.5,
                                   num_classes=i.num_classes)),
}
DEFAULT_RECIPES = ("none", "basic", "randaugment", "mixup+cutmix")


def build_recipes(names: list[str] | tuple[str, ...], info: TaskInfo) -> list[Recipe]:
    """Build the recipes ``names`` for ``info``; unknown or repeated names raise ``ValueError``.

    >>> [r.name for r in build_recipes(["none", "flip"], TaskInfo((28, 28), 1, 10))]
    ['none', 'flip']
    """
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        raise ValueError(f"unknown recipe(s) {', '.join(unknown)}; choose from {', '.join(RECIPES)}")
    if len(set(names)) != len(names):
        raise ValueError(f"recipes must not repeat; got {', '.join(names)}")
    return [RECIPES[name].build(name, info) for name in names]
