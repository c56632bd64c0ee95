"""``Mask``: a segmentation mask (semantic or per instance), moved with nearest sampling."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .packing import to_tensor

__all__ = ["Mask"]

_MASK_DTYPES = (torch.bool, torch.uint8, torch.int8, torch.int16, torch.uint16, torch.int32, torch.int64)


@dataclass(frozen=True, eq=False)
class Mask:
    """A mask of an image: the same height and width, any integer or bool dtype (kept).

    Shapes: a semantic mask is ``H x W`` (``B x H x W`` for a ``BCHW`` batch), with an optional
    channel axis (``C x H x W`` / ``B x C x H x W`` next to tensors, ``H x W x C`` next to arrays);
    instance masks (``instance=True``, or the ``masks`` key of a sample) are ``N x H x W``, one per
    box, packed over a batch with the boxes' offsets.

    Geometric transforms move masks with nearest sampling and the same drawn parameters as the
    image; pixels that come from outside the image get ``fill`` (an ignore index such as 255).
    Transforms that change only pixel values leave masks as they are.

    >>> import torch, augkit
    >>> m = Mask(torch.tensor([[1, 2, 3]], dtype=torch.uint8), fill=255)
    >>> out = augkit.Pad(1)(torch.zeros(3, 1, 3), mask=m)
    >>> out["mask"].data.tolist()
    [[255, 255, 255, 255, 255], [255, 1, 2, 3, 255], [255, 255, 255, 255, 255]]
    """

    data: Any
    fill: int = 0
    instance: bool = False
    offsets: torch.Tensor | None = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        data = self.data
        if isinstance(data, torch.Tensor):
            if data.dtype not in _MASK_DTYPES:
                raise TypeError(f"mask has dtype {data.dtype}; expected bool or an integer dtype "
                                f"(class or instance ids)")
        elif isinstance(data, np.ndarray):
            if data.dtype.kind not in "biu":
                raise TypeError(f"mask has dtype {data.dtype}; expected bool or an integer dtype")
        else:
            object.__setattr__(self, "data", to_tensor(data, "mask"))
            return self.__post_init__()
        if data.ndim < 2:
            raise ValueError(f"mask must be at least H x W; got shape {tuple(data.shape)}")
        if self.offsets is not None:
            object.__setattr__(self, "offsets", to_tensor(self.offsets, "mask offsets").to(torch.int64))

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)`` of the mask."""
        if isinstance(self.data, np.ndarray) and self.data.ndim == 3 and not self.instance:
            return tuple(self.data.shape[:2])
        return tuple(self.data.shape[-2:])

    def with_data(self, data: Any) -> Mask:
        return dataclasses.replace(self, data=data)


def nearest_view(transform: Any) -> Any:
    """A copy of ``transform`` that samples with nearest neighbours and fills with 0: the
    transform a mask goes through, with the image's parameters."""
    view = copy.copy(transform)
    for name, value in (("interpolation", transform.mask_interpolation), ("antialias", False), ("fill", 0.0)):
        if hasattr(view, name):
            setattr(view, name, value)
    return view


def _bytes_last(data: torch.Tensor) -> torch.Tensor:
    """``(..., H, W)`` of any mask dtype as ``(..., H, W, bytes)`` uint8 (a view)."""
    if data.dtype == torch.bool:
        return data.contiguous().view(torch.uint8)[..., None]
    return data.contiguous()[..., None].view(torch.uint8)


def _from_bytes(planes: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The inverse of :func:`_bytes_last`."""
    planes = planes.contiguous()
    if dtype == torch.bool:
        return planes[..., 0].view(torch.bool)
    return planes.view(dtype)[..., 0]


def to_planes(data: Any, layout: str) -> tuple[Any, Any]:
    """A mask as a uint8 image of byte planes plus a last plane of 255 (which shows the pixels a
    transform brings in from outside), in the image layout ``layout``: ``"chw"`` (``(..., P, H,
    W)``, one image per leading index) or ``"hwc"`` (an ``H x W x P`` array); and the function
    that turns the moved planes back into a mask of the original dtype, given the fill."""
    array = isinstance(data, np.ndarray)
    t = torch.from_numpy(np.ascontiguousarray(data)) if array else data
    dtype = t.dtype
    if layout == "hwc":  # H x W (x C): planes last
        lead = t.shape[2:]
        u8 = _bytes_last(t.reshape(*t.shape[:2], -1).permute(2, 0, 1)).permute(1, 2, 0, 3)  # H, W, C, bytes
        h, w = t.shape[:2]
        flat = u8.reshape(h, w, -1)
        planes = torch.cat([flat, torch.full((h, w, 1), 255, dtype=torch.uint8)], -1).numpy()

        def restore(moved: np.ndarray, fill: int) -> Any:
            moved_t = torch.from_numpy(np.ascontiguousarray(moved))
            oh, ow = moved_t.shape[:2]
            inside = moved_t[..., -1] > 0
            values = moved_t[..., :-1].reshape(oh, ow, -1, u8.shape[-1]).permute(2, 0, 1, 3)
            out = _from_bytes(values, dtype).permute(1, 2, 0).reshape(oh, ow, *lead)
            out = torch.where(inside.view(oh, ow, *([1] * len(lead))), out, torch.tensor(fill).to(dtype))
            return out.numpy() if array else out

        return planes, restore
    # chw: (..., C, H, W) with the image axes in front
    u8 = _bytes_last(t)  # (..., C, H, W, bytes)
    planes = u8.movedim(-1, -3).reshape(*t.shape[:-3], -1, *t.shape[-2:])
    planes = torch.cat([planes, torch.full_like(planes[..., :1, :, :], 255)], -3)
    nbytes = u8.shape[-1]

    def restore(moved: torch.Tensor, fill: int) -> Any:
        inside = moved[..., -1:, :, :] > 0
        values = moved[..., :-1, :, :]
        values = values.reshape(*values.shape[:-3], -1, nbytes, *values.shape[-2:]).movedim(-3, -1)
        out = _from_bytes(values, dtype)
        out = torch.where(inside, out, torch.tensor(fill, device=out.device).to(dtype))
        return out.numpy() if array else out

    return planes, restore
