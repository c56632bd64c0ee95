"""Run the benchmark tasks and print a Markdown table of images/s and augkit/peer ratios.

    python benchmarks/run.py                                   # all tasks, 1 thread and default threads
    python benchmarks/run.py --only flip --threads 1 --quick
    python benchmarks/run.py --out runs/bench                  # also writes results.md and results.json
    python benchmarks/run.py --compare-json runs/old/results.json   # augkit now / augkit then, per row
    python benchmarks/run.py --only preprocess --preprocess-scaling  # also augkit preprocess vs a plain loop

It times whichever ``augkit`` is importable (PYTHONPATH=other/checkout/src times that code).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path

if not __package__:  # run as a script (python benchmarks/run.py): import this folder as a package
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import torch

from benchmarks import inputs, preprocess_scaling, tasks as task_modules
from benchmarks.harness import AUGKIT, Row, Task, machine, markdown, run_tasks, write_json
from benchmarks.peers import peers

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

SLOWER = 0.9  # rows of --compare-json below this ratio are flagged


def collect(scale: float, only: str | None, log: Callable[[str], None] = print) -> list[Task]:
    """The tasks of every module in :mod:`benchmarks.tasks` whose name contains one of the
    comma-separated texts of ``only`` (case-insensitive), or all of them.

    A module that the ``augkit`` under test cannot serve (an older commit without a module or
    name it imports or uses) is skipped with a note, so that an old commit runs the rows it has."""
    wanted = [text.strip().lower() for text in only.split(",")] if only else []
    found = []
    for info in sorted(pkgutil.iter_modules(task_modules.__path__), key=lambda m: m.name):
        try:
            module = importlib.import_module(f"{task_modules.__name__}.{info.name}")
            made = module.tasks(scale)
        except (ImportError, AttributeError) as error:
            log(f"# skipped benchmarks/tasks/{info.name}.py, which this augkit cannot run: "
                f"{type(error).__name__}: {error}")
            continue
        found += [t for t in made if not wanted or any(w in t.name.lower() for w in wanted)]
    return found


def compare(rows: list[Row], previous: Path) -> str:
    """A Markdown table of augkit's images/s in ``rows`` over the same rows of a previous
    results.json, with a last line naming the rows more than 10% slower."""
    before = {(r["task"], r["threads"]): r["images_per_s"]
              for r in json.loads(previous.read_text())["rows"] if r["library"] == AUGKIT}
    lines = [f"augkit against {previous}:", "",
             "| task | threads | images/s | previous | now / previous |", "|---|---:|---:|---:|---:|"]
    compared, slower = 0, []
    for r in rows:
        old = before.get((r.task, r.threads))
        if r.library != AUGKIT or old is None:
            continue
        ratio, compared = r.images_per_s / old, compared + 1
        lines.append(f"| {r.task} | {r.threads} | {r.images_per_s:,.1f} | {old:,.1f} | {ratio:.2f}x |")
        if ratio < SLOWER:
            slower.append(f"{r.task} ({r.threads} thr, {ratio:.2f}x)")
    lines += ["", f"{len(slower)} of {compared} rows more than {1 - SLOWER:.0%} slower"
              + (": " + "; ".join(slower) if slower else "")]
    return "\n".join(lines)


def report(args: argparse.Namespace) -> str:
    """Run the selected tasks, print the Markdown report and write it to ``args.out``."""
    inputs.DEVICE = device = torch.device(args.device)
    where = f"{device} ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else str(device)
    tasks = collect(args.scale, args.only)
    timing = dict(min_time=0.02, repeats=3, warmup=1) if args.quick else dict(min_time=0.2, repeats=7, warmup=3)
    print(f"# {len(tasks)} tasks on {machine()}, batches on {where}")
    rows = run_tasks(tasks, threads=args.threads.split(","), **timing)
    versions = ", ".join(f"{k} {v}" for k, v in peers().versions().items())
    notes = {t.name: t.note for t in tasks}
    table = markdown(rows, notes)
    text = f"Machine: {machine()}\n\nBatches on: {where}\n\nPeers: {versions}\n\n{table}\n"
    if args.compare_json:
        text += "\n" + compare(rows, args.compare_json) + "\n"
    if args.preprocess_scaling:
        text += "\n`augkit preprocess` against a plain single-process loop (benchmarks/preprocess_scaling.py):\n\n"
        text += preprocess_scaling.report(args.out) + "\n"
    print("\n" + text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.md").write_text(text)
        write_json(rows, args.out / "results.json", peers=versions, batches_on=where, notes=notes)
    return text


def main(argv: list[str] | None = None) -> str:
    """Parse ``argv`` (default ``sys.argv[1:]``), run the benchmark and return the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run tasks whose name contains this text (a comma-separated list: any of them)")
    parser.add_argument("--threads", default="1,default", help="comma list of '1' and 'default'")
    parser.add_argument("--quick", action="store_true", help="short timings")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink image and batch sizes")
    parser.add_argument("--device", default="cpu", help="torch device of the batch inputs, e.g. cuda")
    parser.add_argument("--out", type=Path, help="folder for results.md and results.json")
    parser.add_argument("--preprocess-scaling", action="store_true",
                        help="also run augkit preprocess against a plain loop at 500 and 2000 images, "
                             "with peak memory (about 2 minutes; writes preprocess.md/.json to --out)")
    parser.add_argument("--compare-json", type=Path, metavar="OLD.json",
                        help="a previous results.json: print augkit's images/s now over then, per row")
    return report(parser.parse_args(argv))


if __name__ == "__main__":
    main()
