"""Helpers shared by the kernel modules of :mod:`augkit.functional`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["pair"]


def pair(size: int | Sequence[int]) -> tuple[int, int]:
    """``(height, width)`` from one number (a square) or a pair.

    >>> pair(3), pair((2, 5))
    ((3, 3), (2, 5))
    """
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    return int(size[0]), int(size[-1])
