"""The lease on a destination folder: one preprocessing run writes to it at a time.

The lease is a small JSON file, ``_lease.json``, naming the run (its id and plan), the process
holding it (host, pid) and when it expires; the holder renews it while it runs. It is held while
the holder's process lives (on the same host) or, seen from another host, until it expires. A run
that is interrupted marks it released; one that is killed leaves it to lapse. Either way the
lease stays, naming the unfinished run, until a run with ``resume`` takes it over (same run id)
or one with ``overwrite`` removes that run's files. A finished run deletes it after writing the
manifest.

On a local folder the lease is created atomically (a hard link, which fails if the name is
taken); on an object store it is written and read back, which is enough to refuse a run started
by hand while another is going, not two started in the same instant.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from .storage import atomic_output, is_local, join, temporary_name

if TYPE_CHECKING:
    import pyarrow.fs

__all__ = ["LEASE", "Lease", "LeaseHeldError", "read_lease", "is_held", "held_error"]

LEASE = "_lease.json"
DURATION = 60.0  # seconds a lease lasts unless renewed; renewed every third of it


class LeaseHeldError(FileExistsError):
    """Another run holds the lease on the destination."""


def read_lease(filesystem: pyarrow.fs.FileSystem, root: str) -> dict[str, Any] | None:
    """The lease in ``root``, or ``None`` if there is none."""
    try:
        with filesystem.open_input_stream(join(root, LEASE)) as stream:
            return json.loads(stream.read())
    except FileNotFoundError:
        return None


def held_error(root: str, lease: dict[str, Any] | None) -> LeaseHeldError:
    """The error refusing a run into ``root``, whose lease ``lease`` another run holds.

    >>> print(held_error("out", {"run_id": "ab12", "pid": 7, "host": "n1"}))
    destination out is being written by run ab12 (pid 7 on n1); wait for it to finish, or choose another folder
    """
    holder = "another run" if lease is None else f"run {lease['run_id']} (pid {lease['pid']} on {lease['host']})"
    return LeaseHeldError(f"destination {root} is being written by {holder}; wait for it to finish, or "
                          f"choose another folder")


def is_held(lease: dict[str, Any]) -> bool:
    """Whether the run that wrote ``lease`` is still going.

    >>> is_held({"host": socket.gethostname(), "pid": os.getpid(), "expires": 0, "released": False})
    True
    >>> is_held({"host": "elsewhere", "pid": 1, "expires": 0, "released": False})
    False
    """
    if lease.get("released"):
        return False
    if lease.get("host") == socket.gethostname():
        return _alive(lease["pid"])
    return time.time() < lease["expires"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class Lease:
    """The lease of run ``run_id`` (with its ``plan``) on ``root``, renewed in the background
    from :meth:`acquire` until :meth:`release`.

    >>> import pyarrow.fs, tempfile
    >>> root = tempfile.mkdtemp()
    >>> lease = Lease(pyarrow.fs.LocalFileSystem(), root, "ab12", {"files": 3})
    >>> lease.acquire()
    >>> read_lease(pyarrow.fs.LocalFileSystem(), root)["run_id"]
    'ab12'
    >>> lease.release(finished=True)
    >>> read_lease(pyarrow.fs.LocalFileSystem(), root) is None
    True
    """

    def __init__(self, filesystem: pyarrow.fs.FileSystem, root: str, run_id: str, plan: dict[str, Any]) -> None:
        self.filesystem = filesystem
        self.root = root
        self.run_id = run_id
        self.plan = plan
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self, *, replacing: dict[str, Any] | None = None) -> None:
        """Take the lease: create it, or replace ``replacing``, a lease that is no longer held.
        Raise :class:`LeaseHeldError` if another run holds it."""
        if replacing is None:
            self._create()
        else:
            self._write()
        time.sleep(0 if is_local(self.filesystem) and replacing is None else 0.2)
        current = read_lease(self.filesystem, self.root)
        if current is None or (current["run_id"], current["pid"], current["host"]) != (
                self.run_id, os.getpid(), socket.gethostname()):
            raise held_error(self.root, current)
        self._renewer = threading.Thread(target=self._renew, name="augkit-lease", daemon=True)
        self._renewer.start()

    def release(self, *, finished: bool) -> None:
        """Stop renewing; delete the lease if the run ``finished``, else mark it released, so
        that the unfinished run can be resumed at once."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        if finished:
            self.filesystem.delete_file(join(self.root, LEASE))
        else:
            self._write(released=True)

    def _payload(self, released: bool = False) -> bytes:
        return json.dumps({
            "run_id": self.run_id, "host": socket.gethostname(), "pid": os.getpid(),
            "expires": time.time() + DURATION, "released": released, "plan": self.plan,
        }).encode()

    def _write(self, released: bool = False) -> None:
        with atomic_output(self.filesystem, join(self.root, LEASE)) as stream:
            stream.write(self._payload(released))

    def _create(self) -> None:
        path = join(self.root, LEASE)
        if not is_local(self.filesystem):
            current = read_lease(self.filesystem, self.root)
            if current is not None:
                raise held_error(self.root, current)
            self._write()
            return
        temporary = temporary_name(path)
        with open(temporary, "wb") as file:
            file.write(self._payload())
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise held_error(self.root, read_lease(self.filesystem, self.root)) from None
        finally:
            os.unlink(temporary)

    def _renew(self) -> None:
        while not self._stop.wait(DURATION / 3):
            with contextlib.suppress(OSError):  # a missed renewal is retried; the lease lasts
                self._write()
