"""Routing of functional ops by input kind.

Each op in :mod:`augkit.functional` has a tensor kernel (CHW/BCHW, any device) and a NumPy kernel
(HW/HWC) with the same signature and semantics; :func:`dispatch` joins them into one function
that takes any input kind. PIL images go through the NumPy kernel and come back as PIL.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from .image import ImageLike, ImageSpec, Kind, array_to_pil, inspect_image, pil_to_array

__all__ = ["dispatch", "numpy_kernel", "run_numpy"]


def run_numpy(kernel: Callable[..., np.ndarray], image: ImageLike, spec: ImageSpec,
              *args: Any, **kwargs: Any) -> ImageLike:
    """Run a NumPy kernel on a NumPy or PIL image and give back the same kind and layout."""
    array = pil_to_array(image) if spec.kind is Kind.PIL else image
    out = kernel(array, *args, **kwargs)
    return array_to_pil(out) if spec.kind is Kind.PIL else out


def numpy_kernel(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Decorate a NumPy kernel so an HWC input with one channel stays HWC (OpenCV drops it)."""

    @functools.wraps(fn)
    def kernel(x: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        out = fn(x, *args, **kwargs)
        if x.ndim == 3 and out.ndim == 2:
            out = out[:, :, None]
        return out

    return kernel


def dispatch(tensor_kernel: Callable[..., Any], numpy_kernel: Callable[..., Any]) -> Callable[..., Any]:
    """The public op for a pair of kernels; its name and docstring come from the tensor kernel."""

    @functools.wraps(tensor_kernel)
    def op(image: ImageLike, *args: Any, **kwargs: Any) -> ImageLike:
        spec = inspect_image(image)
        if spec.kind is Kind.TENSOR:
            return tensor_kernel(image, *args, **kwargs)
        return run_numpy(numpy_kernel, image, spec, *args, **kwargs)

    op.__name__ = op.__qualname__ = tensor_kernel.__name__.removesuffix("_tensor")
    return op
