"""Where the chunks of a preprocessing run are processed: local processes or a Ray actor pool.

Both run one :class:`~augkit.distributed.worker.ShardWriter` per worker and yield the index of
each chunk as its shard is finished, in any order. On one machine, processes forked from the driver
start in milliseconds and share its imported modules, where a local Ray costs seconds to start
and a few hundred MB per worker; Ray is for clusters (or a Ray session already running).

>>> default_workers(1.0) >= 1
True
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2

from .shards import Chunk
from .worker import ShardJob, ShardWriter

__all__ = ["EXECUTORS", "default_workers", "run_local", "run_ray", "import_ray"]

EXECUTORS = ("auto", "local", "ray")

_writer: ShardWriter | None = None  # the ShardWriter of a local worker process


def default_workers(cpus_per_worker: float, cpus: float | None = None) -> int:
    """Workers to keep ``cpus`` busy (default: the CPUs this process may use)."""
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, int(cpus // cpus_per_worker))


def _start_local_worker(job: ShardJob) -> None:
    global _writer
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver handles Ctrl-C and stops the pool
    _writer = ShardWriter(job)


def _write_local(chunk: Chunk) -> int:
    assert _writer is not None, "the pool initializer makes the writer"
    return _writer.write(chunk).index


def run_local(job: ShardJob, chunks: list[Chunk], workers: int) -> Iterator[int]:
    """Process ``chunks`` in ``workers`` local processes (forked on Linux, where the children
    share the driver's imported modules; spawned elsewhere)."""
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    # OpenCV's thread pool does not survive a fork (a child resizing it waits forever): the
    # children start with OpenCV on one thread, and this process gets its threads back
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        pool = context.Pool(min(workers, len(chunks)), _start_local_worker, (job,))
    finally:
        cv2.setNumThreads(threads)
    try:
        yield from pool.imap_unordered(_write_local, chunks, chunksize=1)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or an ImportError naming the extra."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as error:
        raise ImportError(f"running on Ray needs Ray Data ({error}); install it with "
                          f"pip install 'augkit[ray]'") from error
    return ray


def run_ray(job: ShardJob, chunks: list[Chunk], workers: int | None, cpus_per_worker: float,
            address: str | None) -> Iterator[int]:
    """Process ``chunks`` on Ray Data: one task per chunk in a pool of ``workers`` actors
    (default: the cluster's CPUs over ``cpus_per_worker``). Joins the Ray session of this process,
    else ``address``, else ``RAY_ADDRESS``, else starts a local Ray for the run."""
    ray = import_ray()
    started = _connect(ray, address)
    try:
        if workers is None:
            workers = default_workers(cpus_per_worker, ray.cluster_resources().get("CPU", 1))
        items = [{"index": c.index, "paths": c.paths, "labels": c.labels} for c in chunks]
        dataset = ray.data.from_items(items, override_num_blocks=len(items))
        dataset = dataset.map_batches(
            ShardWriter, batch_size=1, batch_format="pyarrow", num_cpus=cpus_per_worker,
            compute=ray.data.ActorPoolStrategy(size=min(workers, len(items))),
            fn_constructor_kwargs={"job": job},
        )
        for row in dataset.iter_rows():
            yield row["index"]
    finally:
        if started:
            ray.shutdown()


def _connect(ray: Any, address: str | None) -> bool:
    """Initialize Ray unless it already is; return whether this call started it."""
    if ray.is_initialized():
        return False
    if address is None and not os.environ.get("RAY_ADDRESS"):
        # the workers import the augkit this process runs, even one found through a relative or
        # programmatic sys.path entry (a source checkout, a notebook)
        paths = [str(Path(__file__).resolve().parents[2]),
                 *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        ray.init(include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}})
    else:
        ray.init(address=address)
    return True
