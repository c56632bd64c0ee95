"""``augkit preview IMAGE --transform SPEC | --preset NAME``: a grid of augmented samples;
``augkit preview --coco FILE.json --image-id N [--images DIR] ...``: the same for an image of a COCO
json, with its boxes, masks and keypoints drawn on every sample."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..io import MODES, read_image
from . import CommandError
from .specs import load_transform, preset_transform

__all__ = ["configure", "run"]


def positive_int(text: str) -> int:
    """An argparse type: an int >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def configure(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "preview", help="write a grid of augmented samples of an image",
        description="Augment IMAGE N times, each with its own parameters (shown as captions), and "
                    "write the grid as a PNG.")
    parser.add_argument("image", metavar="IMAGE", nargs="?", help="the image file (not with --coco)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--transform", "-t", metavar="SPEC",
                       help="a config file written from to_config() (.json, or .yaml with PyYAML), "
                            "an inline JSON config, or a policy spec string such as rand-m9-n2")
    which.add_argument("--preset", "-p", metavar="NAME", help="a preset (see `augkit list presets`)")
    parser.add_argument("--n", "-n", type=positive_int, default=16, help="samples (default 16)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the parameter draws (default 0)")
    parser.add_argument("--columns", type=positive_int, default=None, help="grid columns (default 4)")
    parser.add_argument("--thumb", type=positive_int, default=160,
                        help="largest side of each sample in pixels (default 160)")
    parser.add_argument("--mode", choices=MODES, default="RGB",
                        help="channels to read the image with (default RGB)")
    parser.add_argument("--coco", metavar="FILE.json", type=Path,
                        help="a COCO annotation json: preview the image --image-id with its targets")
    parser.add_argument("--image-id", type=int, metavar="N", help="the id of the image in the COCO json")
    parser.add_argument("--images", metavar="DIR", type=Path, default=None,
                        help="the folder the json's file_name values are relative to (default: the json's folder)")
    parser.add_argument("--output", "-o", metavar="PNG", type=Path, default=Path("grid.png"),
                        help="where to write the grid (default grid.png)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from .. import viz
        from matplotlib import __version__  # noqa: F401 - fail early with a clear message
    except ImportError:
        raise CommandError("preview needs matplotlib: pip install 'augkit[viz]'") from None
    transform = load_transform(args.transform) if args.transform else preset_transform(args.preset)
    image, names, source = _input(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        figure = viz.grid(transform, image, n=args.n, seed=args.seed, columns=args.columns,
                          thumb=args.thumb, class_names=names)
    except (TypeError, ValueError, NotImplementedError) as error:
        raise CommandError(f"cannot apply {transform!r} to {source}: {error}") from None
    figure.savefig(args.output, format="png")
    print(f"wrote {args.output}: {args.n} samples of {source} (seed {args.seed})")
    return 0


def _input(args: argparse.Namespace) -> tuple[Any, dict[int, str] | None, str]:
    """The image (or COCO sample) to preview, its class names and how to name it."""
    if args.coco is None:
        if args.image is None or args.image_id is not None:
            raise CommandError("give an IMAGE, or --coco FILE.json with --image-id N")
        return read_image(args.image, mode=args.mode), None, args.image
    if args.image is not None or args.image_id is None:
        raise CommandError("--coco needs --image-id N and no IMAGE (the json's file_name is read)")
    from ..targets.interop import from_coco, load_coco

    try:
        coco = load_coco(args.coco)
        entry = next((e for e in coco["images"] if e.get("id") == args.image_id), None)
        if entry is None:
            raise ValueError(f"image_id {args.image_id} is not in the json's images")
        folder = args.images if args.images is not None else args.coco.parent
        image = read_image(folder / entry["file_name"], mode=args.mode)
        sample = from_coco(coco, args.image_id, image)
    except (OSError, KeyError, ValueError) as error:
        raise CommandError(f"cannot read image {args.image_id} of {args.coco}: {error}") from None
    names = {c["id"]: c.get("name", str(c["id"])) for c in coco["categories"]}
    return sample, names, f"{entry['file_name']} (image {args.image_id} of {args.coco.name})"
