"""Input kinds: detection, validation and the PIL <-> NumPy bridge.

augkit accepts three kinds of image and returns the kind it was given:

* ``PIL.Image.Image`` in modes ``L``, ``RGB``, ``RGBA``, ``I;16`` and ``F``;
* ``np.ndarray`` of shape ``(H, W)`` or ``(H, W, C)`` (OpenCV convention, RGB order) and dtype
  ``uint8``, ``uint16`` or ``float32`` (floats in ``[0, 1]``);
* ``torch.Tensor`` of shape ``(C, H, W)`` or ``(B, C, H, W)`` and dtype ``uint8``, ``uint16`` or a
  floating dtype (floats in ``[0, 1]``), on any device.

:func:`inspect_image` reads metadata only (type, shape, dtype, device), so it is cheap enough to
run on every call. :func:`check_unit_range` reads values: transforms that interpret them (colour,
tone, policies, Normalize, noise) refuse float CPU images outside ``[0, 1]`` or with NaN, the
0-255 floats mistake; it reads every value of an image up to :data:`FULL_CHECK_VALUES` values and
an even sample of :data:`SAMPLED_VALUES` beyond (a large batch; strict mode reads all). On other devices
reading values would wait for the device, so the checks run only in strict mode
(:func:`set_strict`), which also refuses NaN and infinity in every transform.
"""

from __future__ import annotations

import enum
import os
from typing import Any, NamedTuple, Union

import numpy as np
import torch
from PIL import Image

__all__ = [
    "Kind",
    "ImageSpec",
    "ImageLike",
    "inspect_image",
    "pil_to_array",
    "array_to_pil",
    "set_strict",
    "is_strict",
    "check_finite",
    "check_unit_range",
    "FULL_CHECK_VALUES",
    "SAMPLED_VALUES",
]

ImageLike = Union[Image.Image, np.ndarray, torch.Tensor]

NUMPY_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))
TENSOR_DTYPES = (torch.uint8, torch.uint16, torch.float16, torch.bfloat16, torch.float32, torch.float64)
PIL_MODES = ("L", "RGB", "RGBA", "I;16", "F")

_strict = os.environ.get("AUGKIT_STRICT", "") not in ("", "0")


def set_strict(enabled: bool) -> None:
    """Turn on (or off) the checks that read every pixel: NaN and infinity in float images.

    Off by default because they cost a pass over the data (and a device sync on GPUs); turn them
    on while debugging a pipeline, or set the environment variable ``AUGKIT_STRICT=1``.

    >>> import augkit
    >>> augkit.set_strict(True); augkit.set_strict(False)
    """
    global _strict
    _strict = bool(enabled)


def is_strict() -> bool:
    """Whether the pixel-level checks of :func:`set_strict` are on."""
    return _strict


class Kind(enum.Enum):
    """The three input kinds augkit dispatches on."""

    PIL = "pil"
    NUMPY = "numpy"
    TENSOR = "tensor"


class ImageSpec(NamedTuple):
    """What a transform needs to know about its input to draw parameters.

    ``n`` is the number of images (the batch size of a BCHW tensor, else 1), ``size`` is
    ``(height, width)``. A named tuple: ``spec._replace(n=1)`` gives a modified copy.
    """

    kind: Kind
    n: int
    size: tuple[int, int]
    channels: int
    dtype: Any
    device: torch.device
    batched: bool = False

    @property
    def height(self) -> int:
        return self.size[0]

    @property
    def width(self) -> int:
        return self.size[1]


_CPU = torch.device("cpu")
_spec = tuple.__new__  # an ImageSpec without NamedTuple's argument parsing: every call makes one


def inspect_image(image: Any, name: str = "image") -> ImageSpec:
    """Validate ``image`` and describe it; raise ``TypeError``/``ValueError`` naming ``name``.

    >>> import numpy as np
    >>> inspect_image(np.zeros((4, 6, 3), np.uint8)).size
    (4, 6)
    """
    if isinstance(image, torch.Tensor):
        spec = _inspect_tensor(image, name)
    elif isinstance(image, np.ndarray):
        spec = _inspect_array(image, name)
    elif isinstance(image, Image.Image):
        spec = _inspect_pil(image, name)
    else:
        raise TypeError(
            f"{name} must be a PIL.Image.Image, a numpy.ndarray (HW/HWC) or a torch.Tensor "
            f"(CHW/BCHW); got {type(image).__module__}.{type(image).__qualname__}"
            + (" (stack a list of images into one tensor or array first)" if isinstance(image, (list, tuple)) else "")
        )
    if 0 in spec.size or spec.channels == 0:
        raise ValueError(f"{name} must not be empty; got shape {tuple(_shape(image))}")
    if spec.n == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(image.shape)}); expected at least one image")
    if _strict and image_is_float(image):
        check_finite(image, name)
    return spec


def _shape(image: Any) -> tuple[int, ...]:
    return tuple(image.size[::-1]) if isinstance(image, Image.Image) else tuple(image.shape)


def image_is_float(image: Any) -> bool:
    if isinstance(image, torch.Tensor):
        return image.is_floating_point()
    if isinstance(image, np.ndarray):
        return image.dtype.kind == "f"
    return False


def check_finite(image: ImageLike, name: str = "image") -> None:
    """Raise ``ValueError`` if a float image holds NaN or infinity (reads every pixel)."""
    if isinstance(image, torch.Tensor):
        bad = int((~torch.isfinite(image)).sum())
    elif isinstance(image, np.ndarray) and image.dtype.kind == "f":
        bad = int(np.count_nonzero(~np.isfinite(image)))
    else:
        return
    if bad:
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); expected finite pixels")


FULL_CHECK_VALUES = 1 << 22
"""Float images of up to this many values (a 1024x1024 RGB image, a 27-image 224x224 batch) have
every value checked by :func:`check_unit_range`; larger ones an even sample."""

_SLACK = 1e-3  # rounding of upstream float arithmetic: 1.0000001 is white


SAMPLED_VALUES = 1 << 20
"""How many values of a larger image or batch :func:`check_unit_range` reads, in even blocks."""

_BLOCK = 4096  # values read together when sampling: whole cache lines, never a stride through all of them


def _checked_values(flat: Any) -> Any:
    """The values :func:`check_unit_range` reads: all of them, or for more than
    :data:`FULL_CHECK_VALUES` an even sample of blocks of ``_BLOCK`` values, about
    :data:`SAMPLED_VALUES` in all."""
    if len(flat) <= FULL_CHECK_VALUES or _strict:
        return flat
    blocks = len(flat) // _BLOCK
    return flat[: blocks * _BLOCK].reshape(blocks, _BLOCK)[:: -(-len(flat) // SAMPLED_VALUES)]


def check_unit_range(image: ImageLike, name: str = "image") -> None:
    """Raise ``ValueError`` if a float image (tensor or array) is not within ``[0, 1]`` or holds NaN.

    >>> check_unit_range(torch.full((3, 4, 4), 255.0))
    Traceback (most recent call last):
    ValueError: image is a float image with values in [255, 255]; augkit expects float images in [0, 1] (divide 0-255 floats by 255, or pass uint8)
    """
    if isinstance(image, torch.Tensor):
        if not image.is_floating_point() or not image.numel():
            return
        values = _checked_values(image.reshape(-1))
        # aminmax reads a strided sample of blocks element by element; amin and amax vectorise
        extremes = torch.aminmax(values) if values.is_contiguous() else (values.amin(), values.amax())
        low, high = (float(v) for v in extremes)
    elif isinstance(image, np.ndarray) and image.dtype.kind == "f" and image.size:
        values = _checked_values(image.reshape(-1))
        low, high = float(values.min()), float(values.max())
    else:
        return
    if low != low or high != high:
        raise ValueError(f"{name} holds NaN; expected finite pixels in [0, 1]")
    if low < -_SLACK or high > 1 + _SLACK:
        raise ValueError(f"{name} is a float image with values in [{low:.4g}, {high:.4g}]; augkit expects float "
                         f"images in [0, 1] (divide 0-255 floats by 255, or pass uint8)")


def _inspect_tensor(x: torch.Tensor, name: str) -> ImageSpec:
    if x.is_complex() or x.dtype not in TENSOR_DTYPES:
        allowed = ", ".join(str(d).replace("torch.", "") for d in TENSOR_DTYPES)
        raise TypeError(f"{name} has dtype {x.dtype}; expected one of {allowed}")
    if x.ndim == 3:
        c, h, w = x.shape
        n, batched = 1, False
    elif x.ndim == 4:
        n, c, h, w = x.shape
        batched = True
    else:
        raise ValueError(
            f"{name} must be a CHW or BCHW tensor; got a {x.ndim}-D tensor of shape {tuple(x.shape)}"
            + (" (add a channel dimension with x[None])" if x.ndim == 2 else "")
        )
    if c > 4 and x.shape[-1] in (1, 3, 4) and h > 4:
        raise ValueError(
            f"{name} of shape {tuple(x.shape)} looks channels-last (HWC); augkit tensors are "
            f"channels-first: use x.permute(2, 0, 1) (or (0, 3, 1, 2) for a batch)"
        )
    return _spec(ImageSpec, (Kind.TENSOR, n, (h, w), c, x.dtype, x.device, batched))


def _inspect_array(x: np.ndarray, name: str) -> ImageSpec:
    if x.dtype not in NUMPY_DTYPES:
        hint = " (convert with .astype(np.float32))" if x.dtype.kind == "f" else ""
        raise TypeError(f"{name} has dtype {x.dtype}; expected uint8, uint16 or float32{hint}")
    if x.ndim == 2:
        (h, w), c = x.shape, 1
    elif x.ndim == 3:
        h, w, c = x.shape
    else:
        raise ValueError(
            f"{name} must be an HW or HWC array; got a {x.ndim}-D array of shape {x.shape}"
            + (" (augkit batches are BCHW tensors: torch.from_numpy(x).permute(0, 3, 1, 2))" if x.ndim == 4 else "")
        )
    return _spec(ImageSpec, (Kind.NUMPY, 1, (h, w), c, x.dtype, _CPU, False))


def _inspect_pil(image: Image.Image, name: str) -> ImageSpec:
    if image.mode not in PIL_MODES:
        raise TypeError(
            f"{name} is a PIL image in mode {image.mode!r}; expected one of {', '.join(PIL_MODES)} "
            f"(convert with image.convert('RGB'))"
        )
    w, h = image.size
    channels = len(image.getbands())
    dtype = {"I;16": np.dtype(np.uint16), "F": np.dtype(np.float32)}.get(image.mode, np.dtype(np.uint8))
    return _spec(ImageSpec, (Kind.PIL, 1, (h, w), channels, dtype, _CPU, False))


def pil_to_array(image: Image.Image) -> np.ndarray:
    """The pixels of a PIL image as an HW (one band) or HWC array, without copying if possible."""
    return np.asarray(image)


def array_to_pil(array: np.ndarray) -> Image.Image:
    """Build a PIL image from an HW/HWC array produced by a NumPy kernel.

    uint8 with 1, 3 or 4 channels gives ``L``, ``RGB`` or ``RGBA``; single-channel uint16 gives
    ``I;16`` and single-channel float32 gives ``F``.
    """
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    channels = 1 if array.ndim == 2 else array.shape[2]
    if not (array.dtype == np.uint8 and channels in (1, 3, 4)) and not (
        array.ndim == 2 and array.dtype in (np.uint16, np.float32)
    ):
        raise TypeError(
            f"cannot return a PIL image for a result of shape {array.shape} and dtype {array.dtype}; "
            f"pass a NumPy array or a tensor instead"
        )
    return Image.fromarray(np.ascontiguousarray(array))
