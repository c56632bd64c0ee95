"""Data for the comparison: the embedded Fashion-MNIST subset and ImageFolder-style directories.

Every split is held in memory as one ``(N, C, H, W)`` uint8 tensor with its int64 labels, so a
training batch is an index into it and the augmentations run batched on tensors.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch

from ..core.random import make_generator
from ..io import ImageReadError, read_image

__all__ = ["ImageSet", "Splits", "load_default", "load_image_folder", "stratified_split", "take_per_class",
           "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
DEFAULT_NAME = "Fashion-MNIST subset (embedded)"


@dataclass(frozen=True)
class ImageSet:
    """Images ``(N, C, H, W)`` uint8 and their class indices ``(N,)`` int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be an (N, C, H, W) uint8 tensor; got {tuple(self.images.shape)} "
                             f"{self.images.dtype}")
        if self.labels.shape != self.images.shape[:1]:
            raise ValueError(f"labels must have shape ({len(self.images)},); got {tuple(self.labels.shape)}")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: torch.Tensor) -> ImageSet:
        return ImageSet(self.images[index], self.labels[index])


@dataclass(frozen=True)
class Splits:
    """Train, validation and (optional) test sets of one classification task.

    ``val`` is what choices are made on (the best recipe); ``test`` is never used for a choice.
    """

    name: str
    classes: tuple[str, ...]
    train: ImageSet
    val: ImageSet
    test: ImageSet | None = None
    skipped_files: tuple[str, ...] = ()  # unreadable image files left out (``on_error="skip"``)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def channels(self) -> int:
        return self.train.images.shape[1]

    @property
    def size(self) -> tuple[int, int]:
        return tuple(self.train.images.shape[-2:])

    def with_train(self, train: ImageSet) -> Splits:
        return dataclasses.replace(self, train=train)

    def describe(self) -> dict:
        sizes = {k: len(v) for k, v in (("train", self.train), ("val", self.val), ("test", self.test)) if v}
        return {"name": self.name, "classes": list(self.classes), "image_size": list(self.size),
                "channels": self.channels, **sizes, "skipped_files": list(self.skipped_files)}


def take_per_class(labels: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the first ``k`` samples of every class, in their original order.

    >>> take_per_class(torch.tensor([0, 1, 0, 1, 0]), 2).tolist()
    [0, 1, 2, 3]
    """
    rank = torch.zeros_like(labels)
    for c in labels.unique():
        where = labels == c
        rank[where] = torch.arange(int(where.sum()))
    return torch.nonzero(rank < k).squeeze(1)


def stratified_split(labels: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split indices into ``(keep, held_out)`` with ``fraction`` of every class held out (at least
    one image per class with two or more images), drawn with ``seed``.

    >>> keep, held = stratified_split(torch.tensor([0] * 10 + [1] * 10), 0.2, seed=0)
    >>> len(keep), len(held)
    (16, 4)
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"val_split must be in (0, 1); got {fraction!r}")
    generator = make_generator(seed)
    keep, held = [], []
    for c in labels.unique():
        index = torch.nonzero(labels == c).squeeze(1)
        index = index[torch.randperm(len(index), generator=generator)]
        n_held = min(max(round(fraction * len(index)), 1), len(index) - 1)
        held.append(index[:n_held])
        keep.append(index[n_held:])
    return torch.cat(keep).sort().values, torch.cat(held).sort().values


def load_default() -> Splits:
    """The embedded stratified Fashion-MNIST subset (MIT licence, Copyright 2017 Zalando SE).

    >>> splits = load_default()
    >>> len(splits.classes), splits.size, len(splits.train), len(splits.val), len(splits.test)
    (10, (28, 28), 2000, 1000, 3000)
    """
    with resources.files("augkit").joinpath("assets", "fashion_mnist_subset.npz").open("rb") as f:
        data = np.load(f)
        arrays = {k: torch.from_numpy(data[k].copy()) for k in data.files if k != "classes"}
        classes = tuple(str(c) for c in data["classes"])

    def split(name: str) -> ImageSet:
        return ImageSet(arrays[f"{name}_images"].unsqueeze(1), arrays[f"{name}_labels"].long())

    return Splits(DEFAULT_NAME, classes, split("train"), split("val"), split("test"))


def load_image_folder(root: str | Path, *, image_size: int | None = None, val_split: float | None = None,
                      split_seed: int = 123, on_error: str = "raise") -> Splits:
    """Load an ImageFolder-style directory into memory.

    ``root`` holds either ``train/`` and ``val/`` (and optionally ``test/``) sub-folders with one
    folder of images per class, or the class folders themselves, in which case ``val_split`` of
    every class (drawn with ``split_seed``) becomes the validation set. Images are read as RGB,
    or as grayscale when every image is grayscale, and resized to ``image_size`` squared (default:
    the size of the first image, which all others must then share). An unreadable file raises
    :class:`~augkit.io.ImageReadError` with ``on_error="raise"``; with ``"skip"`` it is left out
    and listed in ``skipped_files``.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip'; got {on_error!r}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"DATA must be a directory of class folders; {str(root)!r} is not a directory")
    split_dirs = {name: root / name for name in ("train", "val", "test") if (root / name).is_dir()}
    if "train" in split_dirs:
        if val_split is not None and "val" in split_dirs:
            raise ValueError(f"{root} has train/ and val/ sub-folders; --val-split applies only to a single "
                             f"folder of class folders")
        if "val" not in split_dirs and val_split is None:
            raise ValueError(f"{root} has train/ but no val/ sub-folder; add one or pass --val-split")
        classes = _class_names(split_dirs["train"])
        files = {name: _list_images(path, classes) for name, path in split_dirs.items()}
    else:
        if val_split is None:
            raise ValueError(f"{root} has no train/ and val/ sub-folders; pass --val-split (e.g. 0.2) to "
                             f"hold out part of every class for validation")
        classes = _class_names(root)
        files = {"train": _list_images(root, classes)}
    skipped: list[str] = []
    arrays = {}
    for name, items in files.items():
        readable = []
        for path, label in items:
            try:
                readable.append(((path, label), _as_uint8(read_image(path, mode="unchanged"))))
            except ImageReadError as error:
                if on_error == "raise":
                    raise ImageReadError(error.path, f"{error.reason} (pass --on-error skip to leave "
                                                     f"unreadable files out)") from None
                skipped.append(str(path))
        if not readable:
            raise ValueError(f"{root}: no readable images in {name}")
        files[name] = [item for item, _ in readable]
        arrays[name] = [array for _, array in readable]
    grayscale = all(a.ndim == 2 for items in arrays.values() for a in items)
    sets = {name: _stack(files[name], arrays[name], image_size, grayscale) for name in files}
    if image_size is None:
        sizes = {tuple(s.images.shape[-2:]) for s in sets.values()}
        if len(sizes) > 1:
            raise ValueError(f"the splits of {root} have different image sizes {sorted(sizes)}; pass --image-size")
    if "val" not in sets:
        keep, held = stratified_split(sets["train"].labels, val_split, split_seed)
        sets["val"], sets["train"] = sets["train"].subset(held), sets["train"].subset(keep)
    return Splits(root.name or str(root), classes, sets["train"], sets["val"], sets.get("test"), tuple(skipped))


def _class_names(folder: Path) -> tuple[str, ...]:
    classes = tuple(sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")))
    if len(classes) < 2:
        raise ValueError(f"{folder} must hold one sub-folder per class (at least 2); found {list(classes)}")
    return classes


def _list_images(folder: Path, classes: tuple[str, ...]) -> list[tuple[Path, int]]:
    found = {p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")}
    if not found <= set(classes):
        raise ValueError(f"{folder} has class folders {sorted(found - set(classes))} that train/ lacks")
    items = [(path, label) for label, name in enumerate(classes) if (folder / name).is_dir()
             for path in sorted((folder / name).rglob("*")) if path.suffix.lower() in IMAGE_SUFFIXES]
    if not items:
        raise ValueError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)}) in its class folders")
    return items


def _as_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint16:
        return (image.astype(np.float32) * (255.0 / 65535.0)).round().astype(np.uint8)
    return image


def _stack(items: list[tuple[Path, int]], arrays: list[np.ndarray], image_size: int | None,
           grayscale: bool) -> ImageSet:
    images = []
    for (path, _), image in zip(items, arrays):
        if not grayscale:
            image = np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image[:, :, :3]
        if image_size is not None and image.shape[:2] != (image_size, image_size):
            image = cv2.resize(image, (image_size, image_size), interpolation=cv2.INTER_AREA)
        if images and image.shape[:2] != images[0].shape[:2]:
            raise ValueError(f"{path} is {image.shape[1]}x{image.shape[0]} but {items[0][0]} is "
                             f"{images[0].shape[1]}x{images[0].shape[0]}; pass --image-size to resize all images")
        images.append(image.reshape(*image.shape[:2], -1))
    tensor = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    return ImageSet(tensor, torch.tensor([label for _, label in items], dtype=torch.int64))
