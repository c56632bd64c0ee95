"""Augmentation policies: RandAugment(2, 9) per image (uint8 tensor / array vs torchvision v2 on a
tensor and timm on a PIL image) and on a float batch with per-sample ops (vs kornia), plus
TrivialAugmentWide and AugMix per image."""

from __future__ import annotations

import torch
from PIL import Image

import augkit

from ..harness import AUGKIT, Task
from ..inputs import batch_generator, photo, photo_batch, photo_tensor
from ..peers import peers


def tasks(scale: float = 1.0) -> list[Task]:
    side = max(16, int(224 * scale))
    batch_n = max(2, int(64 * scale))
    array, image = photo(side, side), photo_tensor(side, side)
    pil = Image.fromarray(array)
    batch = photo_batch(batch_n, side, side, torch.float32)
    lib = peers()
    g, gb = torch.Generator().manual_seed(0), batch_generator()
    ra, ta, augmix = augkit.RandAugment(2, 9), augkit.TrivialAugmentWide(), augkit.AugMix()
    out = [
        Task(f"RandAugment(2, 9) uint8 tensor {side}x{side}", 1, {AUGKIT: lambda: ra(image, generator=g)},
             note="augkit runs OpenCV kernels on an HWC copy of a single CPU image; timm works on PIL images"),
        Task(f"RandAugment(2, 9) uint8 array {side}x{side}", 1, {AUGKIT: lambda: ra(array, generator=g)}),
        Task(f"RandAugment(2, 9) per sample, float batch {batch_n}x3x{side}x{side}", batch_n,
             {AUGKIT: lambda: ra(batch, generator=gb)},
             note="augkit: per position one grid_sample for all geometric ops, each pixel op on its subset"),
        Task(f"TrivialAugmentWide uint8 tensor {side}x{side}", 1, {AUGKIT: lambda: ta(image, generator=g)}),
        Task(f"AugMix uint8 tensor {side}x{side}", 1, {AUGKIT: lambda: augmix(image, generator=g)}),
    ]
    if lib.torchvision:
        v2, _ = lib.torchvision
        tv_ra, tv_ta, tv_augmix = v2.RandAugment(2, 9), v2.TrivialAugmentWide(), v2.AugMix()
        out[0].runners["torchvision v2"] = lambda: tv_ra(image)
        out[2].runners["torchvision v2 (loop)"] = lambda: torch.stack([tv_ra(x) for x in batch])
        out[3].runners["torchvision v2"] = lambda: tv_ta(image)
        out[4].runners["torchvision v2"] = lambda: tv_augmix(image)
    if lib.timm:
        from timm.data.auto_augment import augment_and_mix_transform, rand_augment_transform
        timm_ra = rand_augment_transform("rand-m9-n2-p1.0", {})
        timm_augmix = augment_and_mix_transform("augmix-m3-w3", {})
        out[0].runners["timm rand-m9-n2-p1.0 (PIL)"] = lambda: timm_ra(pil)
        out[1].runners["timm rand-m9-n2-p1.0 (PIL)"] = lambda: timm_ra(pil)
        out[4].runners["timm augmix-m3-w3 (PIL)"] = lambda: timm_augmix(pil)
    if lib.kornia:
        k_ra = lib.kornia.augmentation.auto.RandAugment(n=2, m=9)
        out[2].runners["kornia auto.RandAugment"] = lambda: k_ra(batch)
    return out
