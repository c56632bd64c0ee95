"""Routing of functional ops by input kind.

Each op in :mod:`augkit.functional` has a tensor kernel (CHW/BCHW, any device) and a NumPy kernel
(HW/HWC) with the same signature and semantics; :func:`dispatch` joins them into one function
that takes any input kind. PIL images go through the NumPy kernel and come back as PIL.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Callable

import cv2
import numpy as np
import torch

from .image import ImageLike, ImageSpec, Kind, array_to_pil, inspect_image, pil_to_array

__all__ = ["dispatch", "numpy_kernel", "run_numpy", "run_numpy_per_image"]


def run_numpy(kernel: Callable[..., np.ndarray], image: ImageLike, spec: ImageSpec,
              *args: Any, **kwargs: Any) -> ImageLike:
    """Run a NumPy kernel on a NumPy or PIL image and give back the same kind and layout."""
    array = pil_to_array(image) if spec.kind is Kind.PIL else image
    out = kernel(array, *args, **kwargs)
    return array_to_pil(out) if spec.kind is Kind.PIL else out


def run_numpy_per_image(x: torch.Tensor, kernel: Callable[..., np.ndarray], *per_image: Sequence[Any]) -> torch.Tensor:
    """Run the NumPy ``kernel(image, *args)`` on each image of a CPU tensor ``(..., C, H, W)``,
    with the i-th entry of each sequence of ``per_image`` arguments; the results (HW/HWC arrays
    of one shape) come back as a tensor ``(..., C', H', W')``.

    The kernel gets HWC images (HW for one channel); OpenCV interleaves and splits the channel
    planes, several times faster than a strided copy of torch or NumPy.
    """
    images = x.reshape(-1, *x.shape[-3:]).numpy()
    out = None
    for i, (image, *args) in enumerate(zip(images, *per_image)):
        result = kernel(image[0] if len(image) == 1 else cv2.merge(list(image)), *args)
        if out is None:
            out = np.empty((len(images), 1 if result.ndim == 2 else result.shape[2], *result.shape[:2]), result.dtype)
        if result.ndim == 2 or result.shape[2] == 1:
            out[i, 0] = result.reshape(result.shape[:2])
        else:
            cv2.split(result, list(out[i]))
    return torch.from_numpy(out).reshape(*x.shape[:-3], *out.shape[1:])


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
