"""The comparison experiment: every recipe x every seed, one fresh training run each.

Runs go seed by seed (all recipes for seed 0, then seed 1, ...), so an interrupted or
budget-limited comparison still has every recipe. ``summary.json`` and ``summary.md`` are rewritten
after each finished run; Ctrl-C stops the current runs and keeps every finished one. With
``jobs > 1`` that many runs train at once, each in its own process with an equal share of the
threads (small models train faster this way than with every thread on one run).
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import queue
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from .data import Splits, load_default, load_image_folder, take_per_class
from .metrics import mean_std, paired_difference
from .models import build_model
from .recipes import DEFAULT_RECIPES, Recipe, TaskInfo, build_recipes
from .report import markdown_table, plot_curves, plot_recipes, plot_shift, shift_table, verdict, write_summary
from .shift import CORRUPTIONS, SEVERITIES, ShiftSet, build_shift_set, robustness, trained_families
from .training import RunResult, TrainSettings, train_run

__all__ = ["DEFAULT_SEEDS", "DEFAULT_SHIFT_PER_CLASS", "DEFAULT_TRAIN_PER_CLASS", "CompareConfig", "load_shift",
           "load_splits", "run_compare"]

# The embedded default's setting for `make demo` (see docs/compare.md for how it was chosen).
DEFAULT_TRAIN_PER_CLASS = 20
# Test images per class under each corruption: 40 corrupted sets of 300 images cost a run about as
# much as 4 more evaluations of the 3000 clean test images.
DEFAULT_SHIFT_PER_CLASS = 30
DEFAULT_SEEDS = 4


@dataclass(frozen=True)
class CompareConfig:
    """What to compare, on what, and how long.

    ``data`` is an ImageFolder-style directory or ``None`` for the embedded Fashion-MNIST subset;
    ``train_per_class`` keeps the first k training images of every class (``None``: all, except
    on the embedded default where it is :data:`DEFAULT_TRAIN_PER_CLASS`).
    """

    out: Path
    data: Path | None = None
    recipes: tuple[str, ...] = DEFAULT_RECIPES
    seeds: int = DEFAULT_SEEDS
    train: TrainSettings = field(default_factory=TrainSettings)
    train_per_class: int | None = None
    val_split: float | None = None
    split_seed: int = 123
    image_size: int | None = None
    budget_minutes: float | None = None
    threads: int | None = None
    jobs: int = 1
    progress: bool = True
    on_error: str = "raise"  # unreadable files of ``data``: "raise" or "skip" (listed in the summary)
    shift: bool = False  # also evaluate every model on the corrupted test sets (shift.py)
    shift_per_class: int | None = DEFAULT_SHIFT_PER_CLASS  # test images per class corrupted (None: all)


def load_splits(config: CompareConfig) -> Splits:
    """The data of ``config``, with the training set cut to ``train_per_class`` if set."""
    if config.data is None:
        splits = load_default()
        per_class = DEFAULT_TRAIN_PER_CLASS if config.train_per_class is None else config.train_per_class
    else:
        splits = load_image_folder(config.data, image_size=config.image_size, val_split=config.val_split,
                                   split_seed=config.split_seed, on_error=config.on_error)
        per_class = config.train_per_class
    if per_class is not None:
        splits = splits.with_train(splits.train.subset(take_per_class(splits.train.labels, per_class)))
    return splits


def load_shift(config: CompareConfig, splits: Splits) -> ShiftSet | None:
    """The corrupted test sets of ``config`` (``None`` without ``shift``), the same in every
    process: the first ``shift_per_class`` test images of every class under every corruption."""
    if not config.shift:
        return None
    if splits.test is None:
        raise ValueError("--shift needs a test set: DATA must have a test/ folder")
    test = splits.test
    if config.shift_per_class is not None:
        test = test.subset(take_per_class(test.labels, config.shift_per_class))
    return build_shift_set(test)


def run_compare(config: CompareConfig) -> dict[str, Any]:
    """Train every recipe with every seed, write the reports into ``config.out`` and return the
    summary (also ``summary.json``). ``summary["status"]`` is ``"complete"``, ``"interrupted"``
    (Ctrl-C) or ``"budget"`` (stopped before a run that would exceed ``budget_minutes``)."""
    started = time.perf_counter()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    splits = load_splits(config)
    recipes = build_recipes(config.recipes, TaskInfo(splits.size, splits.channels, splits.num_classes))
    settings = config.train
    build_model(settings.model, splits.channels, splits.num_classes, mean=[0.0] * splits.channels,
                std=[1.0] * splits.channels, width=settings.width, weights=settings.weights,
                freeze_backbone=settings.freeze_backbone)  # a bad name or weights file fails before any run
    shift = load_shift(config, splits)
    config.out.mkdir(parents=True, exist_ok=True)
    plot_recipes(recipes, splits, config.out / "recipes.png")
    plan = [(recipe, seed) for seed in range(config.seeds) for recipe in recipes]
    results: list[RunResult] = []

    def pending() -> list[tuple[Recipe, int]]:
        done = {(r.recipe, r.seed) for r in results}
        return [(recipe, seed) for recipe, seed in plan if (recipe.name, seed) not in done]

    def finished(result: RunResult) -> None:
        results.append(result)
        write_summary(_summary(config, splits, recipes, results, pending(), "running", started), config.out)

    def fits() -> bool:
        if config.budget_minutes is None or not results:
            return True
        per_run = sum(r.seconds for r in results) / len(results)
        return time.perf_counter() - started + per_run <= 60 * config.budget_minutes

    run_plan = _run_in_processes if config.jobs > 1 else _run_here
    try:
        status = "complete" if run_plan(config, splits, shift, plan, finished, fits) else "budget"
    except KeyboardInterrupt:
        status = "interrupted"
    summary = _summary(config, splits, recipes, results, pending(), status, started)
    write_summary(summary, config.out)
    plot_curves(summary, config.out / "curves.png")
    if shift is not None:
        plot_shift(summary, config.out / "shift.png")
    return summary


_Plan = list[tuple[Recipe, int]]


def _run_here(config: CompareConfig, splits: Splits, shift: ShiftSet | None, plan: _Plan,
              finished: Callable[[RunResult], None], fits: Callable[[], bool]) -> bool:
    """Train the runs of ``plan`` one after the other in this process, with a bar per run's
    epochs; return ``False`` if the budget stopped it."""
    bar = _progress(len(plan), config.progress, "runs")
    try:
        for recipe, seed in plan:
            if not fits():
                return False
            bar.set_description(f"{recipe.name} seed {seed}")
            epochs = _progress(config.train.epochs, config.progress, "epochs", leave=False)

            def on_epoch(stats, epochs=epochs):
                if stats.val_accuracy is not None:
                    epochs.set_postfix(loss=f"{stats.train_loss:.3f}", val_acc=f"{stats.val_accuracy:.3f}")
                epochs.update()

            try:
                finished(train_run(recipe, splits, config.train, seed, on_epoch=on_epoch, shift=shift))
            finally:
                epochs.close()
            bar.update()
    finally:
        bar.close()
    return True


def _run_in_processes(config: CompareConfig, splits: Splits, shift: ShiftSet | None, plan: _Plan,
                      finished: Callable[[RunResult], None], fits: Callable[[], bool]) -> bool:
    """Train the runs of ``plan`` in ``config.jobs`` worker processes, starting a run only while
    it fits the budget; return ``False`` if the budget stopped it. Each worker builds its own copy
    of ``shift`` (the same images: they depend on the test set only), which is then not sent to
    it with every run. Leaving (also by Ctrl-C or an
    error in a run) terminates the workers."""
    threads = max(1, (config.threads or torch.get_num_threads()) // config.jobs)
    outcomes: queue.SimpleQueue = queue.SimpleQueue()
    todo, running = list(plan), 0
    bar = _progress(len(plan), config.progress, "runs")
    context = multiprocessing.get_context("spawn")
    try:
        with context.Pool(config.jobs, initializer=_start_worker, initargs=(config, threads)) as pool:
            while todo or running:
                while todo and running < config.jobs and fits():
                    recipe, seed = todo.pop(0)
                    pool.apply_async(_worker_run, (recipe.name, seed), callback=outcomes.put,
                                     error_callback=outcomes.put)
                    running += 1
                if not running:
                    break
                outcome = _next_outcome(outcomes)
                running -= 1
                if isinstance(outcome, BaseException):
                    raise outcome
                finished(outcome)
                bar.set_postfix_str(f"{outcome.recipe} seed {outcome.seed}: val acc {outcome.val_accuracy:.3f}")
                bar.update()
    finally:
        bar.close()
    return not todo


def _next_outcome(outcomes: queue.SimpleQueue) -> Any:
    """The next finished run (or its error); waits in short slices, so that Ctrl-C interrupts the
    wait at once (a blocking ``get`` holds the signal until a run ends)."""
    while True:
        try:
            return outcomes.get(timeout=0.2)
        except queue.Empty:
            continue


QUIET_REDRAW_S = 60.0

_worker: dict[str, Any] = {}


def _start_worker(config: CompareConfig, threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process stops the workers
    torch.set_num_threads(threads)
    splits = load_splits(config)
    recipes = build_recipes(config.recipes, TaskInfo(splits.size, splits.channels, splits.num_classes))
    _worker.update(config=config, splits=splits, shift=load_shift(config, splits),
                   recipes={recipe.name: recipe for recipe in recipes})


def _worker_run(recipe: str, seed: int) -> RunResult:
    return train_run(_worker["recipes"][recipe], _worker["splits"], _worker["config"].train, seed,
                     shift=_worker["shift"])


def _progress(total: int, enabled: bool, unit: str, leave: bool = True):
    """A progress bar on stderr (tqdm, the ``compare`` extra). Where stderr is no terminal (a
    notebook cell, a log file), every redraw is a stored line: the bar then redraws at most once
    every ``QUIET_REDRAW_S`` seconds and the inner bars (``leave=False``) stay hidden."""
    try:
        from tqdm import tqdm
    except ImportError:
        raise ImportError("augkit compare's progress bars need tqdm: pip install 'augkit[compare]' "
                          "(or pass --no-progress)") from None
    terminal = sys.stderr.isatty()
    return tqdm(total=total, unit=unit, leave=leave, disable=not enabled or (not terminal and not leave),
                mininterval=0.1 if terminal else QUIET_REDRAW_S, file=sys.stderr, dynamic_ncols=True)


def _summary(config: CompareConfig, splits: Splits, recipes: list[Recipe], results: list[RunResult],
             pending: list[tuple[Recipe, int]], status: str, started: float) -> dict[str, Any]:
    entries = []
    for recipe in recipes:
        runs = [r for r in results if r.recipe == recipe.name]
        entry: dict[str, Any] = {"name": recipe.name, "description": recipe.description,
                                 "transform": None if recipe.transform is None else repr(recipe.transform),
                                 "mix": None if recipe.mix is None else repr(recipe.mix)}
        for key in ("val_accuracy", "val_macro_f1", "test_accuracy", "test_macro_f1"):
            values = [getattr(r, key) for r in runs if getattr(r, key) is not None]
            entry[key] = mean_std(values) if values else None
        entry["seconds_per_run"] = sum(r.seconds for r in runs) / len(runs) if runs else None
        entry["runs"] = [r.to_dict() for r in runs]
        if config.shift:
            entry["shift"] = _shift_entry(recipe, runs)
        entries.append(entry)
    baseline = next((e for e in entries if e["name"] == "none"), None)
    for entry in entries:
        entry["gain_over_none"] = (None if baseline is None or entry is baseline
                                   else {split: _paired(entry, baseline, split) for split in ("val", "test")})
    return {
        "augkit_version": __version__,
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": machine(config),
        "status": status,
        "elapsed_seconds": time.perf_counter() - started,
        "dataset": splits.describe(),
        "settings": {**asdict(config.train), "seeds": list(range(config.seeds)), "recipes": list(config.recipes),
                     "data": None if config.data is None else str(config.data),
                     "train_per_class": config.train_per_class, "val_split": config.val_split,
                     "split_seed": config.split_seed, "image_size": config.image_size,
                     "budget_minutes": config.budget_minutes, "shift": config.shift,
                     "shift_per_class": config.shift_per_class if config.shift else None},
        "recipes": entries,
        "best": _best(entries),
        "skipped": [{"recipe": recipe.name, "seed": seed} for recipe, seed in pending],
    }


def _paired(ours: dict[str, Any], theirs: dict[str, Any], split: str) -> dict[str, Any] | None:
    """``ours - theirs`` in ``split`` accuracy, paired by seed, with its 95% CI."""
    key = f"{split}_accuracy"
    return paired_difference({r["seed"]: r[key] for r in ours["runs"] if r[key] is not None},
                             {r["seed"]: r[key] for r in theirs["runs"] if r[key] is not None})


def _shift_entry(recipe: Recipe, runs: list[RunResult]) -> dict[str, Any]:
    """Clean accuracy, mean corruption accuracy and relative robustness over the seeds, the mean
    accuracy per corruption and severity, and the corruption families the recipe trains on."""
    scores = [robustness(r.shift_clean, r.shift) for r in runs if r.shift is not None]
    per_corruption = {name: [sum(r.shift[name][k] for r in runs) / len(runs) for k in range(SEVERITIES)]
                      for name in CORRUPTIONS} if scores else None
    return {"trained_families": trained_families(recipe.transform),
            **{key: mean_std([score[key] for score in scores]) if scores else None
               for key in ("clean", "mean_corruption", "relative")},
            "per_corruption": per_corruption}


# The bar the default demo setting is held to (docs/compare.md): the best recipe's paired test
# gain over `none` and the lower end of its 95% CI, in accuracy.
TARGET_GAIN, TARGET_LOW = 0.05, 0.03


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what :mod:`platform` knows)."""
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine(config: CompareConfig) -> str:
    """Where the comparison ran: CPU model, cores, how busy they were (the 1-minute load average
    when the summary was written, this comparison's runs included) and how the runs shared them."""
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return (f"{cpu_model()}, {os.cpu_count()} logical CPUs{load}, {config.jobs} run(s) at once with "
            f"{max(1, (config.threads or torch.get_num_threads()) // config.jobs)} thread(s) each, "
            f"{platform.system()}, Python {platform.python_version()}, torch {torch.__version__}")


def _best(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The recipe with the highest mean val accuracy (the test set is never used to choose), its
    paired gains over ``none`` on val and test, the recipes it cannot be told apart from on test
    (the 95% CI of the paired difference holds 0) and whether its test gain meets the target."""
    done = [e for e in entries if e["val_accuracy"]]
    if not done:
        return None
    best = max(done, key=lambda e: e["val_accuracy"]["mean"])
    result: dict[str, Any] = {"recipe": best["name"], "chosen_on": "val_accuracy"}
    others = [e for e in done if e is not best and e["name"] != "none"]
    result["not_distinguishable"] = [e["name"] for e in others if _overlaps_zero(_paired(best, e, "test"))]
    gain = (best.get("gain_over_none") or {}).get("test")
    result["target"] = {"gain": TARGET_GAIN, "low": TARGET_LOW,
                        "met": bool(gain and gain["low"] is not None and gain["mean"] >= TARGET_GAIN
                                    and gain["low"] > TARGET_LOW)}
    return result


def _overlaps_zero(difference: dict[str, Any] | None) -> bool:
    return difference is not None and difference["low"] is not None and difference["low"] <= 0 <= difference["high"]


def print_table(summary: dict[str, Any]) -> None:
    """Print the Markdown table, the verdict and the shift table to stdout."""
    print(markdown_table(summary))
    for line in verdict(summary):
        print(f"\n{line}")
    if any("shift" in entry for entry in summary["recipes"]):
        print("\n" + shift_table(summary))
    skipped_files = summary["dataset"].get("skipped_files")
    if skipped_files:
        print(f"\nskipped {len(skipped_files)} unreadable file(s): " + ", ".join(skipped_files))
    if summary["status"] != "complete":
        print(f"stopped ({summary['status']}): {len(summary['skipped'])} run(s) not done")
