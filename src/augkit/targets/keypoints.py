"""``Keypoints``: groups of K points (one group per object) with a visibility per point."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..functional.points import transform_points
from .packing import Packed, check_canvas, to_float_tensor, to_tensor

__all__ = ["Keypoints"]

_warned: set[tuple[str, ...]] = set()


def _flip_permutation(flip_map: Any, k: int) -> tuple[int, ...]:
    """A flip map given as pairs ``[(left, right), ...]`` or as a permutation of ``range(k)``."""
    items = list(flip_map)
    if items and all(isinstance(v, Sequence) and len(v) == 2 for v in items):
        perm = list(range(k))
        for a, b in items:
            if not (0 <= a < k and 0 <= b < k):
                raise ValueError(f"keypoints flip_map pair {(a, b)} is outside 0..{k - 1}")
            perm[a], perm[b] = b, a
    else:
        perm = [int(v) for v in items]
    if sorted(perm) != list(range(k)):
        raise ValueError(f"keypoints flip_map must be pairs of indices or a permutation of 0..{k - 1}; got {flip_map!r}")
    return tuple(perm)


def _pairs_from_names(names: Sequence[str]) -> tuple[int, ...] | None:
    """The left/right permutation from names such as ``left_eye`` / ``right_eye``."""
    perm = list(range(len(names)))
    index = {n: i for i, n in enumerate(names)}
    found = False
    for i, name in enumerate(names):
        for a, b in (("left", "right"), ("right", "left"), ("Left", "Right"), ("Right", "Left"), ("l_", "r_"), ("r_", "l_")):
            if a in name and name.replace(a, b) in index:
                perm[i] = index[name.replace(a, b)]
                found = True
                break
    return tuple(perm) if found else None


@dataclass(frozen=True, eq=False, kw_only=True)
class Keypoints(Packed):
    """Keypoints ``(N, K, 2)`` (x, y in the continuous pixel coordinates of boxes: the centre of
    pixel ``(i, j)`` is ``(j + 0.5, i + 0.5)``, as in COCO and detectron2) of N objects
    with K points each, with a ``(N, K)`` ``visibility``; a batch packs the groups of all images
    with ``offsets``, like :class:`Boxes`.

    Args:
        data: ``(N, K, 2)`` points, or ``(N, K, 3)`` with the visibility as the last value
            (COCO's ``v``: 0 not labelled, 1 occluded, 2 visible).
        visibility: ``(N, K)``; all 1 when not given. Points that a transform moves out of the
            image keep their coordinates and get visibility 0: they are never dropped.
        canvas_size: ``(height, width)`` of the image (a sample fills it in).
        flip_map: which points swap under a mirror image (a flip, or any transform that
            reflects): pairs ``[(left, right), ...]`` or a permutation of the K indices.
        names: the K point names; when no ``flip_map`` is given, it is read from names with
            ``left``/``right`` in them (COCO's ``left_eye``/``right_eye``).

    >>> kp = Keypoints([[[10.0, 5.0], [20.0, 5.0]]], canvas_size=(32, 32), flip_map=[(0, 1)])
    >>> kp.visibility.tolist()
    [[1.0, 1.0]]
    """

    visibility: torch.Tensor | None = None
    canvas_size: tuple[int, int] | None = None
    flip_map: Any = None
    names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        data = to_float_tensor(self.data, "keypoints")
        if data.ndim != 3 or data.shape[-1] not in (2, 3):
            raise ValueError(f"keypoints must have shape (N, K, 2) or (N, K, 3) with a visibility; "
                             f"got {tuple(data.shape)}")
        visibility = self.visibility
        if data.shape[-1] == 3:
            if visibility is not None:
                raise ValueError("keypoints hold a visibility in their last value; do not pass visibility too")
            data, visibility = data[..., :2], data[..., 2]
        visibility = (torch.ones(data.shape[:2], dtype=data.dtype, device=data.device) if visibility is None
                      else to_tensor(visibility, "keypoints visibility").to(data.device))
        if tuple(visibility.shape) != tuple(data.shape[:2]):
            raise ValueError(f"keypoints visibility must have shape {tuple(data.shape[:2])}; got {tuple(visibility.shape)}")
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "visibility", visibility)
        k = data.shape[1]
        if self.names is not None:
            names = tuple(str(n) for n in self.names)
            if len(names) != k:
                raise ValueError(f"keypoints names must name all {k} points; got {len(names)} names")
            object.__setattr__(self, "names", names)
        if self.flip_map is not None:
            object.__setattr__(self, "flip_map", _flip_permutation(self.flip_map, k))
        elif self.names is not None:
            object.__setattr__(self, "flip_map", _pairs_from_names(self.names))
        if self.canvas_size is not None:
            object.__setattr__(self, "canvas_size", check_canvas(self.canvas_size, "keypoints canvas_size"))
        super().__post_init__()

    @classmethod
    def from_list(cls, groups: Sequence[Any], **kwargs: Any) -> Keypoints:
        """A batch from one ``(N_i, K, 2 or 3)`` tensor or array per image."""
        rows = [to_float_tensor(g, f"keypoints[{i}]") for i, g in enumerate(groups)]
        shapes = {tuple(r.shape[1:]) for r in rows}
        if len(shapes) > 1:
            raise ValueError(f"keypoints of every image must have the same (K, 2) or (K, 3) shape; got {sorted(shapes)}")
        data, offsets = cls._pack(rows)
        return cls(data, offsets=offsets, **kwargs)

    def transformed(self, matrix: torch.Tensor, canvas_size: tuple[int, int]) -> Keypoints:
        """The points moved by ``matrix`` (``(B, 3, 3)`` per image, continuous coordinates) onto a
        canvas of ``canvas_size``; points outside it get visibility 0, and left/right points swap
        on images whose matrix reflects."""
        m = matrix[self.image_index()] if len(matrix) > 1 else matrix[0]
        points = transform_points(self.data, m)
        h, w = canvas_size
        x, y = points[..., 0], points[..., 1]
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        visibility = torch.where(inside, self.visibility, torch.zeros_like(self.visibility))
        reflects = torch.linalg.det(m[..., :2, :2]) < 0
        swap = (reflects.expand(len(points)) if reflects.ndim == 0 else reflects).view(-1, 1)
        if self.flip_map is not None:
            perm = torch.tensor(self.flip_map, device=points.device)
            points = torch.where(swap[..., None], points[:, perm], points)
            visibility = torch.where(swap, visibility[:, perm], visibility)
        elif (self.names is not None and any("left" in n.lower() or "right" in n.lower() for n in self.names)
              and swap.device.type == "cpu" and bool(swap.any())):
            self._warn_no_flip_map()
        return self.derived(data=points, visibility=visibility, canvas_size=canvas_size)

    def _warn_no_flip_map(self) -> None:
        if self.names not in _warned:
            _warned.add(self.names)
            warnings.warn("keypoints named left/right have no flip_map, so a mirror image keeps their "
                          "names on the wrong side; pass flip_map=[(left, right), ...]", stacklevel=4)

    def select(self, keep: torch.Tensor, offsets: torch.Tensor | None = None) -> Keypoints:
        """Only the groups where the ``(N,)`` bool ``keep`` is true (offsets follow, or are given)."""
        return self._select_rows(keep, offsets, visibility=self.visibility[keep])

    def with_visibility(self) -> torch.Tensor:
        """The ``(N, K, 3)`` points with the visibility as the last value."""
        return torch.cat([self.data, self.visibility[..., None].to(self.data.dtype)], -1)
