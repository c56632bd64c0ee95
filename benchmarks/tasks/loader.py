"""The whole input pipeline: an epoch over an image folder of JPEG photos, decode included.

Each runner reads a temporary ImageFolder of 500x375 JPEG photos (quality 90; crops, flips and
resizes of the bundled photos) through decode + RandomResizedCrop(224) + horizontal flip +
ColorJitter(0.4, 0.4, 0.4, 0.1) + normalization, in batches of 32 from a DataLoader with two
persistent worker processes, and returns when the epoch's last float batch is ready:

* augkit: ``ImageFolderDataset`` (OpenCV decode) in an ``AugmentedDataset``, ``uint8_collate``
  and a ``DeviceLoader`` on the CPU normalizing the uint8 batches;
* torchvision v2 as its documentation recommends: ``ImageFolder`` with ``decode_image`` (tensors,
  uint8 until ``ToDtype``), and with its default PIL loader;
* albumentations: OpenCV decode, ``A.Compose`` with ``ToTensorV2``.

A second row reads the same photos from the output of ``augkit preprocess`` (stored decoded, as
they are) through the same pipeline, against the ImageFolder: what decoding once offline saves.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import warnings

import cv2
import torch
from torch.utils.data import DataLoader, Dataset

import augkit
from augkit.data import (SAMPLE_IMAGES, AugmentedDataset, DeviceLoader, ImageFolderDataset, ParquetImageDataset,
                         sample_image, uint8_collate)
from augkit.functional import IMAGENET_MEAN, IMAGENET_STD

from ..harness import AUGKIT, Task
from ..peers import peers

WORKERS = 2
BATCH = 32
JITTER = (0.4, 0.4, 0.4, 0.1)


@functools.lru_cache(maxsize=None)
def photo_folder(count: int, width: int, height: int) -> str:
    """A temporary ``root/<photo name>/<i>.jpg`` folder of ``count`` JPEGs (quality 90) of
    ``width`` x ``height``: a different crop of a bundled photo each, every other one mirrored.
    Removed at exit."""
    root = tempfile.mkdtemp(prefix="augkit-bench-folder-")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    names = list(SAMPLE_IMAGES)
    for i in range(count):
        name = names[i % len(names)]
        photo = sample_image(name)
        photo = cv2.cvtColor(photo, cv2.COLOR_GRAY2RGB) if photo.ndim == 2 else photo
        h, w = photo.shape[:2]
        keep = 0.6 + 0.4 * ((i * 37) % 11) / 10  # the crop keeps 60-100% of each side
        ch, cw = int(h * keep), int(w * keep)
        top, left = (i * 53) % (h - ch + 1), (i * 71) % (w - cw + 1)
        crop = photo[top:top + ch, left:left + cw]
        crop = crop[:, ::-1] if i % 2 else crop
        image = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
        os.makedirs(os.path.join(root, name), exist_ok=True)
        cv2.imwrite(os.path.join(root, name, f"{i:04d}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 90])
    return root


def _epoch(loader) -> None:
    for images, _ in loader:
        pass


class _Epochs:
    """A runner building its loader (and worker processes) on the first call, not at collection."""

    def __init__(self, build) -> None:
        self.build, self.loader = build, None

    def __call__(self) -> None:
        if self.loader is None:
            self.loader = self.build()
        _epoch(self.loader)


def _loader_kwargs() -> dict:
    return dict(batch_size=BATCH, num_workers=WORKERS, persistent_workers=True)


def augkit_steps(crop: int) -> tuple[list[augkit.Transform], list[str]]:
    """The per-image augkit steps of the pipeline this build has, and the names it lacks."""
    steps, missing = [], []
    if hasattr(augkit, "RandomResizedCrop"):
        steps.append(augkit.RandomResizedCrop(crop, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)))
    else:
        missing.append("RandomResizedCrop")
    steps.append(augkit.HorizontalFlip(p=0.5))
    if hasattr(augkit, "ColorJitter"):
        steps.append(augkit.ColorJitter(*JITTER))
    else:
        missing.append("ColorJitter")
    return steps, missing


def _quiet_decode_image(path: str) -> torch.Tensor:
    """torchvision's ``decode_image`` without its 0.29 deprecation notice (one per image)."""
    from torchvision.io import ImageReadMode, decode_image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return decode_image(path, mode=ImageReadMode.RGB)


class _OpenCVFolder(Dataset):
    """The images of an ImageFolder decoded with OpenCV and passed through an albumentations
    pipeline, as albumentations' examples do."""

    def __init__(self, root: str, transform) -> None:
        self.samples = ImageFolderDataset(root).samples
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, label = self.samples[index]
        image = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        return self.transform(image=image)["image"], label


def tasks(scale: float = 1.0) -> list[Task]:
    count = max(2 * BATCH, int(200 * scale)) if scale >= 1 else max(8, int(200 * scale))
    width, height = max(40, int(500 * scale)), max(30, int(375 * scale))
    crop = max(16, int(224 * scale))
    folder = functools.partial(photo_folder, count, width, height)
    steps, missing = augkit_steps(crop)
    lib = peers()

    def build_augkit():
        dataset = AugmentedDataset(ImageFolderDataset(folder()), augkit.Compose(steps), seed=0)
        loader = DataLoader(dataset, collate_fn=uint8_collate, **_loader_kwargs())
        return DeviceLoader(loader, "cpu", normalize=(IMAGENET_MEAN, IMAGENET_STD))

    note = (f"{count} JPEG photos {width}x{height} (quality 90), batches of {BATCH}, "
            f"num_workers={WORKERS} (persistent); images/s of whole epochs, decode included")
    if missing:
        note += (f". augkit in this build lacks {', '.join(missing)}: its row runs without "
                 f"{'them' if len(missing) > 1 else 'it'}, so the ratio is not yet comparable")
    task = Task(f"Epoch: ImageFolder JPEG {width}x{height} -> RRC {crop} + flip + jitter + normalize",
                count, {AUGKIT: _Epochs(build_augkit)}, note)

    if lib.torchvision:
        v2, _ = lib.torchvision
        from torchvision.datasets import ImageFolder

        tv_pipeline = v2.Compose([
            v2.RandomResizedCrop(crop, antialias=True), v2.RandomHorizontalFlip(),
            v2.ColorJitter(*JITTER), v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ])
        tv_pil_pipeline = v2.Compose([v2.ToImage(), *tv_pipeline.transforms])
        task.runners["torchvision v2 (decode_image)"] = _Epochs(lambda: DataLoader(
            ImageFolder(folder(), loader=_quiet_decode_image, transform=tv_pipeline), **_loader_kwargs()))
        task.runners["torchvision v2 (PIL)"] = _Epochs(lambda: DataLoader(
            ImageFolder(folder(), transform=tv_pil_pipeline), **_loader_kwargs()))
    if lib.albumentations:
        A = lib.albumentations
        from albumentations.pytorch import ToTensorV2

        a_pipeline = A.Compose([
            A.RandomResizedCrop(size=(crop, crop)), A.HorizontalFlip(), A.ColorJitter(*JITTER),
            A.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD), ToTensorV2(),
        ])
        task.runners["albumentations"] = _Epochs(lambda: DataLoader(
            _OpenCVFolder(folder(), a_pipeline), **_loader_kwargs()))
    return [task, _parquet_task(folder, count, steps, f"{width}x{height}", crop)]


def parquet_folder(folder) -> str:
    """The photos of ``folder()`` stored as they are by ``augkit preprocess`` (decoded, uint8
    HWC rows in Parquet shards), in a temporary folder removed at exit."""
    from augkit.distributed import preprocess

    root = tempfile.mkdtemp(prefix="augkit-bench-parquet-")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    preprocess(folder(), os.path.join(root, "out"), transform=augkit.Identity(), executor="local", workers=1)
    return os.path.join(root, "out")


def _parquet_task(folder, count: int, steps: list[augkit.Transform], size: str, crop: int) -> Task:
    """The same epoch read from ``augkit preprocess`` output (pixels stored decoded) against the
    ImageFolder of JPEGs it came from: what storing decoded pixels saves per epoch."""
    def build(dataset):
        loader = DataLoader(AugmentedDataset(dataset(), augkit.Compose(steps), seed=0), collate_fn=uint8_collate,
                            **_loader_kwargs())
        return DeviceLoader(loader, "cpu", normalize=(IMAGENET_MEAN, IMAGENET_STD))

    return Task(f"Epoch: Parquet of the same {size} photos (augkit preprocess) -> RRC {crop} + flip + jitter + normalize",
                count, {AUGKIT: _Epochs(lambda: build(lambda: ParquetImageDataset(parquet_folder(folder)))),
                        "augkit, ImageFolder JPEG (fused decode)": _Epochs(
                            lambda: build(lambda: ImageFolderDataset(folder())))},
                f"{count} photos {size}: Parquet shards of the decoded pixels (zstd) against the JPEGs, "
                f"batches of {BATCH}, num_workers={WORKERS}; the ratio is Parquet over ImageFolder")
