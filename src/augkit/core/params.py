"""Sampled parameters as data.

Every transform draws its random parameters into a small frozen dataclass whose tensor fields
have a leading dimension ``n`` (one row per image). Parameters can be indexed, moved between
devices and replayed: ``t.apply(image, params)`` reproduces a call exactly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

import torch

__all__ = ["Params"]

P = TypeVar("P", bound="Params")


def _map(value: Any, fn) -> Any:
    if isinstance(value, torch.Tensor):
        return fn(value)
    if isinstance(value, Params):
        return value._map(fn)
    if isinstance(value, tuple):
        return tuple(_map(v, fn) for v in value)
    return value


@dataclass(frozen=True, kw_only=True)
class Params:
    """Base of all parameter records.

    ``applied`` is a bool tensor of shape ``(n,)`` saying which images the transform acts on
    (drawn from the probability ``p``), or ``None`` when it acts on all of them.
    Subclasses add fields; tensors among them have a leading dimension ``n``.

    >>> import torch
    >>> params = Params(applied=torch.tensor([True, False, True]))
    >>> params[torch.tensor([0, 2])].applied.tolist()
    [True, True]
    """

    applied: torch.Tensor | None = None

    def _map(self: P, fn) -> P:
        return dataclasses.replace(
            self, **{f.name: _map(getattr(self, f.name), fn) for f in dataclasses.fields(self)}
        )

    def __getitem__(self: P, index: Any) -> P:
        """The parameters of the images selected by ``index`` (an int keeps the dimension)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return self._map(lambda t: t[index])

    def to(self: P, device: torch.device | str) -> P:
        """The same parameters on ``device`` (copied asynchronously where possible)."""
        return self._map(lambda t: t.to(device, non_blocking=True))

    def expand(self: P, n: int) -> P:
        """Parameters of one image repeated for ``n`` images (views, no copy)."""
        return self._map(lambda t: t.expand(n, *t.shape[1:]))
