"""``augkit list``: the registered transforms and the presets, one line each, and the kernel
table (``augkit list kernels``: every op, input kind and backend)."""

from __future__ import annotations

import argparse

from .. import functional  # noqa: F401  (fills the kernel table)
from ..core import kernels
from ..core.config import registered_transforms
from .specs import available_presets, first_sentence

__all__ = ["configure", "run"]

TOPICS = ("transforms", "presets")
ALL_TOPICS = (*TOPICS, "kernels")


def configure(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "list", help="list transforms and presets",
        description="List the registered transforms and the presets with one-line descriptions, "
                    "or the kernel table: every op, input kind and backend (with the inputs it takes).")
    parser.add_argument("topic", nargs="?", choices=ALL_TOPICS, help="list only these")
    parser.add_argument("--kernels", action="store_true", help="the kernel table (the topic 'kernels')")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.kernels or args.topic == "kernels":
        return _print_kernels()
    tables = {
        "transforms": {name: first_sentence(cls, width=90) for name, cls in registered_transforms().items()},
        "presets": available_presets(),
    }
    for topic in [args.topic] if args.topic else TOPICS:
        print(f"{topic}:")
        rows = tables[topic]
        width = max(map(len, rows), default=0)
        for name, description in rows.items():
            print(f"  {name:<{width}}  {description}".rstrip())
        if not rows:
            print("  (none yet)")
    return 0


def _print_kernels() -> int:
    lines = [("op", "kind", "backends (tried in order, with the inputs they take)"), *kernels.describe()]
    widths = [max(len(line[i]) for line in lines) for i in range(2)]
    for name, kind, backends in lines:
        print(f"{name:<{widths[0]}}  {kind:<{widths[1]}}  {backends}")
    return 0
