"""Render the docs gallery: one PNG per entry of ``docs/gallery_specs.py``, the original photo
first, then samples of the entry's transform (seed 0) captioned with their drawn parameters.

A transform that gives the same result for every draw (``Resize``, ``Invert(p=1)``) gets one
sample; a random one gets seven. The docs build renders the gallery into the site (the hook in
``docs/hooks.py`` calls ``render``), so nothing is written into the source tree; this script
writes the images into a folder to look at them:

    python docs/make_gallery.py --out runs/gallery                      # every entry
    python docs/make_gallery.py --out runs/gallery --only CLAHE Resize  # some entries
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))

import augkit.viz  # noqa: E402
from gallery_specs import FIGURES, GALLERY  # noqa: E402

SAMPLES = 7          # with the original: two rows of four
THUMB = 160
COLOURS = 256


def is_deterministic(transform: augkit.Transform, image, draws: int = SAMPLES) -> bool:
    """Whether ``transform`` gives ``image`` (or a sample dict's image) the same result with each
    of ``draws`` seeds."""
    outputs = (transform(image, generator=torch.Generator().manual_seed(seed)) for seed in range(draws))
    first, *others = (np.asarray(out["image"] if isinstance(out, dict) else out) for out in outputs)
    return all(np.array_equal(first, other) for other in others)


def render(name: str) -> bytes:
    """The gallery image of the entry ``name`` (of ``GALLERY`` or ``FIGURES``): a PNG, dithered
    onto 256 colours."""
    spec = GALLERY[name] if name in GALLERY else FIGURES[name]
    transform, image = spec.make(), spec.sample()
    samples = 1 if is_deterministic(transform, image) else SAMPLES
    figure = augkit.viz.grid(transform, image, n=samples, seed=0, thumb=THUMB, original=True,
                             class_names=spec.class_names)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    with Image.open(buffer) as picture:
        rgb = picture.convert("RGB")
    # dithered onto the palette: without dithering, smooth regions of recoloured photos break
    # into flat blotches that the transform did not make
    palette = rgb.quantize(COLOURS, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    rgb.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(out, format="png", optimize=True)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="render only these entries")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    args = parser.parse_args(argv)
    names = args.only or [*GALLERY, *FIGURES]
    unknown = sorted(set(names) - set(GALLERY) - set(FIGURES))
    if unknown:
        parser.error(f"no gallery entry for {', '.join(unknown)}; add it to docs/gallery_specs.py")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = args.out / f"{name}.png"
        path.write_bytes(render(name))
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
