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

from ..data.parquet import ROWS_PER_GROUP, shard_schema
from .storage import atomic_output, join

if TYPE_CHECKING:
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
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = shard_schema()
    name = shard_name(chunk.index, run_id)
    written = 0
    with atomic_output(filesystem, join(root, name)) as stream:
        with pq.ParquetWriter(stream, schema, compression="zstd") as writer:
            group: list[dict[str, Any]] = []
            for row in rows:
                group.append(row)
                if len(group) == ROWS_PER_GROUP:
                    writer.write_table(pa.Table.from_pylist(group, schema=schema))
                    written, group = written + len(group), []
            if group:
                writer.write_table(pa.Table.from_pylist(group, schema=schema))
                written += len(group)
            record = ShardRecord(name, chunk.index, run_id, list(chunk.paths), written, list(failures))
            writer.add_key_value_metadata({RECORD_KEY: json.dumps({
                "index": record.index, "run_id": run_id, "inputs": record.inputs,
                "failed": [f.to_dict() for f in record.failed],
            })})
    return record


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
