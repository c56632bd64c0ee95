"""Helpers shared by the kernel modules of :mod:`augkit.functional`."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Union

import cv2
import numpy as np
import stringzilla
import torch
import torch.nn.functional as F

from .convert import max_value

__all__ = ["PerSample", "broadcast_per_sample", "cast_result", "cast_result_numpy", "channels", "lookup",
           "lookup_planes", "opencv_per_plane", "pad2d", "pair", "per_sample", "require_channels", "split_planes", "through_tensor",
           "to_work", "work_dtype"]

PerSample = Union[float, torch.Tensor]
"""A number, or a ``(1,)``/``(B,)`` tensor holding one value per image."""


def pair(size: int | Sequence[int]) -> tuple[int, int]:
    """``(height, width)`` from one number (a square) or a pair.

    >>> pair(3), pair((2, 5))
    ((3, 3), (2, 5))
    """
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    return int(size[0]), int(size[-1])


def work_dtype(dtype: torch.dtype) -> torch.dtype:
    """The float dtype kernels compute in: float64 for float64 images, float32 otherwise.

    >>> work_dtype(torch.uint8)
    torch.float32
    """
    return torch.float64 if dtype == torch.float64 else torch.float32


def to_work(x: torch.Tensor) -> torch.Tensor:
    """``x`` as a float tensor in its own value range (integers keep their values), in its work dtype."""
    return x if x.dtype in (torch.float32, torch.float64) else x.to(work_dtype(x.dtype))


def cast_result(y: torch.Tensor, dtype: torch.dtype, clamp: bool = True) -> torch.Tensor:
    """A float result on the scale of ``dtype`` back to ``dtype``: integers rounded and clamped to
    their range, floats clamped to ``[0, 1]`` unless ``clamp`` is false (results in range by
    construction skip the pass). ``y`` is a result the caller owns: it is changed in place.

    >>> cast_result(torch.tensor([-3.0, 7.5, 300.0]), torch.uint8).tolist()
    [0, 8, 255]
    """
    if dtype.is_floating_point:
        return (y.clamp_(0.0, 1.0) if clamp else y).to(dtype)
    y = y.round_().clamp_(0, max_value(dtype))
    return y.to(torch.int32).to(dtype) if dtype == torch.uint16 else y.to(dtype)


def cast_result_numpy(y: np.ndarray, dtype: np.dtype, clamp: bool = True) -> np.ndarray:
    """:func:`cast_result` for a float32 array ``y`` (changed in place).

    >>> cast_result_numpy(np.float32([-3.0, 7.5, 300.0]), np.dtype(np.uint8)).tolist()
    [0, 8, 255]
    """
    if dtype.kind == "f":
        return (np.clip(y, 0.0, 1.0, out=y) if clamp else y).astype(dtype, copy=False)
    return np.clip(np.rint(y, out=y), 0, max_value(dtype), out=y).astype(dtype)


def per_sample(value: PerSample, n: int, device: torch.device | str, dtype: torch.dtype) -> torch.Tensor:
    """A per-sample argument (a number or a ``(1,)``/``(n,)`` tensor) as an ``(n,)`` tensor.

    >>> per_sample(0.5, 3, "cpu", torch.float32).tolist()
    [0.5, 0.5, 0.5]
    """
    t = torch.as_tensor(value, device=device, dtype=dtype).reshape(-1)
    return t.expand(n) if t.numel() == 1 else t


def broadcast_per_sample(value: PerSample, x: torch.Tensor, dtype: torch.dtype | None = None) -> PerSample:
    """A number, or a ``(1,)``/``(B,)`` tensor shaped to broadcast over the ``(..., C, H, W)`` batch ``x``.

    ``dtype`` defaults to the work dtype of ``x``.

    >>> broadcast_per_sample(torch.tensor([1.0, 2.0]), torch.zeros(2, 3, 4, 4)).shape
    torch.Size([2, 1, 1, 1])
    """
    if not isinstance(value, torch.Tensor):
        return float(value)
    value = value.to(x.device, dtype or work_dtype(x.dtype))
    lead = x.shape[:-3]
    if value.numel() == 1:
        return value.reshape((1,) * len(lead) + (1, 1, 1))
    if value.numel() != math.prod(lead):
        raise ValueError(f"got {value.numel()} per-sample values for a batch of shape {tuple(x.shape)}")
    return value.reshape(*lead, 1, 1, 1)


def channels(x: torch.Tensor | np.ndarray) -> int:
    """The channel count of a CHW/BCHW tensor or an HW/HWC array."""
    if isinstance(x, torch.Tensor):
        return x.shape[-3]
    return 1 if x.ndim == 2 else x.shape[2]


def require_channels(x: torch.Tensor | np.ndarray, op: str, allowed: tuple[int, ...] = (1, 3)) -> None:
    """Refuse an image whose channel count is not in ``allowed``, naming ``op``.

    >>> require_channels(np.zeros((2, 2, 4)), "adjust_hue", (3,))
    Traceback (most recent call last):
    ValueError: adjust_hue expects 3-channel images; got 4 channel(s)
    """
    count = channels(x)
    if count not in allowed:
        expected = " or ".join(str(c) for c in allowed)
        raise ValueError(f"{op} expects {expected}-channel images; got {count} channel(s)")


def lookup(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table[x]`` for a uint8 array and a 256-entry uint8 table: a byte translation, faster than
    ``cv2.LUT`` at 224-1024 px (the benchmark's "uint8 table lookup" rows).

    >>> lookup(np.uint8([[0, 2]]), np.arange(256, dtype=np.uint8)[::-1].copy()).tolist()
    [[255, 253]]
    """
    out = np.array(x, order="C")
    stringzilla.translate(memoryview(out.reshape(-1)), memoryview(table), inplace=True)
    return out


def lookup_planes(x: torch.Tensor, tables: np.ndarray) -> torch.Tensor:
    """``tables[p][x[p]]`` for every ``(H, W)`` plane ``p`` of the uint8 CPU tensor ``x`` (leading
    dims flattened) and a ``(planes, 256)`` uint8 table, or ``(images, 256)``: one table per image,
    for all its channels. Byte translations of one copy: no layout change, no float pass.

    >>> lookup_planes(torch.tensor([[[0, 2]], [[1, 3]]], dtype=torch.uint8),
    ...               np.stack([np.arange(256, dtype=np.uint8), np.arange(256, dtype=np.uint8)[::-1]])).tolist()
    [[[0, 2]], [[254, 252]]]
    """
    if not x.numel():
        return x.clone()
    out = x.contiguous().numpy().reshape(-1, x.shape[-2] * x.shape[-1]).copy()
    tables = np.ascontiguousarray(tables, dtype=np.uint8).reshape(-1, 256)
    if len(out) % len(tables):
        raise ValueError(f"got {len(tables)} lookup tables for {len(out)} planes")
    per_image = len(out) // len(tables)
    for p, plane in enumerate(out):
        stringzilla.translate(memoryview(plane), memoryview(tables[p // per_image]), inplace=True)
    return torch.from_numpy(out).reshape(x.shape)


def split_planes(x: np.ndarray) -> list[np.ndarray]:
    """The channels of an HW/HWC array as contiguous HW planes (fast per-channel reductions)."""
    return list(cv2.split(x)) if x.ndim == 3 and x.shape[2] > 1 else [x.reshape(x.shape[:2])]


def _border_index(n: int, before: int, after: int, mode: str, device: torch.device) -> torch.Tensor:
    """Source indices for padding a length-``n`` axis (any amount), OpenCV border semantics."""
    i = torch.arange(-before, n + after, device=device)
    if mode == "replicate" or n == 1:
        return i.clamp(0, n - 1)
    period = 2 * (n - 1)  # reflect-101
    i = i.abs().remainder(period)
    return torch.where(i >= n, period - i, i)


def pad2d(x: torch.Tensor, top: int, bottom: int, left: int, right: int, mode: str) -> torch.Tensor:
    """Pad the last two dims with ``"reflect"`` (reflect-101, OpenCV's default) or
    ``"replicate"`` borders, by any amount.

    >>> pad2d(torch.tensor([[[1, 2, 3]]]), 0, 0, 2, 1, "reflect").tolist()
    [[[3, 2, 1, 2, 3, 2]]]
    """
    h, w = x.shape[-2:]
    fits = mode == "replicate" or (max(top, bottom) < h and max(left, right) < w)
    if fits and x.dtype != torch.uint16 and x.numel():  # torch's own padding is much faster
        return F.pad(x.reshape(-1, h, w), (left, right, top, bottom), mode=mode).reshape(
            *x.shape[:-2], h + top + bottom, w + left + right)
    if top or bottom:
        x = x.index_select(-2, _border_index(h, top, bottom, mode, x.device))
    if left or right:
        x = x.index_select(-1, _border_index(w, left, right, mode, x.device))
    return x


def opencv_per_plane(x: torch.Tensor, kernel: Callable[[np.ndarray, np.ndarray, int], Any],
                     size: tuple[int, int] | None = None) -> torch.Tensor:
    """Call ``kernel(src, dst, p)`` on every ``(H, W)`` plane ``p`` of the CPU tensor ``x``
    (leading dims flattened); ``kernel`` writes its result into ``dst``, a plane of the returned
    tensor, of ``size`` (default: the input's). No layout change: an OpenCV backend of a tensor
    row for per-channel ops.

    >>> import cv2
    >>> opencv_per_plane(torch.zeros(2, 3, 4, dtype=torch.uint8), lambda s, d, p: cv2.add(s, p, dst=d))[1, 0].tolist()
    [1, 1, 1, 1]
    """
    src = x.contiguous().reshape(-1, *x.shape[-2:]).numpy()
    size = tuple(size or x.shape[-2:])
    dst = np.empty((len(src), *size), src.dtype)
    for p in range(len(src)):
        kernel(src[p], dst[p], p)
    return torch.from_numpy(dst).reshape(*x.shape[:-2], *size)


def through_tensor(x: np.ndarray, kernel: Callable[..., torch.Tensor], *args: Any) -> np.ndarray:
    """Run the tensor ``kernel(chw, *args)`` on an HW/HWC array, for the cases OpenCV does not
    cover or computes differently: the planes split and merged by OpenCV (a contiguous CHW
    tensor, so the kernel's C backend takes it where it is built).

    >>> through_tensor(np.ones((2, 3), np.uint8), lambda t: t * 2).tolist()
    [[2, 2, 2], [2, 2, 2]]
    """
    if x.ndim == 2 or x.shape[2] == 1:
        planes = np.require(x.reshape(1, *x.shape[:2]), requirements=("C", "W"))  # PIL arrays are read-only
        out = kernel(torch.from_numpy(planes), *args).numpy()
        return out.reshape(*out.shape[1:], *x.shape[2:])
    out = kernel(torch.from_numpy(np.stack(cv2.split(x))), *args).numpy()
    return cv2.merge(list(out))
