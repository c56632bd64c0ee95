"""Geometry: eval preprocessing and RandomResizedCrop, per image and on a batch with per-sample
boxes, on 500 x 375 photos (and a batch of 224 x 224 ones)."""

from __future__ import annotations

import cv2
import torch

import augkit
from augkit.functional import IMAGENET_MEAN, IMAGENET_STD

from ..harness import AUGKIT, Task
from ..inputs import batch_generator, photo, photo_batch, photo_tensor
from ..peers import peers


def tasks(scale: float = 1.0) -> list[Task]:
    h, w = max(24, int(375 * scale)), max(32, int(500 * scale))
    out_side, resize_side = max(16, int(224 * scale)), max(18, int(256 * scale))
    batch_n = max(2, int(64 * scale))
    array, image = photo(h, w), photo_tensor(h, w)
    batch = photo_batch(batch_n, h, w, torch.float32)
    small = photo_batch(batch_n, out_side, out_side, torch.float32)
    lib = peers()
    g, gb = torch.Generator().manual_seed(0), batch_generator()

    evaluate = augkit.Compose([augkit.ResizedCenterCrop(out_side, out_side / resize_side),
                               augkit.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    rrc = augkit.RandomResizedCrop(out_side)
    eval_name = f"Resize {resize_side} + CenterCrop {out_side} + Normalize"
    out = [
        Task(f"{eval_name}, uint8 tensor {w}x{h}", 1, {AUGKIT: lambda: evaluate(image)},
             note="augkit crops the centre box first and resizes only it (ResizedCenterCrop)"),
        Task(f"{eval_name}, uint8 array {w}x{h}", 1, {AUGKIT: lambda: evaluate(array)},
             note="albumentations: SmallestMaxSize(INTER_AREA) + CenterCrop + Normalize"),
        Task(f"RandomResizedCrop({out_side}) uint8 tensor {w}x{h}", 1,
             {AUGKIT: lambda: rrc(image, generator=g)}),
        Task(f"RandomResizedCrop({out_side}) uint8 array {w}x{h}", 1,
             {AUGKIT: lambda: rrc(array, generator=g)}),
        Task(f"RandomResizedCrop({out_side}) per sample, float batch {batch_n}x3x{h}x{w}", batch_n,
             {AUGKIT: lambda: rrc(batch, generator=gb)},
             note="augkit: separable antialiased filter with per-image taps (embedding_bag per axis, cache-sized blocks); kornia: grid_sample (no antialias)"),
        Task(f"RandomResizedCrop({out_side}) per sample, float batch {batch_n}x3x{out_side}x{out_side}", batch_n,
             {AUGKIT: lambda: rrc(small, generator=gb)}),
    ]
    if lib.torchvision:
        v2, _ = lib.torchvision
        tv_eval = v2.Compose([v2.Resize(resize_side, antialias=True), v2.CenterCrop(out_side),
                              v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
        tv_rrc = v2.RandomResizedCrop(out_side, antialias=True)
        out[0].runners["torchvision v2"] = lambda: tv_eval(image)
        out[2].runners["torchvision v2"] = lambda: tv_rrc(image)
        out[4].runners["torchvision v2 (loop)"] = lambda: torch.stack([tv_rrc(x) for x in batch])
        out[5].runners["torchvision v2 (loop)"] = lambda: torch.stack([tv_rrc(x) for x in small])
    if lib.albumentations:
        A = lib.albumentations
        a_eval = A.Compose([A.SmallestMaxSize(resize_side, interpolation=cv2.INTER_AREA),
                            A.CenterCrop(out_side, out_side), A.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
        a_rrc = A.RandomResizedCrop((out_side, out_side), interpolation=cv2.INTER_AREA)
        out[1].runners["albumentations"] = lambda: a_eval(image=array)["image"]
        out[3].runners["albumentations"] = lambda: a_rrc(image=array)["image"]
    if lib.kornia:
        K = lib.kornia
        k_rrc = K.augmentation.RandomResizedCrop((out_side, out_side))
        out[4].runners["kornia"] = lambda: k_rrc(batch)
        out[5].runners["kornia"] = lambda: k_rrc(small)
    return out
