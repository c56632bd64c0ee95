"""``augkit list``: the registered transforms and the presets, one line each."""

from __future__ import annotations

import argparse

from ..core.config import registered_transforms
from .specs import available_presets, first_sentence

__all__ = ["configure", "run"]

TOPICS = ("transforms", "presets")


def configure(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "list", help="list transforms and presets",
        description="List the registered transforms and the presets with one-line descriptions.")
    parser.add_argument("topic", nargs="?", choices=TOPICS, help="list only these")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
