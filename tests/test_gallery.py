"""The docs gallery: every transform of augkit has an entry in docs/gallery_specs.py and an image."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from PIL import Image

import augkit

DOCS = Path(__file__).resolve().parents[1] / "docs"
MAX_BYTES = 150 * 1024


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _library_transforms() -> list[str]:
    """Registered transforms defined by augkit (tests may register their own)."""
    return [name for name, cls in augkit.registered_transforms().items()
            if cls.__module__.split(".")[0] == "augkit"]


def test_every_transform_has_a_gallery_entry_and_image():
    gallery = _load("gallery_specs").GALLERY
    missing_entries = sorted(set(_library_transforms()) - set(gallery))
    assert not missing_entries, f"add to docs/gallery_specs.py: {missing_entries}"
    missing_images = sorted(name for name in gallery if not (DOCS / "gallery" / f"{name}.png").is_file())
    assert not missing_images, f"run `python docs/make_gallery.py --only {' '.join(missing_images)}`"


def test_gallery_entries_build_their_transform_and_images_are_small_pngs():
    gallery = _load("gallery_specs").GALLERY
    for name, spec in gallery.items():
        assert type(spec.make()).__name__ == name, name
        assert spec.photo in augkit.data.SAMPLE_IMAGES, name
    for path in sorted((DOCS / "gallery").glob("*.png")):
        assert path.stem in gallery, f"{path.name} has no gallery entry"
        assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes"
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width >= 4 * 160


def test_the_gallery_script_renders_an_entry(tmp_path):
    pytest.importorskip("matplotlib")
    make_gallery = _load("make_gallery")
    assert make_gallery.main(["--only", "VerticalFlip", "--out", str(tmp_path)]) == 0
    with Image.open(tmp_path / "VerticalFlip.png") as image, \
            Image.open(DOCS / "gallery" / "VerticalFlip.png") as committed:
        assert image.size == committed.size and image.mode == "P"
    with pytest.raises(SystemExit):
        make_gallery.main(["--only", "NoSuchTransform", "--out", str(tmp_path)])
