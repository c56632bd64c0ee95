"""Enhancement kernels: denoising filters, CLAHE, thresholding and unsharp masking.

Intensity arguments (``sigma_color``, ``h``, ``threshold``, ``c``, ``max_value``) are on the
``[0, 1]`` scale for every dtype: ``0.3`` means 76.5 grey levels of a uint8 image and 19660.5 of a
uint16 one. Tensor kernels take ``(..., C, H, W)`` tensors and compute in float32 (float64 stays
float64) on the input's scale, then round and clamp integer results. Borders follow OpenCV:
reflect-101 (``dcb|abcd|cba``, torch's ``"reflect"``) for linear filters and the bilateral
filter, replicate for the median and adaptive thresholds.

CPU twins: on CPU tensors that need no gradient, Gaussian blur, the median filter and CLAHE run
OpenCV on every ``(H, W)`` plane (a loop over planes, writing into one output tensor), which is
several times faster than any vectorized torch formulation on the CPU. The twin computes what the
array kernel computes: equal to the torch kernel for the median and CLAHE, within 1 grey level
(OpenCV's fixed-point uint8 arithmetic) or float rounding for the Gaussian. Other devices, float16,
and tensors that require a gradient take the batched torch kernels, which stay vectorized.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any, Union

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..core.kernels import numpy_kernel, op, tensor_kernel
from ._utils import pair
from .colorspace import lab_to_rgb_numpy, lab_to_rgb_tensor, rgb_to_lab_numpy, rgb_to_lab_tensor
from .convert import max_value as white_level
from .convert import to_dtype_numpy, to_dtype_tensor

__all__ = [
    "gaussian_kernel1d",
    "gaussian_blur", "gaussian_blur_tensor", "gaussian_blur_numpy",
    "median_blur", "median_blur_tensor", "median_blur_numpy",
    "bilateral_filter", "bilateral_filter_tensor", "bilateral_filter_numpy",
    "non_local_means", "non_local_means_tensor", "non_local_means_numpy",
    "clahe", "clahe_tensor", "clahe_numpy",
    "threshold", "threshold_tensor", "threshold_numpy",
    "unsharp_mask", "unsharp_mask_tensor", "unsharp_mask_numpy",
]

PerSample = Union[float, torch.Tensor]
THRESHOLD_METHODS = ("fixed", "otsu", "adaptive_mean", "adaptive_gaussian")
CLAHE_COLOURS = ("lab", "per_channel")


# -- shared helpers ------------------------------------------------------------------------------

def work_dtype(dtype: torch.dtype) -> torch.dtype:
    """The float dtype kernels compute in: float64 for float64 images, float32 otherwise."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def cast_result(y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A float result on the scale of ``dtype`` back to ``dtype``: integers rounded and clamped."""
    if dtype.is_floating_point:
        return y.to(dtype)
    wide = y.round().clamp_(0, white_level(dtype))
    return wide.to(torch.int32).to(dtype) if dtype == torch.uint16 else wide.to(dtype)


def per_sample(value: PerSample, n: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A per-sample argument (a number or a ``(1,)``/``(n,)`` tensor) as an ``(n,)`` tensor."""
    t = torch.as_tensor(value, device=device, dtype=dtype).reshape(-1)
    return t.expand(n) if t.numel() == 1 else t


def _border_index(n: int, before: int, after: int, mode: str, device: torch.device) -> torch.Tensor:
    """Source indices for padding a length-``n`` axis (any amount), OpenCV border semantics."""
    i = torch.arange(-before, n + after, device=device)
    if mode == "replicate" or n == 1:
        return i.clamp(0, n - 1)
    period = 2 * (n - 1)  # reflect-101
    i = i.abs().remainder(period)
    return torch.where(i >= n, period - i, i)


def pad2d(x: torch.Tensor, top: int, bottom: int, left: int, right: int, mode: str) -> torch.Tensor:
    """Pad the last two dims with ``"reflect"`` (reflect-101) or ``"replicate"`` borders."""
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


def _planes(x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """A ``(..., C, H, W)`` tensor as ``(B, C, H, W)`` plus the shape to restore."""
    return x.reshape(-1, *x.shape[-3:]), x.shape


def gaussian_kernel1d(size: int, sigma: torch.Tensor) -> torch.Tensor:
    """Normalized Gaussian taps ``exp(-t^2 / (2 sigma^2))``, ``t = -(size // 2) .. size // 2``,
    one row per sigma of ``sigma`` (shape ``(n,)``): the kernel of torchvision and OpenCV.

    >>> gaussian_kernel1d(3, torch.tensor([1.0], dtype=torch.float64)).round(decimals=4).tolist()
    [[0.2741, 0.4519, 0.2741]]
    """
    t = torch.linspace(-(size // 2), size // 2, size, device=sigma.device, dtype=sigma.dtype)
    pdf = torch.exp(-0.5 * (t / sigma.reshape(-1, 1)) ** 2)
    return pdf / pdf.sum(-1, keepdim=True)


def separable_filter(x: torch.Tensor, kernel_y: torch.Tensor, kernel_x: torch.Tensor,
                     border: str = "reflect") -> torch.Tensor:
    """Filter a float ``(B, C, H, W)`` tensor with per-sample separable kernels.

    ``kernel_y``/``kernel_x`` are ``(B, k)`` or ``(1, k)``; all samples and channels go through
    one grouped convolution per axis.
    """
    b, c, h, w = x.shape
    ky, kx = kernel_y.shape[-1], kernel_x.shape[-1]
    x = pad2d(x, ky // 2, ky // 2, kx // 2, kx // 2, border)
    if kernel_y.shape[0] == 1 and kernel_x.shape[0] == 1:
        groups, x = c, x
        wy = kernel_y.expand(c, ky).reshape(c, 1, ky, 1)
        wx = kernel_x.expand(c, kx).reshape(c, 1, 1, kx)
    else:
        groups, x = b * c, x.reshape(1, b * c, *x.shape[-2:])
        wy = kernel_y.expand(b, ky).repeat_interleave(c, 0).reshape(b * c, 1, ky, 1)
        wx = kernel_x.expand(b, kx).repeat_interleave(c, 0).reshape(b * c, 1, 1, kx)
    y = F.conv2d(F.conv2d(x, wy.to(x.dtype), groups=groups), wx.to(x.dtype), groups=groups)
    return y.reshape(b, c, h, w)


def _check_odd(size: int | Sequence[int], name: str) -> tuple[int, int]:
    ky, kx = pair(size)
    if ky < 1 or kx < 1 or ky % 2 == 0 or kx % 2 == 0:
        raise ValueError(f"{name} must be odd and positive; got {size!r}")
    return ky, kx


def _through_tensor(x: np.ndarray, kernel, *args) -> np.ndarray:
    """Run a tensor kernel on an HW/HWC array (for cases OpenCV does not cover)."""
    hwc = x if x.ndim == 3 else x[:, :, None]
    out = kernel(torch.from_numpy(np.array(hwc)).permute(2, 0, 1), *args).permute(1, 2, 0).numpy()
    return out if x.ndim == 3 else out[:, :, 0]


def _unit_numpy(x: np.ndarray) -> np.ndarray:
    return to_dtype_numpy(x, "float32") if x.dtype != np.float32 else x


def opencv_twin(x: torch.Tensor, dtypes: Sequence[torch.dtype]) -> bool:
    """Whether a tensor kernel hands ``x`` to its OpenCV twin: a CPU tensor of one of ``dtypes``
    that needs no gradient (see the module doc)."""
    return x.device.type == "cpu" and x.dtype in dtypes and not x.requires_grad


def opencv_planes(x: torch.Tensor, op: Callable[[np.ndarray, np.ndarray, int], Any]) -> torch.Tensor:
    """Call ``op(src, dst, p)`` on every ``(H, W)`` plane ``p`` of the CPU tensor ``x`` (flattened
    leading dims); ``op`` writes its result into ``dst``, a plane of the returned tensor."""
    src = x.contiguous().reshape(-1, *x.shape[-2:]).numpy()
    dst = np.empty_like(src)
    for p in range(len(src)):
        op(src[p], dst[p], p)
    return torch.from_numpy(dst).reshape(x.shape)


# -- Gaussian blur -------------------------------------------------------------------------------

def _gaussian_blur_float(x: torch.Tensor, kernel_size: tuple[int, int], sigma: PerSample) -> torch.Tensor:
    """Blur a float ``(B, C, H, W)`` tensor with per-sample sigma (no rounding)."""
    s = per_sample(sigma, 1, x.device, torch.float32)
    return separable_filter(x, gaussian_kernel1d(kernel_size[0], s), gaussian_kernel1d(kernel_size[1], s))


@tensor_kernel("gaussian_blur")
def gaussian_blur_tensor(x: torch.Tensor, kernel_size: int | Sequence[int], sigma: PerSample) -> torch.Tensor:
    """Gaussian blur of a ``(..., C, H, W)`` tensor with reflect-101 borders.

    ``kernel_size`` is odd, one number or ``(height, width)``; ``sigma`` (pixels, the same on both
    axes) is a number or a ``(B,)`` tensor, one per image. Matches torchvision's
    ``gaussian_blur`` (same taps and border) and ``cv2.GaussianBlur`` (OpenCV's fixed-point uint8
    path differs by at most 1 grey level). CPU tensors go through ``cv2.GaussianBlur`` plane by
    plane (the OpenCV twin, see the module doc), other devices through one grouped convolution
    per axis for the whole batch.

    >>> x = torch.zeros(1, 5, 5, dtype=torch.float64); x[0, 2, 2] = 1.0
    >>> gaussian_blur_tensor(x, 3, 1.0)[0, 2].round(decimals=4).tolist()
    [0.0, 0.1238, 0.2042, 0.1238, 0.0]
    """
    size = _check_odd(kernel_size, "kernel_size")
    if opencv_twin(x, (torch.uint8, torch.uint16, torch.float32, torch.float64)):
        b, c = _planes(x)[0].shape[:2]
        sigmas = per_sample(sigma, b, x.device, torch.float32).tolist()
        return opencv_planes(x, lambda src, dst, p: _opencv_gaussian(src, size, sigmas[p // c], dst))
    return _gaussian_blur_torch(x, size, sigma)


def _gaussian_blur_torch(x: torch.Tensor, size: tuple[int, int], sigma: PerSample) -> torch.Tensor:
    """The batched torch kernel of :func:`gaussian_blur_tensor`."""
    planes, shape = _planes(x)
    y = _gaussian_blur_float(planes.to(work_dtype(x.dtype)), size, sigma)
    return cast_result(y, x.dtype).reshape(shape)


def _opencv_gaussian(x: np.ndarray, size: tuple[int, int], sigma: float, dst: np.ndarray | None = None) -> np.ndarray:
    return cv2.GaussianBlur(x, (size[1], size[0]), sigmaX=sigma, sigmaY=sigma, dst=dst,
                            borderType=cv2.BORDER_REFLECT_101)


@numpy_kernel("gaussian_blur")
def gaussian_blur_numpy(x: np.ndarray, kernel_size: int | Sequence[int], sigma: float) -> np.ndarray:
    """Gaussian blur of an HW/HWC array (``cv2.GaussianBlur``, reflect-101), like the tensor kernel."""
    return _opencv_gaussian(x, _check_odd(kernel_size, "kernel_size"), float(sigma))


# -- median --------------------------------------------------------------------------------------

@tensor_kernel("median_blur")
def median_blur_tensor(x: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Median over a ``kernel_size`` x ``kernel_size`` window (odd), replicate borders, per channel;
    equal to ``cv2.medianBlur``. CPU tensors go through ``cv2.medianBlur`` plane by plane where
    OpenCV takes them (the OpenCV twin, see the module doc); other devices through a median
    selection network of elementwise min/max on shifted views of the whole batch.

    >>> median_blur_tensor(torch.tensor([[[0, 0, 0], [0, 9, 0], [5, 5, 5]]], dtype=torch.uint8), 3).tolist()
    [[[0, 0, 0], [0, 0, 0], [5, 5, 5]]]
    """
    k, _ = _check_odd(kernel_size, "kernel_size")
    if k == 1:
        return x.clone()
    if opencv_twin(x, (torch.uint8,) if k > 5 else (torch.uint8, torch.uint16, torch.float32)):
        return opencv_planes(x, lambda src, dst, p: cv2.medianBlur(src, k, dst=dst))
    return _median_blur_torch(x, k)


def _median_blur_torch(x: torch.Tensor, k: int) -> torch.Tensor:
    """The batched torch kernel of :func:`median_blur_tensor`: sort every vertical run of ``k``
    pixels once, then select the median of each window from its ``k`` sorted columns."""
    values = x.to(torch.int32) if x.dtype == torch.uint16 else x  # few uint16 min/max kernels
    h, w = x.shape[-2:]
    r = k // 2
    padded = pad2d(values, r, r, r, r, "replicate")
    column_network, window_network = _median_networks(k)
    ranks = _run_network([padded[..., i:i + h, :] for i in range(k)], column_network)
    wires = [ranks[i % k][..., i // k:i // k + w] if ranks[i % k] is not None else None for i in range(k * k)]
    return _run_network(wires, window_network)[k * k // 2].to(x.dtype)


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
    """Median filter of an HW/HWC array (``cv2.medianBlur``; OpenCV takes uint16 and float32 only
    up to 5x5, larger windows on them go through the tensor kernel)."""
    k, _ = _check_odd(kernel_size, "kernel_size")
    if x.dtype == np.uint8 or k <= 5:
        return cv2.medianBlur(x, k) if k > 1 else x.copy()
    return _through_tensor(x, median_blur_tensor, k)


# -- bilateral -----------------------------------------------------------------------------------

def _bilateral_radius(diameter: int, sigma_space: float) -> int:
    radius = diameter // 2 if diameter > 0 else round(sigma_space * 1.5)
    return max(radius, 1)


@tensor_kernel("bilateral_filter")
def bilateral_filter_tensor(x: torch.Tensor, diameter: int, sigma_color: float, sigma_space: float) -> torch.Tensor:
    """Edge-preserving bilateral filter, OpenCV's definition.

    Each output pixel is the weighted mean over a disc of radius ``diameter // 2`` (from
    ``sigma_space`` when ``diameter <= 0``) with weights
    ``exp(-d^2 / (2 sigma_space^2)) * exp(-D^2 / (2 sigma_color^2))``, ``d`` the distance in pixels
    and ``D`` the sum over channels of absolute differences. ``sigma_color`` is on the ``[0, 1]``
    scale. Reflect-101 borders. uint8 results are within 1 grey level of ``cv2.bilateralFilter``.

    >>> x = torch.tensor([[[0, 0, 255, 255]]], dtype=torch.uint8)
    >>> bilateral_filter_tensor(x, 3, 0.1, 5.0).tolist()
    [[[0, 0, 255, 255]]]
    """
    planes, shape = _planes(x)
    white = white_level(x.dtype)
    sigma_color = max(float(sigma_color) * white, 1e-12)
    sigma_space = float(sigma_space) if sigma_space > 0 else 1.0
    radius = _bilateral_radius(int(diameter), sigma_space)
    dtype = work_dtype(x.dtype)
    values = planes.to(dtype)
    padded = pad2d(values, radius, radius, radius, radius, "reflect")
    h, w = values.shape[-2:]
    total = torch.zeros_like(values)
    weights = torch.zeros_like(values[:, :1])
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            distance2 = dy * dy + dx * dx
            if math.sqrt(distance2) > radius:
                continue
            shifted = padded[:, :, radius + dy:radius + dy + h, radius + dx:radius + dx + w]
            colour = (shifted - values).abs().sum(1, keepdim=True)
            space = np.float32(math.exp(-0.5 * distance2 / sigma_space ** 2))
            weight = torch.exp(colour.square() * (-0.5 / sigma_color ** 2)).mul_(float(space))
            total.addcmul_(shifted, weight)
            weights.add_(weight)
    return cast_result(total / weights, x.dtype).reshape(shape)


@numpy_kernel("bilateral_filter")
def bilateral_filter_numpy(x: np.ndarray, diameter: int, sigma_color: float, sigma_space: float) -> np.ndarray:
    """Bilateral filter of an HW/HWC array (``cv2.bilateralFilter``), like the tensor kernel.

    OpenCV takes uint8 and float32 with 1 or 3 channels: uint16 goes through float32, other
    channel counts through the tensor kernel.
    """
    channels = x.shape[2] if x.ndim == 3 else 1
    if channels not in (1, 3):
        return _through_tensor(x, bilateral_filter_tensor, diameter, sigma_color, sigma_space)
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    src = x if x.dtype == np.uint8 else _unit_numpy(x)
    out = cv2.bilateralFilter(src, int(diameter), float(sigma_color) * scale, float(sigma_space),
                              borderType=cv2.BORDER_REFLECT_101)
    return out if x.dtype != np.uint16 else to_dtype_numpy(out, "uint16")


# -- non-local means -----------------------------------------------------------------------------

@tensor_kernel("non_local_means")
def non_local_means_tensor(x: torch.Tensor, h: float, template_window: int = 7,
                           search_window: int = 21) -> torch.Tensor:
    """Not available: non-local means has only a NumPy/OpenCV backend (see
    :func:`non_local_means_numpy`); this raises ``TypeError``."""
    raise TypeError(
        "non_local_means has only a NumPy/OpenCV backend (cv2.fastNlMeansDenoising); pass an HW/HWC "
        "uint8 array or a PIL image, not a tensor"
    )


@numpy_kernel("non_local_means")
def non_local_means_numpy(x: np.ndarray, h: float, template_window: int = 7,
                          search_window: int = 21) -> np.ndarray:
    """Non-local means denoising of a uint8 HW/HWC array with OpenCV.

    ``h`` is the filter strength on the ``[0, 1]`` scale (OpenCV's ``h`` divided by 255).
    Grayscale uses ``cv2.fastNlMeansDenoising``; RGB uses ``cv2.fastNlMeansDenoisingColored``
    (in Lab, with the same strength for colour). Windows are odd sizes in pixels.
    """
    if x.dtype != np.uint8:
        raise TypeError(f"non_local_means supports uint8 images only (OpenCV); got {x.dtype}")
    strength = float(h) * 255.0
    channels = x.shape[2] if x.ndim == 3 else 1
    if channels == 1:
        return cv2.fastNlMeansDenoising(x, None, strength, int(template_window), int(search_window))
    if channels != 3:
        raise ValueError(f"non_local_means takes 1- or 3-channel images; got {channels} channels")
    bgr = cv2.cvtColor(x, cv2.COLOR_RGB2BGR)
    out = cv2.fastNlMeansDenoisingColored(bgr, None, strength, strength, int(template_window), int(search_window))
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


# -- CLAHE ---------------------------------------------------------------------------------------

def _clahe_planes(v: torch.Tensor, levels: int, clip_limit: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """CLAHE of integer planes ``v`` of shape ``(N, H, W)`` with ``levels`` grey levels, as OpenCV
    computes it; ``clip_limit`` has shape ``(N,)``. Every tile of every plane at once."""
    n, h, w = v.shape
    rows, cols = grid
    device = v.device
    if h % rows or w % cols:  # OpenCV pads bottom and right (reflect-101) to whole tiles
        v_lut = pad2d(v, 0, rows - h % rows, 0, cols - w % cols, "reflect")
    else:
        v_lut = v
    th, tw = v_lut.shape[-2] // rows, v_lut.shape[-1] // cols
    area, tiles, cells = th * tw, rows * cols, (rows + 1) * (cols + 1)
    # int32 index arithmetic (half the memory traffic of int64) whenever every index fits
    index_dtype = torch.int32 if n * cells * levels < 2 ** 31 else torch.int64

    # histograms: (N, tiles, levels), one bincount over every pixel of every plane
    tile_row = (torch.arange(v_lut.shape[-2], device=device, dtype=index_dtype) // th).view(-1, 1)
    tile_col = (torch.arange(v_lut.shape[-1], device=device, dtype=index_dtype) // tw).view(1, -1)
    bins = v_lut.to(index_dtype, copy=True).add_((tile_row * cols + tile_col) * levels)
    bins += (torch.arange(n, device=device, dtype=index_dtype) * (tiles * levels)).view(n, 1, 1)
    hist = torch.bincount(bins.view(-1), minlength=n * tiles * levels).view(n, tiles, levels)
    del bins

    # clip and redistribute the excess: evenly, then the remainder one by one at a stride
    clip = (clip_limit.to(torch.float64) * area / levels).floor().clamp_(min=1).to(torch.int64).view(n, 1, 1)
    excess = (hist - clip).clamp_(min=0).sum(-1, keepdim=True)
    batch = excess // levels
    residual = excess - batch * levels
    step = (levels // residual.clamp(min=1)).clamp_(min=1)
    level = torch.arange(levels, device=device)
    extra = (level % step == 0) & (level // step < residual)
    clipped = torch.minimum(hist, clip) + batch + extra
    hist = torch.where(clip_limit.view(n, 1, 1) > 0, clipped, hist)

    scale = torch.tensor(levels - 1, dtype=torch.float32) / area
    lut = (hist.cumsum(-1).to(torch.float32) * scale.to(device)).round_().clamp_(0, levels - 1)
    # bilinear interpolation between the LUTs of the four nearest tile centres, in OpenCV's
    # float32 arithmetic. Pixels between the same four centres form a cell; a table holds the
    # four LUT values of every (plane, cell, level), so each pixel needs one row lookup.
    def axis(length: int, tile: int, count: int) -> tuple[torch.Tensor, ...]:
        inverse = (1.0 / torch.tensor(tile, dtype=torch.float32)).item()
        position = torch.arange(length, device=device, dtype=torch.float32) * inverse - 0.5
        first = position.floor()
        weight = position - first
        cell = first.long() + 1  # 0 .. count: the first and last cells are clamped half-tiles
        cells = torch.arange(count + 1, device=device)
        return cell, weight, (cells - 1).clamp(min=0), cells.clamp(max=count - 1)

    row_cell, ya, y1, y2 = axis(h, th, rows)
    col_cell, xa, x1, x2 = axis(w, tw, cols)
    lut = lut.to(torch.uint8 if levels <= 256 else torch.int32).view(n, rows, cols, levels)
    corners = [lut[:, ys][:, :, xs] for ys in (y1, y2) for xs in (x1, x2)]
    table = torch.stack(corners, -1).view(-1, 4)  # (n * cells * levels, 4), integer LUT values
    cell = (row_cell.view(h, 1) * (cols + 1) + col_cell.view(1, w)).to(index_dtype)
    index = v.to(index_dtype, copy=True).add_(cell * levels)
    index += (torch.arange(n, device=device, dtype=index_dtype) * (cells * levels)).view(n, 1, 1)
    values = F.embedding(index, table)  # (n, h, w, 4)
    xa, ya = xa.view(1, 1, w), ya.view(1, h, 1)
    xa1, ya1 = 1.0 - xa, 1.0 - ya
    top = (values[..., 0] * xa1).add_(values[..., 1] * xa)
    bottom = (values[..., 2] * xa1).add_(values[..., 3] * xa)
    return top.mul_(ya1).add_(bottom.mul_(ya)).round_().clamp_(0, levels - 1)


@tensor_kernel("clahe")
def clahe_tensor(x: torch.Tensor, clip_limit: PerSample = 2.0, tile_grid_size: Sequence[int] = (8, 8),
                 colour: str = "lab") -> torch.Tensor:
    """Contrast-limited adaptive histogram equalization, equal (within 1 grey level) to
    ``cv2.createCLAHE(clip_limit, (columns, rows)).apply``.

    ``tile_grid_size`` is ``(rows, columns)``; ``clip_limit`` is a number or one per image
    (``(B,)``); ``<= 0`` turns clipping off. uint8 images use 256 histogram bins, uint16 images
    65536 like OpenCV; float images are quantized to 256 levels and come back as float.
    Colour images are equalized on the lightness of Lab (``colour="lab"``, uint8 and float RGB) or
    on every channel (``colour="per_channel"``, and always for uint16). Sizes that do not divide
    into the grid are padded (reflect-101, bottom and right) for the histograms, as OpenCV does.
    CPU tensors go through ``cv2.createCLAHE`` plane by plane (the OpenCV twin, see the module
    doc); on other devices all tiles of all images are computed at once (no Python loop over
    tiles or images).

    >>> clahe_tensor(torch.arange(64, dtype=torch.uint8).view(1, 8, 8), 2.0, (2, 2)).shape
    torch.Size([1, 8, 8])
    """
    rows, cols = pair(tile_grid_size)
    if colour not in CLAHE_COLOURS:
        raise ValueError(f"colour must be one of {CLAHE_COLOURS}; got {colour!r}")
    planes, shape = _planes(x)
    b, c, h, w = planes.shape
    if not x.dtype.is_floating_point and x.dtype not in (torch.uint8, torch.uint16):
        raise TypeError(f"clahe supports uint8, uint16 and float images; got {x.dtype}")
    if x.dtype.is_floating_point:
        out = clahe_tensor(to_dtype_tensor(planes, "uint8"), clip_limit, (rows, cols), colour)
        return to_dtype_tensor(out, x.dtype).reshape(shape)
    clip = per_sample(clip_limit, b, x.device, torch.float64)
    if c == 3 and colour == "lab" and x.dtype == torch.uint8:
        lab = rgb_to_lab_tensor(planes)
        lightness = _equalize(lab[:, 0], 256, clip, (rows, cols))
        out = lab_to_rgb_tensor(torch.cat([lightness.unsqueeze(1), lab[:, 1:]], 1))
        return out.reshape(shape)
    if c != 1 and colour == "lab" and x.dtype == torch.uint8:
        raise ValueError(f"clahe with colour='lab' takes 1- or 3-channel images; got {c} channels")
    levels = 256 if x.dtype == torch.uint8 else 65536
    return _equalize(planes.reshape(b * c, h, w), levels, clip.repeat_interleave(c), (rows, cols)).reshape(shape)


def _equalize(v: torch.Tensor, levels: int, clip_limit: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """CLAHE of integer planes ``(N, H, W)``: ``cv2.createCLAHE`` plane by plane on the CPU (the
    OpenCV twin, equal to the torch kernel), :func:`_clahe_planes` for all planes at once elsewhere."""
    if opencv_twin(v, (torch.uint8, torch.uint16)):
        clips = clip_limit.tolist()
        equalizers = {c: cv2.createCLAHE(clipLimit=c, tileGridSize=(grid[1], grid[0])) for c in set(clips)}
        return opencv_planes(v, lambda src, dst, p: equalizers[clips[p]].apply(src, dst))
    return cast_result(_clahe_planes(v, levels, clip_limit, grid), v.dtype)


@numpy_kernel("clahe")
def clahe_numpy(x: np.ndarray, clip_limit: float = 2.0, tile_grid_size: Sequence[int] = (8, 8),
                colour: str = "lab") -> np.ndarray:
    """CLAHE of an HW/HWC array with ``cv2.createCLAHE``, like :func:`clahe_tensor`."""
    rows, cols = pair(tile_grid_size)
    if colour not in CLAHE_COLOURS:
        raise ValueError(f"colour must be one of {CLAHE_COLOURS}; got {colour!r}")
    if x.dtype == np.float32:
        return to_dtype_numpy(clahe_numpy(to_dtype_numpy(x, "uint8"), clip_limit, (rows, cols), colour), "float32")
    equalize = cv2.createCLAHE(clipLimit=float(clip_limit), tileGridSize=(cols, rows)).apply
    channels = x.shape[2] if x.ndim == 3 else 1
    if channels == 1:
        return equalize(x if x.ndim == 2 else x[:, :, 0])
    if colour == "lab" and x.dtype == np.uint8:
        if channels != 3:
            raise ValueError(f"clahe with colour='lab' takes 1- or 3-channel images; got {channels} channels")
        lab = rgb_to_lab_numpy(x)
        lab[:, :, 0] = equalize(np.ascontiguousarray(lab[:, :, 0]))
        return lab_to_rgb_numpy(lab)
    return np.dstack([equalize(np.ascontiguousarray(x[:, :, i])) for i in range(channels)])


# -- thresholding --------------------------------------------------------------------------------

def _otsu_levels(v: torch.Tensor, levels: int) -> torch.Tensor:
    """Otsu's threshold (a grey level) of each integer plane of ``v`` ``(N, H, W)``, as OpenCV
    picks it: the first level maximizing the between-class variance."""
    n = v.shape[0]
    offsets = torch.arange(n, device=v.device).mul_(levels).view(n, 1, 1)
    hist = torch.bincount((v.long() + offsets).flatten(), minlength=n * levels).view(n, levels)
    p = hist.to(torch.float64) / (v.shape[-1] * v.shape[-2])
    level = torch.arange(levels, device=v.device, dtype=torch.float64)
    q1 = p.cumsum(-1)
    m1 = (p * level).cumsum(-1)
    mean = m1[:, -1:]
    q2 = 1.0 - q1
    eps = float(np.finfo(np.float32).eps)
    valid = (torch.minimum(q1, q2) >= eps) & (torch.maximum(q1, q2) <= 1.0 - eps)
    mu1 = m1 / q1.clamp(min=eps)
    mu2 = (mean - m1) / q2.clamp(min=eps)
    sigma = torch.where(valid, q1 * q2 * (mu1 - mu2).square(), torch.full_like(q1, -1.0))
    best = sigma.argmax(-1)
    return torch.where(sigma.amax(-1) > 0, best, torch.zeros_like(best))


def _box_mean(values: torch.Tensor, block_size: int) -> torch.Tensor:
    kernel = torch.full((1, block_size), 1.0 / block_size, dtype=values.dtype, device=values.device)
    return separable_filter(values, kernel, kernel, border="replicate")


# OpenCV's fixed kernels for sizes up to 7 when no sigma is given (binomial-like)
_SMALL_GAUSSIAN = {3: (0.25, 0.5, 0.25), 5: (0.0625, 0.25, 0.375, 0.25, 0.0625),
                   7: (0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125)}


def _gaussian_mean(values: torch.Tensor, block_size: int) -> torch.Tensor:
    if block_size in _SMALL_GAUSSIAN:
        kernel = torch.tensor([_SMALL_GAUSSIAN[block_size]], dtype=torch.float64, device=values.device)
    else:
        sigma = 0.3 * ((block_size - 1) * 0.5 - 1) + 0.8  # OpenCV's sigma for a kernel size
        kernel = gaussian_kernel1d(block_size, torch.tensor([sigma], dtype=torch.float64, device=values.device))
    return separable_filter(values, kernel, kernel, border="replicate")


@tensor_kernel("threshold")
def threshold_tensor(x: torch.Tensor, method: str = "fixed", threshold: float = 0.5, block_size: int = 11,
                     c: float = 0.0, max_value: float = 1.0) -> torch.Tensor:
    """Binarize each channel: ``max_value`` where the pixel is above the threshold, else 0.

    ``method``: ``"fixed"`` (above ``threshold``), ``"otsu"`` (Otsu's threshold per image and
    channel, from 256 levels, 65536 for uint16), ``"adaptive_mean"``/``"adaptive_gaussian"``
    (above the mean, or Gaussian-weighted mean, of the ``block_size`` neighbourhood minus ``c``;
    replicate borders). ``threshold``, ``c`` and ``max_value`` are on the ``[0, 1]`` scale.
    Matches ``cv2.threshold`` (``THRESH_BINARY``, ``THRESH_OTSU``) and ``cv2.adaptiveThreshold``
    on uint8: integer images compare with the rounded local mean and ``ceil(c * 255)``, as OpenCV.

    >>> threshold_tensor(torch.tensor([[[0.2, 0.6]]]), "fixed", 0.5).tolist()
    [[[0.0, 1.0]]]
    """
    if method not in THRESHOLD_METHODS:
        raise ValueError(f"method must be one of {THRESHOLD_METHODS}; got {method!r}")
    full = white_level(x.dtype)
    integer = not x.dtype.is_floating_point
    planes, shape = _planes(x)
    if x.dtype == torch.uint16:  # few uint16 kernels on the CPU: compare in int32
        planes = planes.to(torch.int32)
    if method == "fixed":
        above = planes > threshold * full
    elif method == "otsu":
        b, ch, h, w = planes.shape
        quantized = planes if integer else to_dtype_tensor(planes, "uint8")
        level = _otsu_levels(quantized.reshape(b * ch, h, w), int(full) + 1 if integer else 256)
        above = quantized > level.view(b, ch, 1, 1)
    else:
        if block_size < 3 or block_size % 2 == 0:
            raise ValueError(f"block_size must be odd and >= 3; got {block_size!r}")
        values = planes.to(torch.float64)
        mean = (_box_mean if method == "adaptive_mean" else _gaussian_mean)(values, block_size)
        if integer:
            mean, delta = mean.round(), math.ceil(round(c * full, 6))
        else:
            delta = c
        above = values - mean > -delta
    out = above * _level(max_value * full, integer)
    return (out.to(torch.int32) if integer else out).to(x.dtype).reshape(shape)


def _level(value: float, integer: bool) -> float:
    return float(round(value)) if integer else float(value)


@numpy_kernel("threshold")
def threshold_numpy(x: np.ndarray, method: str = "fixed", threshold: float = 0.5, block_size: int = 11,
                    c: float = 0.0, max_value: float = 1.0) -> np.ndarray:
    """Binarize an HW/HWC array with OpenCV, like :func:`threshold_tensor`."""
    if method not in THRESHOLD_METHODS:
        raise ValueError(f"method must be one of {THRESHOLD_METHODS}; got {method!r}")
    full = white_level(x.dtype)
    integer = x.dtype != np.float32
    on = _level(max_value * full, integer)
    if x.ndim == 3 and x.shape[2] > 1:
        return np.dstack([threshold_numpy(np.ascontiguousarray(x[:, :, i]), method, threshold, block_size, c,
                                          max_value) for i in range(x.shape[2])])
    plane = x if x.ndim == 2 else x[:, :, 0]
    if method == "fixed":
        return cv2.threshold(plane, threshold * full, on, cv2.THRESH_BINARY)[1]
    if method == "otsu":
        if integer:
            return cv2.threshold(plane, 0, on, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
        level = cv2.threshold(to_dtype_numpy(plane, "uint8"), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0]
        return np.where(to_dtype_numpy(plane, "uint8") > level, np.float32(on), np.float32(0))
    if block_size < 3 or block_size % 2 == 0:
        raise ValueError(f"block_size must be odd and >= 3; got {block_size!r}")
    if x.dtype == np.uint8:
        adaptive = cv2.ADAPTIVE_THRESH_MEAN_C if method == "adaptive_mean" else cv2.ADAPTIVE_THRESH_GAUSSIAN_C
        return cv2.adaptiveThreshold(plane, on, adaptive, cv2.THRESH_BINARY, block_size, c * full)
    values = plane.astype(np.float64)
    if method == "adaptive_mean":
        mean = cv2.blur(values, (block_size, block_size), borderType=cv2.BORDER_REPLICATE)
    else:
        mean = cv2.GaussianBlur(values, (block_size, block_size), 0, borderType=cv2.BORDER_REPLICATE)
    delta = math.ceil(round(c * full, 6)) if integer else c
    if integer:
        mean = np.rint(mean)
    return np.where(values - mean > -delta, on, 0).astype(x.dtype)


# -- unsharp mask --------------------------------------------------------------------------------

def unsharp_kernel_size(sigma: float) -> int:
    """The odd kernel size covering +-3 sigma: ``2 * ceil(3 * sigma) + 1``."""
    return 2 * math.ceil(3 * sigma) + 1


@tensor_kernel("unsharp_mask")
def unsharp_mask_tensor(x: torch.Tensor, kernel_size: int, sigma: PerSample, amount: PerSample,
                        threshold: float = 0.0) -> torch.Tensor:
    """Unsharp masking: ``out = x + amount * (x - blur(x))`` where ``|x - blur(x)| >= threshold``,
    else ``x``; ``blur`` is :func:`gaussian_blur_tensor` (``kernel_size``, ``sigma``) without
    rounding, ``threshold`` is on the ``[0, 1]`` scale, results are clamped to the dtype's range.
    ``sigma`` and ``amount`` are numbers or one per image (``(B,)``).

    >>> x = torch.tensor([[[0.2, 0.2, 0.6, 0.6]]], dtype=torch.float64)
    >>> unsharp_mask_tensor(x, 3, 1.0, 1.0).round(decimals=3).tolist()
    [[[0.2, 0.09, 0.71, 0.6]]]
    """
    size = _check_odd(kernel_size, "kernel_size")
    planes, shape = _planes(x)
    values = planes.to(work_dtype(x.dtype))
    detail = values - _gaussian_blur_float(values, size, sigma)
    gain = per_sample(amount, 1, x.device, values.dtype).view(-1, 1, 1, 1)
    sharpened = values + gain * detail
    if threshold > 0:
        sharpened = torch.where(detail.abs() >= threshold * white_level(x.dtype), sharpened, values)
    return cast_result(sharpened.clamp(0, white_level(x.dtype)), x.dtype).reshape(shape)


@numpy_kernel("unsharp_mask")
def unsharp_mask_numpy(x: np.ndarray, kernel_size: int, sigma: float, amount: float,
                       threshold: float = 0.0) -> np.ndarray:
    """Unsharp masking of an HW/HWC array (blur by ``cv2.GaussianBlur``), like the tensor kernel."""
    values = x.astype(np.float32)
    white = white_level(x.dtype)
    detail = values - gaussian_blur_numpy(values, kernel_size, sigma).reshape(values.shape)
    sharpened = values + np.float32(amount) * detail
    if threshold > 0:
        sharpened = np.where(np.abs(detail) >= np.float32(threshold * white), sharpened, values)
    sharpened = np.clip(sharpened, 0, white)
    if x.dtype == np.float32:
        return sharpened.astype(np.float32)
    return np.clip(np.rint(sharpened), 0, white).astype(x.dtype)


gaussian_blur = op("gaussian_blur")
median_blur = op("median_blur")
bilateral_filter = op("bilateral_filter")
non_local_means = op("non_local_means", kinds=("numpy", "pil"))
clahe = op("clahe")
threshold = op("threshold")
unsharp_mask = op("unsharp_mask")
