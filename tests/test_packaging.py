"""The distribution builds, passes twine check, and its wheel holds only augkit (no benchmarks/ or
tests/) and imports with its assets."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_and_sdist_build_check_and_import(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    files = sorted(p.name for p in dist.iterdir())
    assert any(f.endswith(".whl") for f in files) and any(f.endswith(".tar.gz") for f in files)
    subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())],
                   check=True, capture_output=True)
    target = tmp_path / "site"
    wheel = next(dist.glob("*.whl"))
    assert {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()} == {"augkit", "augkit-0.1.0.dist-info"}
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = ("import augkit, augkit.data as d; assert augkit.__file__.startswith(%r); "
            "print(d.sample_image('camera').shape)" % str(target))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, capture_output=True,
                         text=True, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "(512, 512)"
