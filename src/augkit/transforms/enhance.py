"""Enhancement transforms: denoising filters, CLAHE, thresholding and unsharp masking.

Intensity arguments are on the ``[0, 1]`` scale for every dtype (see :mod:`augkit.functional.denoise`
and :mod:`augkit.functional.thresholding`).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import functional as F
from ..core.image import ImageSpec
from ..core.params import Params
from ..core.transform import Transform
from ..core.validation import check_choice, check_kernel_size, check_number, check_range_pair, check_sequence
from ..functional.blur import unsharp_kernel_size
from ..functional.adaptive_histogram import CLAHE_COLOURS
from ..functional.thresholding import THRESHOLD_METHODS

__all__ = ["GaussianBlur", "MedianBlur", "BilateralFilter", "NonLocalMeans", "CLAHE", "Threshold", "UnsharpMask"]


def check_positive_range(value: Any, name: str, low: float = 0.0) -> tuple[float, float]:
    """A ``(min, max)`` range above ``low``; one number ``v`` means ``(v, v)``."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        check_number(value, name, low=low, low_inclusive=False)
        return float(value), float(value)
    lo, hi = check_range_pair(value, name, low=low)
    if lo <= low:
        raise ValueError(f"{name} must be > {low}; got {value!r}")
    return lo, hi


def draw_range(bounds: tuple[float, float], spec: ImageSpec, generator: torch.Generator | None,
               dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``spec.n`` draws from ``U[bounds)`` on ``spec.device`` (exactly ``lo`` when ``lo == hi``)."""
    if bounds[0] == bounds[1]:  # a fixed value: no draw (one tensor op less per call)
        return torch.full((spec.n,), bounds[0], device=spec.device, dtype=dtype)
    return torch.empty(spec.n, device=spec.device, dtype=dtype).uniform_(*bounds, generator=generator)


@dataclass(frozen=True, kw_only=True)
class SigmaParams(Params):
    sigma: torch.Tensor


class GaussianBlur(Transform):
    """Gaussian blur with ``sigma`` (pixels) drawn per image from the ``(min, max)`` range.

    A fixed sigma is ``(s, s)``. Reflect-101 borders and the taps of torchvision v2's
    ``gaussian_blur``: every kind within 1 level of it (measured). Arrays and CPU tensors run
    ``cv2.sepFilter2D``; a batch on another device goes through one grouped convolution per axis
    (see :mod:`augkit.functional.blur`).

    >>> import torch, augkit
    >>> augkit.GaussianBlur(5, sigma=(0.5, 1.5))(torch.rand(4, 3, 32, 32)).shape
    torch.Size([4, 3, 32, 32])
    """

    params_type = SigmaParams

    def __init__(self, kernel_size: int | Sequence[int], sigma: float | Sequence[float] = (0.1, 2.0),
                 p: float = 1.0, same_on_batch: bool = False) -> None:
        super().__init__(p)
        self.kernel_size = check_kernel_size(kernel_size)
        self.sigma = check_positive_range(sigma, "sigma")
        self.same_on_batch = bool(same_on_batch)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        return {"sigma": draw_range(self.sigma, spec, generator)}

    def _apply_tensor(self, x: torch.Tensor, params: SigmaParams) -> torch.Tensor:
        return F.gaussian_blur_tensor(x, self.kernel_size, params.sigma)

    def _apply_numpy(self, x: np.ndarray, params: SigmaParams) -> np.ndarray:
        return F.gaussian_blur_numpy(x, self.kernel_size, float(params.sigma))


class MedianBlur(Transform):
    """Median filter over a ``kernel_size`` x ``kernel_size`` window (odd), replicate borders;
    equal to ``cv2.medianBlur`` on every dtype.

    >>> import numpy as np, augkit
    >>> augkit.MedianBlur(3)(np.array([[0, 0, 0], [0, 255, 0], [0, 0, 0]], np.uint8)).max()
    np.uint8(0)
    """

    def __init__(self, kernel_size: int = 3, p: float = 1.0) -> None:
        super().__init__(p)
        self.kernel_size = check_kernel_size(kernel_size)
        if not isinstance(self.kernel_size, int):
            raise TypeError(f"kernel_size must be an int (square window); got {kernel_size!r}")

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.median_blur_tensor(x, self.kernel_size)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.median_blur_numpy(x, self.kernel_size)


class BilateralFilter(Transform):
    """Edge-preserving bilateral filter (OpenCV's definition, see
    :func:`augkit.functional.bilateral_filter_tensor`).

    ``diameter`` of the disc of neighbours (``<= 0``: from ``sigma_space``), ``sigma_color`` on the
    ``[0, 1]`` scale (OpenCV's value divided by 255), ``sigma_space`` in pixels. uint8 results
    are within 1 grey level of ``cv2.bilateralFilter``.

    >>> import torch, augkit
    >>> augkit.BilateralFilter(5, sigma_color=0.2, sigma_space=3.0)(torch.rand(2, 3, 16, 16)).shape
    torch.Size([2, 3, 16, 16])
    """

    def __init__(self, diameter: int = 9, sigma_color: float = 0.3, sigma_space: float = 5.0, p: float = 1.0) -> None:
        super().__init__(p)
        self.diameter = check_number(diameter, "diameter", integer=True)
        self.sigma_color = float(check_number(sigma_color, "sigma_color", low=0.0, low_inclusive=False))
        self.sigma_space = float(check_number(sigma_space, "sigma_space", low=0.0, low_inclusive=False))

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.bilateral_filter_tensor(x, self.diameter, self.sigma_color, self.sigma_space)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.bilateral_filter_numpy(x, self.diameter, self.sigma_color, self.sigma_space)


class NonLocalMeans(Transform):
    """Non-local means denoising with OpenCV (``cv2.fastNlMeansDenoising``, ``...Colored`` for RGB).

    Only an OpenCV backend: it takes uint8 HW/HWC arrays, PIL images and CPU tensors with 1 or 3
    channels, and raises ``TypeError`` on tensors on other devices. ``h`` is the strength on the ``[0, 1]`` scale
    (OpenCV's ``h`` divided by 255); windows are odd sizes in pixels.

    >>> import numpy as np, augkit
    >>> augkit.NonLocalMeans(h=0.04)(np.full((16, 16), 100, np.uint8)).mean()
    np.float64(100.0)
    """

    def __init__(self, h: float = 0.04, template_window: int = 7, search_window: int = 21, p: float = 1.0) -> None:
        super().__init__(p)
        self.h = float(check_number(h, "h", low=0.0, low_inclusive=False))
        self.template_window = check_kernel_size(template_window, "template_window")
        self.search_window = check_kernel_size(search_window, "search_window")
        if not isinstance(self.template_window, int) or not isinstance(self.search_window, int):
            raise TypeError("template_window and search_window must be odd ints")

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.non_local_means_tensor(x, self.h, self.template_window, self.search_window)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.non_local_means_numpy(x, self.h, self.template_window, self.search_window)


@dataclass(frozen=True, kw_only=True)
class CLAHEParams(Params):
    clip_limit: torch.Tensor


class CLAHE(Transform):
    """Contrast-limited adaptive histogram equalization, as ``cv2.createCLAHE``.

    ``clip_limit`` is a number or a ``(min, max)`` range drawn per image (``<= 0``: no clipping);
    ``tile_grid_size`` is ``(rows, columns)`` (OpenCV's ``tileGridSize`` is ``(columns, rows)``).
    Colour images are equalized on the Lab lightness (``colour="lab"``) or per channel
    (``colour="per_channel"``); uint16 images (65536 bins, like OpenCV) are always per channel.
    Float images are quantized to 256 levels. Every kind gives OpenCV's pixels, the Lab path
    included (OpenCV's Lab conversion on every device; see :mod:`augkit.functional.adaptive_histogram`).

    >>> import numpy as np, augkit
    >>> x = np.random.default_rng(0).integers(0, 4096, (64, 64)).astype(np.uint16)
    >>> augkit.CLAHE(clip_limit=2.0)(x).dtype
    dtype('uint16')
    """

    params_type = CLAHEParams

    def __init__(self, clip_limit: float | Sequence[float] = 2.0, tile_grid_size: int | Sequence[int] = (8, 8),
                 colour: str = "lab", p: float = 1.0, same_on_batch: bool = False) -> None:
        super().__init__(p)
        if isinstance(clip_limit, numbers.Real) and not isinstance(clip_limit, bool):
            self.clip_limit: float | tuple[float, float] = float(check_number(clip_limit, "clip_limit"))
        else:
            self.clip_limit = check_range_pair(clip_limit, "clip_limit")
        if isinstance(tile_grid_size, numbers.Integral) and not isinstance(tile_grid_size, bool):
            tile_grid_size = (tile_grid_size, tile_grid_size)
        grid = check_sequence(tile_grid_size, "tile_grid_size", 2)
        for i, v in enumerate(grid):
            check_number(v, f"tile_grid_size[{i}]", low=1, integer=True)
        self.tile_grid_size = (int(grid[0]), int(grid[1]))
        self.colour = check_choice(colour, "colour", CLAHE_COLOURS)
        self.same_on_batch = bool(same_on_batch)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        bounds = self.clip_limit if isinstance(self.clip_limit, tuple) else (self.clip_limit, self.clip_limit)
        return {"clip_limit": draw_range(bounds, spec, generator, torch.float64)}

    def _apply_tensor(self, x: torch.Tensor, params: CLAHEParams) -> torch.Tensor:
        return F.clahe_tensor(x, params.clip_limit, self.tile_grid_size, self.colour)

    def _apply_numpy(self, x: np.ndarray, params: CLAHEParams) -> np.ndarray:
        return F.clahe_numpy(x, float(params.clip_limit), self.tile_grid_size, self.colour)


class Threshold(Transform):
    """Binarize each channel to ``{0, max_value}``.

    ``method``: ``"fixed"`` (pixels above ``threshold``), ``"otsu"`` (Otsu's threshold per image
    and channel), ``"adaptive_mean"`` / ``"adaptive_gaussian"`` (above the local mean, or
    Gaussian-weighted mean, over ``block_size`` x ``block_size`` minus ``c``). ``threshold``,
    ``c`` and ``max_value`` are on the ``[0, 1]`` scale. Matches ``cv2.threshold`` and
    ``cv2.adaptiveThreshold`` (``THRESH_BINARY``) on uint8.

    >>> import torch, augkit
    >>> augkit.Threshold("fixed", threshold=0.5)(torch.tensor([[[0.2, 0.7]]])).tolist()
    [[[0.0, 1.0]]]
    """

    def __init__(self, method: str = "otsu", threshold: float = 0.5, block_size: int = 11, c: float = 0.0,
                 max_value: float = 1.0, p: float = 1.0) -> None:
        super().__init__(p)
        self.method = check_choice(method, "method", THRESHOLD_METHODS)
        self.threshold = float(check_number(threshold, "threshold", low=0.0, high=1.0))
        self.block_size = check_number(block_size, "block_size", low=3, integer=True)
        if block_size % 2 == 0:
            raise ValueError(f"block_size must be odd; got {block_size!r}")
        self.c = float(check_number(c, "c", low=-1.0, high=1.0))
        self.max_value = float(check_number(max_value, "max_value", low=0.0, high=1.0))

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return F.threshold_tensor(x, self.method, self.threshold, self.block_size, self.c, self.max_value)

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return F.threshold_numpy(x, self.method, self.threshold, self.block_size, self.c, self.max_value)


@dataclass(frozen=True, kw_only=True)
class UnsharpParams(Params):
    sigma: torch.Tensor
    amount: torch.Tensor


class UnsharpMask(Transform):
    """Sharpen by unsharp masking: ``out = x + amount * (x - blur(x))`` where
    ``|x - blur(x)| >= threshold``, else ``x``, clamped to the dtype's range.

    ``blur`` is a Gaussian of ``sigma`` (pixels) over ``kernel_size`` (default
    ``2 * ceil(3 * max sigma) + 1``); ``sigma`` and ``amount`` are numbers or ``(min, max)``
    ranges drawn per image; ``threshold`` is on the ``[0, 1]`` scale.

    >>> import torch, augkit
    >>> augkit.UnsharpMask(sigma=1.0, amount=(0.5, 1.5))(torch.rand(2, 3, 16, 16)).shape
    torch.Size([2, 3, 16, 16])
    """

    params_type = UnsharpParams

    def __init__(self, sigma: float | Sequence[float] = 1.0, amount: float | Sequence[float] = (0.5, 1.5),
                 threshold: float = 0.0, kernel_size: int | None = None, p: float = 1.0,
                 same_on_batch: bool = False) -> None:
        super().__init__(p)
        self.sigma = check_positive_range(sigma, "sigma")
        if isinstance(amount, numbers.Real) and not isinstance(amount, bool):
            check_number(amount, "amount", low=0.0)
            amount = (amount, amount)
        self.amount = check_range_pair(amount, "amount", low=0.0)
        self.threshold = float(check_number(threshold, "threshold", low=0.0, high=1.0))
        self.kernel_size = None if kernel_size is None else check_kernel_size(kernel_size)
        self.same_on_batch = bool(same_on_batch)

    @property
    def _size(self) -> int | tuple[int, int]:
        return self.kernel_size if self.kernel_size is not None else unsharp_kernel_size(self.sigma[1])

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        return {"sigma": draw_range(self.sigma, spec, generator), "amount": draw_range(self.amount, spec, generator)}

    def _apply_tensor(self, x: torch.Tensor, params: UnsharpParams) -> torch.Tensor:
        return F.unsharp_mask_tensor(x, self._size, params.sigma, params.amount, self.threshold)

    def _apply_numpy(self, x: np.ndarray, params: UnsharpParams) -> np.ndarray:
        return F.unsharp_mask_numpy(x, self._size, float(params.sigma), float(params.amount), self.threshold)
