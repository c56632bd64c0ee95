"""Datasets, data-loading helpers and the bundled sample photos."""

from .augmented import AugmentedDataset
from .samples import SAMPLE_IMAGES, sample_image

__all__ = ["SAMPLE_IMAGES", "AugmentedDataset", "sample_image"]
