"""The per-file work of preprocessing, run by the Ray actor pool: read, decode, transform.

Each actor builds the pipeline once from its config. A batch arrives as rows ``(path, label)``;
files are read concurrently (reads wait on storage and release the GIL), then decoded with
:func:`augkit.io.decode_image` and transformed one by one. A file that cannot be read or decoded
does not stop the job: it is reported to the :class:`FailureLog` actor with the reason, and the
batch returns the rows of the other files only.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch

from ..core.config import from_config
from ..data.parquet import shard_schema
from ..functional.convert import to_dtype_numpy
from ..io import ImageReadError, decode_image
from .storage import join

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.fs

__all__ = ["Preprocessor", "FailureLog"]

_READ_THREADS = 8


class FailureLog:
    """Collects ``{source path: reason}`` of the files that failed (a named Ray actor, 0 CPUs,
    started by the first failure, so that a run without failures starts no extra process; the
    driver reads and stops it).

    Keyed by path, so a batch that Ray retries is not counted twice.
    """

    def __init__(self) -> None:
        self.failures: dict[str, str] = {}

    def add(self, failures: dict[str, str]) -> None:
        self.failures.update(failures)

    def get(self) -> dict[str, str]:
        return dict(sorted(self.failures.items()))


class Preprocessor:
    """The callable class given to ``Dataset.map_batches``: one instance per actor.

    Args:
        transform: the config of the stored (uint8 -> uint8) pipeline.
        classes: class names indexed by label.
        filesystem: the filesystem of the source files, and ``root`` their folder on it.
        failure_log: the name of the :class:`FailureLog` actor (made on the first failure), or
            a ``FailureLog`` object to record into directly.
    """

    def __init__(self, transform: dict[str, Any], classes: list[str], filesystem: pyarrow.fs.FileSystem,
                 root: str, failure_log: str | FailureLog) -> None:
        torch.set_num_threads(1)  # an actor holds one CPU's worth of work
        cv2.setNumThreads(1)
        self.transform = from_config(transform)
        self.classes = classes
        self.filesystem = filesystem
        self.root = root
        self.failure_log = failure_log
        self.pool = ThreadPoolExecutor(_READ_THREADS)

    def __call__(self, batch: dict[str, np.ndarray]) -> pa.Table:
        import pyarrow as pa

        paths = [str(p) for p in batch["path"]]
        rows: dict[str, list] = {name: [] for name in shard_schema().names}
        failures: dict[str, str] = {}
        for path, label, data in zip(paths, batch["label"].tolist(), self.pool.map(self._read, paths)):
            try:
                if isinstance(data, OSError):
                    raise ImageReadError(path, f"cannot read the file ({data})")
                image = decode_image(data, "RGB", name=path)
            except ImageReadError as error:
                failures[path] = error.reason
                continue
            original = image.shape[:2]
            if image.dtype != np.uint8:  # 16-bit files: stored, like everything, as uint8
                image = to_dtype_numpy(image, "uint8")
            out = np.ascontiguousarray(self.transform(image))
            rows["image"].append(out.tobytes())
            rows["height"].append(out.shape[0])
            rows["width"].append(out.shape[1])
            rows["channels"].append(out.shape[2])
            rows["label"].append(label if label >= 0 else None)
            rows["class_name"].append(self.classes[label] if label >= 0 else None)
            rows["path"].append(path)
            rows["original_height"].append(original[0])
            rows["original_width"].append(original[1])
        if failures:
            self._record(failures)
        return pa.table(rows, schema=shard_schema())

    def _record(self, failures: dict[str, str]) -> None:
        if isinstance(self.failure_log, FailureLog):
            self.failure_log.add(failures)
            return
        import ray

        # detached: an actor owned by this worker would die with it, before the driver reads it
        log = ray.remote(FailureLog).options(name=self.failure_log, get_if_exists=True, num_cpus=0,
                                             lifetime="detached").remote()
        ray.get(log.add.remote(failures))  # waited for, so the log is complete when the job ends

    def _read(self, path: str) -> bytes | OSError:
        try:
            with self.filesystem.open_input_file(join(self.root, path)) as file:
                return file.read()
        except OSError as error:
            return error

