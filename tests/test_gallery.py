"""The docs gallery: every transform of augkit has an entry in docs/gallery_specs.py, rendered with
the original beside the results."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest
from PIL import Image

import augkit

DOCS = Path(__file__).resolve().parents[1] / "docs"
MAX_BYTES = 200 * 1024  # noise compresses badly: GaussianNoise is the largest


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _library_transforms() -> list[str]:
    """Registered transforms defined by augkit (tests may register their own)."""
    return [name for name, cls in augkit.registered_transforms().items()
            if cls.__module__.split(".")[0] == "augkit"]


def test_every_transform_has_a_gallery_entry_that_builds_it():
    gallery = _load("gallery_specs").GALLERY
    missing_entries = sorted(set(_library_transforms()) - set(gallery))
    assert not missing_entries, f"add to docs/gallery_specs.py: {missing_entries}"
    for name, spec in gallery.items():
        assert type(spec.make()).__name__ == name, name
        assert spec.photo in augkit.data.SAMPLE_IMAGES, name
    assert not (DOCS / "gallery").exists(), "the docs build renders the gallery into the site"


def test_gallery_images_show_the_original_then_one_result_or_seven_samples():
    pytest.importorskip("matplotlib")
    make_gallery = _load("make_gallery")
    sizes = {}
    for name in ("Invert", "HorizontalFlip"):
        data = make_gallery.render(name)
        assert len(data) < MAX_BYTES, f"{name}: {len(data)} bytes"
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG" and image.mode == "P"
            sizes[name] = image.size
    assert make_gallery.is_deterministic(augkit.Invert(p=1.0), augkit.data.sample_image("camera"))
    assert not make_gallery.is_deterministic(augkit.HorizontalFlip(), augkit.data.sample_image("camera"))
    deterministic, random = sizes["Invert"], sizes["HorizontalFlip"]
    assert 2 * 160 <= deterministic[0] < 3 * 160 and random[0] >= 4 * 160 and random[1] > 1.5 * deterministic[1]


def test_the_gallery_script_writes_entries(tmp_path):
    pytest.importorskip("matplotlib")
    make_gallery = _load("make_gallery")
    assert make_gallery.main(["--only", "VerticalFlip", "--out", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["VerticalFlip.png"]
    with pytest.raises(SystemExit):
        make_gallery.main(["--only", "NoSuchTransform", "--out", str(tmp_path)])


def test_the_targets_entries_render_with_their_targets_drawn():
    pytest.importorskip("matplotlib")
    make_gallery, specs = _load("make_gallery"), _load("gallery_specs")
    assert set(specs.FIGURES).isdisjoint(specs.GALLERY)
    sample = specs.GALLERY["SanitizeBoxes"].sample()
    out = specs.GALLERY["SanitizeBoxes"].make()(sample)
    assert out["labels"].tolist() == [0, 2] and out["boxes"][1, 2] == 512  # the speck dropped, the edge clipped
    for name in ("SanitizeBoxes", "targets-detection"):
        data = make_gallery.render(name)
        assert len(data) < MAX_BYTES, f"{name}: {len(data)} bytes"
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG"
