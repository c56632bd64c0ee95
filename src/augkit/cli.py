"""The ``augkit`` command line.

Sub-commands live in :mod:`augkit.commands`, one module each with ``configure(subparsers)``;
adding a command is adding its module to :data:`COMMANDS`. Usage errors exit with status 2 (from
argparse), failures caused by the input (missing or corrupt files, bad specs) with status 1 and
a one-line message on stderr, without a traceback.

>>> main(["list", "transforms"])  # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
transforms:
...
  HorizontalFlip  Mirror images left-right with probability p, drawn per image.
...
0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .bench import run as bench
from .commands import CommandError, info, listing, preview
from .distributed import cli as preprocess
from .experiments import cli as compare
from .io import ImageReadError

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS = (preview, listing, info, compare, preprocess, bench)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="augkit", description="Image augmentation for PyTorch: preview transforms, list them, "
                                   "inspect images, compare augmentation recipes, preprocess datasets, benchmark.")
    parser.add_argument("--version", action="version", version=f"augkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.configure(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return args.run(args)
    except (CommandError, ImageReadError, OSError) as error:
        message = " ".join(str(error).split())  # one line, whatever the source
        print(f"augkit {args.command}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
