"""Reproducible augmentation per (seed, epoch, index), whatever the DataLoader workers."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

import augkit
from augkit.data import AugmentedDataset

from .helpers import make_image


def _dataset(seed: int = 0) -> AugmentedDataset:
    images = [(make_image("tensor", "float32", name=n), i) for i, n in
              enumerate(["astronaut", "coffee", "chelsea", "rocket"] * 6)]
    pipeline = augkit.Compose([augkit.HorizontalFlip(), augkit.VerticalFlip()])
    return AugmentedDataset(images, pipeline, seed=seed)


def _epoch(ds: AugmentedDataset, workers: int, shuffle: bool = False) -> dict[int, torch.Tensor]:
    loader = DataLoader(ds, batch_size=5, num_workers=workers, shuffle=shuffle)
    out = {}
    for images, labels in loader:
        out.update({int(label): image for image, label in zip(images, labels)})
    return out


@pytest.mark.slow
def test_epochs_are_identical_for_zero_and_two_workers_and_any_order():
    ds = _dataset()
    serial = _epoch(ds, 0)
    parallel = _epoch(ds, 2, shuffle=True)
    assert serial.keys() == parallel.keys()
    assert all(torch.equal(serial[i], parallel[i]) for i in serial)


@pytest.mark.slow
def test_set_epoch_reaches_persistent_workers():
    ds = _dataset()
    loader = DataLoader(ds, batch_size=24, num_workers=2, persistent_workers=True)
    first = next(iter(loader))[0]
    ds.set_epoch(1)
    second = next(iter(loader))[0]
    ds.set_epoch(0)
    third = next(iter(loader))[0]
    assert not torch.equal(first, second) and torch.equal(first, third)


def test_epoch_and_seed_change_the_draws():
    a, b = _dataset(seed=0), _dataset(seed=1)
    same_seed = [torch.equal(a[i][0], _dataset(seed=0)[i][0]) for i in range(24)]
    assert all(same_seed)
    assert any(not torch.equal(a[i][0], b[i][0]) for i in range(24))
    before = [a[i][0] for i in range(24)]
    a.set_epoch(3)
    assert a.epoch == 3
    assert any(not torch.equal(before[i], a[i][0]) for i in range(24))


def test_plain_image_items_and_argument_checks():
    ds = AugmentedDataset([make_image("numpy")], augkit.HorizontalFlip(p=1.0))
    assert ds[0].shape == make_image("numpy").shape
    with pytest.raises(TypeError, match="transform must be an augkit Transform"):
        AugmentedDataset([], lambda x: x)
    with pytest.raises(ValueError, match="epoch must be in"):
        ds.set_epoch(-1)
