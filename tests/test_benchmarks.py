"""Smoke test: the benchmark harness runs every task on tiny inputs (no timings asserted)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_harness_runs_every_task_on_tiny_inputs(tmp_path):
    from augkit.bench.run import main

    report = main(["--quick", "--scale", "0.1", "--threads", "1", "--out", str(tmp_path)])
    assert "| task | threads | library |" in report
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert rows and all(r["images_per_s"] > 0 for r in rows)
    assert {r["library"] for r in rows} >= {"augkit"}
