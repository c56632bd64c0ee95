"""The notebooks and the training example run end to end on small settings (slow)."""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NOTEBOOKS = ["01_transforms_tour.ipynb", "02_compare_augmentations.ipynb", "03_detection_and_segmentation.ipynb"]


FIGURE_CALLS = ("augkit.viz.", "plt.subplots", "Image(")  # a cell with one of these shows a figure
MAX_PROGRESS_LINES = 5  # of stderr per cell: progress bars must not fill a stored notebook


def _stderr_lines(cell) -> int:
    text = "".join(out.text for out in cell.outputs if out.output_type == "stream" and out.name == "stderr")
    return len([line for line in text.replace("\r", "\n").split("\n") if line.strip()])


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_and_shows_its_figures(name, tmp_path, monkeypatch):
    """Stored without outputs; executed, every figure cell holds a PNG and no cell more than a few
    progress lines (the kernel keeps its default, inline, plotting backend)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), "store notebooks without outputs"
    monkeypatch.setenv("AUGKIT_NOTEBOOK_SMALL", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [out for cell in code for out in cell.outputs if out.output_type == "error"]
    assert not errors
    figure_cells = [cell for cell in code if any(call in cell.source for call in FIGURE_CALLS)]
    assert figure_cells
    for cell in figure_cells:
        assert any("image/png" in out.get("data", {}) for out in cell.outputs), f"no picture from:\n{cell.source}"
    for cell in code:
        assert _stderr_lines(cell) <= MAX_PROGRESS_LINES, f"{_stderr_lines(cell)} stderr lines from:\n{cell.source}"


@pytest.mark.slow
def test_train_with_mixing_runs(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["train_with_mixing.py", "--epochs", "2", "--train-per-class", "5"])
    runpy.run_path(str(EXAMPLES / "train_with_mixing.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "epoch  2/2" in out and "with TTA" in out
