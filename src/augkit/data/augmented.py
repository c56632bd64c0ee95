"""A dataset wrapper whose augmentations depend only on (seed, epoch, index)."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from ..core.random import derive_seed, make_generator
from ..core.transform import Transform
from ..core.validation import check_number

__all__ = ["AugmentedDataset"]


class AugmentedDataset(Dataset):
    """Apply ``transform`` to the images of ``dataset`` reproducibly.

    Sample ``i`` of epoch ``e`` is augmented with a generator seeded from ``(seed, e, i)``, so an
    epoch is the same whatever ``num_workers``, batch order or sampler. Items may be images or
    tuples whose first element is the image (the rest passes through). A dataset with a
    ``transformed_item(index, transform, generator)`` method (``ImageFolderDataset``,
    ``ParquetImageDataset``) is asked for the transformed item instead, so that it decodes or
    copies only what the transform's leading crop needs (:mod:`augkit.data.fused`); the
    generator, and so the parameters, are the same.

    ``set_epoch`` writes to shared memory, so DataLoader workers, persistent ones included, see
    the new epoch.

    >>> import torch, augkit
    >>> data = [(torch.rand(3, 8, 8), 0), (torch.rand(3, 8, 8), 1)]
    >>> ds = augkit.data.AugmentedDataset(data, augkit.HorizontalFlip(), seed=7)
    >>> first, again = ds[0], ds[0]
    >>> torch.equal(first[0], again[0]), first[1]
    (True, 0)
    """

    def __init__(self, dataset: Any, transform: Transform, seed: int = 0) -> None:
        if not isinstance(transform, Transform):
            raise TypeError(f"transform must be an augkit Transform; got {transform!r}")
        self.dataset = dataset
        self.transform = transform
        self.seed = check_number(seed, "seed", integer=True)
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()

    @property
    def epoch(self) -> int:
        return int(self._epoch)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose augmentations ``__getitem__`` returns."""
        self._epoch.fill_(check_number(epoch, "epoch", low=0, integer=True))

    def generator(self, index: int) -> torch.Generator:
        """The generator that augments sample ``index`` in the current epoch."""
        return make_generator(derive_seed(self.seed, self.epoch, index))

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        generator = self.generator(index)
        fused = getattr(self.dataset, "transformed_item", None)
        if fused is not None:  # a dataset that decodes only what the transform needs
            return fused(index, self.transform, generator)
        item = self.dataset[index]
        if isinstance(item, tuple):
            return (self.transform(item[0], generator=generator), *item[1:])
        return self.transform(item, generator=generator)
