"""Reading images from files and bytes.

``read_image`` decodes with OpenCV (fast, keeps 16-bit PNG/TIFF as uint16 and float TIFF as
float32) and falls back to PIL for what OpenCV cannot read, applies the EXIF orientation, converts
channels as asked and returns an RGB-ordered HW/HWC NumPy array. A missing file raises
``FileNotFoundError``; a corrupt or truncated one, or one whose header claims more pixels than
PIL's ``Image.MAX_IMAGE_PIXELS`` (a decompression bomb), raises :class:`ImageReadError` (a
``ValueError``) naming the file and the reason.
"""

from __future__ import annotations

import io
import os
import warnings
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["ImageReadError", "read_image", "read_bytes", "decode_image", "MODES"]

Mode = Literal["RGB", "L", "unchanged"]
MODES = ("RGB", "L", "unchanged")
_EXIF_ORIENTATION = 0x0112
_JPEG_START, _JPEG_END = b"\xff\xd8", b"\xff\xd9"


class ImageReadError(ValueError):
    """An image file that exists but cannot be decoded; ``path`` names it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot read image {path}: {reason}")
        self.path = path
        self.reason = reason


def read_image(path: str | os.PathLike, mode: Mode = "RGB") -> np.ndarray:
    """Read an image file as an RGB (HWC) or grayscale (HW) array.

    Args:
        path: the file.
        mode: ``"RGB"`` (3 channels; alpha dropped, grey repeated), ``"L"`` (HW grayscale) or
            ``"unchanged"`` (channels as stored: HW, RGB or RGBA).

    The dtype is kept as stored: 16-bit PNG/TIFF give uint16 in every mode.

    >>> import augkit, cv2, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> _ = cv2.imwrite(path, augkit.data.sample_image("camera"))
    >>> augkit.io.read_image(path).shape, augkit.io.read_image(path, "L").dtype
    ((512, 512, 3), dtype('uint8'))
    """
    path = os.fspath(path)
    return decode_image(read_bytes(path), mode, name=path)


def read_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of the image file at ``path``; a missing file or a folder raises naming it."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"image file not found: {os.fspath(path)}") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"expected an image file, got a directory: {os.fspath(path)}") from None


def decode_image(data: bytes, mode: Mode = "RGB", *, name: str = "<bytes>") -> np.ndarray:
    """Decode encoded image bytes like :func:`read_image`; ``name`` appears in errors."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}; got {mode!r}")
    if not data:
        raise ImageReadError(name, "the file is empty")
    _check_pixels(data, name)
    array = _decode_opencv(data)
    if array is None:
        array = _decode_pil(data, name)
    else:
        array = _orient(array, _exif_orientation(data))
    return _convert_channels(array, mode)


def _decode_opencv(data: bytes) -> np.ndarray | None:
    """OpenCV's decoding in RGB(A) order, or None where PIL should decide (unsupported format,
    or a JPEG without its end marker, which OpenCV would return half-grey)."""
    if data.startswith(_JPEG_START) and _JPEG_END not in data[-64:]:
        return None
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.dtype not in (np.uint8, np.uint16, np.float32) or array.ndim not in (2, 3):
        return None
    if array.ndim == 3 and array.shape[2] == 1:
        return array[:, :, 0]
    if array.ndim == 3:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2RGBA if array.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    return array


def _decode_pil(data: bytes, name: str) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image)
            if image.mode in ("I;16", "I;16B", "I;16L"):
                return np.asarray(image, dtype=np.uint16)
            if image.mode == "F":
                return np.asarray(image, dtype=np.float32)
            if image.mode not in ("L", "RGB", "RGBA"):
                image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
            return np.array(image)
    except UnidentifiedImageError:
        raise ImageReadError(name, "not a recognised image format") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageReadError(name, f"corrupt or truncated data ({error})") from None


def _check_pixels(data: bytes, name: str) -> None:
    """Refuse an image whose header claims more than ``Image.MAX_IMAGE_PIXELS`` pixels before
    anything allocates them (OpenCV's own limit is a gigapixel); reads only the header."""
    limit = Image.MAX_IMAGE_PIXELS
    if limit is None:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError as error:
        raise ImageReadError(name, f"a decompression bomb? {error}") from None
    except Exception:  # noqa: BLE001 - a header PIL cannot parse is left to the decoders
        return
    if width * height > limit:
        raise ImageReadError(name, f"a decompression bomb? the header claims {width}x{height} pixels, "
                                   f"over the limit of {limit} (PIL.Image.MAX_IMAGE_PIXELS)")


def _exif_orientation(data: bytes) -> int:
    """The EXIF orientation tag (1 when absent); reads only the header."""
    head = data[:65536]
    is_tiff = head[:4] in (b"II*\x00", b"MM\x00*")
    if not (is_tiff or b"Exif" in head or b"eXIf" in head or b"EXIF" in head):
        return 1
    try:
        with Image.open(io.BytesIO(data)) as image:
            return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # noqa: BLE001 - no readable EXIF means no rotation
        return 1


def _orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Undo an EXIF orientation (2-8) so the image shows upright."""
    ops = {
        2: lambda a: cv2.flip(a, 1),
        3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
        4: lambda a: cv2.flip(a, 0),
        5: lambda a: cv2.transpose(a),
        6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
        7: lambda a: cv2.rotate(cv2.transpose(a), cv2.ROTATE_180),
        8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
    }
    return ops[orientation](array) if orientation in ops else array


def _convert_channels(array: np.ndarray, mode: Mode) -> np.ndarray:
    channels = 1 if array.ndim == 2 else array.shape[2]
    if mode == "unchanged":
        return array
    if mode == "L":
        if channels == 1:
            return array
        return cv2.cvtColor(array, cv2.COLOR_RGBA2GRAY if channels == 4 else cv2.COLOR_RGB2GRAY)
    if channels == 1:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(array[:, :, :3]) if channels == 4 else array
