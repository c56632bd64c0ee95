"""The per-chunk work of preprocessing: read, decode, transform and store each file of a chunk.

A :class:`ShardWriter` is built once per worker process (a local process or a Ray actor) and
writes one shard per chunk. Files stream through it: from an object store a few are read ahead
(reads wait on the network and release the GIL), each is decoded with :func:`augkit.io.decode_image` and transformed, and
its row goes to the shard's current row group; no batch of raw bytes is ever held. Any exception
while reading, decoding or transforming a file becomes that file's :class:`Failure`, stored in the
shard's footer with the data; transient read errors (an ``OSError`` other than a missing file or a
folder) are retried a few times first.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import torch

from ..core.config import from_config
from ..functional.convert import to_dtype_numpy
from ..io import decode_image
from .shards import Chunk, Failure, ShardRecord, write_shard
from .storage import is_local, join

if TYPE_CHECKING:
    import pyarrow.fs

__all__ = ["ShardJob", "ShardWriter", "to_uint8"]

_READ_AHEAD = 4
_PERMANENT = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


@dataclass(frozen=True)
class ShardJob:
    """Everything a worker needs, picklable: the stored pipeline's config, the class names, where
    the source files are and where the shards go, the run id, and the read retries."""

    transform: dict[str, Any]
    classes: list[str]
    source: pyarrow.fs.FileSystem
    source_root: str
    destination: pyarrow.fs.FileSystem
    destination_root: str
    run_id: str
    retries: int = 2
    retry_delay: float = 0.2


def to_uint8(image: np.ndarray) -> np.ndarray:
    """``image`` as uint8: 16-bit scaled, float (e.g. a float32 TIFF) taken as values in [0, 1].

    >>> to_uint8(np.array([[0.0, 0.5, 1.0]], np.float32))
    array([[  0, 128, 255]], dtype=uint8)
    >>> to_uint8(np.array([[0.0, 2.0]], np.float32))
    Traceback (most recent call last):
      ...
    ValueError: a float image must hold values in [0, 1] to be stored as uint8; got values in [0, 2]
    """
    if image.dtype == np.uint8:
        return image
    if image.dtype.kind == "f":
        low, high = float(np.nanmin(image)), float(np.nanmax(image))
        if not (0.0 <= low and high <= 1.0):
            raise ValueError(f"a float image must hold values in [0, 1] to be stored as uint8; "
                             f"got values in [{low:g}, {high:g}]")
        image = image.astype(np.float32, copy=False)
    return to_dtype_numpy(image, "uint8")


class ShardWriter:
    """Writes the shards of a job's chunks; one instance per worker process.

    >>> import augkit, pyarrow.fs, tempfile
    >>> src, dst = tempfile.mkdtemp(), tempfile.mkdtemp()
    >>> job = ShardJob(augkit.HorizontalFlip(p=1.0).to_config(), [], pyarrow.fs.LocalFileSystem(),
    ...                src, pyarrow.fs.LocalFileSystem(), dst, "ab12")
    >>> record = ShardWriter(job).write(Chunk(0, ["missing.jpg"], [-1]))
    >>> record.rows, record.failed[0].error
    (0, 'FileNotFoundError')
    """

    def __init__(self, job: ShardJob) -> None:
        torch.set_num_threads(1)  # a worker holds one CPU's worth of work
        if cv2.getNumThreads() != 1:  # (a forked child already has 1, and must not resize the pool)
            cv2.setNumThreads(1)
        self.job = job
        self.transform = from_config(job.transform)
        # reads from an object store wait on the network and are started ahead; a local read
        # takes microseconds, less than handing it to a thread
        self.pool = None if is_local(job.source) else ThreadPoolExecutor(_READ_AHEAD)

    def write(self, chunk: Chunk) -> ShardRecord:
        """Process every file of ``chunk`` and write its shard; the record of the shard."""
        failures: list[Failure] = []
        rows = self._rows(chunk, failures)
        return write_shard(self.job.destination, self.job.destination_root, chunk, self.job.run_id,
                           rows, failures)

    def _rows(self, chunk: Chunk, failures: list[Failure]) -> Iterator[dict[str, Any]]:
        for path, label, read in zip(chunk.paths, chunk.labels, self._reads(chunk.paths)):
            try:
                row = self._row(path, label, read())
            except Exception as error:  # noqa: BLE001 - one file's failure is never the job's
                failures.append(Failure(path, type(error).__name__, str(error)))
                continue
            yield row

    def _reads(self, paths: list[str]) -> Iterator[Callable[[], bytes]]:
        """For each of ``paths``, in order, a call that returns the file's bytes or raises the
        read's error."""
        if self.pool is None:
            return (partial(self._read, path) for path in paths)
        return (future.result for future in _read_ahead(self.pool, self._read, paths))

    def _row(self, path: str, label: int, data: bytes) -> dict[str, Any]:
        image = to_uint8(decode_image(data, "RGB", name=path))
        out = np.ascontiguousarray(self.transform(image))
        return {
            "image": out, "height": out.shape[0], "width": out.shape[1], "channels": out.shape[2],
            "label": label if label >= 0 else None,
            "class_name": self.job.classes[label] if label >= 0 else None,
            "path": path, "original_height": image.shape[0], "original_width": image.shape[1],
        }

    def _read(self, path: str) -> bytes:
        attempt = 0
        while True:
            try:
                with self.job.source.open_input_file(join(self.job.source_root, path)) as file:
                    return file.read()
            except _PERMANENT:
                raise
            except OSError:
                if attempt == self.job.retries:
                    raise
                time.sleep(self.job.retry_delay * 2 ** attempt)
                attempt += 1

    def __call__(self, batch: Any) -> Any:
        """The Ray Data form: a pyarrow batch of chunks (``index``, ``paths``, ``labels``) in, a
        table of ``index``, ``rows``, ``failed`` out."""
        import pyarrow as pa

        records = [self.write(Chunk(**item)) for item in batch.to_pylist()]
        return pa.table({"index": [r.index for r in records], "rows": [r.rows for r in records],
                         "failed": [len(r.failed) for r in records]})


def _read_ahead(pool: ThreadPoolExecutor, read: Callable[[str], bytes], paths: list[str]) -> Iterator[Future]:
    """The futures of ``read(path)`` for each path, in order, with at most ``_READ_AHEAD`` started
    and not yet consumed."""
    pending: deque[Future] = deque()
    for path in paths:
        pending.append(pool.submit(read, path))
        if len(pending) == _READ_AHEAD:
            yield pending.popleft()
    while pending:
        yield pending.popleft()
