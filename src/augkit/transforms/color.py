"""Colour and pixel-level transforms: jitter, single adjustments, grayscale, colour spaces,
channel ops and the PIL-style ops of the augmentation policies."""

from __future__ import annotations

import functools
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, Union

import numpy as np
import torch

from .. import functional as F
from ..core.image import ImageSpec
from ..core.params import Params
from ..core.random import uniform
from ..core.transform import Transform
from ..core.validation import check_number, check_range_pair, check_sequence
from ..functional.jitter import JITTER_OPS

__all__ = [
    "ColorJitter", "Brightness", "Contrast", "Saturation", "Hue", "Sharpness", "RandomGrayscale",
    "Grayscale", "ConvertColor", "SelectChannels", "Posterize", "Solarize", "Equalize",
    "AutoContrast", "Invert", "ChannelShuffle",
]

Range = Union[float, tuple[float, float]]


@dataclass(frozen=True, kw_only=True)
class FactorParams(Params):
    """One factor per image."""

    factor: torch.Tensor


@dataclass(frozen=True, kw_only=True)
class ColorJitterParams(Params):
    """Per image: the four factors and ``order``, a permutation of (brightness, contrast,
    saturation, hue) as indices 0..3."""

    brightness: torch.Tensor
    contrast: torch.Tensor
    saturation: torch.Tensor
    hue: torch.Tensor
    order: torch.Tensor


@dataclass(frozen=True, kw_only=True)
class PermutationParams(Params):
    """One channel permutation per image, shape ``(n, C)``."""

    permutation: torch.Tensor


def _factor_range(value: Any, name: str) -> tuple[float, float]:
    """torchvision's convention: ``b`` means ``[max(0, 1 - b), 1 + b]``, or a ``(min, max)`` pair."""
    return check_range_pair(value, name, low=0.0, center=1.0)


def _hue_range(value: Any, name: str = "hue") -> tuple[float, float]:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        check_number(value, name, low=0.0, high=0.5)
    return check_range_pair(value, name, low=-0.5, high=0.5, center=0.0)


_KERNELS: dict[str, tuple[Callable, Callable, float]] = {  # tensor kernel, NumPy kernel, identity
    "brightness": (F.adjust_brightness_tensor, F.adjust_brightness_numpy, 1.0),
    "contrast": (F.adjust_contrast_tensor, F.adjust_contrast_numpy, 1.0),
    "saturation": (F.adjust_saturation_tensor, F.adjust_saturation_numpy, 1.0),
    "hue": (F.adjust_hue_tensor, F.adjust_hue_numpy, 0.0),
    "sharpness": (F.adjust_sharpness_tensor, F.adjust_sharpness_numpy, 1.0),
}


@functools.lru_cache(maxsize=256)
def _jitter_bounds(*ranges: tuple[float, float]) -> np.ndarray:
    """``(2, 4)`` float32: the low ends of the four factor ranges and their widths (read-only)."""
    low, high = zip(*ranges)
    bounds = np.float32([low, [b - a for a, b in zip(low, high)]])
    bounds.flags.writeable = False
    return bounds


class ColorJitter(Transform):
    """Randomly change brightness, contrast, saturation and hue, in a random order per image.

    Arguments follow torchvision: a number ``b`` draws factors from ``[max(0, 1 - b), 1 + b]``
    (hue: ``h <= 0.5`` draws from ``[-h, h]`` turns), a pair ``(min, max)`` gives the range, and
    0 (or ``(1, 1)``, hue ``(0, 0)``) leaves the property alone. Every image of a batch draws its
    own factors and order (all images share one draw if ``same_on_batch``).

    >>> import torch, augkit
    >>> jitter = augkit.ColorJitter(0.4, 0.4, 0.4, 0.1)
    >>> jitter(torch.rand(4, 3, 16, 16), generator=torch.Generator().manual_seed(0)).shape
    torch.Size([4, 3, 16, 16])
    """

    params_type = ColorJitterParams

    def __init__(self, brightness: Range = 0.0, contrast: Range = 0.0, saturation: Range = 0.0,
                 hue: Range = 0.0, p: float = 1.0, same_on_batch: bool = False) -> None:
        super().__init__(p)
        self.brightness = _factor_range(brightness, "brightness")
        self.contrast = _factor_range(contrast, "contrast")
        self.saturation = _factor_range(saturation, "saturation")
        self.hue = _hue_range(hue)
        self.same_on_batch = bool(same_on_batch)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        draws = torch.rand(spec.n, 8, generator=generator, device=spec.device)  # 4 factors, 4 order keys
        bounds = _jitter_bounds(self.brightness, self.contrast, self.saturation, self.hue)
        if draws.device.type == "cpu":  # the same float32 arithmetic in NumPy, without torch's per-op cost
            u = draws.numpy()
            factors = (u[:, :4] * bounds[1] + bounds[0]).T
            return {**{op: torch.from_numpy(f) for op, f in zip(JITTER_OPS, factors)},
                    "order": torch.from_numpy(u[:, 4:].argsort(axis=1))}
        bounds = torch.from_numpy(bounds).to(spec.device)
        factors = draws[:, :4].mul(bounds[1]).add_(bounds[0]).T
        return {**dict(zip(JITTER_OPS, factors)), "order": draws[:, 4:].argsort(dim=1)}

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.color_jitter_tensor(x, params.brightness, params.contrast, params.saturation, params.hue,
                                     params.order)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        factors = torch.stack([params.brightness, params.contrast, params.saturation, params.hue]).tolist()
        return F.color_jitter_numpy(x, *(f[0] for f in factors), order=params.order[0].tolist())


class _Adjust(Transform):
    """A single colour adjustment with a factor drawn per image from ``factor``."""

    params_type = FactorParams
    op: str = ""

    def __init__(self, factor: Range, p: float = 1.0, same_on_batch: bool = False) -> None:
        super().__init__(p)
        self.factor = _hue_range(factor, "factor") if self.op == "hue" else _factor_range(factor, "factor")
        self.same_on_batch = bool(same_on_batch)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        return {"factor": uniform(spec.n, *self.factor, generator=generator, device=spec.device)}

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return _KERNELS[self.op][0](x, params.factor)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return _KERNELS[self.op][1](x, float(params.factor[0]))


class Brightness(_Adjust):
    """Multiply pixels by a factor drawn per image (a number ``b`` means ``[1 - b, 1 + b]``).

    >>> import torch, augkit
    >>> augkit.Brightness((2.0, 2.0))(torch.tensor([[[0.25]]])).item()
    0.5
    """

    op = "brightness"


class Contrast(_Adjust):
    """Blend with the mean grey level by a factor drawn per image; 1- or 3-channel images.

    >>> import torch, augkit
    >>> augkit.Contrast((0.0, 0.0))(torch.tensor([[[0.2, 0.6]]])).tolist()
    [[[0.4000000059604645, 0.4000000059604645]]]
    """

    op = "contrast"


class Saturation(_Adjust):
    """Blend with the grayscale image by a factor drawn per image; RGB images.

    >>> import torch, augkit
    >>> out = augkit.Saturation((0.0, 0.0))(torch.rand(3, 4, 4))
    >>> bool((out[0] == out[1]).all())
    True
    """

    op = "saturation"


class Hue(_Adjust):
    """Rotate the hue by a factor (turns, within ``[-0.5, 0.5]``) drawn per image; RGB images.

    >>> import torch, augkit
    >>> augkit.Hue((0.5, 0.5))(torch.tensor([[[1.0]], [[0.0]], [[0.0]]])).flatten().tolist()
    [0.0, 1.0, 1.0]
    """

    op = "hue"

    def __init__(self, factor: Range = 0.1, p: float = 1.0, same_on_batch: bool = False) -> None:
        super().__init__(factor, p, same_on_batch)


class Sharpness(_Adjust):
    """Blend with the 3x3-smoothed image by a factor drawn per image (0 smooths, 2 sharpens).

    >>> import torch, augkit
    >>> augkit.Sharpness((1.0, 1.0))(torch.ones(1, 5, 5)).sum().item()
    25.0
    """

    op = "sharpness"


class RandomGrayscale(Transform):
    """Turn images gray with probability ``p`` per image, keeping the number of channels.

    >>> import torch, augkit
    >>> out = augkit.RandomGrayscale(p=1.0)(torch.rand(3, 4, 4))
    >>> out.shape, bool((out[0] == out[2]).all())
    (torch.Size([3, 4, 4]), True)
    """

    def __init__(self, p: float = 0.1) -> None:
        super().__init__(p)

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return x if x.shape[-3] == 1 else F.rgb_to_gray_tensor(x, channels=3)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return x if x.ndim == 2 or x.shape[2] == 1 else F.rgb_to_gray_numpy(x, channels=3)


class Grayscale(Transform):
    """Convert to grayscale with ``channels`` (1 or 3) output channels; gray input is kept
    (or repeated into 3 channels).

    >>> import torch, augkit
    >>> augkit.Grayscale()(torch.rand(3, 4, 4)).shape
    torch.Size([1, 4, 4])
    """

    def __init__(self, channels: int = 1) -> None:
        super().__init__()
        if channels not in (1, 3) or isinstance(channels, bool):
            raise ValueError(f"channels must be 1 or 3; got {channels!r}")
        self.channels = channels

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        if x.shape[-3] == 1:
            return F.gray_to_rgb_tensor(x) if self.channels == 3 else x
        return F.rgb_to_gray_tensor(x, channels=self.channels)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        if x.ndim == 2 or x.shape[2] == 1:
            return F.gray_to_rgb_numpy(x) if self.channels == 3 else x
        return F.rgb_to_gray_numpy(x, channels=self.channels)


_CONVERSIONS = {
    "rgb2hsv": "rgb_to_hsv", "hsv2rgb": "hsv_to_rgb", "rgb2lab": "rgb_to_lab",
    "lab2rgb": "lab_to_rgb", "rgb2gray": "rgb_to_gray", "gray2rgb": "gray_to_rgb",
}


class ConvertColor(Transform):
    """Convert between colour spaces with the kernels of :mod:`augkit.functional.colorspace`:
    ``"rgb2hsv"``, ``"hsv2rgb"``, ``"rgb2lab"``, ``"lab2rgb"``, ``"rgb2gray"``, ``"gray2rgb"``.

    >>> import torch, augkit
    >>> augkit.ConvertColor("rgb2hsv")(torch.tensor([[[0.0]], [[1.0]], [[0.0]]])).flatten().tolist()
    [0.3333333432674408, 1.0, 1.0]
    """

    def __init__(self, space: str) -> None:
        super().__init__()
        if space not in _CONVERSIONS:
            raise ValueError(f"space must be one of {', '.join(_CONVERSIONS)}; got {space!r}")
        self.space = space

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return getattr(F, _CONVERSIONS[self.space] + "_tensor")(x)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return getattr(F, _CONVERSIONS[self.space] + "_numpy")(x)


class SelectChannels(Transform):
    """Keep the channels at ``indices``, in that order (repeats allowed).

    >>> import torch, augkit
    >>> augkit.SelectChannels([2, 0])(torch.tensor([[[1]], [[2]], [[3]]], dtype=torch.uint8)).flatten().tolist()
    [3, 1]
    """

    def __init__(self, indices: Sequence[int]) -> None:
        super().__init__()
        indices = check_sequence(indices, "indices")
        if not indices:
            raise ValueError("indices must name at least one channel; got []")
        self.indices = [check_number(i, f"indices[{k}]", low=0, integer=True) for k, i in enumerate(indices)]

    def _check(self, channels: int) -> None:
        if max(self.indices) >= channels:
            raise ValueError(f"indices {self.indices} name channel {max(self.indices)} but the image has {channels}")

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        self._check(x.shape[-3])
        return x[..., self.indices, :, :]

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        image = x if x.ndim == 3 else x[:, :, None]
        self._check(image.shape[2])
        return np.ascontiguousarray(image[:, :, self.indices])


class Posterize(Transform):
    """Keep the ``bits`` most significant bits of every value (``2 ** bits`` levels).

    >>> import torch, augkit
    >>> augkit.Posterize(bits=1, p=1.0)(torch.tensor([[[100, 200]]], dtype=torch.uint8)).tolist()
    [[[0, 128]]]
    """

    def __init__(self, bits: int = 4, p: float = 0.5) -> None:
        super().__init__(p)
        self.bits = check_number(bits, "bits", low=0, high=8, integer=True)

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.posterize_tensor(x, self.bits)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.posterize_numpy(x, self.bits)


class Solarize(Transform):
    """Invert the values at or above ``threshold`` (a fraction of white, in ``[0, 1]``).

    >>> import torch, augkit
    >>> augkit.Solarize(0.5, p=1.0)(torch.tensor([[[0.25, 0.75]]])).tolist()
    [[[0.25, 0.25]]]
    """

    def __init__(self, threshold: float = 0.5, p: float = 0.5) -> None:
        super().__init__(p)
        self.threshold = float(check_number(threshold, "threshold", low=0.0, high=1.0))

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.solarize_tensor(x, self.threshold)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.solarize_numpy(x, self.threshold)


class _Pointwise(Transform):
    """A deterministic kernel applied with probability ``p``."""

    tensor_kernel: Callable[[torch.Tensor], torch.Tensor]
    numpy_kernel: Callable[[np.ndarray], np.ndarray]

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p)

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return type(self).tensor_kernel(x)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return type(self).numpy_kernel(x)


class Equalize(_Pointwise):
    """Histogram equalization per channel (torchvision's): uint8 and float images on 256 levels,
    uint16 on 65,536; NaN or infinite pixels are refused.

    >>> import torch, augkit
    >>> x = torch.full((1, 8, 64), 60, dtype=torch.uint8); x[:, 4:] = 100
    >>> augkit.Equalize(p=1.0)(x).unique().tolist()
    [0, 255]
    """

    tensor_kernel = staticmethod(F.equalize_tensor)
    numpy_kernel = staticmethod(F.equalize_numpy)


class AutoContrast(_Pointwise):
    """Stretch each channel to the full range.

    >>> import torch, augkit
    >>> augkit.AutoContrast(p=1.0)(torch.tensor([[[0.25, 0.5]]])).tolist()
    [[[0.0, 1.0]]]
    """

    tensor_kernel = staticmethod(F.autocontrast_tensor)
    numpy_kernel = staticmethod(F.autocontrast_numpy)


class Invert(_Pointwise):
    """White minus the image.

    >>> import torch, augkit
    >>> augkit.Invert(p=1.0)(torch.tensor([[[0, 55]]], dtype=torch.uint8)).tolist()
    [[[255, 200]]]
    """

    tensor_kernel = staticmethod(F.invert_tensor)
    numpy_kernel = staticmethod(F.invert_numpy)


class ChannelShuffle(Transform):
    """Shuffle the channels with a random permutation drawn per image.

    >>> import torch, augkit
    >>> out = augkit.ChannelShuffle(p=1.0)(torch.tensor([[[1]], [[2]], [[3]]], dtype=torch.uint8))
    >>> sorted(out.flatten().tolist())
    [1, 2, 3]
    """

    params_type = PermutationParams

    def __init__(self, p: float = 0.5, same_on_batch: bool = False) -> None:
        super().__init__(p)
        self.same_on_batch = bool(same_on_batch)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        keys = torch.rand(spec.n, spec.channels, generator=generator, device=spec.device)
        return {"permutation": keys.argsort(dim=1)}

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.permute_channels_tensor(x, params.permutation)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.permute_channels_numpy(x, params.permutation[0].tolist())
