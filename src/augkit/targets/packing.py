"""Packed rows: the boxes or keypoint groups of a batch as one tensor with per-image offsets."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import torch

__all__ = ["Packed", "check_canvas", "host_values", "kept_offsets", "to_float_tensor", "to_tensor"]

P = TypeVar("P", bound="Packed")


def to_tensor(value: Any, name: str) -> torch.Tensor:
    """A tensor, array or nested list as a tensor (arrays without a copy)."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"{name} must be a tensor, an array or a list of numbers; got {type(value).__name__}") from error


_NUMPY_READABLE = frozenset({torch.float16, torch.float32, torch.float64, torch.uint8, torch.int8, torch.int16,
                             torch.int32, torch.int64, torch.bool})


def host_values(t: torch.Tensor) -> Any:
    """The values of a CPU tensor for a check on the host: a NumPy view where NumPy has the dtype
    (a check of a few rows costs a microsecond or two there, several times less than in torch),
    else the tensor itself; both take the same comparisons, ``any()`` and indexing."""
    return t.detach().numpy() if t.dtype in _NUMPY_READABLE else t


def to_float_tensor(value: Any, name: str) -> torch.Tensor:
    """:func:`to_tensor`, with integers as float32 and NaN refused."""
    t = to_tensor(value, name)
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name} must hold real numbers; got dtype {t.dtype}")
    if not t.is_floating_point():
        t = t.to(torch.float32)
    if t.device.type == "cpu" and bool(((values := host_values(t)) != values).any()):  # NaN
        raise ValueError(f"{name} contains NaN")
    return t


def check_canvas(size: Any, name: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be (height, width); got {size!r}") from error
    if h < 1 or w < 1:
        raise ValueError(f"{name} must be positive; got {size!r}")
    return h, w


def kept_offsets(image: torch.Tensor, keep: torch.Tensor, num_images: int) -> torch.Tensor:
    """The ``(B + 1,)`` offsets of the rows that ``keep`` keeps, given the ``image`` of each row."""
    kept = torch.zeros(num_images, dtype=torch.int64, device=keep.device)
    kept.index_add_(0, image, keep.to(torch.int64))
    return torch.cat([kept.new_zeros(1), kept.cumsum(0)])


@dataclass(frozen=True, eq=False)
class Packed:
    """Rows of one image, or of a batch packed with ``offsets`` ``(B + 1,)``: the rows of image
    ``i`` are ``data[offsets[i]:offsets[i + 1]]``."""

    data: torch.Tensor
    offsets: torch.Tensor | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if self.offsets is None:
            return
        offsets = to_tensor(self.offsets, "offsets").to(device=self.data.device, dtype=torch.int64)
        if offsets.ndim != 1 or len(offsets) < 2:
            raise ValueError(f"offsets must be a (B + 1,) tensor; got shape {tuple(offsets.shape)}")
        if offsets.device.type == "cpu" and (int(offsets[0]) != 0 or int(offsets[-1]) != len(self.data)
                                             or bool((offsets.diff() < 0).any())):
            raise ValueError(f"offsets must rise from 0 to the number of rows ({len(self.data)}); "
                             f"got {offsets.tolist()}")
        object.__setattr__(self, "offsets", offsets)

    @staticmethod
    def _pack(rows: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        if not rows:
            raise ValueError("a batch needs at least one image's rows; got an empty list")
        counts = torch.tensor([len(r) for r in rows], dtype=torch.int64)
        offsets = torch.cat([counts.new_zeros(1), counts.cumsum(0)]).to(rows[0].device)
        return torch.cat(list(rows)), offsets

    def derived(self: P, **changes: Any) -> P:
        """A copy with ``changes``, for results computed from checked rows: not checked again."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__, **changes)
        return copy

    def __len__(self) -> int:
        return len(self.data)

    @property
    def batched(self) -> bool:
        return self.offsets is not None

    @property
    def num_images(self) -> int:
        return 1 if self.offsets is None else len(self.offsets) - 1

    @property
    def counts(self) -> torch.Tensor:
        """The number of rows of each image, ``(B,)``."""
        if self.offsets is None:
            return torch.tensor([len(self.data)], device=self.data.device)
        return self.offsets.diff()

    def image_index(self) -> torch.Tensor:
        """The image of each row, ``(N,)`` (no host sync: the total is the number of rows)."""
        if self.offsets is None:
            return torch.zeros(len(self.data), dtype=torch.int64, device=self.data.device)
        images = torch.arange(self.num_images, device=self.data.device)
        return torch.repeat_interleave(images, self.counts, output_size=len(self.data))

    def to_list(self) -> list[torch.Tensor]:
        """One tensor per image (reads the offsets on the host)."""
        if self.offsets is None:
            return [self.data]
        return list(self.data.split(self.counts.tolist()))

    def to_padded(self, fill: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, max_rows, ...)`` rows with ``fill`` in the padding, and the ``(B, max_rows)``
        bool mask of real rows (reads the largest count on the host)."""
        counts = self.counts
        longest = int(counts.max()) if len(counts) else 0
        index = self.image_index()
        position = torch.arange(len(self.data), device=self.data.device) - (self.offsets[index] if self.batched else 0)
        padded = self.data.new_full((self.num_images, longest, *self.data.shape[1:]), fill)
        padded[index, position] = self.data
        valid = torch.zeros(self.num_images, longest, dtype=torch.bool, device=self.data.device)
        valid[index, position] = True
        return padded, valid

    def _select_rows(self: P, keep: torch.Tensor, offsets: torch.Tensor | None = None, **fields: Any) -> P:
        """Only the rows where ``keep`` is true (the one place where a batch's row count changes);
        ``offsets``: the kept rows' offsets (:func:`kept_offsets`) when the caller has them."""
        if offsets is None and self.offsets is not None:
            offsets = kept_offsets(self.image_index(), keep, self.num_images)
        return self.derived(data=self.data[keep], offsets=offsets, **fields)

    def to(self: P, device: torch.device | str) -> P:
        """The same rows on ``device``."""
        moved = {f.name: getattr(self, f.name).to(device) for f in dataclasses.fields(self)
                 if isinstance(getattr(self, f.name), torch.Tensor)}
        return self.derived(**moved)
