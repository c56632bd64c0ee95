"""CLAHE, median and Gaussian blur: arrays against OpenCV/albumentations, tensors and batches
against torchvision v2 and kornia, on the same photos."""

from __future__ import annotations

import cv2
import torch

import augkit

from ..harness import AUGKIT, Task
from ..inputs import batch_generator, photo, photo_batch, photo_tensor
from ..peers import peers


def tasks(scale: float = 1.0) -> list[Task]:
    big = max(32, int(512 * scale))
    side = max(16, int(224 * scale))
    batch_n = max(2, int(32 * scale))
    lib = peers()

    gray = cv2.cvtColor(photo(big, big), cv2.COLOR_RGB2GRAY)
    gray_tensor = torch.from_numpy(gray)[None]
    clahe_batch = photo_batch(batch_n, big, big)
    clahe_batch_float = clahe_batch.float() / 255
    clahe = augkit.CLAHE(clip_limit=2.0, tile_grid_size=(8, 8))
    clahe_rgb = augkit.CLAHE(clip_limit=2.0, tile_grid_size=(8, 8), colour="per_channel")
    raw_clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))

    array, image = photo(side, side), photo_tensor(side, side)
    batch = photo_batch(batch_n, side, side)
    median = augkit.MedianBlur(5)
    blur = augkit.GaussianBlur(5, sigma=(0.1, 2.0))
    g, gb = torch.Generator().manual_seed(0), batch_generator()

    out = [
        Task(f"CLAHE uint8 grayscale array {big}x{big}", 1, {
            AUGKIT: lambda: clahe(gray), "OpenCV (raw createCLAHE.apply)": lambda: raw_clahe.apply(gray),
        }, note="target: augkit within 5% of raw OpenCV"),
        Task(f"CLAHE uint8 grayscale tensor {big}x{big}", 1, {AUGKIT: lambda: clahe(gray_tensor)}),
        Task(f"CLAHE per channel, batch {batch_n}x3x{big}x{big}", batch_n, {
            AUGKIT: lambda: clahe_rgb(clahe_batch),
        }, note="target: at least 5x kornia (kornia on the same batch as float)"),
        Task(f"MedianBlur 5x5 uint8 array {side}x{side}", 1, {
            AUGKIT: lambda: median(array), "OpenCV (raw medianBlur)": lambda: cv2.medianBlur(array, 5),
        }),
        Task(f"MedianBlur 5x5 uint8 tensor {side}x{side}", 1, {AUGKIT: lambda: median(image)}),
        Task(f"MedianBlur 5x5 batch {batch_n}x3x{side}x{side}", batch_n, {AUGKIT: lambda: median(batch)}),
        Task(f"GaussianBlur 5x5 sigma~U(0.1, 2) uint8 array {side}x{side}", 1, {
            AUGKIT: lambda: blur(array, generator=g),
        }),
        Task(f"GaussianBlur 5x5 sigma~U(0.1, 2) uint8 tensor {side}x{side}", 1, {
            AUGKIT: lambda: blur(image, generator=g),
        }),
        Task(f"GaussianBlur 5x5 per-sample sigma, batch {batch_n}x3x{side}x{side}", batch_n, {
            AUGKIT: lambda: blur(batch, generator=gb),
        }),
    ]
    if lib.kornia:
        K = lib.kornia
        out[2].runners["kornia equalize_clahe"] = lambda: K.enhance.equalize_clahe(clahe_batch_float, 2.0, (8, 8))
        k_median = K.filters.MedianBlur((5, 5))
        out[5].runners["kornia MedianBlur"] = lambda: k_median(batch)
        k_blur = K.augmentation.RandomGaussianBlur((5, 5), (0.1, 2.0), p=1.0)
        out[8].runners["kornia RandomGaussianBlur"] = lambda: k_blur(batch.float())
    if lib.albumentations:
        A = lib.albumentations
        a_clahe = A.CLAHE(clip_limit=(2.0, 2.0), tile_grid_size=(8, 8), p=1.0)
        out[0].runners["albumentations"] = lambda: a_clahe(image=gray)["image"]
        a_median = A.MedianBlur(blur_limit=(5, 5), p=1.0)
        out[3].runners["albumentations"] = lambda: a_median(image=array)["image"]
        a_blur = A.GaussianBlur(blur_limit=(5, 5), sigma_limit=(0.1, 2.0), p=1.0)
        out[6].runners["albumentations"] = lambda: a_blur(image=array)["image"]
    if lib.torchvision:
        v2, tvF = lib.torchvision
        tv_blur = v2.GaussianBlur(5, sigma=(0.1, 2.0))
        out[7].runners["torchvision v2"] = lambda: tv_blur(image)
        out[8].runners["torchvision v2 (loop)"] = lambda: torch.stack([tv_blur(x) for x in batch])
    return out
