"""Datasets, data-loading helpers and the bundled sample photos."""

from .augmented import AugmentedDataset
from .parquet import ParquetImageDataset
from .samples import SAMPLE_IMAGES, sample_image

__all__ = ["SAMPLE_IMAGES", "AugmentedDataset", "ParquetImageDataset", "sample_image"]
