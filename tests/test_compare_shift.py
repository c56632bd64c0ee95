"""`augkit compare`'s stated uncertainty (paired gains with 95% CIs, the verdict), its shift
robustness (corrupted test sets, the same for every recipe, seed and run) and its models (any
torchvision / timm name, local weights, a frozen backbone, clear errors)."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from scipy import stats

from augkit.cli import main
from augkit.experiments import load_default, train_run, training
from augkit.experiments.compare import CompareConfig, load_shift
from augkit.experiments.data import take_per_class
from augkit.experiments.metrics import paired_difference, t_quantile_975
from augkit.experiments.models import build_model, model_preset
from augkit.experiments.recipes import RECIPES, Recipe, TaskInfo, build_recipes
from augkit.experiments.shift import (
    CORRUPTIONS,
    SEVERITIES,
    build_shift_set,
    corrupt,
    trained_families,
)

from .test_compare import SETTINGS, TINY, _rows, _Spy, _tiny_splits, _write_folder


def test_t_quantiles_match_scipy():
    for df in (1, 2, 3, 5, 10, 29, 30, 31, 50, 200, 10_000):
        assert t_quantile_975(df) == pytest.approx(stats.t.ppf(0.975, df), abs=1e-4)
    with pytest.raises(ValueError, match="df"):
        t_quantile_975(0)


def test_paired_ci_of_the_summary_is_the_direct_computation(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "--recipes", "none,flip", *TINY[:2], "--seeds", "3", *TINY[4:], "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    none, flip = summary["recipes"]
    assert none["gain_over_none"] is None
    for split in ("val", "test"):
        diffs = [a[f"{split}_accuracy"] - b[f"{split}_accuracy"] for a, b in zip(flip["runs"], none["runs"])]
        assert [a["seed"] for a in flip["runs"]] == [b["seed"] for b in none["runs"]] == [0, 1, 2]
        mean = sum(diffs) / 3
        sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / 2)
        half = stats.t.ppf(0.975, 2) * sd / math.sqrt(3)
        gain = flip["gain_over_none"][split]
        assert gain["mean"] == pytest.approx(mean, abs=1e-12) and gain["n"] == 3 and gain["seeds"] == [0, 1, 2]
        assert gain["low"] == pytest.approx(mean - half, abs=1e-5)
        assert gain["high"] == pytest.approx(mean + half, abs=1e-5)
    test_gain = flip["gain_over_none"]["test"]
    cell = f"{100 * test_gain['mean']:+.1f} [{100 * test_gain['low']:+.1f}, {100 * test_gain['high']:+.1f}]"
    assert "| flip | 3 |" in printed and cell in printed
    assert "Verdict (best recipe chosen on validation accuracy, 3 seeds, paired by seed)" in printed
    assert summary["best"]["chosen_on"] == "val_accuracy" and "met" in summary["best"]["target"]


def test_paired_difference_pairs_by_seed_and_needs_two_seeds_for_a_ci():
    d = paired_difference({0: 0.5, 1: 0.7, 2: 0.9}, {1: 0.6, 2: 0.6, 3: 0.1})
    assert d["seeds"] == [1, 2] and d["mean"] == pytest.approx(0.2)
    one = paired_difference({0: 0.5}, {0: 0.4})
    assert one["low"] is None and one["high"] is None and one["mean"] == pytest.approx(0.1)
    assert paired_difference({0: 0.5}, {1: 0.4}) is None


def _test_set(per_class: int = 2):
    test = load_default().test
    return test.subset(take_per_class(test.labels, per_class))


def test_corruptions_are_deterministic_per_image_and_grow_with_severity():
    test = _test_set()
    for name in CORRUPTIONS:
        levels = [corrupt(test.images, name, s) for s in range(1, SEVERITIES + 1)]
        for images in levels:
            assert images.dtype == torch.uint8 and images.shape == test.images.shape
        change = [(x.float() - test.images.float()).abs().mean() for x in levels]
        assert change[0] > 0 and change[-1] > change[0], name
        # image i depends on its index only, not on the batch it is in
        part = torch.tensor([5, 2, 17])
        assert torch.equal(corrupt(test.images[part], name, 3, indices=part), levels[2][part]), name
    with pytest.raises(ValueError, match="severity"):
        corrupt(test.images, "jpeg", 6)
    with pytest.raises(ValueError, match="corruption"):
        corrupt(test.images, "fog", 1)


def test_corrupted_test_sets_are_identical_across_recipes_and_runs(monkeypatch):
    """Every run (its own process, its own shift set) evaluates the very same corrupted images."""
    splits = _tiny_splits()
    config = CompareConfig(out=None, shift=True, shift_per_class=2)
    evaluated: dict[tuple[str, int], list[bytes]] = {}
    current: list[tuple[str, int]] = []
    evaluate = training.evaluate

    def recording(model, data, **kwargs):
        evaluated.setdefault(current[-1], []).append(data.images.numpy().tobytes() + data.labels.numpy().tobytes())
        return evaluate(model, data, **kwargs)

    monkeypatch.setattr(training, "evaluate", recording)
    recipes = build_recipes(["none", "randaugment"], TaskInfo(splits.size, splits.channels, splits.num_classes))
    for recipe, seed in ((recipes[0], 0), (recipes[1], 0), (recipes[1], 1)):
        current.append((recipe.name, seed))
        result = train_run(recipe, splits, dataclasses.replace(SETTINGS, epochs=1), seed,
                           shift=load_shift(config, splits))
        assert list(result.shift) == list(CORRUPTIONS) and all(len(v) == SEVERITIES for v in result.shift.values())
    runs = list(evaluated.values())
    assert len(runs[0]) == 1 + 1 + 1 + len(CORRUPTIONS) * SEVERITIES  # val, test, clean shift set, corrupted
    assert runs[0][2:] == runs[1][2:] == runs[2][2:]


def test_recipe_transforms_never_see_validation_test_or_corrupted_images():
    splits = _tiny_splits()
    shift = build_shift_set(splits.test)
    spy = _Spy()
    result = train_run(Recipe("spy", "records its inputs", spy), splits, SETTINGS, seed=0, shift=shift)
    seen = _rows(torch.cat(spy.seen))
    assert seen <= _rows(splits.train.images)
    held_out = _rows(splits.val.images) | _rows(splits.test.images)
    for _, _, images in shift:
        held_out |= _rows(images)
    assert not seen & held_out and result.shift is not None


def test_shift_report_marks_the_families_a_recipe_trains_on(tmp_path, capsys):
    info = TaskInfo((28, 28), 1, 10)
    families = {r.name: trained_families(r.transform) for r in build_recipes(list(RECIPES), info)}
    assert families["none"] == [] and families["flip"] == []
    assert families["basic"] == families["mixup+cutmix"] == ["scale-shift"]
    assert set(families["randaugment"]) == {"brightness", "contrast", "rotation", "scale-shift"}
    out = tmp_path / "cmp"
    assert main(["compare", "--recipes", "none,basic", *TINY, "--shift", "--shift-per-class", "2", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    _, basic = summary["recipes"]
    assert basic["shift"]["trained_families"] == ["scale-shift"]
    run = basic["runs"][0]
    mean = sum(sum(v) for v in run["shift"].values()) / (len(CORRUPTIONS) * SEVERITIES)
    assert basic["shift"]["mean_corruption"]["mean"] == pytest.approx(mean)
    assert basic["shift"]["relative"]["mean"] == pytest.approx(mean / run["shift_clean"])
    row = next(line for line in printed.splitlines() if line.startswith("| basic |") and "*" in line)
    assert row.count("*") == 1 and (out / "shift.png").stat().st_size > 10_000
    assert "shift.png" in printed


@pytest.fixture(scope="module")
def resnet18_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "resnet18.pt"
    torch.manual_seed(0)
    net = build_model("resnet18", 3, 1000, mean=[0.0], std=[1.0]).net
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in net.state_dict().items()}}, path)
    return path, net.state_dict()


def test_resnet18_with_local_weights_and_a_frozen_backbone_on_an_image_folder(tmp_path, resnet18_weights):
    weights, state = resnet18_weights
    _write_folder(tmp_path / "data", per_class=4, size=16)
    out = tmp_path / "cmp"
    argv = ["compare", str(tmp_path / "data"), "--val-split", "0.25", "--model", "resnet18", "--weights", str(weights),
            "--freeze-backbone", "--recipes", "none,flip", "--seeds", "1", "--epochs", "1", "--batch-size", "4",
            "--no-progress", "--threads", "1", "-o", str(out)]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["model"] == "resnet18" and summary["settings"]["freeze_backbone"]
    assert all(len(e["runs"]) == 1 for e in summary["recipes"])
    model = build_model("resnet18", 3, 3, mean=[0.0], std=[1.0], weights=weights, freeze_backbone=True)
    assert torch.equal(model.net.layer1[0].conv1.weight, state["layer1.0.conv1.weight"])
    assert model.net.fc.out_features == 3
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["net.fc.weight", "net.fc.bias"]


def test_a_frozen_backbone_keeps_its_weights_and_batch_norm_statistics():
    splits = _tiny_splits()
    torch.manual_seed(0)
    model = build_model("test_resnet", 1, 10, mean=[0.0], std=[1.0], freeze_backbone=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    x = splits.train.images[:8].float() / 255
    torch.nn.functional.cross_entropy(model(x), splits.train.labels[:8]).backward()
    optimizer.step()
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"net.fc.weight", "net.fc.bias"}


def test_library_models_follow_their_eval_preset():
    assert model_preset("test_resnet").size == 160  # timm's pretrained_cfg
    assert model_preset("efficientnet_b0").interpolation == "bicubic"  # torchvision's weights' transforms
    assert model_preset("resnet50").size == 224 and model_preset("inception_v3").size == 299  # augkit's table
    model = build_model("test_resnet", 1, 4, mean=[0.0], std=[1.0])
    assert model(torch.rand(2, 1, 12, 12)).shape == (2, 4)


def test_bad_weights_and_unknown_models_give_clear_errors(tmp_path, capsys, resnet18_weights):
    _write_folder(tmp_path / "data", per_class=2, size=8)
    base = ["compare", str(tmp_path / "data"), "--val-split", "0.5", "--recipes", "none", "--seeds", "1",
            "--epochs", "1", "--no-progress", "-o", str(tmp_path / "cmp")]
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert main([*base, "--model", "resnet18", "--weights", str(bad)]) == 1
    assert f"--weights {str(bad)!r} is not a PyTorch state_dict or checkpoint" in capsys.readouterr().err
    assert main([*base, "--model", "resnet18", "--weights", str(tmp_path / "missing.pt")]) == 1
    assert "is not a file" in capsys.readouterr().err
    assert main([*base, "--model", "resnet34", "--weights", str(resnet18_weights[0])]) == 1
    assert "does not fit the model: missing layer1.2" in capsys.readouterr().err
    assert main([*base, "--model", "resnet-fifty"]) == 1
    error = capsys.readouterr().err
    assert "torchvision or timm classification model name; got 'resnet-fifty'" in error and "did you mean" in error
    assert not (tmp_path / "cmp").exists()
