"""Datasets, data-loading helpers and the bundled sample photos."""

from .augmented import AugmentedDataset
from .folder import IMAGE_EXTENSIONS, ImageFolderDataset
from .loader import DeviceLoader, bytes_collate, recommended_loader_kwargs, seed_worker, uint8_collate
from .parquet import ParquetImageDataset
from .samples import SAMPLE_IMAGES, sample_image

__all__ = [
    "IMAGE_EXTENSIONS", "SAMPLE_IMAGES", "AugmentedDataset", "DeviceLoader", "ImageFolderDataset",
    "ParquetImageDataset", "bytes_collate", "recommended_loader_kwargs", "sample_image", "seed_worker", "uint8_collate",
]
