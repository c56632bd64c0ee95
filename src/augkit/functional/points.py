"""Point kernels for boxes and keypoints: every geometric transform moves them by one ``3 x 3``
matrix per image, in continuous pixel coordinates (``(0, 0)`` is the top-left corner of the
image, the centre of pixel ``(i, j)`` is ``(j + 0.5, i + 0.5)``; a box of the whole ``H x W``
image is ``[0, 0, W, H]``), the convention of torchvision's bounding boxes and keypoints.

A batch of boxes or keypoint groups is packed (``(N, ...)`` rows for all images) and each row
takes the matrix of its image, so a batch moves in one batched op. In the kernel table the
target kinds have these two rows: every geometric op reduces to its matrix, so boxes and
keypoints need no row per op (masks take the image rows, with nearest sampling).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..core.kernels import backend, target_kernel, when

__all__ = [
    "BOX_FORMATS", "convert_box_format", "box_corners", "transform_points", "transform_boxes",
    "clip_boxes", "box_areas", "move_boxes", "sanitize_boxes", "visible_fraction", "from_pixel_centres", "homography", "axis_matrix", "to_pixel_centres", "masks_to_boxes",
]

BOX_FORMATS = ("xyxy", "xywh", "cxcywh", "cxcywhr")


def convert_box_format(boxes: torch.Tensor, source: str, target: str) -> torch.Tensor:
    """``(N, 4)`` boxes (``(N, 5)`` for ``cxcywhr``) from one format to another.

    ``xyxy``: corners; ``xywh``: top-left corner and size; ``cxcywh``: centre and size;
    ``cxcywhr``: centre, size and the angle in degrees, counter-clockwise (rotated boxes convert
    only to themselves).

    >>> convert_box_format(torch.tensor([[10.0, 20.0, 4.0, 6.0]]), "cxcywh", "xyxy").tolist()
    [[8.0, 17.0, 12.0, 23.0]]
    """
    if source == target:
        return boxes
    if "cxcywhr" in (source, target):
        raise ValueError(f"rotated boxes (cxcywhr) convert only to cxcywhr; got {source} -> {target}")
    a, b, c, d = boxes.unbind(-1)
    if source == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif source == "cxcywh":
        a, b, c, d = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    if target == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif target == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    return torch.stack([a, b, c, d], -1)


def box_corners(boxes: torch.Tensor, format: str = "xyxy") -> torch.Tensor:
    """The ``(N, 4, 2)`` corners of ``xyxy`` boxes (or of rotated ``cxcywhr`` boxes), in the order
    top-left, top-right, bottom-right, bottom-left of the box's own frame.

    >>> box_corners(torch.tensor([[0.0, 0.0, 2.0, 1.0]]))[0].tolist()
    [[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [0.0, 1.0]]
    """
    if format == "cxcywhr":
        cx, cy, w, h, angle = boxes.unbind(-1)
        theta = torch.deg2rad(angle)
        cos, sin = torch.cos(theta), torch.sin(theta)
        # the box's x axis turns counter-clockwise on screen, where y points down
        ux, uy = cos * w / 2, -sin * w / 2
        vx, vy = sin * h / 2, cos * h / 2
        xs = torch.stack([cx - ux - vx, cx + ux - vx, cx + ux + vx, cx - ux + vx], -1)
        ys = torch.stack([cy - uy - vy, cy + uy - vy, cy + uy + vy, cy - uy + vy], -1)
        return torch.stack([xs, ys], -1)
    return boxes.index_select(1, _CORNERS.to(boxes.device)).view(-1, 2, 4).transpose(1, 2)


_CORNERS = torch.tensor([0, 2, 2, 0, 1, 1, 3, 3])  # x1 x2 x2 x1, y1 y1 y2 y2


# -- the maths, written once for torch tensors and NumPy arrays ------------------------------------
#
# Each kernel below has a torch backend (batches, any device, autograd) and a NumPy backend for CPU
# tensors, which is several times cheaper on the few rows of one image (a NumPy op on a small array
# costs about a microsecond, a torch op several): both run the same functions, on float64 for the
# matrix products, on the boxes' own dtype for the comparisons, so they give the same numbers.


def _xp(x: Any) -> Any:
    return np if isinstance(x, np.ndarray) else torch


def _at_least(x: Any, low: float) -> Any:
    return np.maximum(x, low) if isinstance(x, np.ndarray) else x.clamp(min=low)


def _at_most(x: Any, high: float) -> Any:
    return np.minimum(x, high) if isinstance(x, np.ndarray) else x.clamp(max=high)


def _map(points: Any, matrix: Any) -> Any:
    """Points ``(N, K, 2)`` moved by ``matrix``: one ``(3, 3)`` for all, or ``(N, 3, 3)``, one per
    row (the result is divided by its third coordinate, exactly 1 for affine maps)."""
    m = matrix if matrix.ndim == 2 else matrix[:, None]
    # homogeneous (N, K, 3) as x * column 0 + y * column 1 + column 2: elementwise products and
    # sums, cheaper than a matmul or a reduction on a few points, and the same in both libraries
    moved = points[..., 0:1] * m[..., :, 0] + points[..., 1:2] * m[..., :, 1] + m[..., :, 2]
    return moved[..., :2] / moved[..., 2:]


_CORNER_COLUMNS = np.array([[0, 1], [2, 1], [2, 3], [0, 3]])  # of xyxy, as box_corners orders them


def _envelope(boxes: Any, matrix: Any) -> Any:
    """The enclosing ``xyxy`` boxes of the moved corners of ``xyxy`` boxes."""
    xp = _xp(boxes)
    moved = _map(boxes[:, _CORNER_COLUMNS] if xp is np else box_corners(boxes), matrix)
    a, b, c, d = moved[:, 0], moved[:, 1], moved[:, 2], moved[:, 3]
    low = xp.minimum(xp.minimum(a, b), xp.minimum(c, d))
    high = xp.maximum(xp.maximum(a, b), xp.maximum(c, d))
    return xp.concatenate([low, high], -1)


def _clip(boxes: Any, size: tuple[int, int]) -> Any:
    xp = _xp(boxes)
    high = xp.asarray([size[1], size[0]] * 2, dtype=boxes.dtype)
    if xp is torch:
        high = high.to(boxes.device)
    return xp.minimum(_at_least(boxes, 0), high)


def _areas(boxes: Any) -> Any:
    return _at_least(boxes[:, 2] - boxes[:, 0], 0) * _at_least(boxes[:, 3] - boxes[:, 1], 0)


def visible_fraction(areas: Any, full: Any) -> Any:
    """The fraction ``areas / full`` of boxes left after clipping, in ``[0, 1]`` (0 where the
    unclipped area ``full`` is 0); tensors or arrays."""
    return _at_most(_xp(areas).where(full > 0, areas / _at_least(full, 1e-12), 0.0), 1.0)


def _moved(boxes: Any, matrix: Any, size: tuple[int, int], reference: Any) -> tuple[Any, Any]:
    xp = _xp(boxes)
    if reference is None:
        moved = _envelope(boxes, matrix)
        return _clip(moved, size), moved
    both = _envelope(xp.concatenate([boxes, reference]),
                     matrix if matrix.ndim == 2 else xp.concatenate([matrix, matrix]))
    return _clip(both[:len(boxes)], size), both[len(boxes):]


def _sanitized(boxes: Any, size: tuple[int, int] | None, min_size: float, min_area: float,
               min_visibility: float, reference: Any) -> tuple[Any, Any]:
    if size is not None:
        boxes = _clip(boxes, size)
    area = _areas(boxes)
    keep = ((boxes[:, 2] - boxes[:, 0]) >= min_size) & ((boxes[:, 3] - boxes[:, 1]) >= min_size) & (area >= min_area)
    if min_visibility > 0 and reference is not None:
        keep = keep & (visible_fraction(area, _areas(reference)) >= min_visibility)
    return boxes, keep


_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}
_SMALL_CPU = when(device="cpu", dtypes=tuple(_NUMPY_DTYPES), plain=True)  # the NumPy backends' inputs


def _array(t: torch.Tensor | None, dtype: Any = np.float64) -> np.ndarray | None:
    """A CPU tensor's values as an array of ``dtype`` (a view where it already is)."""
    return None if t is None else t.detach().numpy().astype(dtype, copy=False)


def _tensor(a: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=_NUMPY_DTYPES[dtype]))


# -- the kernels -----------------------------------------------------------------------------------


@target_kernel("transform_points", "keypoints")
def transform_points(points: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """Points ``(N, K, 2)`` moved by ``matrix``: one ``(3, 3)`` for all, or ``(N, 3, 3)``, one per
    row (affine or projective; the result is divided by its third coordinate).

    >>> m = torch.tensor([[-1.0, 0.0, 10.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> transform_points(torch.tensor([[[2.0, 3.0]]]), m).tolist()
    [[[8.0, 3.0]]]
    """
    return _map(points.to(torch.float64), matrix.to(torch.float64)).to(points.dtype)


@backend("transform_points", "keypoints", "numpy", _SMALL_CPU)
def _transform_points_numpy(points: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    return _tensor(_map(_array(points), _array(matrix)), points.dtype)


@target_kernel("transform_boxes", "boxes")
def transform_boxes(boxes: torch.Tensor, matrix: torch.Tensor, format: str = "xyxy") -> torch.Tensor:
    """``xyxy`` boxes ``(N, 4)`` moved by ``matrix`` (``(3, 3)`` or one per box): the enclosing
    box of the moved corners, not clipped. Rotated ``cxcywhr`` boxes keep their shape under
    rotation, flips and scaling; under shear or perspective the result is the rectangle along the
    moved width edge with the moved area.

    >>> m = torch.tensor([[-1.0, 0.0, 10.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> transform_boxes(torch.tensor([[1.0, 2.0, 3.0, 4.0]]), m).tolist()
    [[7.0, 2.0, 9.0, 4.0]]
    """
    if format != "cxcywhr":
        return _envelope(boxes.to(torch.float64), matrix.to(torch.float64)).to(boxes.dtype)
    corners = transform_points(box_corners(boxes, format), matrix)
    centre = corners.mean(1)
    width_edge = corners[:, 1] - corners[:, 0]
    height_edge = corners[:, 3] - corners[:, 0]
    width = width_edge.norm(dim=-1)
    area = (width_edge[:, 0] * height_edge[:, 1] - width_edge[:, 1] * height_edge[:, 0]).abs()
    height = torch.where(width > 0, area / width.clamp(min=1e-12), height_edge.norm(dim=-1))
    angle = torch.rad2deg(torch.atan2(-width_edge[:, 1], width_edge[:, 0]))
    return torch.stack([centre[:, 0], centre[:, 1], width, height, angle], -1)


@backend("transform_boxes", "boxes", "numpy", _SMALL_CPU & when(options={"format": ("xyxy",)}))
def _transform_boxes_numpy(boxes: torch.Tensor, matrix: torch.Tensor, format: str = "xyxy") -> torch.Tensor:
    return _tensor(_envelope(_array(boxes), _array(matrix)), boxes.dtype)


@target_kernel("move_boxes", "boxes")
def move_boxes(boxes: torch.Tensor, matrix: torch.Tensor, size: tuple[int, int],
               reference: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``xyxy`` boxes moved by ``matrix`` (as :func:`transform_boxes`) onto a canvas of ``size``
    ``(height, width)``: the moved boxes clipped to it, and the moved ``reference`` boxes (the boxes
    as if nothing had been clipped; the boxes themselves when ``None``), not clipped.

    >>> m = torch.tensor([[1.0, 0.0, -4.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> [t.tolist() for t in move_boxes(torch.tensor([[2.0, 1.0, 6.0, 3.0]]), m, (8, 8))]
    [[[0.0, 1.0, 2.0, 3.0]], [[-2.0, 1.0, 2.0, 3.0]]]
    """
    f64 = torch.float64
    moved = _moved(boxes.to(f64), matrix.to(f64), size, None if reference is None else reference.to(f64))
    return moved[0].to(boxes.dtype), moved[1].to(boxes.dtype)


@backend("move_boxes", "boxes", "numpy", _SMALL_CPU)
def _move_boxes_numpy(boxes: torch.Tensor, matrix: torch.Tensor, size: tuple[int, int],
                      reference: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    clipped, moved = _moved(_array(boxes), _array(matrix), size, _array(reference))
    return _tensor(clipped, boxes.dtype), _tensor(moved, boxes.dtype)


@target_kernel("sanitize_boxes", "boxes")
def sanitize_boxes(boxes: torch.Tensor, size: tuple[int, int] | None = None, min_size: float = 0.0,
                   min_area: float = 0.0, min_visibility: float = 0.0,
                   reference: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``xyxy`` boxes clipped to a canvas of ``size`` (not clipped when ``None``), and the ``(N,)``
    bool mask of those at least ``min_size`` wide and high, of at least ``min_area``, and, when
    ``reference`` (the boxes before any clipping) is given, with at least ``min_visibility`` of
    its area left (:func:`visible_fraction`).

    >>> boxes, keep = sanitize_boxes(torch.tensor([[-2.0, 0.0, 4.0, 4.0], [0.0, 0.0, 4.0, 0.5]]), (8, 8), 1.0)
    >>> boxes[0].tolist(), keep.tolist()
    ([0.0, 0.0, 4.0, 4.0], [True, False])
    """
    return _sanitized(boxes, size, min_size, min_area, min_visibility, reference)


@backend("sanitize_boxes", "boxes", "numpy", _SMALL_CPU)
def _sanitize_boxes_numpy(boxes: torch.Tensor, size: tuple[int, int] | None = None, min_size: float = 0.0,
                          min_area: float = 0.0, min_visibility: float = 0.0,
                          reference: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    dtype = _NUMPY_DTYPES[boxes.dtype]  # in the boxes' own dtype, as the torch backend compares
    out, keep = _sanitized(_array(boxes, dtype), size, min_size, min_area, min_visibility, _array(reference, dtype))
    return (boxes if size is None else torch.from_numpy(out)), torch.from_numpy(keep)


def clip_boxes(boxes: torch.Tensor, size: tuple[int, int] | torch.Tensor) -> torch.Tensor:
    """``xyxy`` boxes clipped to a canvas of ``size`` ``(height, width)`` (one, or ``(N, 2)``, one
    per box), or into rectangles: an ``(N, 4)`` tensor of ``x1, y1, x2, y2``, one per box.

    >>> clip_boxes(torch.tensor([[-2.0, 1.0, 5.0, 9.0]]), (8, 4)).tolist()
    [[0.0, 1.0, 4.0, 8.0]]
    """
    if not isinstance(size, torch.Tensor):
        return _clip(boxes, size)
    size = size.to(boxes.dtype)
    if size.shape[-1] == 4:
        return boxes.maximum(size[:, :2].repeat(1, 2)).minimum(size[:, 2:].repeat(1, 2))
    return boxes.clamp(min=0).minimum(size.flip(-1).repeat(1, 2))


def box_areas(boxes: torch.Tensor, format: str = "xyxy") -> torch.Tensor:
    """The ``(N,)`` areas of boxes (0 for degenerate ones).

    >>> box_areas(torch.tensor([[0.0, 0.0, 2.0, 3.0], [1.0, 1.0, 0.0, 4.0]])).tolist()
    [6.0, 0.0]
    """
    if format == "cxcywhr":
        return boxes[:, 2].clamp(min=0) * boxes[:, 3].clamp(min=0)
    return _areas(boxes)


def masks_to_boxes(masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``xyxy`` box enclosing the nonzero pixels of each ``(N, H, W)`` mask (continuous
    coordinates: a pixel ``(i, j)`` spans ``[j, j + 1]``), and whether the mask has any.

    >>> m = torch.zeros(1, 4, 5, dtype=torch.bool); m[0, 1:3, 2] = True
    >>> masks_to_boxes(m)[0].tolist()
    [[2.0, 1.0, 3.0, 3.0]]
    """
    rows, cols = masks.ne(0).any(2), masks.ne(0).any(1)  # (N, H), (N, W)
    h, w = rows.shape[1], cols.shape[1]

    def extent(hits: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        first = hits.to(torch.uint8).argmax(1)
        last = size - hits.flip(1).to(torch.uint8).argmax(1)
        return first, last

    (y1, y2), (x1, x2) = extent(rows, h), extent(cols, w)
    return torch.stack([x1, y1, x2, y2], -1).to(torch.float32), rows.any(1)


def from_pixel_centres(matrix: torch.Tensor) -> torch.Tensor:
    """A ``(..., 2, 3)`` or ``(..., 3, 3)`` map between pixel indices (centres at integers, the
    convention of the image warps) as a ``(..., 3, 3)`` map in continuous coordinates.

    >>> flip = torch.tensor([[-1.0, 0.0, 9.0], [0.0, 1.0, 0.0]])   # x -> 9 - x on a 10-wide image
    >>> from_pixel_centres(flip)[0].tolist()
    [-1.0, 0.0, 10.0]
    """
    m = matrix.to(torch.float64)
    if m.shape[-2] == 2:
        m = torch.cat([m, m.new_tensor([0.0, 0.0, 1.0]).expand(*m.shape[:-2], 1, 3)], -2)
    shift = torch.eye(3, dtype=torch.float64, device=m.device)
    back = shift.clone()
    shift[:2, 2], back[:2, 2] = 0.5, -0.5
    return shift @ m @ back


def to_pixel_centres(matrix: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`from_pixel_centres`: a ``(..., 3, 3)`` map in continuous coordinates
    as a map between pixel indices.

    >>> to_pixel_centres(from_pixel_centres(torch.tensor([[2.0, 0.0, 1.0], [0.0, 2.0, 0.0]])))[0].tolist()
    [2.0, 0.0, 1.0]
    """
    shift = torch.eye(3, dtype=torch.float64, device=matrix.device)
    back = shift.clone()
    shift[:2, 2], back[:2, 2] = -0.5, 0.5
    return shift @ matrix.to(torch.float64) @ back


def homography(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The ``(N, 3, 3)`` projective maps taking the 4 ``source`` points of each row ``(N, 4, 2)``
    to the ``target`` points.

    >>> square = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]])
    >>> homography(square, square * 2).round(decimals=6)[0].tolist()
    [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0]]
    """
    s, t = source.to(torch.float64), target.to(torch.float64)
    x, y, u, v = s[..., 0], s[..., 1], t[..., 0], t[..., 1]
    one, zero = torch.ones_like(x), torch.zeros_like(x)
    rows_u = torch.stack([x, y, one, zero, zero, zero, -u * x, -u * y], -1)
    rows_v = torch.stack([zero, zero, zero, x, y, one, -v * x, -v * y], -1)
    a = torch.cat([rows_u, rows_v], -2)
    b = torch.cat([u, v], -1)
    h = torch.linalg.solve(a, b)
    return torch.cat([h, torch.ones_like(h[:, :1])], -1).view(-1, 3, 3)


def axis_matrix(n: int, scale: tuple[Any, Any] = (1.0, 1.0), shift: tuple[Any, Any] = (0.0, 0.0),
                device: torch.device | str | None = None) -> torch.Tensor:
    """The ``(n, 3, 3)`` maps ``x -> sx * x + tx``, ``y -> sy * y + ty``; each of ``scale`` and
    ``shift`` holds numbers or ``(n,)`` tensors (flips, crops, pads and resizes).

    >>> axis_matrix(1, scale=(-1.0, 1.0), shift=(10.0, 0.0))[0].tolist()
    [[-1.0, 0.0, 10.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    (sx, sy), (tx, ty) = scale, shift
    values = (sx, sy, tx, ty)
    if not any(isinstance(v, torch.Tensor) for v in values):  # numbers: one small tensor (from NumPy: cheaper)
        m = np.array([[sx, 0.0, tx], [0.0, sy, ty], [0.0, 0.0, 1.0]], dtype=np.float64)
        return torch.as_tensor(m, device=device).expand(n, 3, 3)
    sx, sy, tx, ty = (v.to(device=device, dtype=torch.float64).expand(n) if isinstance(v, torch.Tensor)
                      else torch.full((n,), float(v), dtype=torch.float64, device=device) for v in values)
    zero, one = torch.zeros_like(sx), torch.ones_like(sx)
    return torch.stack([sx, zero, tx, zero, sy, ty, zero, zero, one], -1).view(n, 3, 3)
