"""Epochs at two photo sizes with the fused decode, against the peers and the decode alone.

* Train (decode + RandomResizedCrop 224 + flip + jitter + normalize) at 2000x1500 (the 500x375
  row is in :mod:`benchmarks.tasks.loader`) and eval (decode + Resize 256 + CenterCrop 224 +
  normalize) at 500x375 and 2000x1500, two DataLoader workers, batches of 32: augkit's
  ``ImageFolderDataset`` in an ``AugmentedDataset`` (fused decode), albumentations (OpenCV
  decode), torchvision v2 (``decode_image``), and NVIDIA DALI's CPU pipeline
  (``fn.decoders.image_random_crop`` / ``fn.decoders.image``, ``device_id=None``, two threads)
  where ``nvidia-dali-cuda130`` is installed (the row is left out otherwise).
* Decode only, one process: every file at full scale (OpenCV, ``augkit.io.read_image``), and at
  the DCT scale the fused path picks for the train crop, as the physical bound of an epoch.
"""

from __future__ import annotations

import functools
import importlib.util

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader

import augkit
from augkit.core.random import make_generator
from augkit.data import AugmentedDataset, DeviceLoader, ImageFolderDataset, uint8_collate
from augkit.data.fused import _REDUCED, crop_plan, dct_scale, jpeg_header
from augkit.functional import IMAGENET_MEAN, IMAGENET_STD
from augkit.io import read_bytes

from ..harness import AUGKIT, Task
from ..peers import peers
from .loader import BATCH, JITTER, WORKERS, _Epochs, _loader_kwargs, _OpenCVFolder, _quiet_decode_image, augkit_steps, photo_folder


def _dali_epochs(root: str, count: int, train: bool, crop: int):
    """A runner of DALI's CPU pipeline over ``root``, or None without DALI."""
    if importlib.util.find_spec("nvidia.dali") is None:
        return None
    from nvidia.dali import fn, pipeline_def, types

    mean, std = [255 * m for m in IMAGENET_MEAN], [255 * s for s in IMAGENET_STD]

    @pipeline_def(batch_size=BATCH, num_threads=WORKERS, device_id=None)
    def pipe():
        files, labels = fn.readers.file(file_root=root, name="reader")
        if train:
            images = fn.decoders.image_random_crop(files, device="cpu", output_type=types.RGB)
            images = fn.resize(images, resize_x=crop, resize_y=crop)
            images = fn.color_twist(images, brightness=fn.random.uniform(range=[0.6, 1.4]),
                                    contrast=fn.random.uniform(range=[0.6, 1.4]),
                                    saturation=fn.random.uniform(range=[0.6, 1.4]),
                                    hue=fn.random.uniform(range=[-36.0, 36.0]))
            mirror = fn.random.coin_flip()
        else:
            images = fn.resize(fn.decoders.image(files, device="cpu", output_type=types.RGB), resize_shorter=256)
            mirror = 0
        images = fn.crop_mirror_normalize(images, crop=(crop, crop), mirror=mirror, mean=mean, std=std,
                                          dtype=types.FLOAT, output_layout="CHW")
        return images, labels

    def build():
        p = pipe()
        p.build()
        return p

    state = {}

    def run():
        if "pipe" not in state:
            state["pipe"] = build()
        for _ in range(-(-count // BATCH)):
            state["pipe"].run()
    return run


def _decode_rows(root: str, count: int, crop: int):
    """Decode-only runners: full scale, and the DCT scale the fused path picks per file."""
    files = [read_bytes(path) for path, _ in ImageFolderDataset(root).samples][:count]
    rrc = augkit.RandomResizedCrop(crop)
    picked = []
    for i, data in enumerate(files):
        size = jpeg_header(data).size
        params = rrc.sample_params(np.broadcast_to(np.zeros((), np.uint8), (*size, 3)), generator=make_generator(i))
        plan = crop_plan(rrc, params, size)
        picked.append(dct_scale(plan.box[2:], plan.size))

    def full():
        for data in files:
            cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)

    def reduced():
        for data, scale in zip(files, picked):
            flag = cv2.IMREAD_COLOR if scale == 1 else _REDUCED[scale, 3]
            cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    scales = ", ".join(f"1/{s}: {picked.count(s)}" for s in sorted(set(picked)))
    return full, reduced, scales


def tasks(scale: float = 1.0) -> list[Task]:
    lib = peers()
    crop = max(16, int(224 * scale))
    resize = max(18, int(256 * scale))
    out: list[Task] = []
    for width, height, count in ((500, 375, 200), (2000, 1500, 64)):
        width, height = max(40, int(width * scale)), max(30, int(height * scale))
        count = max(2 * BATCH, int(count * scale)) if scale >= 1 else max(8, int(count * scale))
        folder = functools.partial(photo_folder, count, width, height)
        for train in ((False, True) if width > 500 * scale else (False,)):
            if train:
                steps = augkit_steps(crop)[0]
                name = f"Epoch: ImageFolder JPEG {width}x{height} -> RRC {crop} + flip + jitter + normalize"
            else:
                steps = [augkit.Resize(resize), augkit.CenterCrop(crop)]
                name = f"Epoch: ImageFolder JPEG {width}x{height} -> eval Resize {resize} + CenterCrop {crop} + normalize"

            def build(steps=steps, folder=folder):
                dataset = AugmentedDataset(ImageFolderDataset(folder()), augkit.Compose(steps), seed=0)
                loader = DataLoader(dataset, collate_fn=uint8_collate, **_loader_kwargs())
                return DeviceLoader(loader, "cpu", normalize=(IMAGENET_MEAN, IMAGENET_STD))
            task = Task(name, count, {AUGKIT: _Epochs(build)},
                        f"{count} JPEG photos {width}x{height} (quality 90), batches of {BATCH}, num_workers={WORKERS} "
                        f"(DALI: {WORKERS} threads); augkit decodes only the DCT scale the crop needs")
            if lib.torchvision:
                v2, _ = lib.torchvision
                from torchvision.datasets import ImageFolder

                first = ([v2.RandomResizedCrop(crop, antialias=True), v2.RandomHorizontalFlip(), v2.ColorJitter(*JITTER)]
                         if train else [v2.Resize(resize, antialias=True), v2.CenterCrop(crop)])
                tv = v2.Compose([*first, v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
                task.runners["torchvision v2 (decode_image)"] = _Epochs(lambda tv=tv, folder=folder: DataLoader(
                    ImageFolder(folder(), loader=_quiet_decode_image, transform=tv), **_loader_kwargs()))
            if lib.albumentations:
                A = lib.albumentations
                from albumentations.pytorch import ToTensorV2

                first = ([A.RandomResizedCrop(size=(crop, crop)), A.HorizontalFlip(), A.ColorJitter(*JITTER)]
                         if train else [A.SmallestMaxSize(max_size=resize), A.CenterCrop(crop, crop)])
                pipeline = A.Compose([*first, A.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD), ToTensorV2()])
                task.runners["albumentations"] = _Epochs(lambda pipeline=pipeline, folder=folder: DataLoader(
                    _OpenCVFolder(folder(), pipeline), **_loader_kwargs()))
            dali = _dali_epochs_lazy(folder, count, train, crop)
            if dali is not None:
                task.runners["DALI CPU"] = dali
            out.append(task)
        full, reduced = _LazyDecode(folder, count, crop, "full"), _LazyDecode(folder, count, crop, "reduced")
        out.append(Task(f"Decode only: JPEG {width}x{height}, full scale", count, {AUGKIT: full},
                        "cv2.imdecode of every file, one process"))
        out.append(Task(f"Decode only: JPEG {width}x{height}, the DCT scale the fused RRC {crop} picks", count,
                        {AUGKIT: reduced}, "cv2 reduced decode of every file at the scale the fused path picks"))
    return out


class _LazyDecode:
    """A decode-only runner that writes its files on the first call, not at collection."""

    def __init__(self, folder, count: int, crop: int, which: str) -> None:
        self.folder, self.count, self.crop, self.which, self.fn = folder, count, crop, which, None

    def __call__(self) -> None:
        if self.fn is None:
            full, reduced, _ = _decode_rows(self.folder(), self.count, self.crop)
            self.fn = full if self.which == "full" else reduced
        self.fn()


def _dali_epochs_lazy(folder, count: int, train: bool, crop: int):
    """The DALI runner, its folder written on the first call; None without DALI."""
    if importlib.util.find_spec("nvidia") is None or importlib.util.find_spec("nvidia.dali") is None:
        return None
    state = {}

    def run():
        if "run" not in state:
            state["run"] = _dali_epochs(folder(), count, train, crop)
        state["run"]()
    return run
