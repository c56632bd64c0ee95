"""augkit in ten lines: one pipeline on a PIL image, a NumPy array and a batched tensor.

Writes a grid of 16 augmented samples (every image of the batch draws its own parameters) to
``OUT/grid.png`` and checks that the same generator seed reproduces the batch.

    python examples/quickstart.py --out runs/demo
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import augkit
from augkit.data import sample_image


def grid(batch: torch.Tensor, columns: int = 4) -> np.ndarray:
    """A (B, C, H, W) uint8 batch tiled into one HWC image with 2-pixel gutters."""
    b, c, h, w = batch.shape
    rows = -(-b // columns)
    canvas = np.full((rows * (h + 2), columns * (w + 2), c), 255, np.uint8)
    for i, image in enumerate(batch.permute(0, 2, 3, 1).numpy()):
        r, k = divmod(i, columns)
        canvas[r * (h + 2):r * (h + 2) + h, k * (w + 2):k * (w + 2) + w] = image
    return canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/demo"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    augment = augkit.Compose([
        augkit.HorizontalFlip(p=0.5),
        augkit.OneOf([augkit.VerticalFlip(p=1.0), augkit.Identity()], weights=[1, 3]),
    ])
    photo = sample_image("astronaut")[::2, ::2].copy()          # 256x256 RGB uint8, HWC
    print("pipeline:", augment)
    print("PIL   ->", augment(Image.fromarray(photo)))
    print("NumPy ->", augment(photo).shape, augment(photo).dtype)

    batch = torch.from_numpy(photo).permute(2, 0, 1).expand(16, -1, -1, -1).contiguous()
    out = augment(batch, generator=torch.Generator().manual_seed(args.seed))
    again = augment(batch, generator=torch.Generator().manual_seed(args.seed))
    assert torch.equal(out, again), "the same seed must give the same batch"
    normalized = augkit.Normalize()(out)
    print(f"batch -> {tuple(out.shape)} {out.dtype}; normalized mean {normalized.mean():+.3f}")

    path = args.out / "grid.png"
    Image.fromarray(grid(out)).save(path)
    print(f"wrote {path}: 16 samples, each with its own flips (seed {args.seed})")


if __name__ == "__main__":
    main()
