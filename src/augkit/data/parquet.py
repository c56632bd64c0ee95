"""Preprocessed image datasets stored as Parquet shards, and the dataset that reads them back.

``augkit.distributed.preprocess`` writes a folder (local or ``s3://``) holding Parquet shards
and a ``_manifest.json``. Every row is one image:

=================== ========= ==============================================================
column              type      meaning
=================== ========= ==============================================================
``image``           binary    the pixels, uint8 in HWC (RGB) order, C-contiguous
``height``          int32     rows of the stored image
``width``           int32     columns of the stored image
``channels``        int32     channels of the stored image (3)
``label``           int64     class index into the manifest's ``classes`` (null: no classes)
``class_name``      string    the class folder name (null: no classes)
``path``            string    the source file, relative to the source folder
``original_height`` int32     the source image's size before the pipeline
``original_width``  int32
=================== ========= ==============================================================

The pixels are stored raw rather than re-encoded: reading them back costs no decoding and no
quality, which is the point of preprocessing, and any Parquet reader (pandas, DuckDB, Spark) gets
them with ``np.frombuffer(row.image, np.uint8).reshape(height, width, channels)`` without
needing Ray's tensor extension types. Row groups are small (``ROWS_PER_GROUP``) so that random
access, as a shuffling DataLoader does, reads little more than the image it wants.

pyarrow is needed only to read or write the shards: ``pip install "augkit[ray]"``.
"""

from __future__ import annotations

import bisect
import json
import os
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from torch.utils.data import Dataset

from ..core.config import from_config
from ..core.transform import Transform
from .fused import crop_transformed

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ParquetImageDataset", "MANIFEST", "LEGACY_MANIFEST", "FORMAT", "ROWS_PER_GROUP", "shard_schema", "read_manifest"]

# "_" keeps the manifest out of the data files that pyarrow, pandas, Ray Data, DuckDB and datasets read
MANIFEST = "_manifest.json"
LEGACY_MANIFEST = "manifest.json"  # the name earlier versions wrote; still read
FORMAT = "augkit.preprocessed/1"
ROWS_PER_GROUP = 16


def shard_schema() -> pa.Schema:
    """The Arrow schema of every shard."""
    import pyarrow as pa

    return pa.schema([
        ("image", pa.binary()), ("height", pa.int32()), ("width", pa.int32()), ("channels", pa.int32()),
        ("label", pa.int64()), ("class_name", pa.string()), ("path", pa.string()),
        ("original_height", pa.int32()), ("original_width", pa.int32()),
    ])


def read_manifest(filesystem: Any, root: str) -> dict[str, Any]:
    """The manifest of the preprocessed dataset in ``root`` on a pyarrow ``filesystem``
    (``_manifest.json``, or ``manifest.json`` as earlier versions named it)."""
    for name in (MANIFEST, LEGACY_MANIFEST):
        path = f"{root}/{name}"
        try:
            with filesystem.open_input_stream(path) as stream:
                manifest = json.loads(stream.read())
            break
        except FileNotFoundError:
            continue
    else:
        raise FileNotFoundError(
            f"{root} holds no {MANIFEST}: not a preprocessed dataset, or its preprocessing did not "
            f"finish (run it again with resume)"
        )
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{path} is not an {FORMAT} manifest; got format {manifest.get('format')!r}")
    return manifest


class ParquetImageDataset(Dataset):
    """The images of a dataset preprocessed by ``augkit preprocess``, as a PyTorch ``Dataset``.

    Item ``i`` is ``(image, label)`` for datasets made from class folders and ``image`` for flat
    ones: a ``(C, H, W)`` uint8 tensor (or an HWC array with ``kind="numpy"``), then
    ``transform`` (e.g. training augmentation) if given, then the manifest's deferred steps (the
    pipeline's trailing ``ToDtype``/``Normalize``, kept out of the uint8 shards) unless
    ``deferred=False``.

    Works with ``DataLoader(num_workers > 0)``: each worker process opens the shards itself.
    Only the shards listed in the manifest are read.

    Args:
        path: the output folder of the preprocessing, local or ``s3://...``.
        transform: an augkit transform applied to each image.
        deferred: apply the deferred steps recorded in the manifest.
        kind: ``"tensor"`` for CHW tensors, ``"numpy"`` for HWC arrays.
        endpoint_url: an S3-compatible endpoint (default: ``AWS_ENDPOINT_URL``, else AWS).
        fused: when ``transform`` starts with a crop + resize that gives the same pixels on the
            crop's box alone (``RandomResizedCrop``, ``ResizedCenterCrop``), copy only that box
            out of the stored bytes (:mod:`augkit.data.fused`); the output is the same bit for bit.

    Attributes:
        classes: the class names, indexed by label (empty for flat datasets).
        paths: the source path of every item, relative to the source folder.
        labels: the label of every item (``-1`` for flat datasets).
        manifest: the manifest as a dict.
    """

    def __init__(self, path: str | os.PathLike, transform: Transform | None = None, *,
                 deferred: bool = True, kind: Literal["tensor", "numpy"] = "tensor",
                 endpoint_url: str | None = None, fused: bool = True) -> None:
        import pyarrow.parquet as pq

        from ..distributed.storage import resolve

        if transform is not None and not isinstance(transform, Transform):
            raise TypeError(f"transform must be an augkit Transform or None; got {transform!r}")
        if kind not in ("tensor", "numpy"):
            raise ValueError(f"kind must be 'tensor' or 'numpy'; got {kind!r}")
        self.transform = transform
        self.kind = kind
        self.fused = bool(fused)
        self.filesystem, self.root = resolve(path, endpoint_url)
        self.manifest = read_manifest(self.filesystem, self.root)
        self.classes: list[str] = list(self.manifest["classes"])
        config = self.manifest.get("deferred_transform")
        self.deferred = from_config(config) if deferred and config else None

        self._files = [f"{self.root}/{shard['file']}" for shard in self.manifest["shards"]]
        self._starts: list[int] = []   # index of the first item of each (file, row group)
        self._groups: list[tuple[int, int]] = []
        paths, labels, total = [], [], 0
        for k, file in enumerate(self._files):
            with self.filesystem.open_input_file(file) as handle:
                reader = pq.ParquetFile(handle)
                for g in range(reader.num_row_groups):
                    self._starts.append(total)
                    self._groups.append((k, g))
                    total += reader.metadata.row_group(g).num_rows
                columns = reader.read(columns=["path", "label"])
            paths += columns["path"].to_pylist()
            labels += columns["label"].fill_null(-1).to_pylist()
        self.paths: list[str] = paths
        self.labels: list[int] = labels
        self._cache: tuple[int, pa.Table] | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> Any:
        return self._item(index, self.transform, None)

    def _item(self, index: int, transform: Transform | None, generator: torch.Generator | None) -> Any:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for {len(self)} images")
        index %= len(self)
        group = bisect.bisect_right(self._starts, index) - 1
        table = self._row_group(group)
        row = index - self._starts[group]
        height, width, channels = (table[name][row].as_py() for name in ("height", "width", "channels"))
        array = np.frombuffer(table["image"][row].as_py(), np.uint8).reshape(height, width, channels)
        tensor = self.kind == "tensor"
        if transform is not None and self.fused:
            image = crop_transformed(array, transform, generator, tensor=tensor)
        else:
            image = torch.from_numpy(array.copy()).permute(2, 0, 1) if tensor else array.copy()
            if transform is not None:
                image = transform(image, generator=generator)
        if self.deferred is not None:
            image = self.deferred(image)
        return (image, self.labels[index]) if self.classes else image

    def transformed_item(self, index: int, transform: Transform, generator: torch.Generator | None) -> Any:
        """Item ``index`` with ``transform(image, generator=generator)`` applied last, copying
        only the box of its leading crop where it can (the hook that :class:`AugmentedDataset`
        calls)."""
        if self.transform is not None or self.deferred is not None:
            item = self[index]
            if self.classes:
                return transform(item[0], generator=generator), item[1]
            return transform(item, generator=generator)
        return self._item(index, transform, generator)

    def _row_group(self, group: int) -> pa.Table:
        """Row group ``group``; the last one read is kept, for readers that go in order."""
        import pyarrow.parquet as pq

        if self._cache is None or self._cache[0] != group:
            k, g = self._groups[group]
            with self.filesystem.open_input_file(self._files[k]) as handle:
                table = pq.ParquetFile(handle).read_row_group(g, columns=["image", "height", "width", "channels"])
            self._cache = (group, table)
        return self._cache[1]

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": None}  # workers read their own row groups

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.root!r}, {len(self)} images, {len(self.classes)} classes, "
                f"transform={self.transform!r})")
