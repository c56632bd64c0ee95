"""Flips and normalization: per image and on a batch with per-sample draws; the cost of the value
check of float images (the door of every transform that reads values)."""

from __future__ import annotations

import torch

import augkit
from augkit.core import image as image_module
from augkit.functional import IMAGENET_MEAN, IMAGENET_STD

from ..harness import AUGKIT, Task
from ..inputs import batch_generator, standard_inputs
from ..peers import peers


def tasks(scale: float = 1.0) -> list[Task]:
    side, batch_n, array, image, batch = standard_inputs(scale)
    lib = peers()
    g, gb = torch.Generator().manual_seed(0), batch_generator()

    flip = augkit.HorizontalFlip(p=0.5)
    norm = augkit.Normalize()
    one = batch[0].contiguous()
    out = [
        Task(f"HorizontalFlip(p=0.5) uint8 tensor {side}x{side}", 1, {
            AUGKIT: lambda: flip(image, generator=g),
        }),
        Task(f"HorizontalFlip(p=0.5) array {side}x{side}", 1, {AUGKIT: lambda: flip(array, generator=g)}),
        Task(f"HorizontalFlip(p=0.5) per sample, float batch {batch_n}x3x{side}x{side}", batch_n, {
            AUGKIT: lambda: flip(batch, generator=gb),
        }),
        Task(f"Normalize uint8 tensor -> float {side}x{side}", 1, {AUGKIT: lambda: norm(image)}),
        Task(f"Normalize uint8 array -> float {side}x{side}", 1, {AUGKIT: lambda: norm(array)}),
        Task(f"Normalize float batch {batch_n}x3x{side}x{side}", batch_n, {AUGKIT: lambda: norm(batch)}),
    ]
    check = getattr(image_module, "check_unit_range", None)  # absent from versions before it
    if check is not None:
        out += [
            Task(f"Value check ([0, 1], NaN) float image 3x{side}x{side}", 1, {AUGKIT: lambda: check(one)},
                 note="the check alone: every value of an image, an even sample of a large batch"),
            Task(f"Value check ([0, 1], NaN) float batch {batch_n}x3x{side}x{side}", batch_n,
                 {AUGKIT: lambda: check(batch)}),
        ]
    if lib.torchvision:
        v2, tvF = lib.torchvision
        tv_flip = v2.RandomHorizontalFlip(p=0.5)
        tv_norm = v2.Compose([v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
        out[0].runners["torchvision v2"] = lambda: tv_flip(image)
        out[2].runners["torchvision v2 (loop)"] = lambda: torch.stack([tv_flip(x) for x in batch])
        out[3].runners["torchvision v2"] = lambda: tv_norm(image)
        tv_batch_norm = v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)
        out[5].runners["torchvision v2"] = lambda: tv_batch_norm(batch)
    if lib.albumentations:
        A = lib.albumentations
        a_flip = A.HorizontalFlip(p=0.5)
        a_norm = A.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD)
        out[1].runners["albumentations"] = lambda: a_flip(image=array)["image"]
        out[4].runners["albumentations"] = lambda: a_norm(image=array)["image"]
    if lib.kornia:
        K = lib.kornia
        k_flip = K.augmentation.RandomHorizontalFlip(p=0.5)
        out[2].runners["kornia"] = lambda: k_flip(batch)
        k_norm = K.augmentation.Normalize(torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD))
        out[5].runners["kornia"] = lambda: k_norm(batch)
    return out
