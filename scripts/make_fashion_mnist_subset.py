"""Build ``src/augkit/assets/fashion_mnist_subset.npz``, the embedded default of ``augkit compare``.

A stratified random subset of Fashion-MNIST (MIT licence, Copyright 2017 Zalando SE), read from
the IDX files of the Debian package ``dataset-fashion-mnist`` or a download of the originals:

* ``train``: TRAIN_PER_CLASS images per class from the official training set;
* ``val``: VAL_PER_CLASS other images per class from the official training set;
* ``test``: TEST_PER_CLASS images per class from the official test set (``t10k``).

Each split is shuffled, so its first k images of every class are a stratified subset too.

    python scripts/make_fashion_mnist_subset.py [/usr/share/datasets/fashion-mnist]
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np

TRAIN_PER_CLASS, VAL_PER_CLASS, TEST_PER_CLASS = 200, 100, 300
SEED = 20170825  # the day Fashion-MNIST was published
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot")
OUT = Path(__file__).resolve().parents[1] / "src" / "augkit" / "assets" / "fashion_mnist_subset.npz"


def read_idx(path: Path) -> np.ndarray:
    with gzip.open(path) as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def stratified(labels: np.ndarray, counts: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    """Disjoint index sets holding ``counts[j]`` images of every class, each shuffled."""
    picks: list[list[np.ndarray]] = [[] for _ in counts]
    for c in range(len(CLASSES)):
        index = rng.permutation(np.flatnonzero(labels == c))
        start = 0
        for j, k in enumerate(counts):
            picks[j].append(index[start:start + k])
            start += k
    return [rng.permutation(np.concatenate(p)) for p in picks]


def main(source: Path) -> None:
    rng = np.random.default_rng(SEED)
    x_train, y_train = read_idx(source / "train-images-idx3-ubyte.gz"), read_idx(source / "train-labels-idx1-ubyte.gz")
    x_test, y_test = read_idx(source / "t10k-images-idx3-ubyte.gz"), read_idx(source / "t10k-labels-idx1-ubyte.gz")
    train, val = stratified(y_train, [TRAIN_PER_CLASS, VAL_PER_CLASS], rng)
    (test,) = stratified(y_test, [TEST_PER_CLASS], rng)
    np.savez_compressed(
        OUT, classes=np.array(CLASSES),
        train_images=x_train[train], train_labels=y_train[train],
        val_images=x_train[val], val_labels=y_train[val],
        test_images=x_test[test], test_labels=y_test[test],
    )
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB): "
          f"{len(train)} train, {len(val)} val, {len(test)} test images")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"))
