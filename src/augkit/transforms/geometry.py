"""Geometric transforms: flips, resizing, crops and padding (the random warps: :mod:`augkit.transforms.warp`).

Random transforms draw one set of parameters per image (``same_on_batch=True`` shares one set
across a batch) and apply a batch in one resampling call. ``fill`` is a fraction of white in
``[0, 1]`` (one value or one per channel), so it means the same colour for every dtype.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np
import torch

from .. import functional as F
from ..core.executor import in_blocks
from ..core.image import ImageSpec
from ..core.params import Params
from ..core.transform import Transform
from ..core.random import unit_draws
from ..core.validation import check_choice, check_fill, check_number, check_padding, check_range_pair, check_size
from ..functional._utils import pair
from ..functional.geometry import INTERPOLATIONS, PADDING_MODES, pad_amounts
from ..functional.points import axis_matrix

__all__ = [
    "HorizontalFlip", "VerticalFlip", "Resize", "CenterCrop", "RandomCrop", "Pad",
    "ResizedCenterCrop", "RandomResizedCrop",
]


class _Flip(Transform):
    """A flip with probability ``p`` per image: a batch with per-image choices is mirrored in one
    gather (each image reads its axis backwards or forwards) instead of on a subset."""

    reads_values = False  # moves values, whatever they are
    samples_outside = False

    _axis: ClassVar[str]
    _tensor_kernel: ClassVar[Callable[..., torch.Tensor]]
    _numpy_kernel: ClassVar[Callable[[np.ndarray], np.ndarray]]

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p)

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return self._tensor_kernel(x)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return self._numpy_kernel(x)

    def _point_matrix(self, spec: ImageSpec, params: Params) -> torch.Tensor:
        h, w = spec.size
        flip = (-1.0, 1.0, w, 0.0) if self._axis == "x" else (1.0, -1.0, 0.0, h)
        return axis_matrix(spec.n, flip[:2], flip[2:], spec.device)

    def _apply_masked(self, x: torch.Tensor, spec: ImageSpec, params: Params) -> torch.Tensor:
        if params.applied is None or len(x) == 1 or not x.is_contiguous():
            return super()._apply_masked(x, spec, params)
        return self._tensor_kernel(x, params.applied)


class HorizontalFlip(_Flip):
    """Mirror images left-right with probability ``p``, drawn per image.

    >>> import torch, augkit
    >>> augkit.HorizontalFlip(p=1.0)(torch.tensor([[[1, 2, 3]]], dtype=torch.uint8)).tolist()
    [[[3, 2, 1]]]
    """

    _axis = "x"
    _tensor_kernel = staticmethod(F.hflip_tensor)
    _numpy_kernel = staticmethod(F.hflip_numpy)


class VerticalFlip(_Flip):
    """Mirror images top-bottom with probability ``p``, drawn per image.

    >>> import torch, augkit
    >>> augkit.VerticalFlip(p=1.0)(torch.tensor([[[1], [2]]], dtype=torch.uint8)).tolist()
    [[[2], [1]]]
    """

    _axis = "y"
    _tensor_kernel = staticmethod(F.vflip_tensor)
    _numpy_kernel = staticmethod(F.vflip_numpy)


# draws for at most this many images on the CPU are computed in plain Python (no tensor op overhead)
_FEW = 8


# -- deterministic size changes --------------------------------------------------------------------

@in_blocks  # float intermediates per block (augkit.core.executor)
class Resize(Transform):
    """Resize to ``size``: ``(height, width)`` exactly, or an int for the shorter side (the
    longer side keeps the aspect ratio, capped at ``max_size``).

    ``interpolation``: nearest, bilinear, bicubic, area or lanczos. Tensors match torchvision's
    ``resize``; see :mod:`augkit.functional.geometry` for the accuracy of each path.

    >>> import torch, augkit
    >>> augkit.Resize(256)(torch.zeros(3, 375, 500, dtype=torch.uint8)).shape
    torch.Size([3, 256, 341])
    """

    reads_values = False  # moves values, whatever they are
    samples_outside = False
    mask_interpolation = "nearest-exact"  # masks stay on their image (not the legacy nearest)

    def __init__(self, size: int | Sequence[int], interpolation: str = "bilinear",
                 max_size: int | None = None, antialias: bool = True) -> None:
        super().__init__()
        self.size = check_size(size)
        self.interpolation = check_choice(interpolation, "interpolation", INTERPOLATIONS)
        if max_size is not None:
            check_number(max_size, "max_size", low=1, integer=True)
            if not isinstance(self.size, int):
                raise ValueError(f"max_size applies only when size is an int; got size={size!r}")
            if max_size <= self.size:
                raise ValueError(f"max_size must be larger than size={self.size}; got {max_size}")
        self.max_size = max_size
        self.antialias = bool(antialias)

    def output_size(self, size: tuple[int, int], params: Params) -> tuple[int, int]:
        return F.resized_size(size, self.size, self.max_size)

    def _point_matrix(self, spec: ImageSpec, params: Params) -> torch.Tensor:
        oh, ow = self.output_size(spec.size, params)
        return axis_matrix(spec.n, (ow / spec.width, oh / spec.height), device=spec.device)

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.resize_tensor(x, self.size, self.interpolation, self.max_size, self.antialias)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.resize_numpy(x, self.size, self.interpolation, self.max_size, self.antialias)


class CenterCrop(Transform):
    """Crop the centre ``size`` box (an int for a square); smaller images are zero-padded.

    >>> import torch, augkit
    >>> augkit.CenterCrop(2)(torch.arange(16, dtype=torch.uint8).view(1, 4, 4)).tolist()
    [[[5, 6], [9, 10]]]
    """

    reads_values = False  # moves values, whatever they are

    def __init__(self, size: int | Sequence[int]) -> None:
        super().__init__()
        self.size = check_size(size)

    def output_size(self, size: tuple[int, int], params: Params) -> tuple[int, int]:
        return pair(self.size)

    def _point_matrix(self, spec: ImageSpec, params: Params) -> torch.Tensor:
        top, left, _, _ = F.center_crop_box(spec.size, pair(self.size))
        return axis_matrix(spec.n, shift=(-left, -top), device=spec.device)

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.center_crop_tensor(x, self.size).clone()

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.center_crop_numpy(x, self.size).copy()


class Pad(Transform):
    """Pad by ``padding`` (int, ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``)
    with ``padding_mode`` constant (``fill``), edge, reflect or symmetric.

    >>> import torch, augkit
    >>> augkit.Pad(1)(torch.zeros(3, 4, 4)).shape
    torch.Size([3, 6, 6])
    """

    reads_values = False  # moves values, whatever they are

    def __init__(self, padding: int | Sequence[int], fill: float | Sequence[float] = 0.0,
                 padding_mode: str = "constant") -> None:
        super().__init__()
        self.padding = check_padding(padding)
        self.fill = check_fill(fill)
        self.padding_mode = check_choice(padding_mode, "padding_mode", PADDING_MODES)

    def output_size(self, size: tuple[int, int], params: Params) -> tuple[int, int]:
        left, top, right, bottom = pad_amounts(self.padding)
        return size[0] + top + bottom, size[1] + left + right

    def _point_matrix(self, spec: ImageSpec, params: Params) -> torch.Tensor:
        left, top, _, _ = pad_amounts(self.padding)
        return axis_matrix(spec.n, shift=(left, top), device=spec.device)

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.pad_tensor(x, self.padding, self.fill, self.padding_mode)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.pad_numpy(x, self.padding, self.fill, self.padding_mode)


def eval_crop_box(size_hw: tuple[int, int], size: int | tuple[int, int],
                  crop_ratio: float) -> tuple[int, int, int, int]:
    """The box of the input that ``Resize(size / crop_ratio)`` + ``CenterCrop(size)`` keeps, as
    ``(top, left, height, width)`` rounded to whole pixels.

    An int ``size`` resizes the shorter side to ``floor(size / crop_ratio)``; a pair resizes to
    ``floor(h / crop_ratio), floor(w / crop_ratio)`` (timm's eval convention).

    >>> eval_crop_box((375, 500), 224, 0.875)
    (23, 85, 328, 328)
    """
    out_h, out_w = pair(size)
    scale_size = (math.floor(size / crop_ratio) if isinstance(size, int)
                  else (math.floor(out_h / crop_ratio), math.floor(out_w / crop_ratio)))
    return resize_crop_box(size_hw, F.resized_size(size_hw, scale_size), (out_h, out_w))


def resize_crop_box(size_hw: tuple[int, int], resized_hw: tuple[int, int],
                    crop_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    """The box of an input of ``size_hw`` that a resize to ``resized_hw`` then a centre crop of
    ``crop_hw`` keeps, as ``(top, left, height, width)`` rounded to whole input pixels.

    >>> resize_crop_box((375, 500), (256, 341), (224, 224))
    (23, 85, 328, 328)
    """
    (h, w), (rh, rw), (out_h, out_w) = size_hw, resized_hw, crop_hw
    top, left, _, _ = F.center_crop_box((rh, rw), (out_h, out_w))
    sy, sx = h / rh, w / rw
    box_h, box_w = max(1, round(out_h * sy)), max(1, round(out_w * sx))
    top = min(max(round(top * sy), 0), max(h - box_h, 0))
    left = min(max(round(left * sx), 0), max(w - box_w, 0))
    return top, left, min(box_h, h), min(box_w, w)


@in_blocks  # float intermediates per block (augkit.core.executor)
class ResizedCenterCrop(Transform):
    """The eval crop in one pass: ``Resize(size / crop_ratio)`` then ``CenterCrop(size)``, done
    by cropping the centre region of the input and resizing only it.

    The box is rounded to whole input pixels, so the result is the two-step pipeline's up to a
    shift of less than half an input pixel (on 375 x 500 photos: a mean difference of 1 to 4
    grey levels, more at sharp edges).

    >>> import torch, augkit
    >>> augkit.ResizedCenterCrop(224)(torch.zeros(3, 375, 500, dtype=torch.uint8)).shape
    torch.Size([3, 224, 224])
    """

    reads_values = False  # moves values, whatever they are
    samples_outside = False
    mask_interpolation = "nearest-exact"  # masks stay on their image (not the legacy nearest)

    def __init__(self, size: int | Sequence[int], crop_ratio: float = 0.875,
                 interpolation: str = "bilinear", antialias: bool = True) -> None:
        super().__init__()
        self.size = check_size(size)
        self.crop_ratio = float(check_number(crop_ratio, "crop_ratio", low=0.0, high=1.0, low_inclusive=False))
        self.interpolation = check_choice(interpolation, "interpolation", INTERPOLATIONS)
        self.antialias = bool(antialias)

    def output_size(self, size: tuple[int, int], params: Params) -> tuple[int, int]:
        return pair(self.size)

    def _point_matrix(self, spec: ImageSpec, params: Params) -> torch.Tensor:
        top, left, height, width = eval_crop_box(spec.size, self.size, self.crop_ratio)
        oh, ow = pair(self.size)
        sx, sy = ow / width, oh / height
        return axis_matrix(spec.n, (sx, sy), (-left * sx, -top * sy), spec.device)

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        box = eval_crop_box(tuple(x.shape[-2:]), self.size, self.crop_ratio)
        return F.resized_crop_tensor(x, *box, pair(self.size), self.interpolation, self.antialias)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        box = eval_crop_box(x.shape[:2], self.size, self.crop_ratio)
        return F.resized_crop_numpy(x, *box, pair(self.size), self.interpolation, self.antialias)


# -- random crops ----------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class CropParams(Params):
    """Top-left corner ``(n,)`` of each image's box (after any padding)."""

    top: torch.Tensor
    left: torch.Tensor


class RandomCrop(Transform):
    """Crop a ``size`` box at a random position per image, after padding by ``padding`` and, if
    ``pad_if_needed``, up to ``size`` (``fill`` / ``padding_mode`` as in :class:`Pad`).

    >>> import torch, augkit
    >>> augkit.RandomCrop(24, padding=4)(torch.rand(8, 3, 32, 32)).shape
    torch.Size([8, 3, 24, 24])
    """

    reads_values = False  # moves values, whatever they are

    params_type = CropParams

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] | None = None,
                 pad_if_needed: bool = False, fill: float | Sequence[float] = 0.0,
                 padding_mode: str = "constant", same_on_batch: bool = False) -> None:
        super().__init__()
        self.size = check_size(size)
        self.padding = None if padding is None else check_padding(padding)
        self.pad_if_needed = bool(pad_if_needed)
        self.fill = check_fill(fill)
        self.padding_mode = check_choice(padding_mode, "padding_mode", PADDING_MODES)
        self.same_on_batch = bool(same_on_batch)

    def _padding(self, size: tuple[int, int]) -> tuple[int, int, int, int]:
        left, top, right, bottom = pad_amounts(self.padding or 0)
        h, w = size[0] + top + bottom, size[1] + left + right
        out_h, out_w = pair(self.size)
        if self.pad_if_needed:
            extra_w, extra_h = max(out_w - w, 0), max(out_h - h, 0)
            left, right, top, bottom = left + extra_w, right + extra_w, top + extra_h, bottom + extra_h
        h, w = size[0] + top + bottom, size[1] + left + right
        if out_h > h or out_w > w:
            raise ValueError(
                f"RandomCrop size {(out_h, out_w)} is larger than the (padded) image {(h, w)}; "
                f"use pad_if_needed=True or a smaller size"
            )
        return left, top, right, bottom

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        left, top, right, bottom = self._padding(spec.size)
        out_h, out_w = pair(self.size)
        room = torch.tensor([spec.height + top + bottom - out_h + 1, spec.width + left + right - out_w + 1],
                            dtype=torch.float64, device=spec.device)
        corner = (unit_draws(spec.n, 2, generator=generator, device=spec.device) * room).floor().long()
        return {"top": corner[:, 0], "left": corner[:, 1]}

    def output_size(self, size: tuple[int, int], params: Params) -> tuple[int, int]:
        return pair(self.size)

    def _point_matrix(self, spec: ImageSpec, params: CropParams) -> torch.Tensor:
        left, top, _, _ = self._padding(spec.size)
        return axis_matrix(spec.n, shift=(left - params.left, top - params.top), device=spec.device)

    def _padded(self, x, kernel):
        amounts = self._padding(tuple(x.shape[-2:]) if isinstance(x, torch.Tensor) else x.shape[:2])
        return kernel(x, list(amounts), self.fill, self.padding_mode) if any(amounts) else x

    def _apply_tensor(self, x: torch.Tensor, params: CropParams) -> torch.Tensor:
        x = self._padded(x, F.pad_tensor)
        out_h, out_w = pair(self.size)
        if len(x) == 1 and x.device.type == "cpu":  # one image: a view of its box, copied
            return F.crop_tensor(x, int(params.top[0]), int(params.left[0]), out_h, out_w).clone()
        return F.crop_tensor(x, params.top, params.left, out_h, out_w)

    def _apply_numpy(self, x: np.ndarray, params: CropParams) -> np.ndarray:
        x = self._padded(x, F.pad_numpy)
        return F.crop_numpy(x, int(params.top[0]), int(params.left[0]), *pair(self.size)).copy()


@dataclass(frozen=True, kw_only=True)
class ResizedCropParams(Params):
    """The ``(n,)`` crop box of each image in input pixels."""

    top: torch.Tensor
    left: torch.Tensor
    height: torch.Tensor
    width: torch.Tensor


@in_blocks  # float intermediates per block (augkit.core.executor)
class RandomResizedCrop(Transform):
    """Crop a random box per image and resize it to ``size`` (torchvision's Inception-style crop).

    The box covers a fraction of the area drawn from ``scale`` with an aspect ratio drawn
    log-uniformly from ``ratio``; like torchvision, up to 10 tries per image (drawn at once for
    the whole batch, the first valid one is kept), then a centre crop clamped to ``ratio``.

    A single image is cropped and resized exactly like torchvision's ``resized_crop``; a batch
    is resampled in one pass with the same filters, within 1 grey level (2 for bicubic) of that.

    >>> import torch, augkit
    >>> augkit.RandomResizedCrop(224)(torch.rand(4, 3, 375, 500)).shape
    torch.Size([4, 3, 224, 224])
    """

    reads_values = False  # moves values, whatever they are
    samples_outside = False
    mask_interpolation = "nearest-exact"  # masks stay on their image (not the legacy nearest)

    params_type = ResizedCropParams
    tries = 10

    def __init__(self, size: int | Sequence[int], scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3), interpolation: str = "bilinear",
                 antialias: bool = True, same_on_batch: bool = False) -> None:
        super().__init__()
        self.size = check_size(size)
        self.scale = check_range_pair(scale, "scale", low=0.0)
        self.ratio = check_range_pair(ratio, "ratio", low=0.0)
        if self.ratio[0] <= 0:
            raise ValueError(f"ratio must be positive; got {ratio!r}")
        self.interpolation = check_choice(interpolation, "interpolation", INTERPOLATIONS)
        self.antialias = bool(antialias)
        self.same_on_batch = bool(same_on_batch)

    def _fallback(self, h: int, w: int) -> tuple[int, int, int, int]:
        aspect = w / h
        if aspect < self.ratio[0]:
            cw, ch = w, int(round(w / self.ratio[0]))
        elif aspect > self.ratio[1]:
            ch, cw = h, int(round(h * self.ratio[1]))
        else:
            ch, cw = h, w
        return (h - ch) // 2, (w - cw) // 2, ch, cw

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        u = unit_draws(spec.n, self.tries, 4, generator=generator, device=spec.device)  # per try: area, log-aspect, top, left
        if u.device.type == "cpu" and spec.n <= _FEW:  # a few images: plain Python is faster
            boxes = [self._first_valid(tries, *spec.size) for tries in u.tolist()]
            box = [torch.from_numpy(row) for row in np.array(boxes, dtype=np.int64).T]
        else:
            box = self._first_valid_batched(u, *spec.size)
        return dict(zip(("top", "left", "height", "width"), box))

    def _first_valid(self, tries: list[list[float]], h: int, w: int) -> tuple[int, int, int, int]:
        """The box of the first valid try for one image (the same maths as the batched draw)."""
        log_lo, log_hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        for u_area, u_aspect, u_top, u_left in tries:
            area = h * w * (self.scale[0] + (self.scale[1] - self.scale[0]) * u_area)
            aspect = math.exp(log_lo + (log_hi - log_lo) * u_aspect)
            cw, ch = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
            if 0 < cw <= w and 0 < ch <= h:
                return math.floor(u_top * (h - ch + 1)), math.floor(u_left * (w - cw + 1)), ch, cw
        return self._fallback(h, w)

    def _first_valid_batched(self, u: torch.Tensor, h: int, w: int) -> tuple[torch.Tensor, ...]:
        """``(top, left, height, width)`` of the first valid try of every image, on ``u``'s device."""
        area = h * w * (self.scale[0] + (self.scale[1] - self.scale[0]) * u[..., 0])
        log_lo, log_hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        aspect = torch.exp(log_lo + (log_hi - log_lo) * u[..., 1])
        cw, ch = torch.sqrt(area * aspect).round(), torch.sqrt(area / aspect).round()
        valid = (cw > 0) & (cw <= w) & (ch > 0) & (ch <= h)
        top = (u[..., 2] * (h - ch + 1)).floor()
        left = (u[..., 3] * (w - cw + 1)).floor()
        first = valid.to(torch.uint8).argmax(1, keepdim=True)
        found = valid.any(1)
        fallback = torch.tensor(self._fallback(h, w), dtype=torch.float64, device=u.device)
        return tuple(torch.where(found, v.gather(1, first)[:, 0], fallback[k]).long()
                     for k, v in enumerate((top, left, ch, cw)))

    def output_size(self, size: tuple[int, int], params: Params) -> tuple[int, int]:
        return pair(self.size)

    def _point_matrix(self, spec: ImageSpec, params: ResizedCropParams) -> torch.Tensor:
        oh, ow = pair(self.size)
        box = (params.top, params.left, params.height, params.width)
        if spec.n == 1 and spec.device.type == "cpu":  # one image: its box as numbers, no sync
            box = tuple(float(v) for v in box)
        top, left, height, width = (v if isinstance(v, float) else v.to(torch.float64) for v in box)
        sx, sy = ow / width, oh / height
        return axis_matrix(spec.n, (sx, sy), (-left * sx, -top * sy), spec.device)

    def _apply_tensor(self, x: torch.Tensor, params: ResizedCropParams) -> torch.Tensor:
        box = (params.top, params.left, params.height, params.width)
        if len(x) == 1 and x.device.type == "cpu":  # one image: its box as numbers, a view
            box = (int(params.top), int(params.left), int(params.height), int(params.width))
        return F.resized_crop_tensor(x, *box, pair(self.size), self.interpolation, self.antialias)

    def _apply_numpy(self, x: np.ndarray, params: ResizedCropParams) -> np.ndarray:
        box = (int(params.top), int(params.left), int(params.height), int(params.width))
        return F.resized_crop_numpy(x, *box, pair(self.size), self.interpolation, self.antialias)
