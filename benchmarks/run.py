"""Run the benchmark tasks and print a Markdown table of images/s and augkit/peer ratios.

    augkit bench                                   # all tasks, 1 thread and default threads
    augkit bench --only flip --threads 1 --quick
    python -m augkit.bench.run --out results/      # the same, writing results.md and results.json
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
from pathlib import Path

from . import tasks as task_modules
from .harness import machine, markdown, run_tasks, write_json
from .peers import peers

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")


def collect(scale: float, only: str | None):
    found = []
    for info in sorted(pkgutil.iter_modules(task_modules.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{task_modules.__name__}.{info.name}")
        found += [t for t in module.tasks(scale) if not only or only.lower() in t.name.lower()]
    return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", help="run tasks whose name contains this text")
    parser.add_argument("--threads", default="1,default", help="comma list of '1' and 'default'")
    parser.add_argument("--quick", action="store_true", help="short timings")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink image and batch sizes")
    parser.add_argument("--out", type=Path, help="folder for results.md and results.json")


def configure(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` sub-command to the ``augkit`` command line."""
    parser = subparsers.add_parser("bench", help="time augkit against torchvision, albumentations, kornia, timm",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.set_defaults(run=lambda args: 0 if report(args) else 1)


def report(args: argparse.Namespace) -> str:
    """Run the selected tasks, print the Markdown report and write it to ``args.out``."""
    tasks = collect(args.scale, args.only)
    timing = dict(min_time=0.02, repeats=3, warmup=1) if args.quick else dict(min_time=0.2, repeats=7, warmup=3)
    print(f"# {len(tasks)} tasks on {machine()}")
    rows = run_tasks(tasks, threads=args.threads.split(","), **timing)
    versions = ", ".join(f"{k} {v}" for k, v in peers().versions().items())
    table = markdown(rows, {t.name: t.note for t in tasks})
    text = f"Machine: {machine()}\n\nPeers: {versions}\n\n{table}\n"
    print("\n" + text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.md").write_text(text)
        write_json(rows, args.out / "results.json")
    return text


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return report(parser.parse_args(argv))


if __name__ == "__main__":
    main()
