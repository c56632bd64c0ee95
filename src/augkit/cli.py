"""The ``augkit`` command line.

Each sub-command is a module with ``configure(subparsers)``; adding a command is adding its
name, module and one-line help to :data:`COMMANDS`. A command's module is imported only when that
command runs (or shows its help), so ``augkit --help`` and ``augkit list`` never import the
training code or Ray. Usage errors exit with status 2 (from argparse), failures caused by the
input (missing or corrupt files, bad specs) with status 1 and a one-line message on stderr,
without a traceback.

>>> main(["list", "transforms"])  # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
transforms:
...
  HorizontalFlip  Mirror images left-right with probability p, drawn per image.
...
0
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from . import __version__
from .commands import CommandError
from .io import ImageReadError

__all__ = ["COMMANDS", "build_parser", "main"]

# name: (module with configure(subparsers), the one-line help that configure gives too)
COMMANDS = {
    "preview": ("augkit.commands.preview", "write a grid of augmented samples of an image"),
    "list": ("augkit.commands.listing", "list transforms and presets"),
    "info": ("augkit.commands.info", "show size, mode, dtype and bit depth of an image"),
    "compare": ("augkit.experiments.cli", "compare augmentation recipes by training a model with each"),
    "preprocess": ("augkit.distributed.cli",
                   "run a deterministic pipeline over a folder of images into Parquet shards"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every sub-command of :data:`COMMANDS`; only ``command`` gets its
    full sub-parser (its module is imported), the others are names and help."""
    parser = argparse.ArgumentParser(
        prog="augkit", description="Image augmentation for PyTorch: preview transforms, list them, "
                                   "inspect images, compare augmentation recipes, preprocess datasets.")
    parser.add_argument("--version", action="version", version=f"augkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_) in COMMANDS.items():
        if name == command:
            importlib.import_module(module).configure(subparsers)
        else:
            subparsers.add_parser(name, help=help_)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # the first argument that is not an option names the command (the global options take no value)
    parser = build_parser(next((a for a in argv if not a.startswith("-")), None))
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
