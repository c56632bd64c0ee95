"""Contrast-limited adaptive histogram equalization (CLAHE), as ``cv2.createCLAHE`` computes it.

Backends (``augkit list --kernels``): CPU uint8/uint16 tensors that need no gradient run OpenCV
(``"opencv"``): ``cv2.createCLAHE`` on every ``(H, W)`` plane, and RGB images equalized on the
Lab lightness go image by image through the array kernel (OpenCV's Lab conversion); other
devices take the ``"torch"`` backend, all tiles of all images at once (no Python loop over
tiles or images), equal to OpenCV on the planes. Its Lab path converts with OpenCV's own uint8
conversions held as two tables of every RGB and Lab code (48 MiB each, made once per device
on first use): a lightness 1 level off changes the tile histograms, which CLAHE turns into
differences of up to 26 levels, so a closed-form conversion (1 to 2 levels off OpenCV's
fixed-point one) is not used. Every kind and backend gives the same pixels: 0 difference
measured on photos and random images, uint8 and uint16, both colour modes, several grids (the
tests allow 1 level, for float32 interpolation rounding a half differently).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..core.kernels import backend, numpy_kernel, op, run_numpy_per_image, tensor_kernel, when
from ..core.validation import check_choice
from ._utils import PerSample, cast_result, opencv_per_plane, pad2d, pair, per_sample
from .convert import to_dtype_numpy, to_dtype_tensor

__all__ = ["clahe", "clahe_tensor", "clahe_numpy"]

CLAHE_COLOURS = ("lab", "per_channel")

_local = threading.local()


def _equalizer(clip_limit: float, grid: tuple[int, int]) -> cv2.CLAHE:
    """This thread's ``cv2.CLAHE``, set to ``clip_limit`` and ``grid`` (rows, columns): one
    object reused (creating one per call costs 2% of equalizing a 512x512 image)."""
    equalizer = getattr(_local, "clahe", None)
    if equalizer is None:
        equalizer = _local.clahe = cv2.createCLAHE()
    equalizer.setClipLimit(clip_limit)
    equalizer.setTilesGridSize((grid[1], grid[0]))
    return equalizer


def _on_lightness(channels: int, uint8: bool, colour: str) -> bool:
    """Whether an image is equalized on its Lab lightness (RGB uint8 or float with
    ``colour="lab"``); a ``"lab"`` image of uint8/float must have 1 or 3 channels."""
    if colour != "lab" or not uint8 or channels == 1:
        return False
    if channels != 3:
        raise ValueError(f"clahe with colour='lab' takes 1- or 3-channel images; got {channels} channels")
    return True


@functools.lru_cache(maxsize=None)
def _lab_tables(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """OpenCV's uint8 RGB -> Lab and Lab -> RGB conversions of every code ``(c0 << 16) | (c1 << 8) | c2``,
    as two ``(2 ** 24, 3)`` uint8 tables on ``device``."""
    codes = np.arange(1 << 24, dtype="<u4").view(np.uint8).reshape(-1, 4)[:, 2::-1]
    codes = np.ascontiguousarray(codes).reshape(4096, 4096, 3)
    return tuple(torch.from_numpy(cv2.cvtColor(codes, code).reshape(-1, 3)).to(device)
                 for code in (cv2.COLOR_RGB2Lab, cv2.COLOR_Lab2RGB))


def _convert(table: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Look the 3-channel uint8 images ``x`` ``(N, 3, H, W)`` up in a table of :func:`_lab_tables`."""
    wide = x.to(torch.int32)
    index = (wide[:, 0] << 16).add_(wide[:, 1] << 8).add_(wide[:, 2])
    return table.index_select(0, index.view(-1)).view(*index.shape, 3).permute(0, 3, 1, 2)


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
def clahe_tensor(x: torch.Tensor, clip_limit: PerSample = 2.0, tile_grid_size: int | Sequence[int] = (8, 8),
                 colour: str = "lab") -> torch.Tensor:
    """Contrast-limited adaptive histogram equalization, equal to
    ``cv2.createCLAHE(clip_limit, (columns, rows)).apply``.

    ``tile_grid_size`` is ``(rows, columns)``; ``clip_limit`` is a number or one per image
    (``(B,)``); ``<= 0`` turns clipping off. uint8 images use 256 histogram bins, uint16 images
    65536 like OpenCV; float images are quantized to 256 levels and come back as float.
    Colour images are equalized on the lightness of Lab (``colour="lab"``, uint8 and float RGB) or
    on every channel (``colour="per_channel"``, and always for uint16). Sizes that do not divide
    into the grid are padded (reflect-101, bottom and right) for the histograms, as OpenCV does.
    The backends are in the module doc.

    >>> clahe_tensor(torch.arange(64, dtype=torch.uint8).view(1, 8, 8), 2.0, (2, 2)).shape
    torch.Size([1, 8, 8])
    """
    grid = pair(tile_grid_size)
    check_choice(colour, "colour", CLAHE_COLOURS)
    if x.dtype.is_floating_point:
        return to_dtype_tensor(clahe_tensor(to_dtype_tensor(x, "uint8"), clip_limit, grid, colour), x.dtype)
    if x.dtype not in (torch.uint8, torch.uint16):
        raise TypeError(f"clahe supports uint8, uint16 and float images; got {x.dtype}")
    planes = x.reshape(-1, *x.shape[-3:])
    b, c, h, w = planes.shape
    clip = per_sample(clip_limit, b, x.device, torch.float64)
    if _on_lightness(c, x.dtype == torch.uint8, colour):
        to_lab, to_rgb = _lab_tables(x.device)
        lab = _convert(to_lab, planes)
        lightness = cast_result(_clahe_planes(lab[:, 0], 256, clip, grid), torch.uint8)
        return _convert(to_rgb, torch.stack([lightness, lab[:, 1], lab[:, 2]], 1)).reshape(x.shape)
    levels = 256 if x.dtype == torch.uint8 else 65536
    out = _clahe_planes(planes.reshape(b * c, h, w), levels, clip.repeat_interleave(c), grid)
    return cast_result(out, x.dtype, clamp=False).reshape(x.shape)


@backend("clahe", "tensor", "opencv", when(device="cpu", dtypes=(torch.uint8, torch.uint16), plain=True))
def _clahe_opencv(x: torch.Tensor, clip_limit: PerSample = 2.0, tile_grid_size: int | Sequence[int] = (8, 8),
                  colour: str = "lab") -> torch.Tensor:
    grid = pair(tile_grid_size)
    check_choice(colour, "colour", CLAHE_COLOURS)
    images, channels = x.reshape(-1, *x.shape[-3:]).shape[:2]
    clips = per_sample(clip_limit, images, "cpu", torch.float64).tolist()  # CPU tensors only
    if _on_lightness(channels, x.dtype == torch.uint8, colour):
        return run_numpy_per_image(x, lambda image, clip: _clahe_array(image, clip, grid, colour), clips)
    return opencv_per_plane(x, lambda src, dst, p: _equalizer(clips[p // channels], grid).apply(src, dst))


def _clahe_array(x: np.ndarray, clip_limit: float, grid: tuple[int, int], colour: str) -> np.ndarray:
    """CLAHE of a uint8/uint16 HW/HWC array with OpenCV."""
    equalize = _equalizer(float(clip_limit), grid).apply
    if x.ndim == 2 or x.shape[2] == 1:
        return equalize(x.reshape(x.shape[:2]))
    if _on_lightness(x.shape[2], x.dtype == np.uint8, colour):
        lightness, a, b = cv2.split(cv2.cvtColor(x, cv2.COLOR_RGB2Lab))
        return cv2.cvtColor(cv2.merge([equalize(lightness), a, b]), cv2.COLOR_Lab2RGB)
    return cv2.merge([equalize(channel) for channel in cv2.split(x)])


@numpy_kernel("clahe")
def clahe_numpy(x: np.ndarray, clip_limit: float = 2.0, tile_grid_size: int | Sequence[int] = (8, 8),
                colour: str = "lab") -> np.ndarray:
    """CLAHE of an HW/HWC array with ``cv2.createCLAHE``, like :func:`clahe_tensor`."""
    grid = pair(tile_grid_size)
    check_choice(colour, "colour", CLAHE_COLOURS)
    if x.dtype == np.float32:
        return to_dtype_numpy(_clahe_array(to_dtype_numpy(x, "uint8"), clip_limit, grid, colour), "float32")
    return _clahe_array(x, clip_limit, grid, colour)


clahe = op("clahe")
