"""Offline preprocessing on Ray: ``augkit preprocess --executor ray`` against plain Ray Data +
torchvision, same photos.

One runner call is one whole Ray job over a folder of JPEG photos (made from the bundled ones at
camera-like sizes): decode, the vit-224 eval resize and centre crop, uint8 images to Parquet.
The plain version is the usual script: ``read_images`` -> ``map_batches`` (torchvision v2 in an
actor pool) -> ``write_parquet``. Ray starts once, on the first call, and stays up.

A job takes seconds, so the task is left out of smoke runs (``scale < 0.5``); the jobs
themselves are tested in ``tests/test_distributed.py``. On one machine ``augkit preprocess`` runs
local processes by default; ``benchmarks/preprocess_scaling.py`` measures that against a plain
loop.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile

import cv2
import numpy as np

from ..harness import AUGKIT, Task
from ..inputs import photo

PRESET = "vit-224"
SIZE, RESIZE = 224, 249          # vit-224: crop_ratio 0.9, so the shorter side goes to 224 / 0.9
WORKERS = 2
BATCH = 32


@functools.lru_cache(maxsize=None)
def photo_folder(n: int) -> str:
    """``n`` JPEG photos in class folders, sizes 480x640 to 600x800, made once per process."""
    root = tempfile.mkdtemp(prefix="augkit-bench-photos-")
    for i in range(n):
        height, width = 480 + 8 * (i % 16), 640 + 10 * (i % 16)
        folder = os.path.join(root, f"class{i % 4}")
        os.makedirs(folder, exist_ok=True)
        cv2.imwrite(os.path.join(folder, f"{i:05d}.jpg"), cv2.cvtColor(photo(height, width, i), cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 90])
    return root


def augkit_job(src: str, dst: str) -> int:
    """``augkit preprocess SRC DST --preset vit-224``; the number of images written."""
    from augkit.distributed import preprocess

    return preprocess(src, dst, preset=PRESET, batch_size=BATCH, workers=WORKERS, executor="ray",
                      overwrite=True)["counts"]["written"]


class TorchvisionResizeCrop:
    """The map_batches class of the plain script: torchvision v2 resize and centre crop."""

    def __init__(self) -> None:
        import torch
        from torchvision.transforms import v2

        torch.set_num_threads(1)
        self.torch = torch
        self.transform = v2.Compose([v2.Resize(RESIZE, interpolation=v2.InterpolationMode.BICUBIC, antialias=True),
                                     v2.CenterCrop(SIZE)])

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        images = [self.transform(self.torch.from_numpy(np.ascontiguousarray(im)).permute(2, 0, 1)) for im in batch["image"]]
        return {"image": np.stack([im.permute(1, 2, 0).numpy() for im in images]), "path": batch["path"]}


def ray_torchvision_job(src: str, dst: str) -> int:
    """The plain Ray Data + torchvision script; the number of images written."""
    import pyarrow.parquet as pq
    import ray

    shutil.rmtree(dst, ignore_errors=True)
    data = ray.data.read_images(src, mode="RGB", include_paths=True)
    data = data.map_batches(TorchvisionResizeCrop, batch_size=BATCH,
                            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=WORKERS))
    data.write_parquet(dst)
    return sum(pq.ParquetFile(os.path.join(dst, f)).metadata.num_rows for f in os.listdir(dst))


def with_ray(job):
    """``job`` with Ray started (once) before its first call."""
    def run(src: str, dst: str) -> int:
        import ray

        if not ray.is_initialized():
            ray.init(include_dashboard=False, log_to_driver=False)
        return job(src, dst)
    return run


def tasks(scale: float = 1.0) -> list[Task]:
    try:
        import pyarrow  # noqa: F401
        import ray  # noqa: F401
    except ImportError:
        return []
    if scale < 0.5:
        return []
    n = int(300 * scale)
    src = photo_folder(n)
    out = tempfile.mkdtemp(prefix="augkit-bench-parquet-")
    return [Task(
        f"preprocess {n} JPEG photos 480x640..600x800 -> {PRESET} uint8 Parquet (Ray, {WORKERS} workers)", n, {
            AUGKIT: lambda: with_ray(augkit_job)(src, os.path.join(out, "augkit")),
            "Ray Data + torchvision v2": lambda: with_ray(ray_torchvision_job)(src, os.path.join(out, "torchvision")),
        },
        note="one call = one Ray job (Ray already running): listing, actor start, decode, resize/crop, write",
    )]
