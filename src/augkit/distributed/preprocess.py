"""``preprocess``: run a deterministic pipeline over a folder of images once, on Ray Data, and
store the results as Parquet shards with a JSON manifest.

The job is ``from_items(file list) -> map_batches(Preprocessor, actor pool) -> write_parquet``.
Files are listed on the driver (that gives the class list and the count to reconcile against)
and read, decoded and transformed inside the actor pool, one file at a time, so that a corrupt or
unreadable file is recorded with its reason instead of failing the job; ``ray.data.read_images``
(and ``read_binary_files``) raise on such a file and stop everything.

The manifest is written last, after the shards are counted and reconciled with the listing
(read = written + failed), so a folder without one is an unfinished run and
:class:`augkit.data.ParquetImageDataset` refuses it.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import posixpath
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..core.config import to_config
from ..core.transform import Transform
from ..data.folder import IMAGE_EXTENSIONS
from ..data.parquet import FORMAT, MANIFEST, ROWS_PER_GROUP
from .pipeline import check_deterministic, resolve_transform, split_pipeline
from .storage import join, resolve
from .worker import Preprocessor

if TYPE_CHECKING:
    import pyarrow.fs

__all__ = ["preprocess", "list_images", "Listing"]

_MAX_ERRORS_SHOWN = 5


@dataclass(frozen=True)
class Listing:
    """The image files of a source folder: paths relative to it, their labels (``-1`` when the
    folder is flat), the class names, and how many other files were ignored."""

    paths: list[str]
    labels: list[int]
    classes: list[str]
    ignored: int


def list_images(filesystem: pyarrow.fs.FileSystem, root: str) -> Listing:
    """List the images under ``root``: either all in class sub-folders (labels from the folder
    names, sorted; images deeper down belong to their top folder) or all at the top (no labels).

    Hidden files and folders (``.name``) and files without an image extension are ignored.
    """
    import pyarrow.fs as pafs

    info = filesystem.get_file_info(root)
    if info.type != pafs.FileType.Directory:
        what = "does not exist" if info.type == pafs.FileType.NotFound else "is not a folder"
        raise FileNotFoundError(f"source {root} {what}; expected a folder of images")
    found, ignored = [], 0
    for entry in filesystem.get_file_info(pafs.FileSelector(root, recursive=True)):
        if entry.type != pafs.FileType.File:
            continue
        relative = posixpath.relpath(entry.path.replace(os.sep, "/"), root.replace(os.sep, "/"))
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        if relative.lower().endswith(IMAGE_EXTENSIONS):
            found.append(relative)
        else:
            ignored += 1
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
               address: str | None = None, batch_size: int = 128,
               workers: tuple[int, int] | None = None, cpus_per_worker: float = 1.0,
               overwrite: bool = False, endpoint_url: str | None = None) -> dict[str, Any]:
    """Run a deterministic pipeline over the images of ``src`` and write Parquet shards and a
    ``manifest.json`` to ``dst``; return the manifest.

    Args:
        src: a folder of images, flat or in class sub-folders; local or ``s3://`` (or another
            pyarrow URI).
        dst: the output folder; it must be empty or absent unless ``overwrite``.
        preset: a model name for ``augkit.presets.eval_transform(model=preset)``.
        transform: the pipeline instead: a Transform, a config dict, or a JSON config file.
        address: a Ray cluster to run on; ``None`` connects to the cluster of ``RAY_ADDRESS``
            (set by ``ray job submit``) or starts a local Ray on this machine. A Ray session
            already initialized in this process is used as it is.
        batch_size: images per ``map_batches`` call.
        workers: ``(min, max)`` actors in the pool; default ``(1, CPUs / cpus_per_worker)``.
        cpus_per_worker: CPUs each actor reserves (fractions allowed).
        overwrite: replace the contents of ``dst`` if it holds an earlier run's output.
        endpoint_url: an S3-compatible endpoint for ``s3://`` locations.

    Only the stored part of the pipeline runs here: trailing ``Normalize``/``ToDtype`` steps are
    recorded as the manifest's ``deferred_transform`` and applied when reading back, so the
    shards hold uint8 images.
    """
    ray = _import_ray()
    pipeline = resolve_transform(preset=preset, transform=transform)
    check_deterministic(pipeline)
    stored, deferred = split_pipeline(pipeline)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    if not cpus_per_worker > 0:
        raise ValueError(f"cpus_per_worker must be > 0; got {cpus_per_worker!r}")
    if workers is not None and not (isinstance(workers, (tuple, list)) and len(workers) == 2
                                    and all(isinstance(w, int) for w in workers) and 1 <= workers[0] <= workers[1]):
        raise ValueError(f"workers must be (min, max) with 1 <= min <= max; got {workers!r}")
    src_fs, src_root = resolve(src, endpoint_url)
    dst_fs, dst_root = resolve(dst, endpoint_url)
    listing = list_images(src_fs, src_root)
    _prepare_destination(dst_fs, dst_root, overwrite)

    started = _connect(ray, address)
    try:
        pool = _actor_pool(ray, workers, cpus_per_worker)
        log = f"augkit-preprocess-failures-{uuid.uuid4().hex}"
        items = [{"path": p, "label": label} for p, label in zip(listing.paths, listing.labels)]
        dataset = ray.data.from_items(items, override_num_blocks=math.ceil(len(items) / batch_size))
        dataset = dataset.map_batches(
            Preprocessor, batch_size=batch_size, batch_format="numpy", compute=pool,
            num_cpus=cpus_per_worker,
            fn_constructor_kwargs=dict(transform=to_config(stored), classes=listing.classes,
                                       filesystem=src_fs, root=src_root, failure_log=log),
        )
        dataset.write_parquet(dst_root, filesystem=dst_fs, row_group_size=ROWS_PER_GROUP,
                              compression="zstd", ray_remote_args={"num_cpus": 0.25})
        failures = _collect_failures(ray, log)
    finally:
        _stop_actor(ray, log)
        if started:
            ray.shutdown()

    shards, written = _read_shards(dst_fs, dst_root)
    _reconcile(listing, written, failures)
    manifest = {
        "format": FORMAT,
        "augkit_version": __version__,
        "ray_version": ray.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "source": os.fspath(src) if "://" in os.fspath(src) else src_root,
        "classes": listing.classes,
        "preset": preset,
        "transform": to_config(pipeline),
        "stored_transform": to_config(stored),
        "deferred_transform": None if deferred is None else to_config(deferred),
        "image": {"dtype": "uint8", "layout": "HWC", "mode": "RGB", "encoding": "raw"},
        "counts": {"read": len(listing.paths), "written": len(written), "failed": len(failures),
                   "ignored_files": listing.ignored},
        "class_counts": _class_counts(listing, failures),
        "failed": [{"path": path, "reason": reason} for path, reason in failures.items()],
        "shards": shards,
    }
    _write_json(dst_fs, join(dst_root, MANIFEST), manifest)
    return manifest


def _import_ray() -> Any:
    try:
        import pyarrow  # noqa: F401
        import ray
        import ray.data  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f"augkit.distributed needs Ray Data and pyarrow ({error}); install them with "
            f"pip install 'augkit[ray]'"
        ) from error
    return ray


def _connect(ray: Any, address: str | None) -> bool:
    """Initialize Ray unless it already is; return whether this call started it."""
    if ray.is_initialized():
        return False
    if address is None and not os.environ.get("RAY_ADDRESS"):
        # the workers import the augkit this process runs, even one found through a relative or
        # programmatic sys.path entry (a source checkout, a notebook)
        paths = [str(Path(__file__).resolve().parents[2]), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        ray.init(include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}})
    else:
        ray.init(address=address)
    return True


def _collect_failures(ray: Any, name: str) -> dict[str, str]:
    """The failures the workers recorded in the FailureLog actor ``name`` (none if none failed)."""
    try:
        return ray.get(ray.get_actor(name).get.remote())
    except ValueError:
        return {}


def _stop_actor(ray: Any, name: str) -> None:
    try:
        ray.kill(ray.get_actor(name))
    except ValueError:
        pass


def _actor_pool(ray: Any, workers: tuple[int, int] | None, cpus_per_worker: float) -> Any:
    if workers is None:
        cpus = ray.cluster_resources().get("CPU", 1)
        workers = (1, max(1, int(cpus // cpus_per_worker)))
    return ray.data.ActorPoolStrategy(min_size=workers[0], max_size=workers[1])


def _prepare_destination(filesystem: pyarrow.fs.FileSystem, root: str, overwrite: bool) -> None:
    """Make ``root`` an empty folder; refuse to touch anything but an earlier run's output."""
    import pyarrow.fs as pafs

    info = filesystem.get_file_info(root)
    if info.type == pafs.FileType.File:
        raise FileExistsError(f"destination {root} is a file; expected a folder")
    if info.type == pafs.FileType.NotFound:
        filesystem.create_dir(root, recursive=True)
        return
    files = [e for e in filesystem.get_file_info(pafs.FileSelector(root, recursive=True))
             if e.type == pafs.FileType.File]
    if not files:
        return
    ours = [e for e in files if e.base_name == MANIFEST or e.base_name.endswith(".parquet")]
    if len(ours) < len(files):
        other = next(e.path for e in files if e not in ours)
        raise FileExistsError(f"destination {root} holds files that are not preprocessing output "
                              f"(e.g. {other}); choose an empty or new folder")
    if not overwrite:
        finished = any(e.base_name == MANIFEST for e in files)
        run = "a finished preprocessing run" if finished else "the shards of an unfinished run"
        raise FileExistsError(f"destination {root} already holds {run}; pass overwrite=True "
                              f"(--overwrite) to replace it")
    filesystem.delete_dir_contents(root)


def _read_shards(filesystem: pyarrow.fs.FileSystem, root: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The shards written to ``root`` with their row counts, and the source paths they hold."""
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    shards, written = [], []
    selector = pafs.FileSelector(root, recursive=True)
    for entry in sorted(filesystem.get_file_info(selector), key=lambda e: e.path):
        if entry.type != pafs.FileType.File or not entry.base_name.endswith(".parquet"):
            continue
        with filesystem.open_input_file(entry.path) as handle:
            paths = pq.ParquetFile(handle).read(columns=["path"])["path"].to_pylist()
        shards.append({"file": posixpath.relpath(entry.path, root), "rows": len(paths)})
        written += paths
    return shards, written


def _reconcile(listing: Listing, written: list[str], failures: dict[str, str]) -> None:
    """Check that every listed file was written exactly once or failed, and nothing else."""
    problems = []
    duplicated = sorted(p for p, n in Counter(written).items() if n > 1)
    if duplicated:
        problems.append(f"written more than once: {duplicated[:_MAX_ERRORS_SHOWN]}")
    accounted = set(written) | set(failures)
    missing = [p for p in listing.paths if p not in accounted]
    if missing:
        problems.append(f"neither written nor failed: {missing[:_MAX_ERRORS_SHOWN]}")
    unknown = sorted(accounted - set(listing.paths))
    if unknown:
        problems.append(f"written but not listed: {unknown[:_MAX_ERRORS_SHOWN]}")
    if problems:
        raise RuntimeError(
            f"preprocessing output does not reconcile with the source ({len(listing.paths)} read, "
            f"{len(written)} written, {len(failures)} failed): {'; '.join(problems)}; no manifest "
            f"was written"
        )


def _class_counts(listing: Listing, failures: dict[str, str]) -> dict[str, int]:
    counts = dict.fromkeys(listing.classes, 0)
    for path, label in zip(listing.paths, listing.labels):
        if label >= 0 and path not in failures:
            counts[listing.classes[label]] += 1
    return counts


def _write_json(filesystem: pyarrow.fs.FileSystem, path: str, payload: dict[str, Any]) -> None:
    with filesystem.open_output_stream(path) as stream:
        stream.write((json.dumps(payload, indent=2) + "\n").encode())
