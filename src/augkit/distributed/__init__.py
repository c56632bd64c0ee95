"""Offline preprocessing on Ray Data: run a deterministic pipeline over a folder of images once
and store the results as Parquet shards, read back by :class:`augkit.data.ParquetImageDataset`.

Needs the ``ray`` extra (``pip install "augkit[ray]"``); Ray is imported only when a job runs,
so ``import augkit`` never imports it.
"""

from .pipeline import check_deterministic, resolve_transform, split_pipeline
from .preprocess import Listing, list_images, preprocess

__all__ = [
    "Listing", "check_deterministic", "list_images", "preprocess",
    "resolve_transform", "split_pipeline",
]
