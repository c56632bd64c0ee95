"""The ``augkit`` command line: sub-commands, spec resolution, messages and exit statuses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import augkit
from augkit.cli import COMMANDS, build_parser, main
from augkit.commands.specs import available_presets

from .helpers import photo_array

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.jpg"
    Image.fromarray(photo_array(48, 64)).save(path, quality=90)
    return path


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "flip.json"
    path.write_text(json.dumps(augkit.Compose([augkit.HorizontalFlip(), augkit.VerticalFlip(p=0.3)]).to_config()))
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _subcommands() -> list[str]:
    action = next(a for a in build_parser()._actions if a.dest == "command")
    return list(action.choices)


def test_every_subcommand_has_help(capsys):
    assert _subcommands() == list(COMMANDS) and len(COMMANDS) >= 3
    for name in _subcommands():
        code, out, _ = run(capsys, name, "--help")
        assert code == 0 and out.startswith(f"usage: augkit {name}"), name
        action = next(a for a in build_parser(name)._actions if a.dest == "command")
        shown = {choice.dest: choice.help for choice in action._choices_actions}
        assert shown[name] == COMMANDS[name][1], name  # the lazy table's help is the command's own
    code, out, _ = run(capsys, "--help")
    assert code == 0 and all(name in out for name in _subcommands())


@pytest.mark.parametrize("call", ["build_parser()", "main(['--help'])", "main(['list'])"])
def test_help_and_list_import_no_training_code_ray_or_matplotlib(call):
    code = (f"import sys, augkit.cli; augkit.cli.{call}; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('ray', 'matplotlib') or m.startswith('augkit.experiments')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "[]"


def test_usage_errors_exit_with_2(capsys, photo, config):
    assert run(capsys)[0] == 2
    assert run(capsys, "frobnicate")[0] == 2
    assert run(capsys, "preview", photo)[0] == 2  # neither --transform nor --preset
    assert run(capsys, "preview", photo, "-t", config, "--preset", "x")[0] == 2
    code, _, err = run(capsys, "preview", photo, "-t", config, "--n", "0")
    assert code == 2 and "expected a positive integer; got '0'" in err


def test_preview_writes_a_grid_from_a_json_config(capsys, tmp_path, photo, config):
    out_path = tmp_path / "sub" / "grid.png"
    code, out, err = run(capsys, "preview", photo, "--transform", config, "--n", "6", "--columns", "3",
                         "--thumb", "50", "-o", out_path)
    assert (code, err) == (0, "") and f"wrote {out_path}: 6 samples" in out
    with Image.open(out_path) as png:
        assert png.format == "PNG" and 3 * 50 <= png.width < 4 * 50


def test_preview_reads_yaml_and_inline_json(capsys, tmp_path, photo):
    pytest.importorskip("yaml")
    yaml_path = tmp_path / "t.yaml"
    yaml_path.write_text("transform: OneOf\ntransforms:\n  - {transform: VerticalFlip, p: 1.0}\n  - {transform: Identity}\n")
    assert run(capsys, "preview", photo, "-t", yaml_path, "-n", "2", "-o", tmp_path / "a.png")[0] == 0
    inline = '{"transform": "HorizontalFlip", "p": 0.5}'
    assert run(capsys, "preview", photo, "-t", inline, "-n", "2", "-o", tmp_path / "b.png")[0] == 0
    assert (tmp_path / "a.png").is_file() and (tmp_path / "b.png").is_file()


@pytest.mark.parametrize("spec, message", [
    ("missing.json", "transform config not found: missing.json"),
    ('{"transform": "Twirl"}', "config names an unknown transform 'Twirl'"),
    ('{"transform": "HorizontalFlip", "p": 2}', r"p must be in [0.0, 1.0]; got 2"),
    ('{"transform": "HorizontalFlip",', "inline JSON spec is not valid JSON: Expecting property name"),
    ("BAD_FILE", "is not valid JSON: Expecting value: line 1 column 1"),
    ("BAD_YAML", "is not valid YAML"),
])
def test_bad_specs_exit_with_1_and_a_message(capsys, tmp_path, photo, spec, message):
    if spec == "BAD_FILE":
        spec = tmp_path / "bad.json"
        spec.write_text("not json")
    elif spec == "BAD_YAML":
        pytest.importorskip("yaml")
        spec = tmp_path / "bad.yaml"
        spec.write_text("transform: [unclosed")
    code, out, err = run(capsys, "preview", photo, "-t", spec, "-o", tmp_path / "g.png")
    assert code == 1 and out == "" and err.startswith("augkit preview: error: ")
    assert message in err and "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "g.png").exists()


def test_policy_spec_strings_go_to_augkit_policies(capsys, monkeypatch, tmp_path, photo):
    monkeypatch.setitem(sys.modules, "augkit.policies", None)  # as if it did not exist
    code, _, err = run(capsys, "preview", photo, "-t", "rand-m9-n2")
    assert code == 1 and "unknown transform spec 'rand-m9-n2'" in err

    def from_spec(spec):
        if spec != "flip-all":
            raise ValueError(f"no policy {spec!r}")
        return augkit.HorizontalFlip(p=1.0)

    monkeypatch.setitem(sys.modules, "augkit.policies", types.SimpleNamespace(from_spec=from_spec))
    assert run(capsys, "preview", photo, "-t", "flip-all", "-n", "1", "-o", tmp_path / "p.png")[0] == 0
    code, _, err = run(capsys, "preview", photo, "-t", "rand-m9")
    assert code == 1 and "bad policy spec 'rand-m9': no policy 'rand-m9'" in err


def test_presets_are_listed_and_previewed(capsys, tmp_path, photo):
    code, out, _ = run(capsys, "list", "presets")
    assert code == 0 and re.search(r"\n  resnet50 +eval 224x224: crop 0.875 of the shorter side, bilinear", out)
    assert run(capsys, "preview", photo, "--preset", "resnet50", "-n", "2", "-o", tmp_path / "p.png")[0] == 0
    assert (tmp_path / "p.png").is_file()
    code, _, err = run(capsys, "preview", photo, "--preset", "heavy")
    assert code == 1 and "unknown preset 'heavy'; available presets:" in err and "resnet50" in err


def test_preview_reports_a_transform_that_cannot_take_the_image(capsys, tmp_path, photo):
    spec = json.dumps(augkit.Normalize(mean=[0.5, 0.5], std=[0.5, 0.5]).to_config())
    code, _, err = run(capsys, "preview", photo, "-t", spec, "-o", tmp_path / "g.png")
    assert code == 1 and "cannot apply Normalize(mean=(0.5, 0.5), std=(0.5, 0.5)) to" in err
    assert "mean has 2 values but the image has 3 channel(s)" in err


def test_missing_and_corrupt_images_exit_with_1(capsys, tmp_path, config):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    for command in (["info"], ["preview", "-t", str(config)]):
        code, _, err = run(capsys, command[0], tmp_path / "nope.png", *command[1:])
        assert code == 1 and f"image file not found: {tmp_path / 'nope.png'}" in err
        code, _, err = run(capsys, command[0], corrupt, *command[1:])
        assert code == 1 and f"cannot read image {corrupt}" in err and "Traceback" not in err


def test_list_shows_every_registered_transform_and_preset(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    names = [line.split()[0] for line in lines if line.startswith("  ") and line.strip() != "(none yet)"]
    assert names == [*augkit.registered_transforms(), *available_presets()]
    flip = next(line for line in lines if line.split()[0] == "HorizontalFlip")
    assert flip.split(None, 1)[1] == "Mirror images left-right with probability p, drawn per image."
    assert all(len(line) <= 120 for line in lines)
    assert not re.search(r":(func|class|mod|meth|data):`", out), "reST roles in augkit list"


def test_a_transform_name_as_a_spec_suggests_its_json_config(capsys, tmp_path, photo):
    code, _, err = run(capsys, "preview", photo, "-t", "HorizontalFlip", "-o", tmp_path / "g.png")
    assert code == 1 and """-t '{"transform": "HorizontalFlip"}'""" in err
    code, _, err = run(capsys, "preview", photo, "-t", "rand-m9-n2-nope", "-o", tmp_path / "g.png")
    assert code == 1 and "bad policy spec" in err and "is a transform" not in err


def test_preview_captions_show_every_child_of_a_pipeline(capsys, tmp_path, photo):
    pipeline = augkit.Compose([augkit.RandomResizedCrop(32), augkit.HorizontalFlip(p=1.0),
                               augkit.ColorJitter(0.4, 0.4, 0.4, 0.1)])
    code, _, _ = run(capsys, "preview", photo, "-t", json.dumps(pipeline.to_config()), "-n", "2",
                     "-o", tmp_path / "g.png")
    assert code == 0
    figure = augkit.viz.grid(pipeline, augkit.io.read_image(photo), n=2)
    caption = figure.axes[0].get_title()
    assert "HorizontalFlip" in caption and "hue=" in caption and "order=" in caption and "…" not in caption


@pytest.mark.parametrize("name, array, mode, bits", [
    ("gray.png", photo_array(10, 12, 1, layout="hw"), "L", 8),
    ("rgb.jpg", photo_array(10, 12), "RGB", 8),
    ("rgba.png", photo_array(10, 12, 4), "RGBA", 8),
    ("deep.png", photo_array(10, 12, 1, "uint16", layout="hw"), "I;16", 16),
    ("deep-rgb.png", photo_array(10, 12, 3, "uint16"), "RGB", 16),
])
def test_info_reports_size_mode_dtype_and_bit_depth(capsys, tmp_path, name, array, mode, bits):
    path = tmp_path / name
    bgr = array if array.ndim == 2 else cv2.cvtColor(array, cv2.COLOR_RGBA2BGRA if array.shape[2] == 4
                                                        else cv2.COLOR_RGB2BGR)
    assert cv2.imwrite(str(path), bgr)
    code, out, _ = run(capsys, "info", path, "--json")
    info = json.loads(out)
    assert code == 0
    assert (info["width"], info["height"], info["mode"], info["bit_depth"]) == (12, 10, mode, bits)
    assert info["dtype"] == str(array.dtype) and info["channels"] == (1 if array.ndim == 2 else array.shape[2])
    assert info["bytes"] == path.stat().st_size and info["format"] == ("JPEG" if name.endswith("jpg") else "PNG")
    code, out, _ = run(capsys, "info", path)
    assert f"size:      12 x 10 (width x height)\nmode:      {mode}\n" in out and f"bit depth: {bits}\n" in out


@pytest.mark.slow
def test_the_console_script_runs_main():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["augkit"] == "augkit.cli:main"
    result = subprocess.run([sys.executable, "-m", "augkit.cli", "info", "nope.png"], capture_output=True,
                            text=True)
    assert result.returncode == 1 and result.stderr == "augkit info: error: image file not found: nope.png\n"


def test_preview_draws_the_targets_of_a_coco_image(capsys, tmp_path, photo, config):
    from augkit.targets.rle import encode_rle

    images = tmp_path / "images"
    images.mkdir()
    photo.rename(images / "p.jpg")
    mask = np.zeros((48, 64), np.uint8)
    mask[10:30, 20:40] = 1
    coco = {"images": [{"id": 5, "file_name": "p.jpg", "height": 48, "width": 64}],
            "annotations": [{"id": 1, "image_id": 5, "category_id": 2, "bbox": [20, 10, 20, 20],
                             "segmentation": encode_rle(mask), "iscrowd": 0, "area": 400.0}],
            "categories": [{"id": 2, "name": "square"}]}
    ann = tmp_path / "ann.json"
    ann.write_text(json.dumps(coco))
    out_png = tmp_path / "coco.png"
    code, out, err = run(capsys, "preview", "--coco", ann, "--image-id", 5, "--images", images, "-t", config,
                         "-n", 2, "-o", out_png)
    assert code == 0 and "p.jpg (image 5 of ann.json)" in out, err
    with Image.open(out_png) as png:
        assert png.format == "PNG"
    code, _, err = run(capsys, "preview", "--coco", ann, "--image-id", 6, "--images", images, "-t", config)
    assert code == 1 and "image_id 6" in err
    code, _, err = run(capsys, "preview", "--coco", ann, "-t", config)
    assert code == 1 and "--image-id" in err
    code, _, err = run(capsys, "preview", "--coco", ann, "--image-id", 5, "-t", config)  # default: the json's folder
    assert code == 1 and "p.jpg" in err
