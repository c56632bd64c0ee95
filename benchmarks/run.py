"""Run the benchmark tasks and print a Markdown table of images/s and augkit/peer ratios.

    python benchmarks/run.py                       # all tasks, 1 thread and default threads
    python benchmarks/run.py --only flip --threads 1 --quick
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import tasks as task_modules  # noqa: E402
from benchmarks.harness import machine, markdown, run_tasks, write_json  # noqa: E402
from benchmarks.peers import peers  # noqa: E402


def collect(scale: float, only: str | None):
    found = []
    for info in sorted(pkgutil.iter_modules(task_modules.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"benchmarks.tasks.{info.name}")
        found += [t for t in module.tasks(scale) if not only or only.lower() in t.name.lower()]
    return found


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run tasks whose name contains this text")
    parser.add_argument("--threads", default="1,default", help="comma list of '1' and 'default'")
    parser.add_argument("--quick", action="store_true", help="short timings")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink image and batch sizes")
    parser.add_argument("--out", type=Path, help="folder for results.md and results.json")
    args = parser.parse_args(argv)

    tasks = collect(args.scale, args.only)
    timing = dict(min_time=0.02, repeats=3, warmup=1) if args.quick else dict(min_time=0.2, repeats=7, warmup=3)
    print(f"# {len(tasks)} tasks on {machine()}")
    rows = run_tasks(tasks, threads=args.threads.split(","), **timing)
    versions = ", ".join(f"{k} {v}" for k, v in peers().versions().items())
    table = markdown(rows, {t.name: t.note for t in tasks})
    report = f"Machine: {machine()}\n\nPeers: {versions}\n\n{table}\n"
    print("\n" + report)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.md").write_text(report)
        write_json(rows, args.out / "results.json")
    return report


if __name__ == "__main__":
    main()
