"""Argument checks used by transform constructors; messages name the argument and the value."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import torch

from .image import is_strict

__all__ = ["check_choice", "check_fill", "check_kernel_size", "check_probability", "check_number", "check_range_pair", "check_sequence",
           "value_checks_enabled"]


def value_checks_enabled(tensor: torch.Tensor) -> bool:
    """Whether call-time checks that read the values of ``tensor`` (and so synchronise with its
    device) run: on the CPU, or in strict mode (:func:`augkit.set_strict`), never while compiling."""
    if torch.compiler.is_compiling():
        return False
    return is_strict() or tensor.device.type == "cpu"


def check_number(value: Any, name: str, *, low: float | None = None, high: float | None = None,
                 low_inclusive: bool = True, integer: bool = False) -> Any:
    """Return ``value`` if it is a finite real (an int if ``integer``) within the bounds."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = "an int" if integer else "a number"
        raise TypeError(f"{name} must be {expected}; got {value!r} ({type(value).__name__})")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}")
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    if too_low or (high is not None and value > high):
        lo = "-inf" if low is None else f"{low}"
        bracket = "[" if low_inclusive else "("
        raise ValueError(f"{name} must be in {bracket}{lo}, {'inf' if high is None else high}]; got {value!r}")
    return value


def check_probability(p: Any, name: str = "p") -> float:
    """A probability in ``[0, 1]``, as a float."""
    return float(check_number(p, name, low=0.0, high=1.0))


def check_sequence(value: Any, name: str, length: int | None = None) -> tuple:
    """A list or tuple (of ``length`` items if given), as a tuple."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list or tuple; got {value!r}")
    if length is not None and len(value) != length:
        raise ValueError(f"{name} must have {length} items; got {len(value)}: {value!r}")
    return tuple(value)


def check_range_pair(value: Any, name: str, *, low: float | None = None, high: float | None = None,
                     center: float | None = None) -> tuple[float, float]:
    """A ``(min, max)`` pair; a single number ``v`` means ``(center - v, center + v)`` if
    ``center`` is given. Both ends are checked against ``[low, high]`` and ``min <= max``."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and center is not None:
        check_number(value, name, low=0.0)
        value = (center - value, center + value)
        if low is not None:
            value = (max(value[0], low), value[1])
    pair = check_sequence(value, name, 2)
    lo, hi = (float(check_number(v, f"{name}[{i}]", low=low, high=high)) for i, v in enumerate(pair))
    if lo > hi:
        raise ValueError(f"{name} must be (min, max) with min <= max; got {value!r}")
    return lo, hi


def check_choice(value: Any, name: str, choices: Sequence[str]) -> Any:
    """``value`` if it is one of ``choices``.

    >>> check_choice("area", "interpolation", ("bilinear", "area"))
    'area'
    """
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_fill(fill: Any, name: str = "fill") -> float | tuple[float, ...]:
    """A fill value in ``[0, 1]`` (fractions of white), one number or one per channel."""
    if isinstance(fill, (int, float)) and not isinstance(fill, bool):
        return float(check_number(fill, name, low=0.0, high=1.0))
    values = check_sequence(fill, name)
    if not values:
        raise ValueError(f"{name} must hold at least one value; got []")
    return tuple(float(check_number(v, f"{name}[{i}]", low=0.0, high=1.0)) for i, v in enumerate(values))


def check_kernel_size(value: Any, name: str = "kernel_size") -> int | tuple[int, int]:
    """An odd positive int, or a ``(height, width)`` pair of them.

    >>> check_kernel_size(5), check_kernel_size((3, 7))
    (5, (3, 7))
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        sizes: tuple = (value,)
    else:
        sizes = check_sequence(value, name, 2)
    for i, size in enumerate(sizes):
        check_number(size, name if len(sizes) == 1 else f"{name}[{i}]", low=1, integer=True)
        if size % 2 == 0:
            raise ValueError(f"{name} must be odd; got {value!r}")
    return int(sizes[0]) if len(sizes) == 1 else (int(sizes[0]), int(sizes[1]))


def check_size(size: Any, name: str = "size", *, allow_int: bool = True) -> int | tuple[int, int]:
    """A positive int, or a ``(height, width)`` pair of positive ints (kept as given).

    >>> check_size(224), check_size((224, 320))
    (224, (224, 320))
    """
    if allow_int and isinstance(size, int) and not isinstance(size, bool):
        return check_number(size, name, low=1, integer=True)
    pair = check_sequence(size, name)
    if len(pair) == 1 and allow_int:
        return check_number(pair[0], f"{name}[0]", low=1, integer=True)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a (height, width) pair; got {size!r}")
    return tuple(check_number(v, f"{name}[{i}]", low=1, integer=True) for i, v in enumerate(pair))


def check_padding(padding: Any, name: str = "padding") -> int | tuple[int, ...]:
    """A non-negative int, or 1, 2 or 4 of them (all sides; left/right and top/bottom; each side).

    >>> check_padding((2, 3))
    (2, 3)
    """
    if isinstance(padding, int) and not isinstance(padding, bool):
        return check_number(padding, name, low=0, integer=True)
    values = check_sequence(padding, name)
    if len(values) not in (1, 2, 4):
        raise ValueError(f"{name} must be an int or 1, 2 or 4 ints; got {padding!r}")
    return tuple(check_number(v, f"{name}[{i}]", low=0, integer=True) for i, v in enumerate(values))
