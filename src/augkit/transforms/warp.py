"""Random warps: rotation, affine, zoom-out and perspective, one matrix per image.

Each image draws its own parameters (``same_on_batch=True`` shares one set across a batch) and a
batch is resampled in one call. ``fill`` is a fraction of white in ``[0, 1]`` (one value or one per
channel), so it means the same colour for every dtype.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import functional as F
from ..core.image import ImageSpec
from ..core.params import Params
from ..core.random import unit_draws
from ..core.transform import Transform
from ..core.validation import check_choice, check_fill, check_number, check_range_pair, check_sequence
from ..functional.geometry import WARP_INTERPOLATIONS
from ..functional.points import axis_matrix, from_pixel_centres, homography

__all__ = ["RandomRotation", "RandomAffine", "RandomPerspective", "RandomZoomOut"]


@dataclass(frozen=True, kw_only=True)
class AffineParams(Params):
    """The forward ``(n, 2, 3)`` matrix of each image (input to output pixel coordinates)."""

    matrix: torch.Tensor


class _Warp(Transform):
    """Shared apply step of the affine-matrix warps."""

    reads_values = False  # moves values, whatever they are
    keeps_axes = False

    params_type = AffineParams
    interpolation: str
    fill: float | tuple[float, ...]

    def _canvas(self, size: tuple[int, int]) -> tuple[int, int]:
        return size

    def output_size(self, size: tuple[int, int], params: Params) -> tuple[int, int]:
        return self._canvas(size)

    def _point_matrix(self, spec: ImageSpec, params: AffineParams) -> torch.Tensor:
        return from_pixel_centres(params.matrix)

    def _apply_tensor(self, x: torch.Tensor, params: AffineParams) -> torch.Tensor:
        size = self._canvas(tuple(x.shape[-2:]))
        return F.affine_tensor(x, params.matrix, self.interpolation, self.fill, size)

    def _apply_numpy(self, x: np.ndarray, params: AffineParams) -> np.ndarray:
        return F.affine_numpy(x, params.matrix[0], self.interpolation, self.fill,
                              self._canvas(x.shape[:2]))


def _centre(size: tuple[int, int]) -> tuple[float, float]:
    return (size[1] - 1) * 0.5, (size[0] - 1) * 0.5


class RandomRotation(_Warp):
    """Rotate each image by an angle drawn from ``degrees`` (``d`` means ``(-d, d)``),
    counter-clockwise, about its centre.

    With ``expand`` the canvas is the smallest one holding the image at every angle of
    ``degrees`` (so all images of a batch share it) and the rotated image is centred on it.

    >>> import torch, augkit
    >>> augkit.RandomRotation(30)(torch.rand(4, 3, 32, 32)).shape
    torch.Size([4, 3, 32, 32])
    """

    def __init__(self, degrees: float | Sequence[float], interpolation: str = "nearest",
                 expand: bool = False, fill: float | Sequence[float] = 0.0,
                 same_on_batch: bool = False) -> None:
        super().__init__()
        self.degrees = check_range_pair(degrees, "degrees", center=0.0)
        self.interpolation = check_choice(interpolation, "interpolation", WARP_INTERPOLATIONS)
        self.expand = bool(expand)
        self.fill = check_fill(fill)
        self.same_on_batch = bool(same_on_batch)

    def _canvas(self, size: tuple[int, int]) -> tuple[int, int]:
        if not self.expand:
            return size
        h, w = size
        angles = np.radians(np.concatenate([np.linspace(*self.degrees, 3601), np.arange(-360, 361, 90),
                                            np.degrees(np.arctan2(h, w)) + np.arange(-360, 361, 90),
                                            np.degrees(np.arctan2(w, h)) + np.arange(-360, 361, 90)]))
        lo, hi = np.radians(self.degrees)
        return F.expanded_size(size, np.degrees(angles[(angles >= lo) & (angles <= hi)]))

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        lo, hi = self.degrees
        angle = lo + (hi - lo) * unit_draws(spec.n, generator=generator, device=spec.device)
        matrix = F.affine_matrix(angle, center=_centre(spec.size))
        oh, ow = self._canvas(spec.size)
        shift = torch.tensor([(ow - spec.width) * 0.5, (oh - spec.height) * 0.5], dtype=torch.float64)
        matrix[..., 2] += shift.to(matrix.device)
        return {"matrix": matrix}


class RandomAffine(_Warp):
    """Random rotation (``degrees``, counter-clockwise), translation (``translate`` as fractions
    of width and height, rounded to whole pixels), ``scale`` and ``shear`` (degrees: ``s`` means
    x in ``(-s, s)``, 2 values an x range, 4 values x and y ranges) per image, about the centre.

    >>> import torch, augkit
    >>> augkit.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1))(torch.rand(2, 3, 16, 16)).shape
    torch.Size([2, 3, 16, 16])
    """

    def __init__(self, degrees: float | Sequence[float], translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: float | Sequence[float] | None = None,
                 interpolation: str = "nearest", fill: float | Sequence[float] = 0.0,
                 same_on_batch: bool = False) -> None:
        super().__init__()
        self.degrees = check_range_pair(degrees, "degrees", center=0.0)
        if translate is not None:
            translate = tuple(float(check_number(v, f"translate[{i}]", low=0.0, high=1.0))
                              for i, v in enumerate(check_sequence(translate, "translate", 2)))
        self.translate = translate
        self.scale = None if scale is None else check_range_pair(scale, "scale", low=0.0)
        if self.scale is not None and self.scale[0] <= 0:
            raise ValueError(f"scale must be positive; got {scale!r}")
        self.shear = None if shear is None else self._check_shear(shear)
        self.interpolation = check_choice(interpolation, "interpolation", WARP_INTERPOLATIONS)
        self.fill = check_fill(fill)
        self.same_on_batch = bool(same_on_batch)

    @staticmethod
    def _check_shear(shear: Any) -> tuple[float, ...]:
        if isinstance(shear, (int, float)):
            return check_range_pair(shear, "shear", center=0.0)
        values = check_sequence(shear, "shear")
        if len(values) not in (2, 4):
            raise ValueError(f"shear must be a number or 2 or 4 numbers; got {shear!r}")
        return check_range_pair(values[:2], "shear") + (check_range_pair(values[2:], "shear[2:]")
                                                        if len(values) == 4 else ())

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        u = unit_draws(spec.n, 6, generator=generator, device=spec.device)
        lo, hi = self.degrees
        angle = lo + (hi - lo) * u[:, 0]
        zero = torch.zeros_like(angle)
        tx = ty = zero
        if self.translate is not None:
            tx = ((2 * u[:, 1] - 1) * self.translate[0] * spec.width).round()
            ty = ((2 * u[:, 2] - 1) * self.translate[1] * spec.height).round()
        scale = zero + 1 if self.scale is None else self.scale[0] + (self.scale[1] - self.scale[0]) * u[:, 3]
        shear_x = shear_y = zero
        if self.shear is not None:
            shear_x = self.shear[0] + (self.shear[1] - self.shear[0]) * u[:, 4]
            if len(self.shear) == 4:
                shear_y = self.shear[2] + (self.shear[3] - self.shear[2]) * u[:, 5]
        return {"matrix": F.affine_matrix(angle, (tx, ty), scale, (shear_x, shear_y), _centre(spec.size))}


class RandomZoomOut(_Warp):
    """With probability ``p`` per image, place the image on a ``fill`` canvas ``r`` times larger
    (``r`` drawn from ``side_range``) at a random position, then scale the canvas back to the
    input size: the output keeps the input size, so batches stay batches.

    One affine warp (bilinear, no antialiasing: strong zoom-outs alias a little).

    >>> import torch, augkit
    >>> augkit.RandomZoomOut(side_range=(1.0, 2.0), p=1.0)(torch.rand(2, 3, 16, 16)).shape
    torch.Size([2, 3, 16, 16])
    """

    keeps_axes = True  # a scale and a shift

    def __init__(self, fill: float | Sequence[float] = 0.0, side_range: Sequence[float] = (1.0, 4.0),
                 p: float = 0.5, same_on_batch: bool = False) -> None:
        super().__init__(p)
        self.fill = check_fill(fill)
        self.side_range = check_range_pair(side_range, "side_range", low=1.0)
        self.interpolation = "bilinear"
        self.same_on_batch = bool(same_on_batch)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        u = unit_draws(spec.n, 3, generator=generator, device=spec.device)
        r = self.side_range[0] + (self.side_range[1] - self.side_range[0]) * u[:, 0]
        left = ((spec.width * r).floor() - spec.width).clamp(min=0) * u[:, 1]
        top = ((spec.height * r).floor() - spec.height).clamp(min=0) * u[:, 2]
        left, top = left.floor(), top.floor()
        zero = torch.zeros_like(r)
        matrix = torch.stack([torch.stack([1 / r, zero, (left + 0.5) / r - 0.5], -1),
                              torch.stack([zero, 1 / r, (top + 0.5) / r - 0.5], -1)], -2)
        return {"matrix": matrix}


@dataclass(frozen=True, kw_only=True)
class PerspectiveParams(Params):
    """``(n, 4, 2)`` corner points of each image and where they go (torchvision's convention)."""

    startpoints: torch.Tensor
    endpoints: torch.Tensor


class RandomPerspective(Transform):
    """With probability ``p`` per image, move each corner inwards by up to
    ``distortion_scale`` times half the image size (drawn like torchvision) and warp. Images one
    pixel high or wide are returned unchanged.

    >>> import torch, augkit
    >>> augkit.RandomPerspective(0.5, p=1.0)(torch.rand(2, 3, 16, 16)).shape
    torch.Size([2, 3, 16, 16])
    """

    reads_values = False  # moves values, whatever they are
    keeps_axes = False

    params_type = PerspectiveParams

    def __init__(self, distortion_scale: float = 0.5, p: float = 0.5, interpolation: str = "bilinear",
                 fill: float | Sequence[float] = 0.0, same_on_batch: bool = False) -> None:
        super().__init__(p)
        self.distortion_scale = float(check_number(distortion_scale, "distortion_scale", low=0.0, high=1.0))
        self.interpolation = check_choice(interpolation, "interpolation", WARP_INTERPOLATIONS)
        self.fill = check_fill(fill)
        self.same_on_batch = bool(same_on_batch)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        h, w = spec.size
        dx, dy = int(self.distortion_scale * (w // 2)), int(self.distortion_scale * (h // 2))
        u = unit_draws(spec.n, 4, 2, generator=generator, device=spec.device)
        near = torch.tensor([dx + 1, dy + 1], dtype=torch.float64, device=spec.device)
        inward = (u * near).floor()  # how far each corner moves in, in [0, d]
        x_in, y_in = inward[..., 0], inward[..., 1]
        # corners: top-left, top-right, bottom-right, bottom-left
        xs = torch.stack([x_in[:, 0], w - 1 - x_in[:, 1], w - 1 - x_in[:, 2], x_in[:, 3]], 1)
        ys = torch.stack([y_in[:, 0], y_in[:, 1], h - 1 - y_in[:, 2], h - 1 - y_in[:, 3]], 1)
        start = torch.tensor([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=torch.float64,
                             device=spec.device).expand(spec.n, 4, 2)
        return {"startpoints": start, "endpoints": torch.stack([xs, ys], -1)}

    def _apply_checked(self, image: Any, spec: ImageSpec, params: Params) -> Any:
        if min(spec.size) == 1:  # a row or a column has no quadrilateral to warp: identity
            return image
        return super()._apply_checked(image, spec, params)

    def _point_matrix(self, spec: ImageSpec, params: PerspectiveParams) -> torch.Tensor:
        if min(spec.size) == 1:  # returned unchanged
            return axis_matrix(spec.n, device=spec.device)
        return homography(params.startpoints, params.endpoints)

    def _apply_tensor(self, x: torch.Tensor, params: PerspectiveParams) -> torch.Tensor:
        return F.perspective_tensor(x, params.startpoints, params.endpoints,
                                    self.interpolation, self.fill)

    def _apply_numpy(self, x: np.ndarray, params: PerspectiveParams) -> np.ndarray:
        return F.perspective_numpy(x, params.startpoints[0], params.endpoints[0], self.interpolation, self.fill)
