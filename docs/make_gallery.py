"""Render the docs gallery: one PNG of augmented samples per entry of ``docs/gallery_specs.py``.

Each image is ``augkit.viz.grid`` of 8 samples (seed 0) of the entry's transform on its sample
photo, stored as a dithered 256-colour PNG to keep the docs small.

    python docs/make_gallery.py                      # every entry, into docs/gallery/
    python docs/make_gallery.py --only CLAHE Resize  # some entries
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from PIL import Image

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))

import augkit.viz  # noqa: E402
from augkit.data import sample_image  # noqa: E402
from gallery_specs import GALLERY  # noqa: E402

SAMPLES = 8
THUMB = 160
COLOURS = 256


def render(name: str, out_dir: Path) -> Path:
    """Write the gallery image of the entry ``name`` to ``out_dir/<name>.png``."""
    spec = GALLERY[name]
    figure = augkit.viz.grid(spec.make(), sample_image(spec.photo), n=SAMPLES, seed=0, thumb=THUMB)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    path = out_dir / f"{name}.png"
    with Image.open(buffer) as image:
        rgb = image.convert("RGB")
        # dithered onto the palette: without dithering, smooth regions of recoloured photos
        # break into flat blotches that the transform did not make
        palette = rgb.quantize(COLOURS, method=Image.Quantize.MEDIANCUT)
        rgb.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="render only these entries")
    parser.add_argument("--out", type=Path, default=DOCS / "gallery", help="output folder")
    args = parser.parse_args(argv)
    names = args.only or list(GALLERY)
    unknown = sorted(set(names) - set(GALLERY))
    if unknown:
        parser.error(f"no gallery entry for {', '.join(unknown)}; add it to docs/gallery_specs.py")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = render(name, args.out)
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
