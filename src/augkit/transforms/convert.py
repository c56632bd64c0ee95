"""Kind and dtype conversion, and normalization."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .. import functional as F
from ..core.image import ImageLike, ImageSpec, Kind, pil_to_array
from ..core.params import Params
from ..core.transform import Transform
from ..core.validation import check_number, check_sequence
from ..functional.convert import DTypeLike, dtype_name

__all__ = ["ToTensor", "ToDtype", "Normalize"]


class ToTensor(Transform):
    """Turn any image into a channels-first tensor of ``dtype``: HW/HWC arrays and PIL images
    become ``(C, H, W)``; tensors keep their layout. Values are rescaled if ``scale``.

    >>> import numpy as np, augkit
    >>> augkit.ToTensor()(np.full((2, 3, 3), 255, np.uint8)).shape
    torch.Size([3, 2, 3])
    """

    def __init__(self, dtype: DTypeLike = "float32", scale: bool = True) -> None:
        super().__init__()
        self.dtype = dtype_name(dtype)
        self.scale = bool(scale)

    def _apply_all(self, image: ImageLike, spec: ImageSpec, params: Params) -> torch.Tensor:
        if spec.kind is not Kind.TENSOR:
            array = pil_to_array(image) if spec.kind is Kind.PIL else image
            array = array[:, :, None] if array.ndim == 2 else array
            if not array.flags.writeable:  # PIL pixels are read-only
                array = array.copy()
            image = torch.from_numpy(array).permute(2, 0, 1)
        out = F.to_dtype_tensor(image, self.dtype, self.scale)
        return out.contiguous() if out is not image else out.clone(memory_format=torch.contiguous_format)


class ToDtype(Transform):
    """Convert to ``dtype`` keeping the input kind, rescaling values to the new range if ``scale``
    (uint8 ``[0, 255]``, uint16 ``[0, 65535]``, float ``[0, 1]``).

    NumPy and PIL images can be uint8, uint16 or float32; tensors also float16, bfloat16, float64.

    >>> import torch, augkit
    >>> augkit.ToDtype("uint8")(torch.tensor([[[0.0, 0.5, 1.0]]])).tolist()
    [[[0, 128, 255]]]
    """

    def __init__(self, dtype: DTypeLike, scale: bool = True) -> None:
        super().__init__()
        self.dtype = dtype_name(dtype)
        self.scale = bool(scale)

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.to_dtype_tensor(x, self.dtype, self.scale)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.to_dtype_numpy(x, self.dtype, self.scale)


def _check_stats(value: Any, name: str, *, positive: bool = False) -> tuple[float, ...]:
    values = check_sequence(value, name) if not isinstance(value, (int, float)) else (value,)
    if not values:
        raise ValueError(f"{name} must have at least one value; got {value!r}")
    for i, v in enumerate(values):
        check_number(v, f"{name}[{i}]")
        if positive and v == 0:
            raise ValueError(f"{name} must not contain 0 (division by zero); got {value!r}")
    return tuple(float(v) for v in values)


class Normalize(Transform):
    """Per-channel ``(x - mean) / std`` with ``mean``/``std`` given for pixels in ``[0, 1]``.

    Integer images are scaled to ``[0, 1]`` first, in the same pass; the output is float
    (float32 for integer input). One value, or one per channel, for any number of channels.
    The defaults are the ImageNet statistics (``augkit.functional.IMAGENET_MEAN``/``_STD``).

    >>> import torch, augkit
    >>> augkit.Normalize(mean=0.5, std=0.5)(torch.ones(1, 1, 2)).tolist()
    [[[1.0, 1.0]]]
    """

    def __init__(self, mean: float | Sequence[float] = F.IMAGENET_MEAN,
                 std: float | Sequence[float] = F.IMAGENET_STD) -> None:
        super().__init__()
        self.mean = _check_stats(mean, "mean")
        self.std = _check_stats(std, "std", positive=True)
        if 1 not in (len(self.mean), len(self.std)) and len(self.mean) != len(self.std):
            raise ValueError(f"mean and std must have one value each per channel; got {len(self.mean)} means "
                             f"{self.mean} and {len(self.std)} stds {self.std}")

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.normalize_tensor(x, self.mean, self.std)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.normalize_numpy(x, self.mean, self.std)
