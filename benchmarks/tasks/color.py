"""ColorJitter(0.4, 0.4, 0.4, 0.1): per image (uint8 tensor, uint8 array) and on float and uint8
batches with per-sample factors and order. The uint8 batch row also times augkit on the same batch
as float32 (the C kernel; see docs/contract.md)."""

from __future__ import annotations

import cv2
import numpy as np
import torch

import augkit

from ..harness import AUGKIT, Task
from ..inputs import batch_generator, photo, standard_inputs
from ..peers import peers


def tasks(scale: float = 1.0) -> list[Task]:
    side, batch_n, array, image, batch = standard_inputs(scale)
    lib = peers()
    g, gb = torch.Generator().manual_seed(0), batch_generator()
    jitter = augkit.ColorJitter(0.4, 0.4, 0.4, 0.1)
    batch8 = batch.mul(255).round_().to(torch.uint8)
    out = [
        Task(f"ColorJitter(.4,.4,.4,.1) uint8 tensor {side}x{side}", 1, {AUGKIT: lambda: jitter(image, generator=g)}),
        Task(f"ColorJitter(.4,.4,.4,.1) uint8 array {side}x{side}", 1, {AUGKIT: lambda: jitter(array, generator=g)}),
        Task(f"ColorJitter(.4,.4,.4,.1) per sample, float batch {batch_n}x3x{side}x{side}", batch_n, {
            AUGKIT: lambda: jitter(batch, generator=gb),
        }),
        Task(f"ColorJitter(.4,.4,.4,.1) per sample, uint8 batch {batch_n}x3x{side}x{side}", batch_n, {
            AUGKIT: lambda: jitter(batch8, generator=gb),
            "augkit, the batch as float32": lambda: jitter(batch, generator=gb),
        }),
    ]
    if lib.torchvision:
        v2, _ = lib.torchvision
        tv_jitter = v2.ColorJitter(0.4, 0.4, 0.4, 0.1)
        out[0].runners["torchvision v2"] = lambda: tv_jitter(image)
        out[2].runners["torchvision v2 (loop)"] = lambda: torch.stack([tv_jitter(x) for x in batch])
        out[3].runners["torchvision v2 (loop)"] = lambda: torch.stack([tv_jitter(x) for x in batch8])
    if lib.albumentations:
        a_jitter = lib.albumentations.ColorJitter(0.4, 0.4, 0.4, 0.1, p=1.0)
        out[1].runners["albumentations"] = lambda: a_jitter(image=array)["image"]
    if lib.kornia:
        k_jitter = lib.kornia.augmentation.ColorJitter(0.4, 0.4, 0.4, 0.1, p=1.0)
        out[2].runners["kornia"] = lambda: k_jitter(batch)
    return out + lookup_tasks(scale)


def lookup_tasks(scale: float = 1.0) -> list[Task]:
    """The uint8 table lookup of brightness and contrast on arrays (a byte translation by
    stringzilla) against ``cv2.LUT`` and ``np.take`` with the same table, at the sizes users have."""
    out = []
    for side in sorted({max(16, int(s * scale)) for s in (224, 512, 1024)}):
        array = photo(side, side)
        table = np.clip(np.arange(256) * 1.3, 0, 255).astype(np.uint8)
        out.append(Task(f"uint8 table lookup (Brightness 1.3) array {side}x{side}", 1, {
            AUGKIT: lambda a=array: augkit.functional.adjust_brightness(a, 1.3),
            "cv2.LUT": lambda a=array: cv2.LUT(a, table),
            "np.take": lambda a=array: np.take(table, a),
        }))
    return out
