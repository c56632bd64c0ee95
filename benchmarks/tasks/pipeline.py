"""The ImageNet train pipeline: RandomResizedCrop(224) + HorizontalFlip + ColorJitter(0.4, 0.4,
0.4, 0.1) + Normalize, per image on 500 x 375 photos (uint8 tensor, uint8 array) and on a float
batch with per-sample parameters."""

from __future__ import annotations

import cv2
import torch

import augkit
from augkit.functional import IMAGENET_MEAN, IMAGENET_STD

from ..harness import AUGKIT, Task
from ..inputs import batch_generator, standard_inputs
from ..peers import peers

JITTER = (0.4, 0.4, 0.4, 0.1)


def tasks(scale: float = 1.0) -> list[Task]:
    side, batch_n, array, image, batch = standard_inputs(scale, 375, 500)
    h, w = array.shape[:2]
    lib = peers()
    g, gb = torch.Generator().manual_seed(0), batch_generator()

    train = augkit.Compose([augkit.RandomResizedCrop(side), augkit.HorizontalFlip(), augkit.ColorJitter(*JITTER),
                            augkit.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    name = f"RandomResizedCrop({side}) + HFlip + ColorJitter(.4,.4,.4,.1) + Normalize"
    out = [
        Task(f"{name}, uint8 tensor {w}x{h}", 1, {AUGKIT: lambda: train(image, generator=g)}),
        Task(f"{name}, uint8 array {w}x{h}", 1, {AUGKIT: lambda: train(array, generator=g)},
             note="albumentations: RandomResizedCrop with INTER_AREA"),
        Task(f"{name} per sample, float batch {batch_n}x3x{side}x{side}", batch_n,
             {AUGKIT: lambda: train(batch, generator=gb)}),
    ]
    if lib.torchvision:
        v2, _ = lib.torchvision
        tv_train = v2.Compose([v2.RandomResizedCrop(side, antialias=True), v2.RandomHorizontalFlip(),
                               v2.ColorJitter(*JITTER), v2.ToDtype(torch.float32, scale=True),
                               v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
        tv_float = v2.Compose([v2.RandomResizedCrop(side, antialias=True), v2.RandomHorizontalFlip(),
                               v2.ColorJitter(*JITTER), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
        out[0].runners["torchvision v2"] = lambda: tv_train(image)
        out[2].runners["torchvision v2 (loop)"] = lambda: torch.stack([tv_float(x) for x in batch])
    if lib.albumentations:
        A = lib.albumentations
        a_train = A.Compose([A.RandomResizedCrop((side, side), interpolation=cv2.INTER_AREA), A.HorizontalFlip(),
                             A.ColorJitter(*JITTER, p=1.0), A.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
        out[1].runners["albumentations"] = lambda: a_train(image=array)["image"]
    if lib.kornia:
        K = lib.kornia
        k_train = K.augmentation.AugmentationSequential(
            K.augmentation.RandomResizedCrop((side, side)), K.augmentation.RandomHorizontalFlip(),
            K.augmentation.ColorJitter(*JITTER, p=1.0),
            K.augmentation.Normalize(torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)))
        out[2].runners["kornia"] = lambda: k_train(batch)
    return out
