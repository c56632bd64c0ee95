"""Geometry kernels: flips, resize, crops, padding, and affine / perspective warps.

Conventions shared by every kernel here:

* sizes are ``(height, width)``; a crop box is ``top, left, height, width`` in pixels;
* ``interpolation`` is one of ``"nearest"``, ``"bilinear"``, ``"bicubic"``, ``"area"``,
  ``"lanczos"`` (warps take the first three);
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

import math
from collections.abc import Sequence
from typing import Union

import cv2
import numpy as np
import torch
import torch.nn.functional as nnf

from ..core import executor
from ..core.kernels import numpy_kernel, op, run_numpy_per_image, tensor_kernel
from ._utils import pair

__all__ = [
    "INTERPOLATIONS", "PADDING_MODES",
    "hflip", "hflip_tensor", "hflip_numpy", "vflip", "vflip_tensor", "vflip_numpy",
    "resized_size", "resize", "resize_tensor", "resize_numpy",
    "crop", "crop_tensor", "crop_numpy", "center_crop", "center_crop_tensor", "center_crop_numpy",
    "center_crop_box", "pad", "pad_tensor", "pad_numpy",
    "resized_crop", "resized_crop_tensor", "resized_crop_numpy",
    "affine_matrix", "affine", "affine_tensor", "affine_numpy",
    "expanded_size", "rotate", "rotate_tensor", "rotate_numpy",
    "perspective", "perspective_tensor", "perspective_numpy",
]

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "area", "lanczos")
WARP_INTERPOLATIONS = ("nearest", "bilinear", "bicubic")
PADDING_MODES = ("constant", "edge", "reflect", "symmetric")

Number = Union[int, float]
Box = Union[int, torch.Tensor]
Fill = Union[float, Sequence[float]]

_CV2_INTER = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC,
              "area": cv2.INTER_AREA, "lanczos": cv2.INTER_LANCZOS4}


def _check_interpolation(interpolation: str, allowed: tuple[str, ...] = INTERPOLATIONS) -> str:
    if interpolation not in allowed:
        raise ValueError(f"interpolation must be one of {', '.join(allowed)}; got {interpolation!r}")
    return interpolation


def _white(dtype) -> float:
    name = str(dtype).removeprefix("torch.")
    return {"uint8": 255.0, "uint16": 65535.0}.get(name, 1.0)


def _to_work(x: torch.Tensor) -> torch.Tensor:
    """A float copy to resample in (float32 unless the input is float64)."""
    return x if x.dtype in (torch.float32, torch.float64) else x.to(torch.float32)


def _from_work(y: torch.Tensor, dtype: torch.dtype, clamp: bool = True) -> torch.Tensor:
    """Back to ``dtype``: integers are rounded and clamped, floats clamped to [0, 1] if ``clamp``.
    ``y`` is a result the caller owns: it is rounded and clamped in place."""
    if dtype.is_floating_point:
        return (y.clamp_(0.0, 1.0) if clamp else y).to(dtype)
    white = _white(dtype)
    return y.round_().clamp_(0.0, white).to(dtype)


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
    if interpolation == "nearest":  # torch's legacy nearest: floor(i * scale) in float32
        scale32 = (length.to(torch.float32) / out_size)[:, None]
        index = torch.floor(torch.arange(out_size, device=device, dtype=torch.float32)[None] * scale32)
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
    y = _filter_rows(_to_work(x).reshape(-1, h, w), *rows)
    y = _filter_rows(y.transpose(1, 2).contiguous(), *cols)  # (b*C, ow, oh)
    y = _from_work(y, x.dtype, clamp=interpolation in ("bicubic", "lanczos"))
    return y.view(b, c, ow, oh).transpose(2, 3).contiguous()


def _interpolate(x: torch.Tensor, size: tuple[int, int], interpolation: str, antialias: bool) -> torch.Tensor:
    """torch's resampling of a BCHW tensor (nearest, bilinear, bicubic), dtype kept."""
    if interpolation == "nearest":
        if x.dtype == torch.uint16 or (x.dtype in (torch.float16, torch.bfloat16) and x.device.type == "cpu"):
            return nnf.interpolate(x.to(torch.float32), size=size, mode="nearest").to(x.dtype)
        return nnf.interpolate(x, size=size, mode="nearest")
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
    y = nnf.interpolate(_to_work(x), size=size, mode=interpolation, antialias=antialias, align_corners=False)
    return _from_work(y, x.dtype, clamp=interpolation == "bicubic")


def _resample_tensor(x: torch.Tensor, size: tuple[int, int], interpolation: str, antialias: bool) -> torch.Tensor:
    """Resize the whole of a ``(..., C, H, W)`` tensor to exactly ``size``."""
    _check_interpolation(interpolation)
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


def _resample_numpy(x: np.ndarray, size: tuple[int, int], interpolation: str, antialias: bool) -> np.ndarray:
    _check_interpolation(interpolation)
    h, w = x.shape[:2]
    if (h, w) == tuple(size):
        return x.copy()
    downscale = size[0] < h or size[1] < w
    if antialias and (interpolation in ("bicubic", "lanczos") or (downscale and interpolation == "bilinear")):
        view = _torch_view(np.ascontiguousarray(x))  # NumPy copies a crop faster than torch
        out = _resample_tensor(view, size, interpolation, antialias)[0].permute(1, 2, 0).numpy()
        return np.ascontiguousarray(out if x.ndim == 3 else out[:, :, 0])
    flag = _CV2_INTER[interpolation]
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

def _fill_values(fill: Fill, channels: int, dtype) -> list[float]:
    values = [float(fill)] * channels if isinstance(fill, (int, float)) else [float(v) for v in fill]
    if len(values) == 1:
        values = values * channels
    if len(values) != channels:
        raise ValueError(f"fill has {len(values)} values but the image has {channels} channel(s)")
    white = _white(dtype)
    return [v * white if white == 1.0 else round(v * white) for v in values]


def _pad_amounts(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
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
    left, top, right, bottom = _pad_amounts(padding)
    h, w = x.shape[-2:]
    if padding_mode == "constant":
        c = x.shape[-3]
        out = x.new_empty(*x.shape[:-2], h + top + bottom, w + left + right)
        out[..., :, :, :] = torch.tensor(_fill_values(fill, c, x.dtype), device=x.device).to(x.dtype).view(c, 1, 1)
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
    left, top, right, bottom = _pad_amounts(padding)
    channels = x.shape[2] if x.ndim == 3 else 1
    if padding_mode == "constant":
        out = np.empty((x.shape[0] + top + bottom, x.shape[1] + left + right, *x.shape[2:]), x.dtype)
        out[...] = np.asarray(_fill_values(fill, channels, x.dtype), x.dtype).reshape(-1)[:channels] \
            if x.ndim == 3 else _fill_values(fill, 1, x.dtype)[0]
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
    _check_interpolation(interpolation)
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


# -- warps ---------------------------------------------------------------------------------------

def affine_matrix(angle: Number | torch.Tensor = 0.0, translate: Sequence = (0.0, 0.0),
                  scale: Number | torch.Tensor = 1.0, shear: Sequence = (0.0, 0.0),
                  center: tuple[float, float] = (0.0, 0.0)) -> torch.Tensor:
    """The forward ``(..., 2, 3)`` matrix rotating by ``angle`` degrees counter-clockwise, scaling,
    shearing by ``shear`` degrees (x, y) about ``center`` (x, y pixel coordinates), then
    translating by ``translate`` pixels. Arguments may be ``(B,)`` tensors.

    The same composition as torchvision's ``affine`` with ``angle`` negated (torchvision's
    ``affine`` turns clockwise, its ``rotate`` counter-clockwise).

    >>> affine_matrix(90.0, center=(1.0, 1.0)).round().abs().tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 2.0]]
    """
    t = [torch.as_tensor(v, dtype=torch.float64) for v in (angle, translate[0], translate[1], scale,
                                                            shear[0], shear[1])]
    angle_t, tx, ty, s, shx, shy = torch.broadcast_tensors(*t)
    rot, sx, sy = torch.deg2rad(-angle_t), torch.deg2rad(shx), torch.deg2rad(shy)
    a = torch.cos(rot - sy) / torch.cos(sy)
    b = -(a * torch.tan(sx) + torch.sin(rot))
    c = torch.sin(rot - sy) / torch.cos(sy)
    d = torch.cos(rot) - c * torch.tan(sx)
    cx, cy = center
    m00, m01, m10, m11 = a * s, b * s, c * s, d * s
    m02 = cx + tx - m00 * cx - m01 * cy
    m12 = cy + ty - m10 * cx - m11 * cy
    return torch.stack([torch.stack([m00, m01, m02], -1), torch.stack([m10, m11, m12], -1)], -2)


def _invert(matrix: torch.Tensor) -> torch.Tensor:
    full = torch.cat([matrix, matrix.new_tensor([0.0, 0.0, 1.0]).expand(*matrix.shape[:-2], 1, 3)], -2)
    return torch.linalg.inv(full)


def _normalizer(h: int, w: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """3x3 map from pixel coordinates (centres at integers) to grid_sample's [-1, 1]."""
    return torch.tensor([[2.0 / w, 0.0, 1.0 / w - 1.0], [0.0, 2.0 / h, 1.0 / h - 1.0], [0.0, 0.0, 1.0]],
                        dtype=dtype, device=device)


def _sample(x: torch.Tensor, grid: torch.Tensor, interpolation: str, fill: Fill) -> torch.Tensor:
    """grid_sample a BCHW batch (any dtype) with ``fill`` outside, in one call."""
    c = x.shape[1]
    work = _to_work(x)
    fills = _fill_values(fill, c, torch.float32)
    blend = any(v != 0 for v in fills)
    if blend:  # sample a ones channel along to know how much of each pixel came from outside
        work = torch.cat([work, torch.ones_like(work[:, :1])], 1)
    grid = grid.to(work.dtype)
    if grid.shape[0] != work.shape[0]:
        grid = grid.expand(work.shape[0], *grid.shape[1:])
    out = nnf.grid_sample(work, grid, mode=interpolation, padding_mode="zeros", align_corners=False)
    if blend:
        out, inside = out[:, :c], out[:, c:]
        if interpolation == "nearest":
            inside = (inside > 0.5).to(out.dtype)
        white = _white(x.dtype)
        fill_t = torch.tensor(fills, dtype=out.dtype, device=out.device).view(1, c, 1, 1) * white
        out = out + (1 - inside) * fill_t
    return _from_work(out, x.dtype, clamp=interpolation == "bicubic")


def _affine_grid(source: torch.Tensor, oh: int, ow: int) -> torch.Tensor:
    """The ``(B, oh, ow, 2)`` float32 sampling grid of ``(B, 3, 3)`` maps from output pixel
    coordinates to grid_sample's [-1, 1]. Each coordinate is a per-row plus a per-column term:
    one broadcast add per coordinate into its own plane (a channels-last view, which grid_sample
    reads as fast), where ``affine_grid`` multiplies matrices and interleaves."""
    xs = torch.arange(ow, dtype=source.dtype, device=source.device)
    ys = torch.arange(oh, dtype=source.dtype, device=source.device)
    grid = torch.empty(len(source), 2, oh, ow, dtype=torch.float32, device=source.device)
    for k in range(2):
        columns = (source[:, k, :1] * xs).to(torch.float32)
        rows = (source[:, k, 1:2] * ys + source[:, k, 2:]).to(torch.float32)
        torch.add(rows[:, :, None], columns[:, None, :], out=grid[:, k])
    return grid.permute(0, 2, 3, 1)


def _batched(x: torch.Tensor) -> tuple[torch.Tensor, tuple]:
    lead = x.shape[:-3]
    return x.reshape(-1, *x.shape[-3:]), lead


@tensor_kernel("affine")
def affine_tensor(x: torch.Tensor, matrix: torch.Tensor | Sequence, interpolation: str = "bilinear",
                  fill: Fill = 0.0, output_size: tuple[int, int] | None = None) -> torch.Tensor:
    """Warp a ``(..., C, H, W)`` tensor by the forward ``2 x 3`` ``matrix`` (or ``(B, 2, 3)``, one
    per image) in one ``grid_sample`` call; ``output_size`` defaults to the input size.

    >>> m = affine_matrix(0.0, translate=(1.0, 0.0))
    >>> affine_tensor(torch.tensor([[[0.25, 0.5, 1.0]]]), m, "nearest").tolist()
    [[[0.0, 0.25, 0.5]]]
    """
    _check_interpolation(interpolation, WARP_INTERPOLATIONS)
    x4, lead = _batched(x)
    h, w = x4.shape[-2:]
    oh, ow = output_size or (h, w)
    matrix = torch.as_tensor(matrix, dtype=torch.float64, device=x.device).reshape(-1, 2, 3)
    grid = _affine_grid(_normalizer(h, w, device=x.device) @ _invert(matrix), oh, ow)
    out = _sample(x4, grid, interpolation, fill)
    return out.reshape(*lead, x4.shape[1], oh, ow)


def _cv2_border(x: np.ndarray, fill: Fill) -> tuple:
    channels = x.shape[2] if x.ndim == 3 else 1
    values = _fill_values(fill, channels, x.dtype)
    return tuple(values[:4]) + (0.0,) * (4 - min(len(values), 4))


@numpy_kernel("affine")
def affine_numpy(x: np.ndarray, matrix, interpolation: str = "bilinear", fill: Fill = 0.0,
                 output_size: tuple[int, int] | None = None) -> np.ndarray:
    """Warp an HW/HWC array by the forward ``2 x 3`` ``matrix`` (``cv2.warpAffine``).

    OpenCV quantises sampling positions to 1/32 pixel: within a few grey levels of the tensor
    kernel at sharp edges, well within 1 level on smooth content.
    """
    _check_interpolation(interpolation, WARP_INTERPOLATIONS)
    oh, ow = output_size or x.shape[:2]
    m = np.asarray(torch.as_tensor(matrix, dtype=torch.float64).reshape(2, 3))
    out = cv2.warpAffine(x, m, (int(ow), int(oh)), flags=_CV2_INTER[interpolation],
                         borderMode=cv2.BORDER_CONSTANT, borderValue=_cv2_border(x, fill))
    if x.dtype == np.float32 and interpolation == "bicubic":
        np.clip(out, 0.0, 1.0, out=out)
    return out


def _rotation(size_hw: tuple[int, int], angle, expand: bool, center) -> tuple[torch.Tensor, tuple[int, int]]:
    h, w = size_hw
    cx, cy = center if center is not None else ((w - 1) * 0.5, (h - 1) * 0.5)
    matrix = affine_matrix(angle, center=(cx, cy))
    if not expand:
        return matrix, (h, w)
    if isinstance(angle, torch.Tensor) and angle.numel() > 1:
        raise ValueError("expand=True needs one angle (every output has its own size otherwise)")
    oh, ow = expanded_size((h, w), [float(angle)])
    shift = torch.tensor([(ow - w) * 0.5, (oh - h) * 0.5], dtype=torch.float64)
    matrix = matrix.clone()
    matrix[..., 2] += shift
    return matrix, (oh, ow)


def expanded_size(size_hw: tuple[int, int], angles: Sequence[float]) -> tuple[int, int]:
    """The canvas holding an image of ``size_hw`` rotated by any of ``angles`` (degrees) about
    its centre, computed like torchvision's ``rotate(expand=True)``: the rotated corners'
    extents (float32, truncated to 1e-4 so that rounding noise does not add a pixel) rounded
    outwards, the largest over ``angles`` per side. Sizes are kept exactly at multiples of 90
    degrees (torchvision transposes there).

    >>> expanded_size((24, 32), [30.0])
    (38, 40)
    >>> expanded_size((3, 5), [0.0]), expanded_size((3, 5), [90.0])
    ((3, 5), (5, 3))
    """
    h, w = size_hw
    rot = np.radians(-(np.asarray(angles, dtype=np.float64).reshape(-1) % 360))
    cos, sin = np.cos(rot), np.sin(rot)
    zero = np.zeros_like(cos)
    theta = torch.from_numpy(np.stack([cos, sin, zero, -sin, cos, zero], -1)).to(torch.float32).view(-1, 2, 3)
    half_w, half_h = 0.5 * w, 0.5 * h
    pts = torch.tensor([[-half_w, -half_h, 1.0], [-half_w, half_h, 1.0], [half_w, half_h, 1.0],
                        [half_w, -half_h, 1.0]])
    corners = torch.matmul(pts, theta.transpose(1, 2))  # (n, 4, 2): x, y
    low, high = corners.aminmax(dim=1)
    halfs = torch.tensor((half_w, half_h))
    tol, inv_tol = 1e-4, 1.0 / 1e-4
    high = (high + halfs).mul_(inv_tol).trunc_().mul_(tol).ceil_()
    low = (low + halfs).mul_(inv_tol).trunc_().mul_(tol).floor_()
    size = (high - low).to(torch.int64)  # (n, 2): width, height
    # torchvision turns multiples of 90 degrees by transposing: the size is exact even where the
    # corner extents of an odd by even image would round out to one more pixel
    quarter = torch.from_numpy(np.asarray(angles, dtype=np.float64).reshape(-1) % 90 == 0)
    odd = torch.from_numpy(np.asarray(angles, dtype=np.float64).reshape(-1) % 180 == 90)
    exact = torch.where(odd[:, None], torch.tensor([h, w]), torch.tensor([w, h]))
    ow, oh = torch.where(quarter[:, None], exact, size).amax(0).numpy()
    return int(oh), int(ow)


@tensor_kernel("rotate")
def rotate_tensor(x: torch.Tensor, angle: float | torch.Tensor, interpolation: str = "nearest",
                  expand: bool = False, center: tuple[float, float] | None = None,
                  fill: Fill = 0.0) -> torch.Tensor:
    """Rotate a ``(..., C, H, W)`` tensor by ``angle`` degrees counter-clockwise about ``center``
    (pixel coordinates; the image centre by default); ``angle`` may be ``(B,)``. With
    ``expand`` the canvas grows to hold the whole rotated image (one angle only).

    >>> rotate_tensor(torch.tensor([[[1, 2], [3, 4]]], dtype=torch.uint8), 90.0).tolist()
    [[[2, 4], [1, 3]]]
    """
    matrix, size = _rotation(tuple(x.shape[-2:]), angle, expand, center)
    return affine_tensor(x, matrix.to(x.device), interpolation, fill, size)


@numpy_kernel("rotate")
def rotate_numpy(x: np.ndarray, angle: float, interpolation: str = "nearest", expand: bool = False,
                 center: tuple[float, float] | None = None, fill: Fill = 0.0) -> np.ndarray:
    """Rotate an HW/HWC array, like :func:`rotate_tensor`."""
    matrix, size = _rotation(x.shape[:2], float(angle), expand, center)
    return affine_numpy(x, matrix, interpolation, fill, size)


def _homography(startpoints, endpoints, device: torch.device | None = None) -> torch.Tensor:
    """``(B, 3, 3)`` maps from output to input pixel coordinates (centres at integers) for corner
    points in torchvision's continuous convention (``startpoints`` in the input).

    Solved in float64 on ``device`` (the points' own device by default), one batched solve and
    no host sync; degenerate points raise ``ValueError`` on the CPU, and give non-finite maps
    elsewhere (checking there would wait for the device).
    """
    src = _points(startpoints, device)
    dst = _points(endpoints, src.device)
    src, dst = torch.broadcast_tensors(src - 0.5, dst - 0.5)
    n = src.shape[0]
    x, y = dst[..., 0], dst[..., 1]
    u, v = src[..., 0], src[..., 1]
    zero, one = torch.zeros_like(x), torch.ones_like(x)
    rows_u = torch.stack([x, y, one, zero, zero, zero, -u * x, -u * y], -1)
    rows_v = torch.stack([zero, zero, zero, x, y, one, -v * x, -v * y], -1)
    a = torch.cat([rows_u, rows_v], 1)
    coeffs, info = torch.linalg.solve_ex(a, torch.cat([u, v], 1))
    if coeffs.device.type == "cpu" and bool(info.any()):
        raise ValueError("perspective corner points are degenerate (three of them on one line, or a "
                         "one-pixel image): no homography maps them")
    return torch.cat([coeffs, torch.ones_like(coeffs[:, :1])], 1).reshape(n, 3, 3)


def _points(points, device: torch.device | None) -> torch.Tensor:
    """Corner points as a float64 ``(B, 4, 2)`` tensor on ``device`` (a tensor's own by default)."""
    if device is None and isinstance(points, torch.Tensor):
        device = points.device
    return torch.as_tensor(points, dtype=torch.float64, device=device).reshape(-1, 4, 2)


@tensor_kernel("perspective")
def perspective_tensor(x: torch.Tensor, startpoints, endpoints, interpolation: str = "bilinear",
                       fill: Fill = 0.0) -> torch.Tensor:
    """Warp a ``(..., C, H, W)`` tensor so that the 4 ``startpoints`` (x, y; top-left, top-right,
    bottom-right, bottom-left) land on ``endpoints``; ``(B, 4, 2)`` points give one warp per image.

    >>> corners = [[0, 0], [4, 0], [4, 4], [0, 4]]
    >>> torch.equal(perspective_tensor(torch.ones(1, 4, 4), corners, corners), torch.ones(1, 4, 4))
    True
    """
    _check_interpolation(interpolation, WARP_INTERPOLATIONS)
    x4, lead = _batched(x)
    h, w = x4.shape[-2:]
    inv = _homography(startpoints, endpoints, x.device)
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64, device=x.device),
                            torch.arange(w, dtype=torch.float64, device=x.device), indexing="ij")
    base = torch.stack([xs, ys, torch.ones_like(xs)], -1).reshape(1, h * w, 3)
    src = base @ inv.transpose(1, 2)
    src = src[..., :2] / src[..., 2:]
    scale = torch.tensor([2.0 / w, 2.0 / h], dtype=torch.float64, device=x.device)
    grid = ((src + 0.5) * scale - 1.0).reshape(-1, h, w, 2).to(torch.float32)
    return _sample(x4, grid, interpolation, fill).reshape(x.shape)


@numpy_kernel("perspective")
def perspective_numpy(x: np.ndarray, startpoints, endpoints, interpolation: str = "bilinear",
                      fill: Fill = 0.0) -> np.ndarray:
    """Warp an HW/HWC array like :func:`perspective_tensor` (``cv2.warpPerspective``)."""
    _check_interpolation(interpolation, WARP_INTERPOLATIONS)
    inv = _homography(startpoints, endpoints, torch.device("cpu"))[0].numpy()
    h, w = x.shape[:2]
    out = cv2.warpPerspective(x, inv, (w, h), flags=_CV2_INTER[interpolation] | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=_cv2_border(x, fill))
    if x.dtype == np.float32 and interpolation == "bicubic":
        np.clip(out, 0.0, 1.0, out=out)
    return out


hflip = op("hflip")
vflip = op("vflip")
resize = op("resize")
crop = op("crop")
center_crop = op("center_crop")
pad = op("pad")
resized_crop = op("resized_crop")
affine = op("affine")
rotate = op("rotate")
perspective = op("perspective")
