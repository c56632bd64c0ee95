"""What the ops of the augmentation policies do, and how they are applied to images.

``KERNELS`` maps an op name to a pixel kernel of :mod:`augkit.functional` with the map from a
magnitude to its argument (``Brightness``: factor ``1 + m``; ``Posterize``: ``int(m)`` bits;
``Solarize``: threshold ``m`` as a fraction of white), or to a forward affine matrix (``ShearX``:
shear ``degrees(atan(m))`` about the top-left corner; ``TranslateX``: ``int(m)`` pixels;
``Rotate``: ``m`` degrees counter-clockwise about the centre), torchvision's semantics.

A policy's ops are indices into its list of op names, one per image and position (-1: none).
Tensors of any batch size, a single image included, take the same calls: the tensor rows of the
kernel table, which choose their backend per call. Position by position, all images that chose a
geometric op are warped by one :func:`~augkit.functional.affine_tensor` call with a matrix per
image, and each pixel op runs once on the images that chose it: on the CPU, on the gathered
subset, its result written into one output allocated once per call; on other devices, on every
image, blended in with ``torch.where``. Neither way reads the drawn ops back to the host, and both
give the same pixels. Arrays (and PIL images) take the array rows, op by op.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import functional as F
from ..core.transform import put_rows

__all__ = ["ANGLE", "KERNELS", "SHEAR_X", "SHEAR_Y", "TRANSLATE_X", "TRANSLATE_Y", "Kernel", "apply_ops",
           "apply_ops_numpy", "op_matrices", "warp_matrix"]


# Magnitude maps and matrices take a tensor (any device) or a NumPy float64 (one image).

def _lib(m: Any) -> Any:
    return torch if isinstance(m, torch.Tensor) else np


def _one_plus(m: Any) -> Any:
    return (1.0 + m).clip(0.0, None)


def _bits(m: Any) -> Any:
    bits = _lib(m).trunc(m).clip(0, 8)
    return bits.long() if isinstance(bits, torch.Tensor) else int(bits)


def _fraction(m: Any) -> Any:
    return m.clip(0.0, 1.0)


ANGLE, SHEAR_X, SHEAR_Y, TRANSLATE_X, TRANSLATE_Y = range(5)
"""The amounts of :func:`warp_matrix`, in order."""


def warp_matrix(amounts: Any, size: tuple[int, int]) -> Any:
    """Forward ``(..., 2, 3)`` matrices from the ``(5, ...)`` warp ``amounts`` (a tensor, or a NumPy
    float64 array for one image), at most one nonzero per image: the rotation ``ANGLE`` in degrees
    counter-clockwise about the centre, ``SHEAR_X``/``SHEAR_Y`` about the top-left corner (pixel
    (-0.5, -0.5) with centres at integers, as torchvision's) and ``TRANSLATE_X``/``TRANSLATE_Y``
    in whole pixels (truncated) for images of ``size`` (height, width).

    >>> matrix = warp_matrix(np.array([0.0, 0.0, 0.0, 2.7, 0.0]), (4, 4))
    >>> matrix[:, 2].tolist()  # the translation: 2.7 px truncated to 2
    [2.0, 0.0]
    """
    lib = _lib(amounts)
    angle, shear_x, shear_y = amounts[ANGLE], amounts[SHEAR_X], amounts[SHEAR_Y]
    tx, ty = lib.trunc(amounts[TRANSLATE_X]), lib.trunc(amounts[TRANSLATE_Y])
    radians = lib.deg2rad(angle)
    cos, sin = lib.cos(radians), lib.sin(radians)
    cx, cy = (size[1] - 1) * 0.5, (size[0] - 1) * 0.5
    entries = (cos, sin - shear_x, cx - cos * cx - sin * cy - 0.5 * shear_x + tx,
               -sin - shear_y, cos, cy + sin * cx - cos * cy - 0.5 * shear_y + ty)
    return lib.stack(entries, -1).reshape(*angle.shape, 2, 3)


def _saturation_tensor(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return x if x.shape[-3] == 1 else F.adjust_saturation_tensor(x, factor)


def _saturation_numpy(x: np.ndarray, factor: float) -> np.ndarray:
    return x if x.ndim == 2 or x.shape[2] == 1 else F.adjust_saturation_numpy(x, factor)


@dataclass(frozen=True)
class Kernel:
    """What an op does: a pixel kernel pair (``tensor``, ``numpy``) taking ``arg(magnitude)``
    (nothing when ``arg`` is None), or the :func:`warp_matrix` amount ``warp`` the magnitude
    gives; an op with neither leaves the image alone."""

    tensor: Callable | None = None
    numpy: Callable | None = None
    arg: Callable[[Any], Any] | None = None
    warp: int | None = None


KERNELS: dict[str, Kernel] = {
    "Identity": Kernel(),
    "ShearX": Kernel(warp=SHEAR_X),
    "ShearY": Kernel(warp=SHEAR_Y),
    "TranslateX": Kernel(warp=TRANSLATE_X),
    "TranslateY": Kernel(warp=TRANSLATE_Y),
    "Rotate": Kernel(warp=ANGLE),
    "Brightness": Kernel(F.adjust_brightness_tensor, F.adjust_brightness_numpy, _one_plus),
    "Color": Kernel(_saturation_tensor, _saturation_numpy, _one_plus),
    "Contrast": Kernel(F.adjust_contrast_tensor, F.adjust_contrast_numpy, _one_plus),
    "Sharpness": Kernel(F.adjust_sharpness_tensor, F.adjust_sharpness_numpy, _one_plus),
    "Posterize": Kernel(F.posterize_tensor, F.posterize_numpy, _bits),
    "Solarize": Kernel(F.solarize_tensor, F.solarize_numpy, _fraction),
    "AutoContrast": Kernel(F.autocontrast_tensor, F.autocontrast_numpy),
    "Equalize": Kernel(F.equalize_tensor, F.equalize_numpy),
    "Invert": Kernel(F.invert_tensor, F.invert_numpy),
}


# -- tensors ------------------------------------------------------------------------------------------

def apply_ops(x: torch.Tensor, ops: torch.Tensor, magnitudes: torch.Tensor, names: Sequence[str],
              interpolation: str, fill: float | Sequence[float], blend: bool | None = None) -> torch.Tensor:
    """Apply the ``(B, P)`` ``ops`` (indices into ``names``, -1: none) at their signed
    ``magnitudes`` to the ``(B, C, H, W)`` batch ``x``, position by position: on the subsets of
    images that chose each op, or (``blend``, the default off the CPU) on every image, blended in.

    >>> x = torch.full((2, 1, 2, 2), 0.25)
    >>> apply_ops(x, torch.tensor([[0], [-1]]), torch.zeros(2, 1), ["Invert"], "nearest", 0.0)[:, 0, 0, 0]
    tensor([0.7500, 0.2500])
    """
    names = tuple(names)
    if x.device.type != "cpu" if blend is None else blend:
        return _apply_blended(x, ops, magnitudes, names, interpolation, fill)
    if len(x) == 1:
        return _apply_one(x, ops, magnitudes, names, interpolation, fill)
    return _apply_subsets(x, ops, magnitudes, names, interpolation, fill)


@functools.lru_cache(maxsize=64)
def _groups(names: tuple[str, ...]) -> tuple[Kernel | None, ...]:
    """The calls an op of ``names`` belongs to: one warp for all geometric ops (``None``), then
    one call per pixel op."""
    geometric = any(KERNELS[name].warp is not None for name in names)
    return (None,) * geometric + tuple(KERNELS[n] for n in names if KERNELS[n].tensor is not None)


@functools.lru_cache(maxsize=64)
def _tables(names: tuple[str, ...], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Indexed by op + 1: the group of each op (-1 for no op and ops without a kernel) and the
    :func:`warp_matrix` amount it sets (5: none), made on ``device`` (no copy from the host)."""
    group = torch.full((len(names) + 1,), -1, dtype=torch.long, device=device)
    warp = torch.full((len(names) + 1,), 5, dtype=torch.long, device=device)
    pixel = iter(range(int(None in _groups(names)), len(_groups(names))))
    for k, name in enumerate(names):
        if KERNELS[name].warp is not None:
            group[k + 1], warp[k + 1] = 0, KERNELS[name].warp
        elif KERNELS[name].tensor is not None:
            group[k + 1] = next(pixel)
    return group, warp


def _apply_subsets(x: torch.Tensor, ops: torch.Tensor, magnitudes: torch.Tensor, names: tuple[str, ...],
                   interpolation: str, fill: float | Sequence[float]) -> torch.Tensor:
    """Each op on the images that chose it (gathered; all geometric ops in one warp), the
    results written into one output tensor, allocated once: no full-batch temporaries. The
    images are grouped by sorting them by op (torch splits at the counts itself: on the CPU)."""
    groups = _groups(names)
    table, _ = _tables(names, ops.device)
    out = None  # ours once allocated, written in place
    for position in range(ops.shape[1]):
        op, m = ops[:, position], magnitudes[:, position]
        group = table[op + 1]
        counts = torch.bincount(group + 1, minlength=len(groups) + 1)
        idle, *members = torch.tensor_split(torch.argsort(group, stable=True), counts.cumsum(0)[:-1])
        if len(idle) == len(x):
            continue
        src = x if out is None else out
        if out is None:  # the images this position leaves alone come along once
            out = torch.empty_like(x)
            if len(idle):
                put_rows(out, idle, x.index_select(0, idle))
        for kernel, index in zip(groups, members):
            if not len(index):
                continue
            whole = len(index) == len(x)
            rows = src if whole else src.index_select(0, index)
            op_rows, m_rows = (op, m) if whole else (op[index], m[index])
            if kernel is None:
                result = F.affine_tensor(rows, op_matrices(op_rows, m_rows, tuple(x.shape[-2:]), names),
                                         interpolation, fill)
            else:
                result = _pixel(kernel, rows, m_rows)
            if whole and result is not x:
                out = result
            else:
                put_rows(out, index, result)
    return x if out is None else out


def _apply_one(x: torch.Tensor, ops: torch.Tensor, magnitudes: torch.Tensor, names: tuple[str, ...],
               interpolation: str, fill: float | Sequence[float]) -> torch.Tensor:
    """One CPU image: its ops read as numbers (on the CPU, no sync), and each called on the whole
    image, as :func:`_apply_subsets` calls it on a subset that holds every image; a warp's matrix
    made in NumPy (no small torch ops)."""
    size = tuple(x.shape[-2:])
    for position, (k, amount) in enumerate(zip(ops[0].tolist(), magnitudes[0].tolist())):
        if k < 0:
            continue
        kernel = KERNELS[names[k]]
        if kernel.warp is not None:
            x = F.affine_tensor(x, _one_matrix(kernel.warp, amount, size), interpolation, fill)
        elif kernel.tensor is not None:
            x = _pixel(kernel, x, magnitudes[:, position])
    return x


def _one_matrix(warp: int, amount: float, size: tuple[int, int]) -> np.ndarray:
    """The forward ``(2, 3)`` matrix of one image's warp ``amount`` of :func:`warp_matrix` kind ``warp``."""
    amounts = np.zeros(5)
    amounts[warp] = amount
    return warp_matrix(amounts, size)


def _apply_blended(x: torch.Tensor, ops: torch.Tensor, magnitudes: torch.Tensor, names: tuple[str, ...],
                   interpolation: str, fill: float | Sequence[float]) -> torch.Tensor:
    """Every op computed on every image and blended in with ``torch.where``: no host sync."""
    table, _ = _tables(names, ops.device)
    for position in range(ops.shape[1]):
        op, m = ops[:, position], magnitudes[:, position]
        group = table[op + 1]
        for g, kernel in enumerate(_groups(names)):
            chosen = group == g
            if kernel is None:
                out = F.affine_tensor(x, op_matrices(op, m, tuple(x.shape[-2:]), names), interpolation, fill)
            else:
                out = _pixel(kernel, x, torch.where(chosen, m, 0.0))
            x = torch.where(chosen.view(-1, 1, 1, 1), out, x)
    return x


def _pixel(kernel: Kernel, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    return kernel.tensor(x) if kernel.arg is None else kernel.tensor(x, kernel.arg(m))


def op_matrices(op: torch.Tensor, m: torch.Tensor, size: tuple[int, int], names: tuple[str, ...]) -> torch.Tensor:
    """``(B, 2, 3)`` forward matrices: the chosen geometric op's, identity for the others."""
    amounts = torch.zeros(6, len(op), dtype=torch.float64, device=op.device)
    amounts[_tables(names, op.device)[1][op + 1], torch.arange(len(op), device=op.device)] = m.double()
    return warp_matrix(amounts[:5], size)


# -- arrays -------------------------------------------------------------------------------------------

def apply_ops_numpy(x: np.ndarray, ops: Sequence[int], magnitudes: Sequence[float], names: Sequence[str],
                    interpolation: str, fill: float | Sequence[float]) -> np.ndarray:
    """Apply ``ops`` (indices into ``names``, -1: none) at their signed ``magnitudes``, in order,
    to the HW/HWC array ``x`` with the array kernels.

    >>> apply_ops_numpy(np.full((2, 2), 64, np.uint8), [0], [0.0], ["Invert"], "nearest", 0.0)[0, 0]
    np.uint8(191)
    """
    for k, m in zip(ops, magnitudes):
        if k < 0:
            continue
        kernel = KERNELS[names[k]]
        if kernel.warp is not None:
            x = F.affine_numpy(x, _one_matrix(kernel.warp, m, x.shape[:2]), interpolation, fill)
        elif kernel.numpy is not None:
            x = kernel.numpy(x) if kernel.arg is None else kernel.numpy(x, kernel.arg(np.float64(m)))
    return x
