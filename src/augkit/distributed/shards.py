"""The shards of a preprocessing run: one Parquet file per chunk of the source listing.

A shard is named by its chunk and its run (``part-00003-<run id>.parquet``), written whole
(:func:`augkit.distributed.storage.atomic_output`) and carries its own record in the Parquet
footer: the source files of its chunk and those of them that failed, with the exception. A
finished shard is therefore self-describing: resuming a run and writing the manifest read the
footers, nothing else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.parquet import ROWS_PER_GROUP, shard_schema
from .storage import atomic_output, join

if TYPE_CHECKING:
    import pyarrow
    import pyarrow.fs

__all__ = ["Chunk", "Failure", "ShardRecord", "shard_name", "run_of", "write_shard", "read_shard_record"]

RECORD_KEY = b"augkit.shard"
_NAME = re.compile(r"^\.?part-(\d{5,})-([0-9a-f]+)\.parquet(\.[0-9a-f]+\.tmp)?$")


@dataclass(frozen=True)
class Chunk:
    """The source files of one shard: relative paths and labels (``-1`` without classes)."""

    index: int
    paths: list[str]
    labels: list[int]


@dataclass(frozen=True)
class Failure:
    """A source file that could not be read, decoded or transformed, and why."""

    path: str
    error: str       # the exception's type name, e.g. "DecompressionBombError"
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "error": self.error, "message": self.message}


@dataclass(frozen=True)
class ShardRecord:
    """What a finished shard holds: the chunk's files (``inputs``), the failed ones, the rows."""

    file: str
    index: int
    run_id: str
    inputs: list[str]
    rows: int
    failed: list[Failure] = field(default_factory=list)


def shard_name(index: int, run_id: str) -> str:
    """The file name of chunk ``index`` of run ``run_id``.

    >>> shard_name(3, "9f2c1a7b40de")
    'part-00003-9f2c1a7b40de.parquet'
    """
    return f"part-{index:05d}-{run_id}.parquet"


def run_of(name: str) -> str | None:
    """The run id in a shard's file name, or in the temporary name it is written under; ``None``
    for any other name.

    >>> run_of("part-00003-9f2c1a7b40de.parquet"), run_of("sales.parquet")
    ('9f2c1a7b40de', None)
    """
    match = _NAME.match(name)
    return match.group(2) if match else None


def write_shard(filesystem: pyarrow.fs.FileSystem, root: str, chunk: Chunk, run_id: str,
                rows: Iterable[dict[str, Any]], failures: list[Failure]) -> ShardRecord:
    """Write the ``rows`` of ``chunk`` (dicts of the shard schema, consumed as they come, a row
    group at a time) to ``root`` as one shard; ``failures`` may grow while ``rows`` is consumed,
    and is stored in the footer when it is complete."""
    import pyarrow.parquet as pq

    schema = shard_schema()
    name = shard_name(chunk.index, run_id)
    written = 0
    with atomic_output(filesystem, join(root, name)) as stream:
        # no dictionary or min/max statistics for the images: each is unique, and hashing and
        # comparing their pixels costs a tenth of the write
        columns = [c for c in schema.names if c != "image"]
        with pq.ParquetWriter(stream, schema, compression="zstd", use_dictionary=columns,
                              write_statistics=columns) as writer:
            group: list[dict[str, Any]] = []
            for row in rows:
                group.append(row)
                if len(group) == ROWS_PER_GROUP:
                    writer.write_table(_table(group, schema))
                    written, group = written + len(group), []
            if group:
                writer.write_table(_table(group, schema))
                written += len(group)
            record = ShardRecord(name, chunk.index, run_id, list(chunk.paths), written, list(failures))
            writer.add_key_value_metadata({RECORD_KEY: json.dumps({
                "index": record.index, "run_id": run_id, "inputs": record.inputs,
                "failed": [f.to_dict() for f in record.failed],
            })})
    return record


def _table(rows: list[dict[str, Any]], schema: pyarrow.Schema) -> pyarrow.Table:
    """``rows`` (dicts of ``schema``'s columns; binary values as bytes or contiguous arrays,
    ``None`` for null) as a table built from their buffers: ``pa.Table.from_pylist`` would take
    each image as bytes (a copy), copy it again, and import pandas (a quarter second a process).

    >>> import pyarrow as pa
    >>> schema = pa.schema([("a", pa.binary()), ("b", pa.int32())])
    >>> _table([{"a": np.zeros((1, 2), np.uint8), "b": None}], schema).to_pylist()
    [{'a': b'\\x00\\x00', 'b': None}]
    """
    import pyarrow as pa

    columns = []
    for column in schema:
        values = [row[column.name] for row in rows]
        if pa.types.is_binary(column.type) or pa.types.is_string(column.type):
            # one chunk per value: no copy, and no 2 GiB limit on a row group's images
            columns.append(pa.chunked_array([_value(column.type, v) for v in values], column.type))
        else:
            valid = [v is not None for v in values]
            bitmap = None if all(valid) else pa.py_buffer(np.packbits(valid, bitorder="little"))
            data = np.array([0 if v is None else v for v in values], column.type.to_pandas_dtype())
            columns.append(pa.Array.from_buffers(column.type, len(values), [bitmap, pa.py_buffer(data)]))
    return pa.Table.from_arrays(columns, schema=schema)


def _value(type_: pyarrow.DataType, value: Any) -> pyarrow.Array:
    """A binary or string array of one ``value`` (``None``, a str, or anything with a buffer)."""
    import pyarrow as pa

    if value is None:
        return pa.nulls(1, type_)
    data = pa.py_buffer(value.encode() if isinstance(value, str) else value)
    return pa.Array.from_buffers(type_, 1, [None, pa.py_buffer(np.array([0, data.size], np.int32)), data])


def read_shard_record(filesystem: pyarrow.fs.FileSystem, path: str) -> ShardRecord | None:
    """The record in the footer of the shard at ``path``; ``None`` if it is not a whole shard
    (truncated, or written by something else)."""
    import pyarrow.parquet as pq

    try:
        with filesystem.open_input_file(path) as handle:
            metadata = pq.ParquetFile(handle).metadata
    except (OSError, ValueError):  # pyarrow raises ArrowInvalid (a ValueError) on a truncated file
        return None
    raw = (metadata.metadata or {}).get(RECORD_KEY)
    if raw is None:
        return None
    record = json.loads(raw)
    return ShardRecord(path.rsplit("/", 1)[-1], record["index"], record["run_id"], record["inputs"],
                       metadata.num_rows, [Failure(**f) for f in record["failed"]])
