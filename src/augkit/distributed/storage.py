"""Where preprocessing reads and writes: local folders, ``s3://`` and other pyarrow URIs.

S3 credentials come from the usual AWS environment variables (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``), the region from
``AWS_REGION`` or ``AWS_DEFAULT_REGION``, and the endpoint from ``endpoint_url`` or
``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` (S3-compatible stores such as MinIO).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:
    import pyarrow.fs

__all__ = ["resolve", "join", "is_local", "atomic_output", "temporary_name"]


def resolve(uri: str | os.PathLike, endpoint_url: str | None = None) -> tuple[pyarrow.fs.FileSystem, str]:
    """The pyarrow filesystem of ``uri`` and the path on it (no scheme, no trailing slash).

    >>> import tempfile
    >>> fs, path = resolve(tempfile.gettempdir())
    >>> type(fs).__name__, os.path.isabs(path)
    ('LocalFileSystem', True)
    """
    import pyarrow.fs as pafs

    text = os.fspath(uri)
    scheme = urlparse(text).scheme
    if endpoint_url is not None and scheme != "s3":
        raise ValueError(f"endpoint_url is for s3:// locations; got {text!r}")
    if scheme == "s3":
        return _s3(endpoint_url), text[len("s3://"):].rstrip("/")
    if scheme in ("", "file") or len(scheme) == 1:  # a plain path (or a Windows drive letter)
        local = text[len("file://"):] if scheme == "file" else text
        return pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(local))
    try:
        fs, path = pafs.FileSystem.from_uri(text)
    except (ValueError, OSError) as error:
        raise ValueError(f"unsupported location {text!r}: {error}") from None
    return fs, path.rstrip("/")


def _s3(endpoint_url: str | None) -> pyarrow.fs.S3FileSystem:
    """An S3 filesystem configured from the environment (no region probing: pyarrow's
    ``from_uri`` would ask the bucket for its region over the network).

    Keys found in the environment are set on the filesystem, so that Ray workers, which get it
    pickled and may run on other machines, use the same ones; without them each worker uses the
    AWS default chain (profile, instance role).
    """
    import pyarrow.fs as pafs

    options = {}
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        options.update(access_key=os.environ["AWS_ACCESS_KEY_ID"],
                       secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                       session_token=os.environ.get("AWS_SESSION_TOKEN"))
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        options["region"] = region
    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"endpoint_url must look like http(s)://host:port; got {endpoint!r}")
        options.update(endpoint_override=parsed.netloc, scheme=parsed.scheme)
    return pafs.S3FileSystem(**options)


def join(*parts: str) -> str:
    """Join path parts with ``/`` (pyarrow paths use it on every platform)."""
    return posixpath.join(*parts)


def is_local(filesystem: pyarrow.fs.FileSystem) -> bool:
    """Whether ``filesystem`` is this machine's, where a rename is atomic."""
    return filesystem.type_name == "local"


def temporary_name(path: str) -> str:
    """A hidden name beside ``path`` for writing it before the rename: pyarrow, pandas and Ray
    Data skip names starting with ``.``, and it does not end like ``path``.

    >>> temporary_name("out/part-00001-ab.parquet").startswith("out/.part-00001-ab.parquet.")
    True
    """
    folder, name = posixpath.split(path)
    return posixpath.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.tmp")


@contextlib.contextmanager
def atomic_output(filesystem: pyarrow.fs.FileSystem, path: str) -> Iterator[pyarrow.NativeFile]:
    """A stream that appears at ``path`` whole or not at all.

    On a local filesystem it is written under :func:`temporary_name` and renamed when the block
    ends (and removed if the block raises); an object store makes an object visible only when
    its upload completes, so there it is written in place.

    >>> import pyarrow.fs, tempfile
    >>> root = tempfile.mkdtemp()
    >>> with atomic_output(pyarrow.fs.LocalFileSystem(), f"{root}/a.txt") as stream:
    ...     _ = stream.write(b"whole")
    >>> os.listdir(root)
    ['a.txt']
    """
    if not is_local(filesystem):
        with filesystem.open_output_stream(path) as stream:
            yield stream
        return
    temporary = temporary_name(path)
    try:
        with filesystem.open_output_stream(temporary) as stream:
            yield stream
        filesystem.move(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            filesystem.delete_file(temporary)
        raise
