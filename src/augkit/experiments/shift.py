"""Robustness to distribution shift: the test set under standard corruptions at five severities.

The protocol of ImageNet-C / MNIST-C (Hendrycks & Dietterich 2019; Mu & Gilmer 2019): every
trained model is evaluated on the same corrupted copies of the test images, one per corruption
and severity, and reported as clean accuracy, mean corruption accuracy (over every corruption and
severity) and relative robustness (mean corruption accuracy / clean accuracy). The corruptions
are built from augkit's own kernels (:mod:`augkit.functional`) and are deterministic per image:
the random part of a corrupted image (its noise, the sign of its rotation, the direction of its
shift) comes from a generator seeded by the corruption, the severity and the image's index, so
every recipe, seed and run sees the very same corrupted images.

Severities follow ImageNet-C where it defines them on ``[0, 1]`` images (brightness, contrast,
Gaussian noise, JPEG quality, pixelate) and scale with the image side where they are in pixels
(blur from CIFAR-10-C's sigmas at 32 px; rotation and scale/crop shift from MNIST-C's ranges).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from .. import functional as F
from ..core.random import derive_seed, make_generator
from ..transforms.policies import (
    AUGMIX_SPACE,
    AUTOAUGMENT_SPACE,
    RAND_AUGMENT_SPACE,
    TRIVIAL_AUGMENT_SPACE,
)
from .data import ImageSet

__all__ = ["CORRUPTIONS", "SEVERITIES", "Corruption", "ShiftSet", "build_shift_set", "corrupt",
           "trained_families", "robustness"]

SEVERITIES = 5
SHIFT_SEED = 20190101  # fixed: the corrupted test sets are part of the benchmark, not of a run


@dataclass(frozen=True)
class Corruption:
    """One corruption: ``apply(images, level, generators)`` on ``(N, C, H, W)`` uint8 images, with
    one generator per image for its random part; ``levels`` holds the five severities."""

    description: str
    levels: tuple[float, ...]
    apply: Callable[[torch.Tensor, float, list[torch.Generator]], torch.Tensor]


def _per_image(generators: list[torch.Generator], draw: Callable[[torch.Generator], torch.Tensor]) -> torch.Tensor:
    return torch.stack([draw(g) for g in generators])


def _signs(generators: list[torch.Generator]) -> torch.Tensor:
    return _per_image(generators, lambda g: torch.randint(0, 2, (), generator=g)).double() * 2 - 1


def _brightness(x: torch.Tensor, level: float, generators: list[torch.Generator]) -> torch.Tensor:
    return F.add_noise_tensor(x, torch.full((1, 1, 1, 1), level))


def _contrast(x: torch.Tensor, level: float, generators: list[torch.Generator]) -> torch.Tensor:
    return F.adjust_contrast_tensor(x, level)


def _noise(x: torch.Tensor, level: float, generators: list[torch.Generator]) -> torch.Tensor:
    return F.add_noise_tensor(x, level * _per_image(generators, lambda g: torch.randn(x.shape[1:], generator=g)))


def _blur(x: torch.Tensor, level: float, generators: list[torch.Generator]) -> torch.Tensor:
    sigma = level * min(x.shape[-2:]) / 32
    return F.gaussian_blur_tensor(x, 2 * math.ceil(3 * sigma) + 1, sigma)


def _jpeg(x: torch.Tensor, level: float, generators: list[torch.Generator]) -> torch.Tensor:
    return F.jpeg_compression_tensor(x, int(level))


def _pixelate(x: torch.Tensor, level: float, generators: list[torch.Generator]) -> torch.Tensor:
    h, w = x.shape[-2:]
    small = F.resize_tensor(x, (max(1, round(h * level)), max(1, round(w * level))), "area")
    return F.resize_tensor(small, (h, w), "nearest")


def _centre(x: torch.Tensor) -> tuple[float, float]:
    return (x.shape[-1] - 1) / 2, (x.shape[-2] - 1) / 2


def _rotation(x: torch.Tensor, level: float, generators: list[torch.Generator]) -> torch.Tensor:
    matrix = F.affine_matrix(level * _signs(generators), center=_centre(x))
    return F.affine_tensor(x, matrix, "bilinear")


def _scale_shift(x: torch.Tensor, level: float, generators: list[torch.Generator]) -> torch.Tensor:
    """Zoom in by ``1 + level`` and move the content by ``level / 3`` of the side in a direction
    drawn per image: the object is off-centre and partly cropped."""
    direction = _per_image(generators, lambda g: torch.rand((), generator=g, dtype=torch.float64)) * 2 * math.pi
    offset = level / 3 * min(x.shape[-2:])
    translate = (offset * direction.cos(), offset * direction.sin())
    return F.affine_tensor(x, F.affine_matrix(translate=translate, scale=1 + level, center=_centre(x)), "bilinear")


CORRUPTIONS: dict[str, Corruption] = {
    "brightness": Corruption("+c on every channel (ImageNet-C's c)", (0.1, 0.2, 0.3, 0.4, 0.5), _brightness),
    "contrast": Corruption("blend with the mean grey, factor c", (0.4, 0.3, 0.2, 0.1, 0.05), _contrast),
    "gaussian-noise": Corruption("additive N(0, sigma^2) per pixel", (0.08, 0.12, 0.18, 0.26, 0.38), _noise),
    "gaussian-blur": Corruption("sigma in pixels at a 32 px side", (0.4, 0.6, 0.7, 0.8, 1.0), _blur),
    "jpeg": Corruption("JPEG round trip at quality q", (25, 18, 15, 10, 7), _jpeg),
    "pixelate": Corruption("area-downscale by f, nearest upscale", (0.6, 0.5, 0.4, 0.3, 0.25), _pixelate),
    "rotation": Corruption("rotation by +-d degrees (sign per image)", (6.0, 12.0, 18.0, 24.0, 30.0), _rotation),
    "scale-shift": Corruption("zoom by 1+s, content moved by s/3 of the side", (0.1, 0.2, 0.3, 0.4, 0.5),
                              _scale_shift),
}


def corrupt(images: torch.Tensor, name: str, severity: int, indices: torch.Tensor | None = None) -> torch.Tensor:
    """``images`` ``(N, C, H, W)`` uint8 under corruption ``name`` at ``severity`` (1-5); image
    ``i`` draws its randomness from ``(name, severity, indices[i])`` (default: its position).

    >>> x = torch.full((2, 1, 8, 8), 100, dtype=torch.uint8)
    >>> corrupt(x, "brightness", 1)[0, 0, 0, 0].item()
    126
    """
    if name not in CORRUPTIONS:
        raise ValueError(f"corruption must be one of {', '.join(CORRUPTIONS)}; got {name!r}")
    if not 1 <= severity <= SEVERITIES:
        raise ValueError(f"severity must be 1-{SEVERITIES}; got {severity!r}")
    corruption = CORRUPTIONS[name]
    indices = torch.arange(len(images)) if indices is None else indices
    key = list(CORRUPTIONS).index(name)
    generators = [make_generator(derive_seed(SHIFT_SEED, key, severity, int(i))) for i in indices]
    return corruption.apply(images, float(corruption.levels[severity - 1]), generators)


@dataclass(frozen=True)
class ShiftSet:
    """The ``clean`` test images, their corrupted copies ``images[name][severity - 1]`` and their
    ``labels``."""

    clean: torch.Tensor
    labels: torch.Tensor
    images: dict[str, list[torch.Tensor]]

    def __iter__(self) -> Iterator[tuple[str, int, torch.Tensor]]:
        for name, levels in self.images.items():
            for severity, images in enumerate(levels, 1):
                yield name, severity, images


def build_shift_set(test: ImageSet) -> ShiftSet:
    """Every corruption at every severity of the images of ``test``."""
    return ShiftSet(test.images, test.labels, {name: [corrupt(test.images, name, s) for s in range(1, SEVERITIES + 1)]
                                  for name in CORRUPTIONS})


# What a recipe's training applies that is a corruption family: transform names and the op names
# of the augmentation policies (RandAugment's ``TranslateX`` moves content like a crop shift).
_FAMILIES = {
    "brightness": {"Brightness", "ColorJitter", "RandomBrightness"},
    "contrast": {"Contrast", "AutoContrast", "ColorJitter", "RandomContrast"},
    "gaussian-noise": {"GaussianNoise"},
    "gaussian-blur": {"GaussianBlur"},
    "jpeg": {"JpegCompression"},
    "pixelate": {"Downscale"},
    "rotation": {"Rotate", "RandomRotation", "RandomAffine"},
    "scale-shift": {"RandomCrop", "RandomResizedCrop", "RandomAffine", "TranslateX", "TranslateY"},
}


_POLICY_SPACES = {"RandAugment": RAND_AUGMENT_SPACE, "AutoAugment": AUTOAUGMENT_SPACE,
                  "TrivialAugmentWide": TRIVIAL_AUGMENT_SPACE, "AugMix": AUGMIX_SPACE}


def _names(config: object) -> Iterator[str]:
    if isinstance(config, dict):
        if config.get("ops", 0) is None:  # a policy with its default op space
            yield from (op for op, _ in _POLICY_SPACES.get(config.get("transform"), ()))
        for value in config.values():
            yield from _names(value)
    elif isinstance(config, list):
        for value in config:
            yield from _names(value)
    elif isinstance(config, str):
        yield config


def trained_families(transform) -> list[str]:
    """The corruption families that ``transform`` (a recipe's train transform, or ``None``) applies
    during training, from its config.

    >>> from augkit import Compose, HorizontalFlip, RandomCrop
    >>> trained_families(Compose([RandomCrop(28, padding=2), HorizontalFlip()]))
    ['scale-shift']
    """
    if transform is None:
        return []
    names = set(_names(transform.to_config()))
    return [family for family, members in _FAMILIES.items() if names & members]


def robustness(clean: float, shift: dict[str, list[float]]) -> dict[str, float]:
    """``{"clean", "mean_corruption", "relative"}`` from the clean accuracy and the accuracy per
    corruption and severity.

    >>> robustness(0.8, {"a": [0.6, 0.4], "b": [0.8, 0.8]})
    {'clean': 0.8, 'mean_corruption': 0.65, 'relative': 0.8125}
    """
    values = [a for levels in shift.values() for a in levels]
    mean = sum(values) / len(values)
    return {"clean": clean, "mean_corruption": mean, "relative": mean / clean if clean else math.nan}
