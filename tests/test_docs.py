"""The docs can't rot: every Python block in README.md and docs/*.md runs on its own, and the site
builds with `mkdocs build --strict`."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"_scripts_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BLOCKS = _load_script("run_code_blocks")
CASES = [(page, i, code) for page in PAGES for i, code in enumerate(BLOCKS.code_blocks(page))]


@pytest.mark.parametrize(("page", "index", "code"), CASES, ids=[f"{p.name}[{i}]" for p, i, _ in CASES])
def test_each_code_block_runs_on_its_own(page, index, code):
    """Users copy one block at a time: each runs alone, in a fresh namespace and folder."""
    BLOCKS.run_block(code, f"{page.name}[block {index}]")


@pytest.mark.slow
def test_site_builds_strictly(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "transforms" / "index.html").is_file()
