"""``preprocess``: run a deterministic pipeline over a folder of images once and store the
results as Parquet shards with a JSON manifest, so that the folder reads as a plain Parquet
dataset.

The run: list the files on the driver (that gives the class list and the count to reconcile
against), cut the listing into chunks of ``batch_size`` files, and let workers (local processes,
or a Ray actor pool) read, decode, transform and write each chunk as one shard
(:mod:`augkit.distributed.worker`). A file that fails is recorded in its shard with the
exception; the job always finishes.

The destination is claimed with a lease (:mod:`augkit.distributed.lease`); shards appear whole,
each with its chunk's file list in its footer (:mod:`augkit.distributed.shards`), so an
interrupted run is resumed from the shards it finished. The manifest, ``_manifest.json``, is
written last, atomically, after the shards are reconciled with the listing (read = written +
failed); a folder without one is an unfinished run, and :class:`augkit.data.ParquetImageDataset`
refuses it.
"""

from __future__ import annotations

import datetime
import json
import os
import posixpath
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..core.config import to_config
from ..core.transform import Transform
from ..data.folder import IMAGE_EXTENSIONS
from ..data.parquet import FORMAT, LEGACY_MANIFEST, MANIFEST
from .executors import EXECUTORS, default_workers, import_ray, run_local, run_ray
from .lease import LEASE, Lease, held_error, is_held, read_lease
from .pipeline import check_deterministic, resolve_transform, split_pipeline
from .shards import Chunk, ShardRecord, read_shard_record, run_of, shard_name
from .storage import atomic_output, join, resolve
from .worker import ShardJob

if TYPE_CHECKING:
    import pyarrow.fs

__all__ = ["preprocess", "list_images", "Listing"]

_MAX_ERRORS_SHOWN = 5


@dataclass(frozen=True)
class Listing:
    """The image files of a source folder: paths relative to it, their labels (``-1`` when the
    folder is flat), the class names, and how many other files were ignored (hidden ones, and
    those without an image extension)."""

    paths: list[str]
    labels: list[int]
    classes: list[str]
    ignored: int


def list_images(filesystem: pyarrow.fs.FileSystem, root: str) -> Listing:
    """List the images under ``root``: either all in class sub-folders (labels from the folder
    names, sorted; images deeper down belong to their top folder) or all at the top (no labels).

    Hidden files, files in hidden folders (``.name``) and files without an image extension are
    ignored and counted. A folder named like an image (``photo.jpg/``) that holds no image is
    listed as one, so that it is reported as a failed file rather than lost.
    """
    import pyarrow.fs as pafs

    info = filesystem.get_file_info(root)
    if info.type != pafs.FileType.Directory:
        what = "does not exist" if info.type == pafs.FileType.NotFound else "is not a folder"
        raise FileNotFoundError(f"source {root} {what}; expected a folder of images")
    found, folders, ignored = [], [], 0
    base = root.replace(os.sep, "/").rstrip("/") + "/"
    for entry in filesystem.get_file_info(pafs.FileSelector(root, recursive=True)):
        path = entry.path.replace(os.sep, "/")
        # the selector names entries by root + "/" + their relative path (relpath is the slow way)
        relative = path[len(base):] if path.startswith(base) else posixpath.relpath(path, base)
        named_like_image = relative.lower().endswith(IMAGE_EXTENSIONS)
        hidden = relative.startswith(".") or "/." in relative
        if entry.type == pafs.FileType.Directory:
            if named_like_image and not hidden:
                folders.append(relative)
        elif entry.type == pafs.FileType.File:
            if named_like_image and not hidden:
                found.append(relative)
            else:
                ignored += 1
    found += [f for f in folders if not any(p.startswith(f"{f}/") for p in found)]
    found.sort()
    if not found:
        raise ValueError(f"source {root} holds no images (looked for {', '.join(IMAGE_EXTENSIONS)})")
    top = [p for p in found if "/" not in p]
    if len(top) == len(found):
        return Listing(found, [-1] * len(found), [], ignored)
    if top:
        raise ValueError(
            f"source {root} mixes images at the top ({top[0]}, ...) with class sub-folders; put "
            f"all images in class folders, or none"
        )
    classes = sorted({p.split("/", 1)[0] for p in found})
    index = {name: i for i, name in enumerate(classes)}
    return Listing(found, [index[p.split("/", 1)[0]] for p in found], classes, ignored)


def preprocess(src: str | os.PathLike, dst: str | os.PathLike, *, preset: str | None = None,
               transform: Transform | dict[str, Any] | str | os.PathLike | None = None,
               executor: str = "auto", workers: int | None = None, cpus_per_worker: float = 1.0,
               address: str | None = None, batch_size: int = 64, resume: bool = False,
               overwrite: bool = False, endpoint_url: str | None = None, retries: int = 2,
               progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run a deterministic pipeline over the images of ``src`` and write Parquet shards and a
    ``_manifest.json`` to ``dst``; return the manifest.

    Args:
        src: a folder of images, flat or in class sub-folders; local or ``s3://`` (or another
            pyarrow URI).
        dst: the output folder; it must be empty, absent, or hold only other files with
            ``overwrite``, unless ``resume``.
        preset: a model name for ``augkit.presets.eval_transform(model=preset)``.
        transform: the pipeline instead: a Transform, a config dict, or a JSON config file.
        executor: ``"local"`` (processes on this machine), ``"ray"`` (a Ray actor pool), or
            ``"auto"``: Ray when ``address`` or ``RAY_ADDRESS`` is set or a Ray session is
            already initialized in this process, else local.
        workers: processes or actors; default: this machine's CPUs (with Ray: the cluster's)
            over ``cpus_per_worker``.
        cpus_per_worker: CPUs each worker takes (fractions allowed).
        address: the Ray cluster to run on (implies Ray).
        batch_size: source files per shard (one task).
        resume: continue the unfinished run in ``dst`` from the shards it finished (or return
            the manifest of a finished one); the result is that of an uninterrupted run.
        overwrite: first remove the earlier run in ``dst`` (only the files its manifest or run
            id names; other files stay).
        endpoint_url: an S3-compatible endpoint for the ``s3://`` side(s).
        retries: extra attempts at reading a file after a transient ``OSError``.
        progress: called with (shards finished, shards in all) as shards are finished.

    Only the stored part of the pipeline runs here: trailing ``Normalize``/``ToDtype`` steps are
    recorded as the manifest's ``deferred_transform`` and applied when reading back, so the
    shards hold uint8 images.

    A run holding the lease on ``dst`` makes a second one raise :class:`LeaseHeldError` (a
    ``FileExistsError``). Interrupted (``KeyboardInterrupt``), a run keeps its finished shards
    and releases the lease, so that ``resume=True`` continues it.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(map(repr, EXECUTORS))}; got {executor!r}")
    for name, value, low in (("batch_size", batch_size, 1), ("retries", retries, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}; got {value!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive int or None; got {workers!r}")
    if isinstance(cpus_per_worker, bool) or not isinstance(cpus_per_worker, (int, float)) or not cpus_per_worker > 0:
        raise ValueError(f"cpus_per_worker must be a number > 0; got {cpus_per_worker!r}")
    if resume and overwrite:
        raise ValueError("give at most one of resume and overwrite; got both")
    on_ray = executor == "ray" or (executor == "auto" and _ray_wanted(address))
    if on_ray:
        import_ray()
    pipeline = resolve_transform(preset=preset, transform=transform)
    check_deterministic(pipeline)
    stored, deferred = split_pipeline(pipeline)
    src_fs, src_root = _resolve_side(src, endpoint_url)
    dst_fs, dst_root = _resolve_side(dst, endpoint_url)
    if endpoint_url is not None and not any(_is_s3(p) for p in (src, dst)):
        raise ValueError(f"endpoint_url is for s3:// locations, but neither side is one: src={os.fspath(src)!r}, "
                         f"dst={os.fspath(dst)!r}")
    listing = list_images(src_fs, src_root)
    plan = json.loads(json.dumps({  # as the lease stores it (JSON: tuples become lists)
        "source": os.fspath(src) if "://" in os.fspath(src) else src_root,
        "stored_transform": to_config(stored), "classes": listing.classes, "batch_size": batch_size}))

    finished = _finished_manifest(dst_fs, dst_root)
    if finished is not None and resume:
        return finished[1]
    lease = _claim(dst_fs, dst_root, plan, finished, resume=resume, overwrite=overwrite)
    try:
        chunks = [Chunk(i, listing.paths[start:start + batch_size], listing.labels[start:start + batch_size])
                  for i, start in enumerate(range(0, len(listing.paths), batch_size))]
        pending = _pending(dst_fs, dst_root, chunks, lease.run_id) if resume else chunks
        job = ShardJob(to_config(stored), listing.classes, src_fs, src_root, dst_fs, dst_root, lease.run_id, retries)
        if pending:
            if on_ray:
                finishing = run_ray(job, pending, workers, cpus_per_worker, address)
            else:
                finishing = run_local(job, pending, workers or default_workers(cpus_per_worker))
            for count, _ in enumerate(finishing, len(chunks) - len(pending) + 1):
                if progress is not None:
                    progress(count, len(chunks))
        records = _reconcile(dst_fs, dst_root, chunks, lease.run_id)
        manifest = _manifest(plan, pipeline, stored, deferred, preset, listing, records, lease.run_id, on_ray)
        with atomic_output(dst_fs, join(dst_root, MANIFEST)) as stream:
            stream.write((json.dumps(manifest, indent=2) + "\n").encode())
    except BaseException:
        lease.release(finished=False)
        raise
    lease.release(finished=True)
    return manifest


def _is_s3(location: str | os.PathLike) -> bool:
    return os.fspath(location).startswith("s3://")


def _resolve_side(location: str | os.PathLike, endpoint_url: str | None) -> tuple[pyarrow.fs.FileSystem, str]:
    """:func:`resolve` with the endpoint applied to an ``s3://`` side only."""
    return resolve(location, endpoint_url if _is_s3(location) else None)


def _ray_wanted(address: str | None) -> bool:
    """Whether ``executor="auto"`` means Ray: a cluster named, or a session already running."""
    ray = sys.modules.get("ray")
    return address is not None or bool(os.environ.get("RAY_ADDRESS")) or (ray is not None and ray.is_initialized())


def _finished_manifest(filesystem: pyarrow.fs.FileSystem, root: str) -> tuple[str, dict[str, Any]] | None:
    """The file name and the manifest of a finished run in ``root`` (either name), else ``None``."""
    for name in (MANIFEST, LEGACY_MANIFEST):
        try:
            with filesystem.open_input_stream(join(root, name)) as stream:
                manifest = json.loads(stream.read())
        except FileNotFoundError:
            continue
        if manifest.get("format") == FORMAT:
            return name, manifest
    return None


def _files(filesystem: pyarrow.fs.FileSystem, root: str) -> list[str]:
    """The paths of the files under ``root``, relative to it."""
    import pyarrow.fs as pafs

    entries = filesystem.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    return sorted(posixpath.relpath(e.path, root) for e in entries if e.type == pafs.FileType.File)


def _claim(filesystem: pyarrow.fs.FileSystem, root: str, plan: dict[str, Any],
           finished: tuple[str, dict[str, Any]] | None,
           *, resume: bool, overwrite: bool) -> Lease:
    """Take the lease on ``root`` for a new run, or for the unfinished run there if ``resume``;
    with ``overwrite``, remove the earlier run's files. Refuse what the flags do not allow."""
    import pyarrow.fs as pafs

    if filesystem.get_file_info(root).type == pafs.FileType.File:
        raise FileExistsError(f"destination {root} is a file; expected a folder")
    previous = read_lease(filesystem, root)
    if previous is not None and is_held(previous):
        raise held_error(root, previous)
    if finished is not None and not overwrite:
        raise FileExistsError(f"destination {root} already holds a finished preprocessing run; pass "
                              f"overwrite=True (--overwrite) to replace it, or resume=True (--resume) to keep it")
    if previous is not None and not (resume or overwrite):
        raise FileExistsError(f"destination {root} holds the unfinished run {previous['run_id']}; pass "
                              f"resume=True (--resume) to continue it, or overwrite=True (--overwrite) "
                              f"to start over")
    if previous is not None and resume and previous["plan"] != plan:
        changed = sorted(k for k in plan if previous["plan"].get(k) != plan[k])
        raise ValueError(f"cannot resume the run in {root}: its {', '.join(changed)} differ from this "
                         f"run's; pass overwrite=True (--overwrite) to start over")
    if previous is None and finished is None and not overwrite:
        others = [f for f in _files(filesystem, root) if f != LEASE and not f.startswith(f".{LEASE}.")]
        current = read_lease(filesystem, root) if others else None
        if current is not None and is_held(current):  # a run started since the first look wrote them
            raise held_error(root, current)
        if others and _finished_manifest(filesystem, root) is not None:  # or finished since
            raise FileExistsError(f"destination {root} already holds a finished preprocessing run")
        if others:
            raise FileExistsError(f"destination {root} holds files that are not preprocessing output "
                                  f"(e.g. {others[0]}); choose an empty or new folder, or pass "
                                  f"overwrite=True (--overwrite) to write beside them")
    filesystem.create_dir(root, recursive=True)
    run_id = previous["run_id"] if previous is not None and resume else uuid.uuid4().hex[:12]
    lease = Lease(filesystem, root, run_id, plan)
    lease.acquire(replacing=previous)
    if previous is None and finished is None and _finished_manifest(filesystem, root) is not None:
        lease.release(finished=True)  # a run finished between the check and the lease
        raise FileExistsError(f"destination {root} already holds a finished preprocessing run")
    if overwrite:
        _remove_run(filesystem, root, finished, previous)
    return lease


def _remove_run(filesystem: pyarrow.fs.FileSystem, root: str, finished: tuple[str, dict[str, Any]] | None,
                previous: dict[str, Any] | None) -> None:
    """Delete the files of the earlier run: those its manifest names, and those named with its
    run id (shards and their temporary files); nothing else."""
    names: set[str] = set()
    runs = {previous["run_id"]} if previous is not None else set()
    if finished is not None:
        name, manifest = finished
        names |= {name, *(s["file"] for s in manifest["shards"])}
        if manifest.get("run_id"):
            runs.add(manifest["run_id"])
    for relative in _files(filesystem, root):
        if relative in names or run_of(posixpath.basename(relative)) in runs:
            filesystem.delete_file(join(root, relative))


def _pending(filesystem: pyarrow.fs.FileSystem, root: str, chunks: list[Chunk], run_id: str) -> list[Chunk]:
    """The chunks of run ``run_id`` without a whole shard holding exactly their files; their
    leftovers (temporary files, shards of other chunks) are removed."""
    names = {shard_name(c.index, run_id): c for c in chunks}
    finished = set()
    for relative in _files(filesystem, root):
        name = posixpath.basename(relative)
        if run_of(name) != run_id:
            continue
        chunk = names.get(name)
        record = read_shard_record(filesystem, join(root, relative)) if chunk is not None else None
        if record is not None and record.inputs == chunk.paths and record.run_id == run_id:
            finished.add(chunk.index)
        else:
            filesystem.delete_file(join(root, relative))
    return [c for c in chunks if c.index not in finished]


def _reconcile(filesystem: pyarrow.fs.FileSystem, root: str, chunks: list[Chunk], run_id: str) -> list[ShardRecord]:
    """The records of the run's shards, one per chunk, checked: each holds exactly its chunk's
    files, every one written once or failed."""
    records, problems = [], []
    for chunk in chunks:
        record = read_shard_record(filesystem, join(root, shard_name(chunk.index, run_id)))
        if record is None:
            problems.append(f"no whole shard for chunk {chunk.index}")
            continue
        failed = [f.path for f in record.failed]
        if record.inputs != chunk.paths or not set(failed) <= set(chunk.paths) or \
                record.rows + len(failed) != len(chunk.paths):
            problems.append(f"shard {record.file} holds {record.rows} rows and {len(failed)} failures "
                            f"for its {len(chunk.paths)} files")
        records.append(record)
    if problems:
        raise RuntimeError(f"preprocessing output in {root} does not reconcile with the source: "
                           f"{'; '.join(problems[:_MAX_ERRORS_SHOWN])}; no manifest was written")
    return records


def _manifest(plan: dict[str, Any], pipeline: Transform, stored: Transform, deferred: Transform | None,
              preset: str | None, listing: Listing, records: list[ShardRecord], run_id: str,
              on_ray: bool) -> dict[str, Any]:
    failed = sorted((f for r in records for f in r.failed), key=lambda f: f.path)
    failed_paths = {f.path for f in failed}
    class_counts = dict.fromkeys(listing.classes, 0)
    for path, label in zip(listing.paths, listing.labels):
        if label >= 0 and path not in failed_paths:
            class_counts[listing.classes[label]] += 1
    versions = {"augkit_version": __version__}
    if on_ray:
        versions["ray_version"] = sys.modules["ray"].__version__
    return {
        "format": FORMAT,
        **versions,
        "run_id": run_id,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "source": plan["source"],
        "classes": listing.classes,
        "preset": preset,
        "transform": to_config(pipeline),
        "stored_transform": to_config(stored),
        "deferred_transform": None if deferred is None else to_config(deferred),
        "image": {"dtype": "uint8", "layout": "HWC", "mode": "RGB", "encoding": "raw"},
        "counts": {"read": len(listing.paths), "written": sum(r.rows for r in records), "failed": len(failed),
                   "ignored_files": listing.ignored},
        "class_counts": class_counts,
        "failed": [f.to_dict() for f in failed],
        "shards": [{"file": r.file, "rows": r.rows} for r in records],
    }
