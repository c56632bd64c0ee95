"""The median filter: ``cv2.medianBlur`` semantics (replicate borders, per channel) on every kind.

Backends (``augkit list --kernels``): CPU tensors that need no gradient run ``cv2.medianBlur`` on
every ``(H, W)`` plane (``"opencv"``), 15 to 100 times faster than the torch network on a
224x224 RGB photo; other devices take the ``"torch"`` backend, a median selection network of
elementwise min/max on shifted views of the whole batch. Both give the same pixels (the median is
exact). OpenCV takes uint16 and float32 only up to 5x5: larger windows on them run the network,
in the array kernel and the opencv backend alike.
"""

from __future__ import annotations

import functools
import itertools

import cv2
import numpy as np
import torch

from ..core.kernels import backend, numpy_kernel, op, tensor_kernel, when
from ..core.validation import check_kernel_size
from ._utils import opencv_per_plane, pad2d, through_tensor

__all__ = ["median_blur", "median_blur_tensor", "median_blur_numpy"]


def _window(kernel_size: int) -> int:
    k = check_kernel_size(kernel_size)
    if not isinstance(k, int):
        raise TypeError(f"kernel_size must be an int (square window); got {kernel_size!r}")
    return k


def _median_network(x: torch.Tensor, k: int) -> torch.Tensor:
    """The ``k`` x ``k`` median (``k > 1``) of a ``(..., H, W)`` tensor by the selection network:
    sort every vertical run of ``k`` pixels once, then select the median of each window from its
    ``k`` sorted columns."""
    values = x.to(torch.int32) if x.dtype == torch.uint16 else x  # few uint16 min/max kernels
    h, w = x.shape[-2:]
    r = k // 2
    padded = pad2d(values, r, r, r, r, "replicate")
    column_network, window_network = _median_networks(k)
    ranks = _run_network([padded[..., i:i + h, :] for i in range(k)], column_network)
    wires = [ranks[i % k][..., i // k:i // k + w] if ranks[i % k] is not None else None for i in range(k * k)]
    return _run_network(wires, window_network)[k * k // 2].to(x.dtype)


@tensor_kernel("median_blur")
def median_blur_tensor(x: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Median over a ``kernel_size`` x ``kernel_size`` window (odd), replicate borders, per channel;
    equal to ``cv2.medianBlur``. The backends are in the module doc.

    >>> median_blur_tensor(torch.tensor([[[0, 0, 0], [0, 9, 0], [5, 5, 5]]], dtype=torch.uint8), 3).tolist()
    [[[0, 0, 0], [0, 0, 0], [5, 5, 5]]]
    """
    k = _window(kernel_size)
    return x.clone() if k == 1 else _median_network(x, k)


def _opencv_takes(uint8: bool, k: int) -> bool:
    """Whether ``cv2.medianBlur`` takes a ``k`` x ``k`` window (uint8: any; else up to 5x5)."""
    return uint8 or k <= 5


@backend("median_blur", "tensor", "opencv",
         when(device="cpu", dtypes=(torch.uint8, torch.uint16, torch.float32), plain=True))
def _median_blur_opencv(x: torch.Tensor, kernel_size: int) -> torch.Tensor:
    k = _window(kernel_size)
    if k == 1:
        return x.clone()
    if not _opencv_takes(x.dtype == torch.uint8, k):
        return _median_network(x, k)
    return opencv_per_plane(x, lambda src, dst, p: cv2.medianBlur(src, k, dst=dst))


Network = tuple[tuple[int, int, bool, bool], ...]


def _run_network(wires: list, network: Network) -> list:
    """Apply comparators ``(i, j, min_used, max_used)``: wire ``i`` gets the min, ``j`` the max."""
    wires = list(wires)
    for i, j, min_used, max_used in network:
        low = torch.minimum(wires[i], wires[j]) if min_used else None
        if max_used:
            wires[j] = torch.maximum(wires[i], wires[j])
        wires[i] = low
    return wires


def _odd_even_merge_sort(n: int) -> list[tuple[int, int]]:
    """Batcher's odd-even merge sorting network on ``n`` wires, as ``(low, high)`` comparators."""
    pairs, p = [], 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


def _keep_used(pairs: list[tuple[int, int]], outputs: set[int]) -> Network:
    """The comparators that the ``outputs`` wires depend on, each marked with which of its results
    (min, max) is used later."""
    used, kept = set(outputs), []
    for i, j in reversed(pairs):
        if i in used or j in used:
            kept.append((i, j, i in used, j in used))
            used |= {i, j}
    return tuple(reversed(kept))


@functools.lru_cache(maxsize=None)
def _median_networks(k: int) -> tuple[Network, Network]:
    """The two comparator networks of the ``k`` x ``k`` median: one sorting a column of ``k``
    pixels, one taking the median of ``k`` sorted columns (wire ``c * k + r`` is rank ``r`` of
    column ``c``). The second is a sorting network pruned of comparators that never swap on
    sorted columns (checked on every 0/1 input, which by the 0-1 principle covers all inputs,
    when there are few enough of them) and of those the median does not depend on."""
    n = k * k
    pairs = _odd_even_merge_sort(n)
    if (k + 1) ** k <= 100_000:
        ones = np.array(list(itertools.product(range(k + 1), repeat=k)))  # ones in each column
        bits = (np.arange(k) >= k - ones[:, :, None]).reshape(len(ones), n)
        swapping = []
        for i, j in pairs:
            if (bits[:, i] & ~bits[:, j]).any():
                bits[:, i], bits[:, j] = bits[:, i] & bits[:, j], bits[:, i] | bits[:, j]
                swapping.append((i, j))
        pairs = swapping
    window = _keep_used(pairs, {n // 2})
    ranks = {wire % k for comparator in window for wire in comparator[:2]}
    return _keep_used(_odd_even_merge_sort(k), ranks), window


@numpy_kernel("median_blur")
def median_blur_numpy(x: np.ndarray, kernel_size: int) -> np.ndarray:
    """Median filter of an HW/HWC array (``cv2.medianBlur``), like the tensor kernel."""
    k = _window(kernel_size)
    if k == 1:
        return x.copy()
    if _opencv_takes(x.dtype == np.uint8, k):
        return cv2.medianBlur(x, k)
    return through_tensor(x, _median_network, k)


median_blur = op("median_blur")
