"""``augkit preview IMAGE --transform SPEC | --preset NAME``: a grid of augmented samples."""

from __future__ import annotations

import argparse
from pathlib import Path

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
    parser.add_argument("image", metavar="IMAGE", help="the image file")
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
    image = read_image(args.image, mode=args.mode)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        figure = viz.grid(transform, image, n=args.n, seed=args.seed, columns=args.columns,
                          thumb=args.thumb)
    except (TypeError, ValueError, NotImplementedError) as error:
        raise CommandError(f"cannot apply {transform!r} to {args.image}: {error}") from None
    figure.savefig(args.output, format="png")
    print(f"wrote {args.output}: {args.n} samples of {args.image} (seed {args.seed})")
    return 0
