"""COCO's mask encodings: run-length encoding (RLE, uncompressed ``counts`` lists and compressed
``counts`` strings) and polygons, to and from ``H x W`` masks (NumPy, CPU-only code).

COCO's RLE runs down the columns (Fortran order), alternating runs of 0 and 1 and starting with 0.
Its compressed strings store each count (from the third on, as the difference to the count two
before) in 5-bit groups, least significant first, as characters ``48 + group`` with bit 5 set on
all but the last group of a count and bit 4 of the last group the sign, as pycocotools does.

>>> import numpy as np
>>> m = np.zeros((3, 4), np.uint8); m[1:, 1:3] = 1
>>> rle = encode_rle(m)
>>> rle, decode_rle(rle).tolist() == m.tolist()
({'size': [3, 4], 'counts': '42102'}, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

__all__ = ["decode_rle", "encode_rle", "mask_to_polygons", "polygons_to_mask", "rle_from_string",
           "rle_to_string"]

_SCALE = 5  # pycocotools' polygon lattice: vertices rounded to 1/5 pixel


def rle_from_string(text: str | bytes) -> list[int]:
    """The counts of a compressed COCO RLE string."""
    data = text.encode("ascii") if isinstance(text, str) else bytes(text)
    counts: list[int] = []
    p = 0
    while p < len(data):
        x, k, more = 0, 0, True
        while more:
            if p >= len(data):
                raise ValueError(f"segmentation counts string ends inside a count: {text!r}")
            c = data[p] - 48
            if not 0 <= c < 64:
                raise ValueError(f"segmentation counts string has the character {chr(data[p])!r}, "
                                 f"outside COCO's '0'..'o'")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def rle_to_string(counts: Sequence[int]) -> str:
    """The compressed COCO RLE string of ``counts``."""
    out = bytearray()
    for i, count in enumerate(counts):
        x = int(count) - (int(counts[i - 2]) if i > 2 else 0)
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append(48 + (c | (0x20 if more else 0)))
    return out.decode("ascii")


def decode_rle(rle: dict[str, Any]) -> np.ndarray:
    """An ``H x W`` uint8 mask from a COCO RLE ``{"size": [h, w], "counts": list or string}``."""
    try:
        h, w = (int(v) for v in rle["size"])
        counts = rle["counts"]
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"segmentation RLE needs 'size': [h, w] and 'counts'; got {rle!r:.80}") from error
    counts = rle_from_string(counts) if isinstance(counts, (str, bytes)) else [int(c) for c in counts]
    runs = np.asarray(counts, dtype=np.int64)
    if (runs < 0).any() or runs.sum() != h * w:
        raise ValueError(f"segmentation counts must be runs >= 0 adding up to size {h} x {w} = {h * w}; "
                         f"they add up to {int(runs.sum())}")
    values = np.repeat((np.arange(len(runs)) % 2).astype(np.uint8), runs)
    return np.ascontiguousarray(values.reshape(w, h).T)


def encode_rle(mask: np.ndarray, compressed: bool = True) -> dict[str, Any]:
    """The COCO RLE of an ``H x W`` mask (non-zero is inside): ``counts`` a string, or the list
    of runs with ``compressed=False`` (as COCO's files store crowd regions)."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be H x W to encode as RLE; got shape {mask.shape}")
    flat = (mask != 0).T.ravel().astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        runs = [0, *runs]
    counts: Any = rle_to_string(runs) if compressed else runs
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": counts}


def polygons_to_mask(polygons: Sequence[Sequence[float]], size: tuple[int, int]) -> np.ndarray:
    """An ``H x W`` uint8 mask of COCO polygons (flat ``[x1, y1, x2, y2, ...]`` in continuous
    pixel coordinates: ``[0, 0, W, H]`` is the whole image), their union.

    A pixel is inside when its centre is, as in pycocotools: the vertices are rounded to its
    lattice of 1/5 pixel, each polygon is filled there with ``cv2.fillPoly`` (only over its own
    bounding box), and each pixel is read where pycocotools reads it, between the lattice points
    around its centre (inside where the polygon covers the lower two of those points and one of
    the upper two). The difference to pycocotools: it walks the edges with its own line
    rasterizer and OpenCV with Bresenham's, which round a point differently now and then, so
    some polygons differ by a pixel or two along an edge (tests/test_interop.py bounds the
    difference against pycocotools).
    """
    h, w = size
    mask = np.zeros((h, w), np.uint8)
    for i, polygon in enumerate(polygons):
        xy = np.asarray(polygon, dtype=np.float64)
        if xy.ndim != 1 or len(xy) < 6 or len(xy) % 2:
            raise ValueError(f"segmentation polygon {i} must be a flat list [x1, y1, x2, y2, ...] of at least "
                             f"3 points; got {len(xy)} values")
        lattice = np.floor(_SCALE * xy.reshape(-1, 2) + 0.5).astype(np.int64)
        lo = np.maximum(lattice.min(0) // _SCALE - 1, 0)
        hi = np.minimum(lattice.max(0) // _SCALE + 2, (w, h))
        if (hi <= lo).any():
            continue  # wholly outside the image
        local = np.zeros((_SCALE * (hi[1] - lo[1]) + 1, _SCALE * (hi[0] - lo[0]) + 1), np.uint8)
        cv2.fillPoly(local, [(lattice - _SCALE * lo).astype(np.int32)], 1, lineType=cv2.LINE_8)
        c = _SCALE // 2
        upper_left, upper_right = local[c:-1:_SCALE, c:-1:_SCALE], local[c:-1:_SCALE, c + 1::_SCALE]
        lower_left, lower_right = local[c + 1::_SCALE, c:-1:_SCALE], local[c + 1::_SCALE, c + 1::_SCALE]
        inside = (upper_left | upper_right) & lower_left & lower_right
        mask[lo[1]:hi[1], lo[0]:hi[0]] |= inside
    return mask


def mask_to_polygons(mask: np.ndarray) -> list[list[float]]:
    """COCO polygons of an ``H x W`` mask: one per outer contour (holes are not kept: encode
    masks with holes as RLE), in continuous coordinates, that :func:`polygons_to_mask` turns back
    into the same mask.

    The contours are traced on the mask at twice its size, so each polygon runs a quarter pixel
    inside the edge of the region's outer pixels: every pixel centre lies at least a quarter pixel
    inside or outside it, never on it, and even one-pixel-wide parts keep an area.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be H x W to trace polygons; got shape {mask.shape}")
    double = np.repeat(np.repeat((mask != 0).astype(np.uint8), 2, 0), 2, 1)
    contours, _ = cv2.findContours(double, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons = []
    for contour in contours:
        # at twice the size every region is at least 2 x 2, so each contour has >= 4 corners
        polygons.append(((contour[:, 0, :].astype(np.float64) + 0.5) / 2).ravel().tolist())
    return polygons
