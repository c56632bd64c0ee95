"""Smoke tests: the benchmark suite in benchmarks/ runs every task on tiny inputs, in process and
as a script (no timings asserted). pytest puts the repository root on sys.path (tests/ is a
package), so ``benchmarks`` imports as a package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_harness_runs_every_task_on_tiny_inputs(tmp_path):
    from benchmarks.run import main

    report = main(["--quick", "--scale", "0.1", "--threads", "1", "--out", str(tmp_path)])
    assert "| task | threads | library |" in report
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert rows and all(r["images_per_s"] > 0 for r in rows)
    assert {r["library"] for r in rows} >= {"augkit"}


@pytest.mark.slow
def test_the_script_compares_with_a_previous_results_json(tmp_path):
    flip, norm = "HorizontalFlip(p=0.5) array 22x22", "Normalize uint8 array -> float 22x22"
    previous = tmp_path / "old.json"
    previous.write_text(json.dumps({"machine": "m", "rows": [
        {"task": flip, "library": "augkit", "threads": "1", "images_per_s": 1e12, "ratio": None},
        {"task": norm, "library": "augkit", "threads": "1", "images_per_s": 1e-3, "ratio": None},
    ]}))
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--only", f"{flip},{norm}", "--quick", "--scale", "0.1",
         "--threads", "1", "--compare-json", str(previous), "--out", str(tmp_path / "new")],
        cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"| {flip} | 1 |" in result.stdout and f"| {norm} | 1 |" in result.stdout
    assert f"1 of 2 rows more than 10% slower: {flip} (1 thr, 0.00x)" in result.stdout
    assert "rows more than 10% slower" in (tmp_path / "new" / "results.md").read_text()


def test_the_published_results_file_reads_back_and_plots(tmp_path):
    """benchmarks/results.json (what the docs show) has the fields the docs read, and
    benchmarks/plot.py draws one line per task and peer from it."""
    pytest.importorskip("matplotlib")
    from benchmarks.harness import read_json, write_json
    from benchmarks.plot import main, ratio_figure

    results, rows = read_json(ROOT / "benchmarks" / "results.json")
    assert results["machine"] and results["peers"] and rows
    compared = [r for r in rows if r.ratio is not None]
    ticks = ratio_figure(rows).axes[0].get_yticklabels()
    assert len(ticks) == len({(r.task, r.library) for r in compared})
    write_json(rows[:3], tmp_path / "results.json", peers="p", notes={rows[0].task: "a note", "x": ""})
    again, back = read_json(tmp_path / "results.json")
    assert back == rows[:3] and again["notes"] == {rows[0].task: "a note"} and again["peers"] == "p"
    assert main([str(ROOT / "benchmarks" / "results.json"), "-o", str(tmp_path / "ratios.png")]) == 0
    assert (tmp_path / "ratios.png").read_bytes()[:4] == b"\x89PNG"


def test_merged_runs_keep_each_rows_best_and_recompute_the_ratios(tmp_path):
    from benchmarks.harness import Row, read_json, write_json
    from benchmarks.merge import main

    def run(ours: float, peer: float) -> list[Row]:
        return [Row("t", "augkit", "1", ours, None), Row("t", "peer", "1", peer, ours / peer)]

    for k, (ours, peer) in enumerate([(100.0, 50.0), (80.0, 100.0)]):
        write_json(run(ours, peer), tmp_path / f"{k}.json", peers="p")
    assert main([str(tmp_path / "0.json"), str(tmp_path / "1.json"), "-o", str(tmp_path / "best.json")]) == 0
    results, rows = read_json(tmp_path / "best.json")
    assert [r.images_per_s for r in rows] == [100.0, 100.0] and rows[1].ratio == 1.0
    assert results["merged_runs"] == 2 and results["peers"] == "p"


def test_a_runner_that_fails_is_reported_and_the_others_are_timed():
    from benchmarks.harness import Task, run_tasks

    def broken():
        raise TypeError("preprocess() got an unexpected keyword argument 'executor'")

    lines = []
    rows = run_tasks([Task("t", 1, {"augkit": broken, "peer": lambda: None})], threads=["1"], min_time=0.0,
                     repeats=1, warmup=0, log=lines.append)
    assert [(r.library, r.ratio) for r in rows] == [("peer", None)]
    assert any("augkit" in line and "failed: TypeError" in line for line in lines)


def test_task_modules_the_augkit_under_test_cannot_run_are_skipped_with_a_note(tmp_path, monkeypatch):
    """An older commit lacks modules and names the current tasks use: its run keeps the rest."""
    import importlib

    from benchmarks import run

    package = tmp_path / "old_tasks"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a_newer_module.py").write_text("from augkit.data.no_such_module import x\n")
    (package / "b_newer_name.py").write_text("import augkit\n\ndef tasks(scale):\n    return [augkit.NoSuchTransform()]\n")
    (package / "c_fine.py").write_text(
        "from benchmarks.harness import Task\n\ndef tasks(scale):\n"
        "    return [Task('kept row', 1, {'augkit': lambda: None}), Task('other', 1)]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(run, "task_modules", importlib.import_module("old_tasks"))
    lines = []
    tasks = run.collect(1.0, "kept", log=lines.append)
    assert [t.name for t in tasks] == ["kept row"]
    assert len(lines) == 2 and all(line.startswith("# skipped benchmarks/tasks/") for line in lines)
    assert "a_newer_module.py" in lines[0] and "ModuleNotFoundError" in lines[0] and "augkit.data" in lines[0]
    assert "b_newer_name.py" in lines[1] and "AttributeError" in lines[1] and "NoSuchTransform" in lines[1]
