"""Occlusion kernels: erase a rectangle of each image (random erasing, cutout)."""

from __future__ import annotations

import numpy as np
import torch

from ..core.kernels import numpy_kernel, op, tensor_kernel
from .convert import max_value
from ._utils import cast_result, cast_result_numpy, per_sample, work_dtype

__all__ = ["erase", "erase_tensor", "erase_numpy"]


@tensor_kernel("erase")
def erase_tensor(x: torch.Tensor, top: int | torch.Tensor, left: int | torch.Tensor, height: int | torch.Tensor,
                 width: int | torch.Tensor, value: float | torch.Tensor = 0.0) -> torch.Tensor:
    """Fill the rectangle ``[top, top + height) x [left, left + width)`` of each image with ``value``.

    The box arguments are numbers or one per image (``(B,)`` tensors; a zero-size box leaves the
    image as it is). ``value`` is on the ``[0, 1]`` scale: a number, one per channel (``(C,)``),
    or a tensor broadcastable to ``(B, C, H, W)`` (per-pixel fills). The boxes are masks built by
    broadcast comparisons, so the batch is filled in one ``torch.where``.

    >>> erase_tensor(torch.zeros(1, 2, 3, dtype=torch.uint8), 0, 1, 1, 2, 1.0).tolist()
    [[[0, 255, 255], [0, 0, 0]]]
    """
    planes = x.reshape(-1, *x.shape[-3:])
    n, c, h, w = planes.shape
    device = x.device
    top, left, height, width = (per_sample(v, n, device, torch.int64).view(n, 1, 1, 1)
                                for v in (top, left, height, width))
    rows = torch.arange(h, device=device).view(1, 1, h, 1)
    cols = torch.arange(w, device=device).view(1, 1, 1, w)
    inside = (rows >= top) & (rows < top + height) & (cols >= left) & (cols < left + width)
    fill = torch.as_tensor(value, device=device, dtype=work_dtype(x.dtype))
    if fill.ndim == 1:
        fill = fill.view(-1, 1, 1)
    fill = cast_result(fill * max_value(x.dtype), x.dtype)
    if x.dtype == torch.uint16:  # torch.where has no uint16 kernel on the CPU
        out = torch.where(inside, fill.to(torch.int32), planes.to(torch.int32)).to(torch.uint16)
    else:
        out = torch.where(inside, fill, planes)
    return out.reshape(x.shape)


@numpy_kernel("erase")
def erase_numpy(x: np.ndarray, top: int, left: int, height: int, width: int,
                value: float | np.ndarray = 0.0) -> np.ndarray:
    """Fill a rectangle of an HW/HWC array with ``value`` (``[0, 1]`` scale: a number, one per
    channel, or an HW/HWC array of the image's size), like :func:`erase_tensor`."""
    out = x.copy()
    top, left, height, width = int(top), int(left), int(height), int(width)
    if height <= 0 or width <= 0:
        return out
    box = (slice(max(top, 0), max(top + height, 0)), slice(max(left, 0), max(left + width, 0)))
    fill = np.array(value, dtype=np.float32)
    fill *= np.float32(max_value(x.dtype))
    if fill.ndim >= 2:
        fill = fill.reshape(x.shape)[box]
    elif fill.ndim == 1 and x.ndim == 2:
        fill = fill[0]
    out[box] = fill if x.dtype == np.float32 else cast_result_numpy(fill, x.dtype)
    return out


erase = op("erase")
