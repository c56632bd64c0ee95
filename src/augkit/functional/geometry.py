"""Geometry kernels: flips, resize, crops and padding (the warps are in :mod:`augkit.functional.warp`).

Conventions shared by every kernel here:

* sizes are ``(height, width)``; a crop box is ``top, left, height, width`` in pixels;
* ``interpolation`` is one of ``"nearest"``, ``"nearest-exact"``, ``"bilinear"``, ``"bicubic"``,
  ``"area"``, ``"lanczos"`` (warps take nearest, bilinear and bicubic). ``"nearest"`` is torch's
  and OpenCV's legacy nearest (input pixel ``floor(i * scale)``, shifted by up to half an output
  pixel); ``"nearest-exact"`` takes the pixel under each output centre (``floor((i + 0.5) *
  scale)``, Pillow's), which masks use so that they stay on their image and boxes;
* ``fill`` is given as a fraction of white in ``[0, 1]`` (one value or one per channel), so the
  same argument means the same colour for uint8, uint16 and float images;
* affine matrices are ``2 x 3`` forward maps from input to output pixel coordinates with pixel
  centres at integers (OpenCV's ``warpAffine`` convention); perspective corner points use
  torchvision's convention (continuous coordinates, pixel ``i`` spans ``[i, i + 1)``).

Tensor kernels take ``(..., C, H, W)`` tensors on any device. Per-image geometry arguments
(crop boxes, matrices, corner points) may carry a leading batch dimension; the batch is then
resampled in one call (``grid_sample`` for warps, a separable per-image filter for crops).

Resampling accuracy (uint8):

* ``resize_tensor`` equals ``torchvision.transforms.v2.functional.resize`` (antialias on or off)
  for nearest, bilinear and bicubic; ``"area"`` and ``"lanczos"`` use an exact separable filter
  (area coverage, Lanczos-3 like Pillow's ``LANCZOS``).
* ``resize_numpy`` runs torch's antialiased filter on a zero-copy view of the array when it
  downscales with ``antialias`` (OpenCV has no antialiased bilinear/bicubic), so arrays and
  tensors agree exactly; otherwise it calls ``cv2.resize`` (bilinear within 1 grey level of
  torch, bicubic within a few levels at sharp edges, lanczos uses ``INTER_LANCZOS4``).
* per-image crop boxes on a batch (tensors as box arguments of ``resized_crop_tensor``) use the
  same antialiasing filters as torch, computed in float32: within 1 grey level of cropping and
  resizing each image on its own.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Union

import cv2
import numpy as np
import torch
import torch.nn.functional as nnf

from ..core import executor
from ..core.kernels import numpy_kernel, op, run_numpy_per_image, tensor_kernel
from ._utils import cast_result, pair, to_work

__all__ = [
    "INTERPOLATIONS", "PADDING_MODES",
    "hflip", "hflip_tensor", "hflip_numpy", "vflip", "vflip_tensor", "vflip_numpy",
    "resized_size", "resize", "resize_tensor", "resize_numpy",
    "crop", "crop_tensor", "crop_numpy", "center_crop", "center_crop_tensor", "center_crop_numpy",
    "center_crop_box", "pad", "pad_tensor", "pad_numpy",
    "resized_crop", "resized_crop_tensor", "resized_crop_numpy",
]

INTERPOLATIONS = ("nearest", "nearest-exact", "bilinear", "bicubic", "area", "lanczos")
WARP_INTERPOLATIONS = ("nearest", "bilinear", "bicubic")
PADDING_MODES = ("constant", "edge", "reflect", "symmetric")

Number = Union[int, float]
Box = Union[int, torch.Tensor]
Fill = Union[float, Sequence[float]]

CV2_INTERPOLATION = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC,
              "area": cv2.INTER_AREA, "lanczos": cv2.INTER_LANCZOS4}


def check_interpolation(interpolation: str, allowed: tuple[str, ...] = INTERPOLATIONS) -> str:
    if interpolation not in allowed:
        raise ValueError(f"interpolation must be one of {', '.join(allowed)}; got {interpolation!r}")
    return interpolation


def white_of(dtype) -> float:
    name = str(dtype).removeprefix("torch.")
    return {"uint8": 255.0, "uint16": 65535.0}.get(name, 1.0)


# -- flips ---------------------------------------------------------------------------------------

def _flip_where(x: torch.Tensor, which: torch.Tensor, dim: int) -> torch.Tensor:
    """Mirror along ``dim`` the images of the batch ``x`` where ``which`` (bool ``(B,)``) is true,
    in one gather: each image reads that axis backwards or forwards (no host sync)."""
    size = x.shape[dim]
    forwards = torch.arange(size, device=x.device)
    shape = [len(x)] + [1] * (x.ndim - 1)
    shape[dim] = size
    index = torch.where(which.view(-1, *[1] * (x.ndim - 1)), forwards.flip(0).view(shape[1:]),
                        forwards.view(shape[1:]))
    return torch.gather(x, dim, index.expand(x.shape), out=executor.empty(x.shape, x.dtype, x.device))


@tensor_kernel("hflip")
def hflip_tensor(x: torch.Tensor, which: torch.Tensor | None = None) -> torch.Tensor:
    """Mirror left-right a ``(..., C, H, W)`` tensor; with ``which`` (bool ``(B,)``), only the
    images of the ``(B, C, H, W)`` batch where it is true.

    >>> hflip_tensor(torch.tensor([[[[1, 2]]], [[[3, 4]]]]), torch.tensor([True, False])).flatten().tolist()
    [2, 1, 3, 4]
    """
    return x.flip(-1) if which is None else _flip_where(x, which, -1)


@numpy_kernel("hflip")
def hflip_numpy(x: np.ndarray) -> np.ndarray:
    """Mirror left-right an HW/HWC array."""
    return cv2.flip(x, 1)


@tensor_kernel("vflip")
def vflip_tensor(x: torch.Tensor, which: torch.Tensor | None = None) -> torch.Tensor:
    """Mirror top-bottom a ``(..., C, H, W)`` tensor; ``which`` as in :func:`hflip_tensor`."""
    return x.flip(-2) if which is None else _flip_where(x, which, -2)


@numpy_kernel("vflip")
def vflip_numpy(x: np.ndarray) -> np.ndarray:
    """Mirror top-bottom an HW/HWC array."""
    return cv2.flip(x, 0)


# -- resize --------------------------------------------------------------------------------------

def resized_size(size_hw: tuple[int, int], size: int | Sequence[int],
                 max_size: int | None = None) -> tuple[int, int]:
    """The ``(height, width)`` that :func:`resize` gives an image of ``size_hw``.

    ``size`` as ``(h, w)`` is exact; an int sets the shorter side (the longer keeps the aspect
    ratio, truncated like torchvision) and ``max_size`` then caps the longer side.

    >>> resized_size((375, 500), 256)
    (256, 341)
    >>> resized_size((375, 500), 256, max_size=300)
    (225, 300)
    """
    h, w = size_hw
    if not isinstance(size, int):
        if len(size) == 2:
            return int(size[0]), int(size[1])
        size = int(size[0])
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if w <= h else (new_short, new_long)


def _cubic(a: float):
    def f(t: torch.Tensor) -> torch.Tensor:
        t = t.abs()
        near = ((a + 2) * t - (a + 3)) * t * t + 1
        far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
        return torch.where(t <= 1, near, torch.where(t < 2, far, torch.zeros_like(t)))
    return f


def _lanczos(t: torch.Tensor) -> torch.Tensor:
    return torch.where(t.abs() < 3, torch.sinc(t) * torch.sinc(t / 3), torch.zeros_like(t))


def _triangle(t: torch.Tensor) -> torch.Tensor:
    return (1 - t.abs()).clamp_(min=0)


def _taps(in_size: int, out_size: int, start: torch.Tensor, length: torch.Tensor, interpolation: str,
          antialias: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices and weights ``(n, out_size, K)`` resampling ``[start, start + length)`` of an axis
    of ``in_size`` pixels onto ``out_size`` pixels, per image (``start``/``length``: ``(n,)``).

    Weights follow torch's (Pillow's) separable filters: centred on ``scale * (i + 0.5)``,
    widened by the scale when antialiasing a downscale, cut to the box and normalised.
    """
    device = start.device
    start, length = start.to(torch.float64), length.to(torch.float64)
    scale = (length / out_size)[:, None]
    centre = scale * (torch.arange(out_size, device=device, dtype=torch.float64) + 0.5)[None]
    if interpolation in ("nearest", "nearest-exact"):  # torch's: floor(i * scale) or floor((i + 0.5) * scale), float32
        scale32 = (length.to(torch.float32) / out_size)[:, None]
        offset = 0.5 if interpolation == "nearest-exact" else 0.0
        index = torch.floor((torch.arange(out_size, device=device, dtype=torch.float32)[None] + offset) * scale32)
        index = torch.minimum(index.to(torch.float64), length[:, None] - 1) + start[:, None]
        return index.clamp(0, in_size - 1).long()[..., None], torch.ones_like(index, dtype=torch.float32)[..., None]
    support = {"bilinear": 1.0, "bicubic": 2.0, "lanczos": 3.0, "area": 0.5}[interpolation]
    stretch = scale.clamp(min=1.0) if antialias or interpolation == "area" else torch.ones_like(scale)
    reach = support * stretch
    if interpolation == "area":  # every pixel the box touches
        low = torch.floor(centre - reach).clamp(min=0)
        high = torch.minimum(torch.ceil(centre + reach), length[:, None])
    else:  # pixels whose centre the filter reaches
        low = torch.floor(centre - reach + 0.5).clamp(min=0)
        high = torch.minimum(torch.floor(centre + reach + 0.5), length[:, None])
    if device.type == "cpu":  # the taps these boxes need (reading them back is free on the CPU)
        k = max(int((high - low).max()), 1)
    else:  # bounded by the largest possible box, so no device sync
        k = int(math.ceil(2 * support * max(in_size / out_size, 1.0))) + 2
    j = low[..., None] + torch.arange(k, device=device, dtype=torch.float64)
    t = (j + 0.5 - centre[..., None]) / stretch[..., None]
    if interpolation == "area":
        half = 0.5 * stretch[..., None]
        rel = j + 0.5 - centre[..., None]
        w = ((rel + 0.5).clamp(max=half) - (rel - 0.5).clamp(min=-half)).clamp(min=0)
    elif interpolation == "bilinear":
        w = _triangle(t)
    elif interpolation == "bicubic":
        w = _cubic(-0.5 if antialias else -0.75)(t)
    else:
        w = _lanczos(t)
    w = torch.where(j < high[..., None], w, torch.zeros_like(w))
    w = w / w.sum(-1, keepdim=True)
    index = (j + start[:, None, None]).clamp(0, in_size - 1).long()
    return index, w.to(torch.float32)


def _filter_rows(x: torch.Tensor, index: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Resample dim 1 of a float ``(S, N, M)`` stack of ``S = B * C`` slices with per-image taps
    ``(B or 1, out, K)`` (image ``i`` owns slices ``i * C`` to ``i * C + C - 1``): every output
    row is one weighted bag of ``K`` whole input rows (``embedding_bag``: gather, multiply and
    add in a single pass)."""
    s, n, m = x.shape
    b, n_out, k = index.shape
    offset = (torch.arange(s, device=x.device) * n).view(b, s // b, 1, 1)
    rows = (index[:, None] + offset).reshape(s * n_out, k)
    weights = weight[:, None].expand(b, s // b, n_out, k).reshape(s * n_out, k).to(x.dtype)
    out = nnf.embedding_bag(rows, x.reshape(s * n, m), per_sample_weights=weights, mode="sum")
    return out.view(s, n_out, m)


def _separable(x: torch.Tensor, size: tuple[int, int], top: torch.Tensor, left: torch.Tensor,
               height: torch.Tensor, width: torch.Tensor, interpolation: str, antialias: bool) -> torch.Tensor:
    """Resample per-image boxes of a BCHW batch to ``size`` in two separable passes over rows:
    the input's rows, then the rows of the transposed intermediate. (Transforms hand large CPU
    batches over in cache-sized blocks, see :mod:`augkit.core.transform`.)"""
    (b, c, h, w), (oh, ow) = x.shape, size
    rows = _taps(h, oh, top, height, interpolation, antialias)
    cols = _taps(w, ow, left, width, interpolation, antialias)
    y = _filter_rows(to_work(x).reshape(-1, h, w), *rows)
    y = _filter_rows(y.transpose(1, 2).contiguous(), *cols)  # (b*C, ow, oh)
    y = cast_result(y, x.dtype, clamp=interpolation in ("bicubic", "lanczos"))
    return y.view(b, c, ow, oh).transpose(2, 3).contiguous()


def _interpolate(x: torch.Tensor, size: tuple[int, int], interpolation: str, antialias: bool) -> torch.Tensor:
    """torch's resampling of a BCHW tensor (nearest, bilinear, bicubic), dtype kept."""
    if interpolation in ("nearest", "nearest-exact"):
        if x.dtype == torch.uint16 or (x.dtype in (torch.float16, torch.bfloat16) and x.device.type == "cpu"):
            return nnf.interpolate(x.to(torch.float32), size=size, mode=interpolation).to(x.dtype)
        return nnf.interpolate(x, size=size, mode=interpolation)
    if x.dtype == torch.uint8 and x.device.type == "cpu":
        # torch's fixed-point uint8 path runs on interleaved (channels-last) pixels: a crop of an
        # HWC array stays channels-last (so is its result); a single CHW image is interleaved by
        # OpenCV (far faster than torch's own strided copy) and its result split back into CHW
        if len(x) == 1 and x.shape[1] > 1 and x.stride(1) != 1:
            return run_numpy_per_image(
                x, lambda image: _interpolate(_torch_view(image), size, interpolation, antialias)[0]
                .permute(1, 2, 0).numpy())
        layout = torch.channels_last if x.shape[1] > 1 else torch.contiguous_format
        return nnf.interpolate(x.contiguous(memory_format=layout), size=size, mode=interpolation,
                               antialias=antialias, align_corners=False)
    y = nnf.interpolate(to_work(x), size=size, mode=interpolation, antialias=antialias, align_corners=False)
    return cast_result(y, x.dtype, clamp=interpolation == "bicubic")


def _resample_tensor(x: torch.Tensor, size: tuple[int, int], interpolation: str, antialias: bool) -> torch.Tensor:
    """Resize the whole of a ``(..., C, H, W)`` tensor to exactly ``size``."""
    check_interpolation(interpolation)
    if tuple(x.shape[-2:]) == tuple(size):
        return x.clone()
    lead, (c, h, w) = x.shape[:-3], x.shape[-3:]
    x4 = x if x.ndim == 4 else x.reshape(-1, c, h, w)  # a reshape would blur a channels-last batch of one
    if interpolation in ("area", "lanczos"):
        zero, one = torch.zeros(1, device=x.device), torch.ones(1, device=x.device)
        out = _separable(x4, size, zero, zero, one * h, one * w, interpolation, antialias)
    else:
        out = _interpolate(x4, size, interpolation, antialias)
    return out.reshape(*lead, c, *size)


@tensor_kernel("resize")
def resize_tensor(x: torch.Tensor, size: int | Sequence[int], interpolation: str = "bilinear",
                  max_size: int | None = None, antialias: bool = True) -> torch.Tensor:
    """Resize a ``(..., C, H, W)`` tensor; ``size`` as in :func:`resized_size`.

    >>> resize_tensor(torch.zeros(3, 375, 500, dtype=torch.uint8), 256).shape
    torch.Size([3, 256, 341])
    """
    return _resample_tensor(x, resized_size(tuple(x.shape[-2:]), size, max_size), interpolation, antialias)


def _torch_view(x: np.ndarray) -> torch.Tensor:
    """A ``(1, C, H, W)`` channels-last tensor sharing the memory of an HW/HWC array."""
    x = x if x.ndim == 3 else x[:, :, None]
    if not x.flags.writeable:
        x = x.copy()
    return torch.from_numpy(x).unsqueeze(0).permute(0, 3, 1, 2)  # batch stride H*W*C: channels-last


@functools.lru_cache(maxsize=4096)
def _nearest_exact(n: int, m: int) -> np.ndarray:
    """The ``m`` source indices of torch's ``nearest-exact`` from ``n`` pixels to ``m`` (OpenCV's
    ``INTER_NEAREST_EXACT`` breaks ties otherwise for some sizes)."""
    index = np.minimum(np.floor((np.arange(m, dtype=np.float32) + 0.5) * np.float32(n / m)), n - 1).astype(np.intp)
    index.setflags(write=False)
    return index


def _resample_numpy(x: np.ndarray, size: tuple[int, int], interpolation: str, antialias: bool) -> np.ndarray:
    check_interpolation(interpolation)
    h, w = x.shape[:2]
    if (h, w) == tuple(size):
        return x.copy()
    if interpolation == "nearest-exact":
        # whole rows first, then the columns of those: as fast as OpenCV's resize, 7x a 2-d gather
        return x[_nearest_exact(h, size[0])][:, _nearest_exact(w, size[1])]
    downscale = size[0] < h or size[1] < w
    if antialias and (interpolation in ("bicubic", "lanczos") or (downscale and interpolation == "bilinear")):
        view = _torch_view(np.ascontiguousarray(x))  # NumPy copies a crop faster than torch
        out = _resample_tensor(view, size, interpolation, antialias)[0].permute(1, 2, 0).numpy()
        return np.ascontiguousarray(out if x.ndim == 3 else out[:, :, 0])
    flag = CV2_INTERPOLATION[interpolation]
    if interpolation == "area" and not downscale:
        flag = cv2.INTER_LINEAR  # OpenCV's INTER_AREA upscaling is bilinear too
    out = cv2.resize(x, (size[1], size[0]), interpolation=flag)
    if x.dtype == np.float32 and interpolation in ("bicubic", "lanczos"):
        np.clip(out, 0.0, 1.0, out=out)
    return out


@numpy_kernel("resize")
def resize_numpy(x: np.ndarray, size: int | Sequence[int], interpolation: str = "bilinear",
                 max_size: int | None = None, antialias: bool = True) -> np.ndarray:
    """Resize an HW/HWC array, like :func:`resize_tensor` (see the module notes on accuracy)."""
    return _resample_numpy(x, resized_size(x.shape[:2], size, max_size), interpolation, antialias)


# -- crops and padding ---------------------------------------------------------------------------

def fill_values(fill: Fill, channels: int, dtype) -> list[float]:
    values = [float(fill)] * channels if isinstance(fill, (int, float)) else [float(v) for v in fill]
    if len(values) == 1:
        values = values * channels
    if len(values) != channels:
        raise ValueError(f"fill has {len(values)} values but the image has {channels} channel(s)")
    white = white_of(dtype)
    return [v * white if white == 1.0 else round(v * white) for v in values]


def pad_amounts(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` from an int, ``(horizontal, vertical)`` or 4 values."""
    if isinstance(padding, int):
        return (padding,) * 4
    p = [int(v) for v in padding]
    if len(p) == 1:
        return (p[0],) * 4
    if len(p) == 2:
        return p[0], p[1], p[0], p[1]
    if len(p) == 4:
        return p[0], p[1], p[2], p[3]
    raise ValueError(f"padding must be an int or 1, 2 or 4 ints; got {padding!r}")


@tensor_kernel("pad")
def pad_tensor(x: torch.Tensor, padding: int | Sequence[int], fill: Fill = 0.0,
               padding_mode: str = "constant") -> torch.Tensor:
    """Pad a ``(..., C, H, W)`` tensor by ``padding`` (int, ``(lr, tb)`` or ``(l, t, r, b)``).

    Modes as in torchvision: ``constant`` (``fill``), ``edge``, ``reflect`` (without repeating the
    edge pixel), ``symmetric`` (repeating it).

    >>> pad_tensor(torch.ones(1, 1, 1), [1, 0], fill=0.5).tolist()
    [[[0.5, 1.0, 0.5]]]
    """
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {', '.join(PADDING_MODES)}; got {padding_mode!r}")
    left, top, right, bottom = pad_amounts(padding)
    h, w = x.shape[-2:]
    if padding_mode == "constant":
        c = x.shape[-3]
        out = x.new_empty(*x.shape[:-2], h + top + bottom, w + left + right)
        out[..., :, :, :] = torch.tensor(fill_values(fill, c, x.dtype), device=x.device).to(x.dtype).view(c, 1, 1)
        out[..., top:top + h, left:left + w] = x
        return out
    rows = _pad_index(h, top, bottom, padding_mode, x.device)
    cols = _pad_index(w, left, right, padding_mode, x.device)
    return x[..., rows[:, None], cols[None, :]]


def _pad_index(n: int, before: int, after: int, mode: str, device) -> torch.Tensor:
    i = torch.arange(-before, n + after, device=device)
    if mode == "edge":
        return i.clamp(0, n - 1)
    if mode == "reflect":
        period = max(2 * n - 2, 1)
        i = i.remainder(period)
        return torch.where(i >= n, period - i, i)
    period = 2 * n
    i = i.remainder(period)
    return torch.where(i >= n, period - 1 - i, i)


_CV2_BORDER = {"constant": cv2.BORDER_CONSTANT, "edge": cv2.BORDER_REPLICATE,
               "reflect": cv2.BORDER_REFLECT_101, "symmetric": cv2.BORDER_REFLECT}


@numpy_kernel("pad")
def pad_numpy(x: np.ndarray, padding: int | Sequence[int], fill: Fill = 0.0,
              padding_mode: str = "constant") -> np.ndarray:
    """Pad an HW/HWC array, like :func:`pad_tensor`."""
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {', '.join(PADDING_MODES)}; got {padding_mode!r}")
    left, top, right, bottom = pad_amounts(padding)
    channels = x.shape[2] if x.ndim == 3 else 1
    if padding_mode == "constant":
        out = np.empty((x.shape[0] + top + bottom, x.shape[1] + left + right, *x.shape[2:]), x.dtype)
        out[...] = np.asarray(fill_values(fill, channels, x.dtype), x.dtype).reshape(-1)[:channels] \
            if x.ndim == 3 else fill_values(fill, 1, x.dtype)[0]
        out[top:top + x.shape[0], left:left + x.shape[1]] = x
        return out
    if padding_mode == "reflect" and (max(top, bottom) >= x.shape[0] or max(left, right) >= x.shape[1]):
        return pad_tensor(_torch_view(x), padding, fill, padding_mode)[0].permute(1, 2, 0).numpy().reshape(
            x.shape[0] + top + bottom, x.shape[1] + left + right, *x.shape[2:]).copy()
    return cv2.copyMakeBorder(x, top, bottom, left, right, _CV2_BORDER[padding_mode])


@tensor_kernel("crop")
def crop_tensor(x: torch.Tensor, top: Box, left: Box, height: int, width: int) -> torch.Tensor:
    """The ``height x width`` box at ``(top, left)`` of a ``(..., C, H, W)`` tensor; parts of the
    box outside the image are zeros (like torchvision). Returns a view when the box is inside.
    ``top`` and ``left`` may be ``(B,)`` tensors (one box per image of a BCHW batch, inside it).

    >>> crop_tensor(torch.arange(9).view(1, 3, 3), 1, 1, 2, 2).tolist()
    [[[4, 5], [7, 8]]]
    """
    if isinstance(top, torch.Tensor) or isinstance(left, torch.Tensor):
        n = x.shape[0]
        rows = torch.as_tensor(top, device=x.device).expand(n)[:, None] + torch.arange(height, device=x.device)
        cols = torch.as_tensor(left, device=x.device).expand(n)[:, None] + torch.arange(width, device=x.device)
        batch = torch.arange(n, device=x.device)[:, None, None]
        src = x.view(torch.int16) if x.dtype == torch.uint16 else x  # no uint16 indexing kernel
        out = src[batch, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2).contiguous()
        return out.view(x.dtype)
    h, w = x.shape[-2:]
    t, l, b, r = max(top, 0), max(left, 0), min(top + height, h), min(left + width, w)
    out = x[..., t:max(b, t), l:max(r, l)]
    if (t, l, b, r) != (top, left, top + height, left + width):
        out = pad_tensor(out, [l - left, t - top, left + width - max(r, l), top + height - max(b, t)])
    return out


@numpy_kernel("crop")
def crop_numpy(x: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    """The ``height x width`` box at ``(top, left)`` of an HW/HWC array (a view when inside)."""
    h, w = x.shape[:2]
    t, l, b, r = max(top, 0), max(left, 0), min(top + height, h), min(left + width, w)
    out = x[t:max(b, t), l:max(r, l)]
    if (t, l, b, r) != (top, left, top + height, left + width):
        out = pad_numpy(out, [l - left, t - top, left + width - max(r, l), top + height - max(b, t)])
    return out


def center_crop_box(size_hw: tuple[int, int], crop_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    """``(top, left, height, width)`` of the centred ``crop_hw`` box, placed like torchvision.

    Inside the image the offset is ``round((h - ch) / 2)`` (Python's rounding, as torchvision);
    a box larger than the image is where torchvision's pad-then-crop puts it: the image gets
    ``(ch - h) // 2`` rows of zeros above (the odd one goes below).

    >>> center_crop_box((256, 341), (224, 224))
    (16, 58, 224, 224)
    >>> center_crop_box((3, 4), (6, 5))
    (-1, 0, 6, 5)
    """
    (h, w), (ch, cw) = size_hw, crop_hw

    def offset(size: int, crop: int) -> int:
        return -((crop - size) // 2) if crop > size else int(round((size - crop) / 2.0))

    return offset(h, ch), offset(w, cw), ch, cw


@tensor_kernel("center_crop")
def center_crop_tensor(x: torch.Tensor, size: int | Sequence[int]) -> torch.Tensor:
    """The centred ``size`` box of a ``(..., C, H, W)`` tensor (zero-padded if larger)."""
    return crop_tensor(x, *center_crop_box(tuple(x.shape[-2:]), pair(size)))


@numpy_kernel("center_crop")
def center_crop_numpy(x: np.ndarray, size: int | Sequence[int]) -> np.ndarray:
    """The centred ``size`` box of an HW/HWC array (zero-padded if larger)."""
    return crop_numpy(x, *center_crop_box(x.shape[:2], pair(size)))


@tensor_kernel("resized_crop")
def resized_crop_tensor(x: torch.Tensor, top: Box, left: Box, height: Box, width: Box,
                        size: int | Sequence[int], interpolation: str = "bilinear",
                        antialias: bool = True) -> torch.Tensor:
    """Crop the box and resize it to exactly ``size``.

    With int box arguments this is ``resize(crop(x, box), size)``. With ``(B,)`` tensors every
    image of the ``(B, C, H, W)`` batch has its own box (inside the image) and the whole batch is
    resampled at once by a separable filter with the same weights as torch's (within 1 grey
    level of the per-image result).

    >>> x = torch.rand(4, 3, 64, 64)
    >>> box = torch.tensor([0, 8, 16, 4]), torch.tensor([0, 0, 8, 30]), torch.full((4,), 32), torch.full((4,), 32)
    >>> resized_crop_tensor(x, *box, size=16).shape
    torch.Size([4, 3, 16, 16])
    """
    size = pair(size)
    if not any(isinstance(v, torch.Tensor) for v in (top, left, height, width)):
        return _resample_tensor(crop_tensor(x, top, left, height, width), size, interpolation, antialias)
    check_interpolation(interpolation)
    if x.ndim != 4:
        raise ValueError(f"per-image boxes need a (B, C, H, W) batch; got shape {tuple(x.shape)}")
    n = x.shape[0]
    box = [torch.as_tensor(v, device=x.device).expand(n) for v in (top, left, height, width)]
    return _separable(x, size, *box, interpolation, antialias)


@numpy_kernel("resized_crop")
def resized_crop_numpy(x: np.ndarray, top: int, left: int, height: int, width: int,
                       size: int | Sequence[int], interpolation: str = "bilinear",
                       antialias: bool = True) -> np.ndarray:
    """Crop the box of an HW/HWC array (a view) and resize it to exactly ``size``."""
    return _resample_numpy(crop_numpy(x, int(top), int(left), int(height), int(width)), pair(size),
                           interpolation, antialias)


hflip = op("hflip")
vflip = op("vflip")
resize = op("resize")
crop = op("crop")
center_crop = op("center_crop")
pad = op("pad")
resized_crop = op("resized_crop")
