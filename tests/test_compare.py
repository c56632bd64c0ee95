"""`augkit compare`: the CLI end to end on tiny settings, the data loaders, the recipe table, the
training protocol (only the augmentation differs; val/test never augmented), the budget and Ctrl-C."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest
import torch

from augkit.core.params import Params
from augkit.core.transform import Transform
from augkit.experiments import (
    RECIPES, RecipeSpec, TaskInfo, TrainSettings, build_recipes, load_default,
    load_image_folder, train_run,
)
from augkit.cli import main
from augkit.experiments.cli import EXIT_INTERRUPTED
from augkit.experiments.data import stratified_split, take_per_class
from augkit.experiments.metrics import macro_f1, mean_std
from augkit.experiments.recipes import Recipe

TINY = ["--seeds", "1", "--epochs", "1", "--train-per-class", "3", "--width", "4", "--no-progress", "--threads", "1"]
SETTINGS = TrainSettings(width=4, epochs=2, batch_size=8)


class _Spy(Transform):
    """Records every batch it is applied to and returns it unchanged; raises ``error`` from its
    second call on (the first is the recipes picture, drawn before training)."""

    def __init__(self, error: type[BaseException] | None = None) -> None:
        super().__init__()
        self.seen: list[torch.Tensor] = []
        self.error = error

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        if self.error is not None and self.seen:
            raise self.error()
        self.seen.append(x.clone())
        return x


def _tiny_splits(per_class: int = 3):
    splits = load_default()
    val = splits.val.subset(take_per_class(splits.val.labels, 5))
    return dataclasses.replace(splits.with_train(splits.train.subset(take_per_class(splits.train.labels, per_class))),
                               val=val, test=splits.test.subset(take_per_class(splits.test.labels, 5)))


def _rows(images: torch.Tensor) -> set[bytes]:
    return {bytes(row) for row in images.flatten(1).numpy()}


def test_cli_smoke_writes_every_report(tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", "--recipes", "none,flip", *TINY, "-o", str(out)]) == 0
    for name in ("summary.md", "summary.json", "curves.png", "recipes.png"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["skipped"] == []
    assert summary["dataset"]["train"] == 30 and summary["dataset"]["val"] == 1000
    assert [e["name"] for e in summary["recipes"]] == ["none", "flip"]
    for entry in summary["recipes"]:
        for key in ("val_accuracy", "val_macro_f1", "test_accuracy", "test_macro_f1"):
            assert set(entry[key]) == {"mean", "std", "n"} and 0 <= entry[key]["mean"] <= 1
        (run,) = entry["runs"]
        assert run["seed"] == 0 and len(run["history"]) == 1
        assert set(run["history"][0]) == {"epoch", "train_loss", "train_accuracy", "grad_norm_max", "val_loss",
                                          "val_accuracy"}
    assert summary["best"]["recipe"] in ("none", "flip") and summary["recipes"][1]["gain_over_none"]["test"]["n"] == 1
    assert "| none | 1 |" in (out / "summary.md").read_text()


def test_validation_and_test_images_never_see_the_train_augmentation():
    splits = _tiny_splits()
    spy = _Spy()
    mixed: list[torch.Tensor] = []

    def mix(x, y, *, generator=None):
        mixed.append(x.clone())
        return x, torch.nn.functional.one_hot(y, splits.num_classes).float()

    result = train_run(Recipe("spy", "records its inputs", spy, mix), splits, SETTINGS, seed=0)
    seen = torch.cat(spy.seen)
    full_batches = len(splits.train) // SETTINGS.batch_size  # the incomplete last batch is dropped
    assert all(len(batch) == SETTINGS.batch_size for batch in spy.seen)
    assert len(seen) == SETTINGS.epochs * full_batches * SETTINGS.batch_size == sum(len(m) for m in mixed)
    assert _rows(seen) <= _rows(splits.train.images)
    assert not _rows(seen) & (_rows(splits.val.images) | _rows(splits.test.images))
    assert len(result.history) == SETTINGS.epochs and result.test_accuracy is not None


def test_recipes_differ_only_in_augmentation():
    """An identity transform trains exactly like no augmentation: same init, order, schedule."""
    splits = _tiny_splits()
    plain = train_run(Recipe("none", ""), splits, SETTINGS, seed=1)
    identity = train_run(Recipe("identity", "", _Spy()), splits, SETTINGS, seed=1)
    other_seed = train_run(Recipe("none", ""), splits, SETTINGS, seed=2)
    assert [h.train_loss for h in plain.history] == [h.train_loss for h in identity.history]
    assert plain.val_accuracy == identity.val_accuracy and plain.test_accuracy == identity.test_accuracy
    assert [h.train_loss for h in plain.history] != [h.train_loss for h in other_seed.history]


def test_ctrl_c_keeps_the_finished_runs(tmp_path, monkeypatch):
    monkeypatch.setitem(RECIPES, "interrupt", RecipeSpec("raises KeyboardInterrupt", lambda i: _Spy(KeyboardInterrupt)))
    out = tmp_path / "cmp"
    assert main(["compare", "--recipes", "none,interrupt", *TINY, "-o", str(out)]) == EXIT_INTERRUPTED
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    none, interrupted = summary["recipes"]
    assert len(none["runs"]) == 1 and none["val_accuracy"]["n"] == 1
    assert interrupted["runs"] == [] and interrupted["val_accuracy"] is None
    assert summary["skipped"] == [{"recipe": "interrupt", "seed": 0}]
    assert (out / "curves.png").exists() and (out / "recipes.png").exists()
    assert "| interrupt | 0 | - |" in (out / "summary.md").read_text()


def test_budget_stops_before_a_run_that_would_not_fit(tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", "--recipes", "none,flip", *TINY, "--budget-minutes", "0.0001", "-o", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "budget"
    assert [len(e["runs"]) for e in summary["recipes"]] == [1, 0]
    assert summary["skipped"] == [{"recipe": "flip", "seed": 0}]


def test_jobs_train_runs_in_worker_processes_with_the_same_results(tmp_path):
    args = ["compare", "--recipes", "none,flip", *TINY[:-2], "--seeds", "2"]
    assert main([*args, "--threads", "1", "-o", str(tmp_path / "serial")]) == 0
    assert main([*args, "--threads", "2", "--jobs", "2", "-o", str(tmp_path / "jobs")]) == 0
    serial, jobs = (json.loads((tmp_path / name / "summary.json").read_text()) for name in ("serial", "jobs"))
    assert jobs["status"] == "complete" and jobs["skipped"] == []

    def runs(summary):
        return {(run["recipe"], run["seed"]): (run["val_accuracy"], run["test_accuracy"], run["history"])
                for entry in summary["recipes"] for run in entry["runs"]}

    assert runs(jobs) == runs(serial) and len(runs(jobs)) == 4


def _write_folder(root, classes=("cat", "dog", "fox"), per_class=10, size=12):
    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            image[..., c] = 255  # a class signal
            cv2.imwrite(str(root / name / f"{i}.png"), image)


def test_image_folder_with_val_split_from_the_cli(tmp_path):
    _write_folder(tmp_path / "data")
    out = tmp_path / "cmp"
    argv = ["compare", str(tmp_path / "data"), "--val-split", "0.2", "--split-seed", "123",
            "--recipes", "none,flip", "--seeds", "1", "--epochs", "2", "--width", "4", "--no-progress", "-o", str(out)]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dataset"]["classes"] == ["cat", "dog", "fox"]
    assert (summary["dataset"]["train"], summary["dataset"]["val"]) == (24, 6)
    assert "test" not in summary["dataset"] and summary["recipes"][0]["test_accuracy"] is None
    assert summary["dataset"]["channels"] == 3 and summary["dataset"]["image_size"] == [12, 12]


def test_unreadable_files_stop_compare_or_are_skipped_and_listed(tmp_path, capsys):
    _write_folder(tmp_path / "data")
    bad = tmp_path / "data" / "dog" / "broken.png"
    bad.write_bytes(b"not an image")
    out = tmp_path / "cmp"
    argv = ["compare", str(tmp_path / "data"), "--val-split", "0.2", "--recipes", "none", "--seeds", "1",
            "--epochs", "1", "--width", "4", "--no-progress", "-o", str(out)]
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert "broken.png" in error and "--on-error skip" in error
    assert main([*argv, "--on-error", "skip"]) == 0
    printed = capsys.readouterr().out
    assert f"skipped 1 unreadable file(s): {bad}" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dataset"]["skipped_files"] == [str(bad)]
    assert summary["dataset"]["train"] + summary["dataset"]["val"] == 30
    assert str(bad) in (out / "summary.md").read_text()


def test_image_folder_splits_are_stratified_and_reproducible(tmp_path):
    _write_folder(tmp_path / "data")
    a = load_image_folder(tmp_path / "data", val_split=0.2, split_seed=1)
    b = load_image_folder(tmp_path / "data", val_split=0.2, split_seed=1)
    c = load_image_folder(tmp_path / "data", val_split=0.2, split_seed=2)
    assert torch.equal(a.val.images, b.val.images) and not torch.equal(a.val.images, c.val.images)
    assert torch.bincount(a.val.labels).tolist() == [2, 2, 2]
    assert not _rows(a.val.images) & _rows(a.train.images)


def test_image_folder_with_train_val_test_folders_and_resize(tmp_path):
    for split, n in (("train", 4), ("val", 2), ("test", 3)):
        _write_folder(tmp_path / split, classes=("a", "b"), per_class=n, size=10 + n)
    splits = load_image_folder(tmp_path, image_size=8)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (8, 4, 6)
    assert splits.train.images.shape[1:] == (3, 8, 8) and splits.classes == ("a", "b")


def test_image_folder_errors_name_the_problem(tmp_path):
    _write_folder(tmp_path / "data", per_class=2)
    with pytest.raises(ValueError, match="--val-split"):
        load_image_folder(tmp_path / "data")
    with pytest.raises(FileNotFoundError, match="not a directory"):
        load_image_folder(tmp_path / "missing")
    cv2.imwrite(str(tmp_path / "data" / "cat" / "big.png"), np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(ValueError, match="--image-size"):
        load_image_folder(tmp_path / "data", val_split=0.5)


def test_embedded_default_is_stratified_and_disjoint():
    splits = load_default()
    assert splits.train.images.dtype == torch.uint8 and splits.size == (28, 28) and splits.channels == 1
    for part, per_class in ((splits.train, 200), (splits.val, 100), (splits.test, 300)):
        assert torch.bincount(part.labels, minlength=10).tolist() == [per_class] * 10
    assert not _rows(splits.train.images) & _rows(splits.val.images)
    first = take_per_class(splits.train.labels, 7)
    assert torch.bincount(splits.train.labels[first]).tolist() == [7] * 10


def test_every_recipe_builds_and_keeps_the_batch_shape():
    info = TaskInfo((28, 28), 1, 10)
    for name in RECIPES:
        (recipe,) = build_recipes([name], info)
        images = torch.randint(0, 256, (4, 1, 28, 28), dtype=torch.uint8)
        x = images if recipe.transform is None else recipe.transform(images, generator=torch.Generator().manual_seed(0))
        assert x.shape == images.shape and x.dtype == torch.uint8
        if recipe.mix is not None:
            x, y = recipe.mix(x.float() / 255, torch.arange(4), generator=torch.Generator().manual_seed(0))
            assert y.shape == (4, 10) and torch.allclose(y.sum(1), torch.ones(4))


def test_unknown_recipe_is_rejected(capsys):
    assert main(["compare", "--recipes", "none,sparkles"]) == 2
    assert "sparkles" in capsys.readouterr().err
    with pytest.raises(ValueError, match="sparkles"):
        build_recipes(["sparkles"], TaskInfo((8, 8), 1, 2))


def test_metrics():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    predictions = torch.tensor([0, 1, 1, 1, 0, 2])
    # per class F1: 2*1/(2+2)=0.5, 2*2/(2+3)=0.8, 2*1/(2+1)=0.667
    assert macro_f1(predictions, labels, 4) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert mean_std([0.5]) == {"mean": 0.5, "std": 0.0, "n": 1}
    keep, held = stratified_split(torch.tensor([0] * 5 + [1] * 3), 0.5, seed=0)
    assert sorted(torch.cat([keep, held]).tolist()) == list(range(8))
    assert torch.bincount(torch.tensor([0] * 5 + [1] * 3)[held]).tolist() == [2, 2]


def test_validation_every_n_epochs_and_after_the_last():
    result = train_run(Recipe("none", ""), _tiny_splits(), dataclasses.replace(SETTINGS, epochs=4, eval_every=3), seed=0)
    assert [h.val_accuracy is not None for h in result.history] == [False, False, True, True]
    assert result.val_accuracy == result.history[-1].val_accuracy
    assert all(h.train_loss > 0 for h in result.history)
