"""Decode only what the crop needs: the decode step fused with the crop and resize that follow.

A pipeline that starts with a crop and a resize (:class:`~augkit.RandomResizedCrop`,
:class:`~augkit.ResizedCenterCrop`, ``Resize`` alone or followed by ``CenterCrop``, the eval
presets) throws most decoded pixels away. :func:`decode_transformed` draws the pipeline's
parameters from the file's header first (its size after the EXIF orientation, which is applied
before the box is drawn), so the crop box is known before any pixel is decoded, then decodes the
JPEG with libjpeg-turbo's DCT scaling at the smallest scale (1/2, 1/4 or 1/8) whose decoded box
still covers the output size, and resizes only the box to the output. The parameters are those the
unfused pipeline draws from the same generator: same seed, same box, whatever the decode path.

The decoder: ``augkit._jpeg`` (``csrc/jpeg.c``, built where libjpeg-turbo's headers are found)
calls libjpeg-turbo's own API, which entropy-decodes the file only down to the box's last row,
skips the rows above it and runs the inverse DCT and the colour conversion only on the iMCU
columns that hold it, straight to RGB. Where it is not built, or ``_jpeg`` is None, OpenCV's
reduced decode (``IMREAD_REDUCED_COLOR_2/4/8``, libjpeg-turbo inside) decodes the whole file at
the reduced scale. Both give the same pixels of the box (``tests/test_fused_decode.py`` compares
them bit for bit): at these DCT scales libjpeg-turbo scales 4:2:0 chroma up in the inverse DCT,
and where chroma is still upsampled (4:2:2, 4:1:1: its edge pixels lack a neighbour in a region)
the region decode reads one pixel of context around the box. ``benchmarks/fused_decode.py``
measures the two against full decode + crop + resize, and the bindings (PIL's ``draft``,
simplejpeg, torchvision.io) side by side; none of those decodes a region.

Faithfulness: DCT scaling averages each ``d x d`` block, as an antialiased resize does, and the
box is rounded to whole pixels of the reduced image (a shift under ``d / 2`` input pixels, half
an output pixel at most). On the bundled photos at their size and at 2000x1500 (JPEG quality 90)
the fused output differs from full decode + the same crop + the antialiased resize by at most
``TOLERANCE_MEAN`` = 8 grey levels on average over a crop and ``TOLERANCE_MAX`` = 128 at any
pixel (sharp edges, shifted); the figures per scale are in ``docs/benchmarks.md``
(``benchmarks/fused_decode.py``), and the tests check the tolerance. Where the scale would be 1, and with ``fused=False``, the output
is the unfused pipeline's, bit for bit: at scale 1 ``_jpeg`` still decodes only the box's rows and
iMCU columns for an exact plan (a RandomResizedCrop box of a 500x375 photo), the same arithmetic
as the full decode on fewer pixels, and decodes the whole image for the other plans.

Files that are not baseline/progressive YCbCr or grey JPEGs (PNG, 16-bit, TIFF, WebP, CMYK) keep
the full decode, as do truncated JPEGs and any file the reduced decode fails on (libjpeg's
warnings included), whose errors (:class:`~augkit.io.ImageReadError`) are the full decoder's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch
from PIL import Image

from .. import functional as F
from ..core.transform import Transform
from ..functional._utils import pair
from ..io import Mode, _orient, decode_image
from ..transforms.compose import Compose
from ..transforms.geometry import (CenterCrop, RandomResizedCrop, Resize, ResizedCenterCrop, eval_crop_box,
                                   resize_crop_box)

try:
    from .. import _jpeg  # region decodes with libjpeg-turbo (see csrc/jpeg.c)
except ImportError:  # built without libjpeg: OpenCV's reduced decode of the whole file
    _jpeg = None

__all__ = ["decode_transformed", "crop_transformed", "crop_plan", "dct_scale", "CropPlan", "JpegHeader",
           "jpeg_header", "TOLERANCE_MEAN", "TOLERANCE_MAX", "SCALES"]

TOLERANCE_MEAN = 8.0   # grey levels, mean absolute difference over a crop
TOLERANCE_MAX = 128    # grey levels, at any pixel (sharp edges shifted by under d / 2 input pixels)
SCALES = (8, 4, 2)
_REDUCED = {
    (2, 3): cv2.IMREAD_REDUCED_COLOR_2, (4, 3): cv2.IMREAD_REDUCED_COLOR_4, (8, 3): cv2.IMREAD_REDUCED_COLOR_8,
    (2, 1): cv2.IMREAD_REDUCED_GRAYSCALE_2, (4, 1): cv2.IMREAD_REDUCED_GRAYSCALE_4,
    (8, 1): cv2.IMREAD_REDUCED_GRAYSCALE_8,
}
_ORIENTATION = 0x0112
_SOF = (0xC0, 0xC1, 0xC2)  # baseline, extended and progressive Huffman frames
_JPEG_START, _JPEG_END = b"\xff\xd8", b"\xff\xd9"


@dataclass(frozen=True)
class JpegHeader:
    """What the fused decode reads before any pixel: the upright size and the stored layout."""

    size: tuple[int, int]   # (height, width) after the EXIF orientation
    orientation: int
    grey: bool


@dataclass(frozen=True)
class CropPlan:
    """The leading crop + resize of a pipeline: the box of the input it keeps, the size it
    resizes the box to, and how; ``rest`` is the index of the first step that follows."""

    box: tuple[int, int, int, int]  # top, left, height, width in input pixels
    size: tuple[int, int]
    interpolation: str
    antialias: bool
    exact: bool                     # resizing the box is exactly what the steps compute
    rest: int


def jpeg_header(data: bytes) -> JpegHeader | None:
    """The header of a complete 8-bit baseline or progressive YCbCr/RGB or grey JPEG, read from
    its markers without decoding (and without PIL: a few microseconds a file), else None."""
    if not data.startswith(_JPEG_START) or _JPEG_END not in data[-64:]:
        return None
    orientation, pos, end = None, 2, len(data) - 4
    while pos <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # a fill byte
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker == 0xE1 and orientation is None and data[pos + 4:pos + 10] == b"Exif\0\0":
            orientation = _tiff_orientation(data[pos + 10:pos + 2 + length])
        elif marker in _SOF:
            precision, height, width, components = data[pos + 4], *struct.unpack_from(">HHB", data, pos + 5)
            limit = Image.MAX_IMAGE_PIXELS  # over it, the full decoder names the decompression bomb
            if precision != 8 or components not in (1, 3) or not height or not width or (
                    limit is not None and width * height > limit):
                return None
            orientation = orientation or 1
            size = (width, height) if orientation in (5, 6, 7, 8) else (height, width)
            return JpegHeader(size, orientation, components == 1)
        elif 0xC3 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) or marker == 0xDA:
            return None  # lossless, hierarchical or arithmetic-coded, or no frame header before the scan
        pos += 2 + length
    return None


def _tiff_orientation(tiff: bytes) -> int:
    """The orientation tag of the first image directory of EXIF (TIFF) data; 1 when absent."""
    order = {b"II": "little", b"MM": "big"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return 1
    ifd = int.from_bytes(tiff[4:8], order)
    for entry in range(ifd + 2, ifd + 2 + 12 * int.from_bytes(tiff[ifd:ifd + 2], order), 12):
        if int.from_bytes(tiff[entry:entry + 2], order) == _ORIENTATION:
            value = int.from_bytes(tiff[entry + 8:entry + 10], order)
            return value if 1 <= value <= 8 else 1
    return 1


def _steps(transform: Transform, params: Any) -> tuple[list[Transform], list[Any]]:
    if type(transform) is Compose and params.applied is None:
        return list(transform.transforms), list(params.children)
    return [transform], [params]


def crop_plan(transform: Transform, params: Any, size_hw: tuple[int, int]) -> CropPlan | None:
    """The leading crop + resize of ``transform`` (drawn as ``params`` for an input of
    ``size_hw``), or None when it does not start with one."""
    steps, children = _steps(transform, params)
    first, drawn = steps[0], children[0]
    if drawn.applied is not None:
        return None
    if type(first) is RandomResizedCrop:
        box = tuple(int(getattr(drawn, k)[0]) for k in ("top", "left", "height", "width"))
        return CropPlan(box, pair(first.size), first.interpolation, first.antialias, True, 1)
    if type(first) is ResizedCenterCrop:
        box = eval_crop_box(size_hw, first.size, first.crop_ratio)
        return CropPlan(box, pair(first.size), first.interpolation, first.antialias, True, 1)
    if type(first) is not Resize:
        return None
    resized = F.resized_size(size_hw, first.size, first.max_size)
    if len(steps) > 1 and type(steps[1]) is CenterCrop and children[1].applied is None:
        crop = pair(steps[1].size)
        if crop[0] <= resized[0] and crop[1] <= resized[1]:
            box = resize_crop_box(size_hw, resized, crop)
            return CropPlan(box, crop, first.interpolation, first.antialias, False, 2)
    return CropPlan((0, 0, *size_hw), resized, first.interpolation, first.antialias, True, 1)


def dct_scale(box_hw: tuple[int, int], size_hw: tuple[int, int]) -> int:
    """The largest DCT scale denominator (8, 4, 2, else 1) at which a box of ``box_hw`` input
    pixels still covers ``size_hw`` output pixels.

    >>> dct_scale((1500, 1500), (224, 224)), dct_scale((300, 400), (224, 224))
    (4, 1)
    """
    for d in SCALES:
        if box_hw[0] >= d * size_hw[0] and box_hw[1] >= d * size_hw[1]:
            return d
    return 1


def _resize_box(x: Any, box: tuple[int, int, int, int], plan: CropPlan) -> Any:
    """The plan's resize of ``box`` of an HW/HWC array or a CHW tensor."""
    if isinstance(x, torch.Tensor):
        return F.resized_crop_tensor(x[None], *box, plan.size, plan.interpolation, plan.antialias)[0]
    return F.resized_crop_numpy(x, *box, plan.size, plan.interpolation, plan.antialias)


def _finish(image: Any, transform: Transform, params: Any, plan: CropPlan) -> Any:
    """The steps of ``transform`` after the plan's crop + resize, with their drawn params."""
    steps, children = _steps(transform, params)
    for step, drawn in zip(steps[plan.rest:], children[plan.rest:]):
        image = step.apply(image, drawn)
    return image


def _stand_in(size_hw: tuple[int, int], channels: int, tensor: bool = False) -> np.ndarray | torch.Tensor:
    """A zero-strided uint8 image of the decoded image's kind and shape, to draw params from."""
    if tensor:
        return torch.zeros((), dtype=torch.uint8).expand(channels, *size_hw)
    return np.broadcast_to(np.zeros((), np.uint8), size_hw if channels == 1 else (*size_hw, channels))


def decode_transformed(data: bytes, transform: Transform, generator: torch.Generator | None = None, *,
                       mode: Mode = "RGB", name: str = "<bytes>", fused: bool = True) -> Any:
    """``transform(decode_image(data, mode), generator=generator)``, decoding only what its
    leading crop needs (see the module documentation); ``fused=False`` decodes in full.

    >>> import cv2, torch, augkit
    >>> from augkit.data.fused import decode_transformed
    >>> photo = cv2.resize(augkit.data.sample_image("coffee"), (2000, 1500))
    >>> data = cv2.imencode(".jpg", photo)[1].tobytes()
    >>> t = augkit.ResizedCenterCrop(224)
    >>> decode_transformed(data, t).shape
    (224, 224, 3)
    """
    header = jpeg_header(data) if fused else None
    if header is None:
        return transform(decode_image(data, mode, name=name), generator=generator)
    channels = 1 if mode == "L" or (mode == "unchanged" and header.grey) else 3
    params = transform.sample_params(_stand_in(header.size, channels), generator=generator)
    plan = crop_plan(transform, params, header.size)
    scale = 1 if plan is None else dct_scale(plan.box[2:], plan.size)
    if scale == 1 and not _exact_at_full_scale(header, channels):
        return transform.apply(decode_image(data, mode, name=name), params)
    if scale == 1 and (plan is None or not plan.exact):  # the whole image, the header already read
        image = _decode_box(data, header, 1, (0, 0, *header.size), header.size, channels)
        return transform.apply(decode_image(data, mode, name=name) if image is None else image, params)
    top, left, height, width = plan.box
    rows, cols = (-(-n // scale) for n in header.size)  # libjpeg's scaled size, rounded up
    y0, x0 = min(round(top / scale), rows - 1), min(round(left / scale), cols - 1)
    y1 = max(min(round((top + height) / scale), rows), y0 + 1)
    x1 = max(min(round((left + width) / scale), cols), x0 + 1)
    box = _decode_box(data, header, scale, (y0, x0, y1 - y0, x1 - x0), (rows, cols), channels)
    if box is None:
        return transform.apply(decode_image(data, mode, name=name), params)
    return _finish(_resize_box(box, (0, 0, y1 - y0, x1 - x0), plan), transform, params, plan)


def _exact_at_full_scale(header: JpegHeader, channels: int) -> bool:
    """Whether ``_jpeg`` at full scale gives the full decoder's pixels (the same libjpeg-turbo
    arithmetic, on only the rows and iMCU columns of a box): where it is built, in the channels
    as stored or grey as RGB (grey from colour is the full decoder's own conversion)."""
    return _jpeg is not None and (channels == 3 or header.grey)


def _stored_box(box: tuple[int, int, int, int], size_hw: tuple[int, int], orientation: int) -> tuple[int, ...]:
    """The box (top, left, height, width) of an upright image of ``size_hw`` in the image as
    stored with EXIF ``orientation``: upright = the flips of (the transpose of) the stored image.

    >>> _stored_box((10, 20, 30, 40), (100, 200), 6)  # stored sideways, 200 rows of 100
    (140, 10, 40, 30)
    """
    top, left, height, width = box
    if orientation in (2, 3, 6, 7):
        left = size_hw[1] - left - width
    if orientation in (3, 4, 7, 8):
        top = size_hw[0] - top - height
    return (left, top, width, height) if orientation in (5, 6, 7, 8) else (top, left, height, width)


def _decode_box(data: bytes, header: JpegHeader, scale: int, box: tuple[int, int, int, int],
                size_hw: tuple[int, int], channels: int) -> np.ndarray | None:
    """The ``box`` of the upright JPEG decoded at 1/``scale`` (``size_hw`` pixels), RGB (HWC) or
    grey (HW): a region decode with ``_jpeg`` where it is built, else OpenCV's reduced decode of
    the whole file; None where the decoder fails."""
    if _jpeg is None:
        reduced = cv2.imdecode(np.frombuffer(data, np.uint8), _REDUCED[scale, channels] | cv2.IMREAD_IGNORE_ORIENTATION)
        if reduced is None:
            return None
        top, left, height, width = box
        region = _orient(reduced, header.orientation)[top:top + height, left:left + width]
        return cv2.cvtColor(region, cv2.COLOR_BGR2RGB) if channels == 3 else region
    stored = _stored_box(box, size_hw, header.orientation)
    try:
        pixels, top, left, height, width = _jpeg.decode(data, scale, *stored, channels == 1)
    except ValueError:  # corrupt data: the full decoder reports it
        return None
    region = np.frombuffer(pixels, np.uint8).reshape((height, width) if channels == 1 else (height, width, 3))
    y, x = stored[0] - top, stored[1] - left
    return _orient(region[y:y + stored[2], x:x + stored[3]], header.orientation)


def crop_transformed(array: np.ndarray, transform: Transform, generator: torch.Generator | None = None, *,
                     tensor: bool = False) -> Any:
    """``transform(image, generator=generator)`` of the HWC uint8 ``array`` (read-only, e.g. a
    view of stored bytes) as a copied array, or a CHW tensor with ``tensor=True``, copying only
    the box of its leading crop where that gives the same pixels (an exact plan)."""
    size_hw = array.shape[:2]
    params = transform.sample_params(_stand_in(size_hw, array.shape[2], tensor), generator=generator)
    plan = crop_plan(transform, params, size_hw)
    if plan is None or not plan.exact:
        image = array.copy()
        return transform.apply(torch.from_numpy(image).permute(2, 0, 1) if tensor else image, params)
    top, left, height, width = plan.box
    region = array[top:top + height, left:left + width].copy()
    image = torch.from_numpy(region).permute(2, 0, 1) if tensor else region
    return _finish(_resize_box(image, (0, 0, height, width), plan), transform, params, plan)

