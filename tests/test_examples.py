"""The notebooks and the training example run end to end on small settings (slow)."""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NOTEBOOKS = ["01_transforms_tour.ipynb", "02_compare_augmentations.ipynb"]


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_and_is_stored_without_outputs(name, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), "store notebooks without outputs"
    monkeypatch.setenv("AUGKIT_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [out for cell in notebook.cells for out in cell.get("outputs", []) if out.output_type == "error"]
    assert not errors


@pytest.mark.slow
def test_train_with_mixing_runs(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["train_with_mixing.py", "--epochs", "2", "--train-per-class", "5"])
    runpy.run_path(str(EXAMPLES / "train_with_mixing.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "epoch  2/2" in out and "with TTA" in out
