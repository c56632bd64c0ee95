"""ParquetImageDataset reads the documented shard format (written here by hand, without Ray)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import augkit
from augkit.data import ParquetImageDataset
from augkit.data.parquet import FORMAT, MANIFEST, shard_schema

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _images(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (5 + i, 7 + 2 * i, 3), dtype=np.uint8) for i in range(n)]


def write_preprocessed(root, images, labels=None, classes=(), deferred=None, rows_per_group=2,
                       shard_sizes=(3, 2)):
    """A preprocessed dataset as ``augkit.distributed.preprocess`` writes it."""
    root.mkdir(parents=True, exist_ok=True)
    rows = [{
        "image": im.tobytes(), "height": im.shape[0], "width": im.shape[1], "channels": im.shape[2],
        "label": None if labels is None else labels[i],
        "class_name": None if labels is None else classes[labels[i]],
        "path": f"img{i}.png", "original_height": 2 * im.shape[0], "original_width": 2 * im.shape[1],
    } for i, im in enumerate(images)]
    shards, start = [], 0
    for k, size in enumerate(shard_sizes):
        name = f"part-{k}.parquet"
        table = pa.Table.from_pylist(rows[start:start + size], schema=shard_schema())
        pq.write_table(table, root / name, row_group_size=rows_per_group)
        shards.append({"file": name, "rows": size})
        start += size
    manifest = {"format": FORMAT, "classes": list(classes), "shards": shards,
                "deferred_transform": None if deferred is None else deferred.to_config()}
    (root / MANIFEST).write_text(json.dumps(manifest))
    return root


def test_items_are_the_stored_images_and_labels_across_shards_and_row_groups(tmp_path):
    images, labels = _images(5), [1, 0, 1, 1, 0]
    ds = ParquetImageDataset(write_preprocessed(tmp_path / "d", images, labels, ("a", "b")))
    assert len(ds) == 5 and ds.classes == ["a", "b"] and ds.labels == labels
    assert ds.paths == [f"img{i}.png" for i in range(5)]
    for i in [4, 0, 3, 1, 2, -1]:  # out of order: row groups are re-read
        image, label = ds[i]
        assert image.dtype == torch.uint8 and image.shape == (3, *images[i].shape[:2])
        assert torch.equal(image, torch.from_numpy(images[i]).permute(2, 0, 1)) and label == labels[i]


def test_numpy_kind_gives_writable_hwc_arrays(tmp_path):
    images = _images(5)
    ds = ParquetImageDataset(write_preprocessed(tmp_path / "d", images, [0] * 5, ("a",)), kind="numpy")
    image, _ = ds[2]
    assert np.array_equal(image, images[2]) and image.flags.writeable


def test_transform_then_deferred_steps(tmp_path):
    images = _images(5)
    root = write_preprocessed(tmp_path / "d", images, [0] * 5, ("a",), deferred=augkit.ToDtype("float32"))
    flip = augkit.HorizontalFlip(p=1.0)
    image, _ = ParquetImageDataset(root, flip)[1]
    expected = augkit.ToDtype("float32")(flip(torch.from_numpy(images[1]).permute(2, 0, 1)))
    assert image.dtype == torch.float32 and torch.equal(image, expected)
    raw, _ = ParquetImageDataset(root, deferred=False)[1]
    assert raw.dtype == torch.uint8


def test_flat_dataset_items_are_images_alone(tmp_path):
    images = _images(5)
    ds = ParquetImageDataset(write_preprocessed(tmp_path / "d", images))
    assert ds.classes == [] and ds.labels == [-1] * 5
    assert isinstance(ds[0], torch.Tensor)


def test_only_the_shards_in_the_manifest_are_read(tmp_path):
    root = write_preprocessed(tmp_path / "d", _images(5), [0] * 5, ("a",))
    pq.write_table(pa.Table.from_pylist([], schema=shard_schema()), root / "stray.parquet")
    assert len(ParquetImageDataset(root)) == 5


def test_dataloader_with_workers_gives_the_same_items(tmp_path):
    images = _images(5)
    ds = ParquetImageDataset(write_preprocessed(tmp_path / "d", images, [0, 1, 0, 1, 0], ("a", "b")),
                             augkit.Compose([augkit.ToDtype("float32")]))
    loader = DataLoader(ds, batch_size=None, shuffle=False, num_workers=2)
    got = list(loader)
    assert len(got) == 5
    for (image, label), i in zip(got, range(5)):
        assert torch.equal(image, ds[i][0]) and int(label) == ds.labels[i]


def test_errors_name_the_problem(tmp_path):
    root = write_preprocessed(tmp_path / "d", _images(5), [0] * 5, ("a",))
    ds = ParquetImageDataset(root)
    with pytest.raises(IndexError, match="index 5 is out of range for 5 images"):
        ds[5]
    with pytest.raises(TypeError, match="transform must be an augkit Transform"):
        ParquetImageDataset(root, transform=lambda x: x)
    with pytest.raises(ValueError, match="kind must be"):
        ParquetImageDataset(root, kind="pil")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="did not finish"):
        ParquetImageDataset(tmp_path / "empty")
    (root / MANIFEST).write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not an augkit.preprocessed/1 manifest"):
        ParquetImageDataset(root)
