"""Sub-commands of the ``augkit`` command line (see :mod:`augkit.cli`).

Each module here has ``configure(subparsers)``, which adds its sub-parser and sets ``run`` (a
function of the parsed arguments returning the exit status) as a default. A command reports a
failure the user can fix (missing file, bad spec) by raising :class:`CommandError`.
"""

from __future__ import annotations

__all__ = ["CommandError"]


class CommandError(Exception):
    """A failure caused by the command's input; printed without a traceback, exit status 1."""
