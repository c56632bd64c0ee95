"""Offline preprocessing: run a deterministic pipeline over a folder of images once and store the
results as Parquet shards, read back by :class:`augkit.data.ParquetImageDataset` (or by pyarrow,
pandas, Ray Data, DuckDB and Hugging Face ``datasets``, as a plain Parquet dataset).

Runs on local processes, or on Ray Data with the ``ray`` extra (``pip install "augkit[ray]"``);
Ray is imported only when a job runs on it, so ``import augkit`` never imports it.
"""

from .lease import LeaseHeldError
from .pipeline import check_deterministic, resolve_transform, split_pipeline
from .preprocess import Listing, list_images, preprocess

__all__ = [
    "LeaseHeldError", "Listing", "check_deterministic", "list_images", "preprocess",
    "resolve_transform", "split_pipeline",
]
