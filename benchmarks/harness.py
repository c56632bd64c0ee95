"""Side-by-side timing of augkit and its peers on the same inputs, in the same process.

A ``Task`` names a piece of work and gives one runner per library; each runner is a
zero-argument callable doing the work once on ``images`` images. The harness warms each runner
up, then takes the median of timed repeats and reports images/s and the ratio augkit/peer. When
CUDA is in use, each timed batch of calls ends with ``torch.cuda.synchronize()``.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import torch

try:
    from augkit.experiments.compare import cpu_model
except ImportError:  # an older augkit under test (see benchmarks/README.md): the platform's name for it
    def cpu_model() -> str:
        return platform.processor() or platform.machine()

AUGKIT = "augkit"


@dataclass
class Task:
    name: str
    images: int                      # images processed by one call of a runner
    runners: dict[str, Callable[[], object]] = field(default_factory=dict)
    note: str = ""


@dataclass
class Row:
    task: str
    library: str
    threads: str
    images_per_s: float
    ratio: float | None              # augkit images/s over this library's; None on augkit's row


def _sync() -> None:
    if torch.cuda.is_initialized():
        torch.cuda.synchronize()


def time_runner(fn: Callable[[], object], *, min_time: float, repeats: int, warmup: int) -> float:
    """Median seconds per call over ``repeats`` timed batches of calls lasting >= ``min_time``."""
    for _ in range(warmup):
        fn()
    _sync()
    start = time.perf_counter()
    fn()
    _sync()
    once = max(time.perf_counter() - start, 1e-7)
    loops = max(1, int(min_time / once))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        _sync()
        samples.append((time.perf_counter() - start) / loops)
    return statistics.median(samples)


def set_threads(threads: str) -> None:
    if threads == "1":
        torch.set_num_threads(1)
        cv2.setNumThreads(1)
    else:
        torch.set_num_threads(torch.get_num_threads() if threads == "keep" else int(threads))
        cv2.setNumThreads(-1)


def run_tasks(tasks: list[Task], *, threads: list[str], min_time: float, repeats: int,
              warmup: int, log: Callable[[str], None] = print) -> list[Row]:
    default_threads = torch.get_num_threads()
    rows: list[Row] = []
    for setting in threads:
        set_threads("1" if setting == "1" else str(default_threads))
        label = "1" if setting == "1" else f"{default_threads}"
        for task in tasks:
            speeds = {}
            for library, fn in task.runners.items():
                try:
                    seconds = time_runner(fn, min_time=min_time, repeats=repeats, warmup=warmup)
                except Exception as error:  # e.g. an older augkit without the API a task uses: the other rows go on
                    log(f"  [{label} thr] {task.name:<48} {library:<22} failed: {type(error).__name__}: {error}")
                    continue
                speeds[library] = task.images / seconds
                log(f"  [{label} thr] {task.name:<48} {library:<22} {speeds[library]:>10.1f} img/s")
            ours = speeds.get(AUGKIT)
            for library, speed in speeds.items():
                ratio = None if library == AUGKIT or ours is None else ours / speed
                rows.append(Row(task.name, library, label, speed, ratio))
    set_threads(str(default_threads))
    return rows


def machine() -> str:
    return (f"{cpu_model()} ({platform.machine()}), {torch.get_num_threads()} threads, "
            f"Python {platform.python_version()}, torch {torch.__version__}, OpenCV {cv2.__version__}")


def markdown(rows: list[Row], notes: dict[str, str] | None = None) -> str:
    lines = ["| task | threads | library | images/s | augkit / library |",
             "|---|---:|---|---:|---:|"]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}x"
        lines.append(f"| {r.task} | {r.threads} | {r.library} | {r.images_per_s:,.1f} | {ratio} |")
    if notes:
        lines += [""] + [f"- **{k}**: {v}" for k, v in notes.items() if v]
    return "\n".join(lines)


def write_json(rows: list[Row], path, *, peers: str = "", batches_on: str = "",
               notes: dict[str, str] | None = None) -> None:
    """The results file: the machine, the peers' versions, the rows and the tasks' notes (what
    ``docs/benchmarks.md`` shows, with its plot, from ``benchmarks/results.json``)."""
    payload = {"machine": machine(), "batches_on": batches_on, "peers": peers,
               "rows": [r.__dict__ for r in rows], "notes": {k: v for k, v in (notes or {}).items() if v}}
    path.write_text(json.dumps(payload, indent=2) + "\n")


def read_json(path) -> tuple[dict, list[Row]]:
    """A results file written by ``write_json``: its fields, and its rows as ``Row``."""
    payload = json.loads(Path(path).read_text())
    return payload, [Row(**row) for row in payload["rows"]]
