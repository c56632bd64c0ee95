"""Decode only what the crop needs: the decode step fused with the crop and resize that follow.

A pipeline that starts with a crop and a resize (:class:`~augkit.RandomResizedCrop`,
:class:`~augkit.ResizedCenterCrop`, ``Resize`` alone or followed by ``CenterCrop``, the eval
presets) throws most decoded pixels away. :func:`decode_transformed` draws the pipeline's
parameters from the file's header first (its size after the EXIF orientation, which is applied
before the box is drawn), so the crop box is known before any pixel is decoded, then decodes the
JPEG with libjpeg-turbo's DCT scaling at the smallest scale (1/2, 1/4 or 1/8) whose decoded box
still covers the output size, and resizes only the box to the output. The parameters are those the
unfused pipeline draws from the same generator: same seed, same box, whatever the decode path.

The binding is OpenCV's reduced decode (``IMREAD_REDUCED_COLOR_2/4/8``, libjpeg-turbo inside):
it is a dependency already, and ``benchmarks/fused_decode.py`` measures it against PIL's
``draft``, simplejpeg and torchvision.io side by side. None of them decodes a region of rows or
columns, so the whole file is still entropy-decoded (at the reduced scale).

Faithfulness: DCT scaling averages each ``d x d`` block, as an antialiased resize does, and the
box is rounded to whole pixels of the reduced image (a shift under ``d / 2`` input pixels, half
an output pixel at most). On the bundled photos at their size and at 2000x1500 (JPEG quality 90)
the fused output differs from full decode + the same crop + the antialiased resize by at most
``TOLERANCE_MEAN`` = 8 grey levels on average over a crop and ``TOLERANCE_MAX`` = 128 at any
pixel (sharp edges, shifted); the figures per scale are in ``docs/benchmarks.md``
(``benchmarks/fused_decode.py``), and the tests check the tolerance. Where the scale would be 1, and with ``fused=False``, the output
is the unfused pipeline's, bit for bit.

Files that are not baseline/progressive YCbCr or grey JPEGs (PNG, 16-bit, TIFF, WebP, CMYK) keep
the full decode, as do truncated JPEGs, whose errors (:class:`~augkit.io.ImageReadError`) are the
full decoder's.
"""

from __future__ import annotations

import io
import warnings
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
    """The header of a complete YCbCr or grey JPEG (read without decoding), else None."""
    if not data.startswith(_JPEG_START) or _JPEG_END not in data[-64:]:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != "JPEG" or image.mode not in ("RGB", "L"):
                    return None
                limit = Image.MAX_IMAGE_PIXELS
                if limit is not None and image.width * image.height > limit:
                    return None  # the full decoder names the decompression bomb
                has_exif = b"Exif" in data[:65536]
                orientation = int(image.getexif().get(_ORIENTATION, 1)) if has_exif else 1
                width, height = image.size
                grey = image.mode == "L"
    except Exception:  # noqa: BLE001 - a header PIL cannot parse is left to the full decoder
        return None
    size = (width, height) if orientation in (5, 6, 7, 8) else (height, width)
    return JpegHeader(size, orientation, grey)


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
    reduced = None if scale == 1 else cv2.imdecode(
        np.frombuffer(data, np.uint8), _REDUCED[scale, channels] | cv2.IMREAD_IGNORE_ORIENTATION)
    if reduced is None:
        return transform.apply(decode_image(data, mode, name=name), params)
    reduced = _orient(reduced, header.orientation)
    top, left, height, width = plan.box
    rows, cols = reduced.shape[:2]
    y0, x0 = min(round(top / scale), rows - 1), min(round(left / scale), cols - 1)
    y1 = max(min(round((top + height) / scale), rows), y0 + 1)
    x1 = max(min(round((left + width) / scale), cols), x0 + 1)
    out = _resize_box(reduced, (y0, x0, y1 - y0, x1 - x0), plan)
    if channels == 3:
        out = cv2.cvtColor(out, cv2.COLOR_BGR2RGB)  # on the output only: the resize is per channel
    return _finish(out, transform, params, plan)


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

