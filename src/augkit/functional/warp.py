"""Warp kernels: affine, rotation and perspective, with the conventions of
:mod:`augkit.functional.geometry` (forward ``2 x 3`` matrices with pixel centres at integers;
perspective corner points in torchvision's continuous coordinates; ``fill`` a fraction of white).
A batch is warped in one ``grid_sample`` call, with per-image matrices or corner points.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as nnf

from ..core.kernels import backend, numpy_kernel, op, run_numpy_per_image, tensor_kernel, when
from ._utils import cast_result, to_work
from .geometry import CV2_INTERPOLATION, WARP_INTERPOLATIONS, Fill, Number, check_interpolation, fill_values, white_of

try:
    from .. import _native  # the C kernel of nearest warps of uint8 CPU tensors (see csrc/warp.c)
except ImportError:  # built without a C compiler: the torch kernel computes the same
    _native = None

__all__ = [
    "affine_matrix", "affine", "affine_tensor", "affine_numpy",
    "expanded_size", "rotate", "rotate_tensor", "rotate_numpy",
    "perspective", "perspective_tensor", "perspective_numpy",
]


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


def _source_maps(matrix, h: int, w: int):
    """``(B, 2, 3)`` maps from output pixel coordinates (centres at integers) to grid_sample's
    [-1, 1] source coordinates of images of ``h x w``: the inverse of the forward ``(B, 2, 3)``
    ``matrix`` times the normalisation, in closed form with elementwise float64 operations, so that
    a tensor (any device) and a NumPy array (one CPU image, no torch op) give the same bits."""
    lib = torch if isinstance(matrix, torch.Tensor) else np
    a, b, c = matrix[:, 0, 0], matrix[:, 0, 1], matrix[:, 0, 2]
    d, e, f = matrix[:, 1, 0], matrix[:, 1, 1], matrix[:, 1, 2]
    det = a * e - b * d
    sx, sy = 2.0 / w, 2.0 / h
    entries = (e / det * sx, -b / det * sx, (b * f - e * c) / det * sx + (1.0 / w - 1.0),
               -d / det * sy, a / det * sy, (d * c - a * f) / det * sy + (1.0 / h - 1.0))
    return lib.stack(entries, -1).reshape(-1, 2, 3)


def _sample(x: torch.Tensor, grid: torch.Tensor, interpolation: str, fill: Fill) -> torch.Tensor:
    """grid_sample a BCHW batch (any dtype) with ``fill`` outside, in one call."""
    c = x.shape[1]
    work = to_work(x)
    fills = fill_values(fill, c, torch.float32)
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
        white = white_of(x.dtype)
        fill_t = torch.tensor(fills, dtype=out.dtype, device=out.device).view(1, c, 1, 1) * white
        out = out + (1 - inside) * fill_t
    return cast_result(out, x.dtype, clamp=interpolation == "bicubic")


def _affine_grid(source: torch.Tensor, oh: int, ow: int) -> torch.Tensor:
    """The ``(B, oh, ow, 2)`` float32 sampling grid of ``(B, 2, 3)`` maps from output pixel
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
    check_interpolation(interpolation, WARP_INTERPOLATIONS)
    x4, lead = _batched(x)
    h, w = x4.shape[-2:]
    oh, ow = output_size or (h, w)
    matrix = torch.as_tensor(matrix, dtype=torch.float64, device=x.device).reshape(-1, 2, 3)
    grid = _affine_grid(_source_maps(matrix, h, w), oh, ow)
    out = _sample(x4, grid, interpolation, fill)
    return out.reshape(*lead, x4.shape[1], oh, ow)


@backend("affine", "tensor", "opencv", when(device="cpu", dtypes=(torch.uint8,), channels=(1, 2, 3, 4), plain=True,
                                            options={"interpolation": ("bilinear", "bicubic")}))
def _affine_opencv(x: torch.Tensor, matrix: torch.Tensor | Sequence, interpolation: str = "bilinear",
                   fill: Fill = 0.0, output_size: tuple[int, int] | None = None) -> torch.Tensor:
    """uint8 CPU tensors, image by image with :func:`affine_numpy`'s ``cv2.warpAffine`` (HWC): the
    same pixels as arrays bit for bit, so that chains of ops (the policies) stay equal across
    kinds. Nearest warps take the ``c`` backend: OpenCV's own nearest positions pick another
    neighbour than torchvision's for some pixels."""
    check_interpolation(interpolation, WARP_INTERPOLATIONS)
    oh, ow = output_size or x.shape[-2:]
    images = x.shape[:-3].numel()
    matrices = np.broadcast_to(np.asarray(matrix, dtype=np.float64).reshape(-1, 2, 3), (images, 2, 3))
    return run_numpy_per_image(x, lambda image, m: affine_numpy(image, m, interpolation, fill, (oh, ow)), matrices)


if _native is not None:
    @backend("affine", "tensor", "c", when(device="cpu", dtypes=(torch.uint8,), plain=True,
                                           options={"interpolation": ("nearest",)}))
    def _affine_nearest_c(x: torch.Tensor, matrix: torch.Tensor | Sequence, interpolation: str = "nearest",
                          fill: Fill = 0.0, output_size: tuple[int, int] | None = None) -> torch.Tensor:
        """uint8 CPU tensors, nearest: ``csrc/warp.c`` picks the source pixel of every output
        pixel as ``grid_sample`` picks it on the grid of the torch kernel (the same float32 grid and
        rounding), in one pass over the bytes: the torch kernel's pixels bit for bit."""
        check_interpolation(interpolation, WARP_INTERPOLATIONS)
        x4, _ = _batched(x.contiguous())
        n, c, h, w = x4.shape
        oh, ow = output_size or (h, w)
        matrix = np.asarray(matrix, dtype=np.float64).reshape(-1, 2, 3)
        maps = np.ascontiguousarray(np.broadcast_to(_source_maps(matrix, h, w), (n, 2, 3)))
        fills = np.asarray(fill_values(fill, c, np.dtype(np.uint8)), np.uint8)
        out = torch.empty(n, c, int(oh), int(ow), dtype=torch.uint8)
        _native.warp_nearest(x4.data_ptr(), out.data_ptr(), n, c, h, w, int(oh), int(ow), maps.ctypes.data,
                             fills.ctypes.data)
        return out.reshape(*x.shape[:-2], int(oh), int(ow))


def _cv2_border(x: np.ndarray, fill: Fill) -> tuple:
    channels = x.shape[2] if x.ndim == 3 else 1
    values = fill_values(fill, channels, x.dtype)
    return tuple(values[:4]) + (0.0,) * (4 - min(len(values), 4))


@numpy_kernel("affine")
def affine_numpy(x: np.ndarray, matrix, interpolation: str = "bilinear", fill: Fill = 0.0,
                 output_size: tuple[int, int] | None = None) -> np.ndarray:
    """Warp an HW/HWC array by the forward ``2 x 3`` ``matrix`` (``cv2.warpAffine``).

    OpenCV quantises sampling positions to 1/32 pixel: within a few grey levels of the tensor
    kernel at sharp edges, well within 1 level on smooth content.
    """
    check_interpolation(interpolation, WARP_INTERPOLATIONS)
    oh, ow = output_size or x.shape[:2]
    m = np.asarray(matrix, dtype=np.float64).reshape(2, 3)
    out = cv2.warpAffine(x, m, (int(ow), int(oh)), flags=CV2_INTERPOLATION[interpolation],
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
    check_interpolation(interpolation, WARP_INTERPOLATIONS)
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
    check_interpolation(interpolation, WARP_INTERPOLATIONS)
    inv = _homography(startpoints, endpoints, torch.device("cpu"))[0].numpy()
    h, w = x.shape[:2]
    out = cv2.warpPerspective(x, inv, (w, h), flags=CV2_INTERPOLATION[interpolation] | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=_cv2_border(x, fill))
    if x.dtype == np.float32 and interpolation == "bicubic":
        np.clip(out, 0.0, 1.0, out=out)
    return out



affine = op("affine")
rotate = op("rotate")
perspective = op("perspective")
