"""Automatic augmentation policies: RandAugment, TrivialAugmentWide, AutoAugment and AugMix.

The op sets, magnitude bins and signed ops are torchvision's (``transforms.v2``), so for the same
chosen op, magnitude and sign the output matches torchvision's. Two tables drive everything:

* ``KERNELS``: op name -> what it does: a pixel kernel of :mod:`augkit.functional` with the map
  from a magnitude to its argument (``Brightness``: factor ``1 + m``; ``Posterize``: ``int(m)``
  bits; ``Solarize``: threshold ``m`` as a fraction of white), or a forward affine matrix
  (``ShearX``: shear ``degrees(atan(m))`` about the top-left corner; ``TranslateX``: ``int(m)``
  pixels; ``Rotate``: ``m`` degrees counter-clockwise about the centre);
* magnitude spaces: op name -> :class:`Linear` (``torch.linspace(start, end, bins)``, ``end``
  possibly a fraction of the image width or height, ``signed`` ops negated with probability 1/2)
  or :class:`Bits` (posterize bits), per policy.

Randomness: every image of a batch draws its own ops, magnitudes and signs. Ops are drawn
uniformly **with replacement** at each position (RandAugment may apply the same op twice), as
torchvision and timm do. Draws come from the generator in one or two calls, so a batch costs the
same to draw as one image.

Application: a batch is processed position by position; at each position all images that chose
a geometric op (ShearX/Y, TranslateX/Y, Rotate) are warped by one ``grid_sample`` call with a
matrix per image, and each pixel op runs once on the images that chose it (on the CPU the subset
is gathered and its result written into one output tensor, allocated once per call; on other
devices every image is computed and blended with ``torch.where``, without a host sync). A single
image on the CPU (a tensor, array or PIL image) goes through the OpenCV kernels, on an HWC copy
of a tensor made by ``cv2.merge``, which is several times faster.

Dtypes: uint8 and float images (uint16 where every op of the policy supports it; Equalize does
not), 1 or 3 channels (``Color`` leaves gray images alone, as torchvision does). Integer results
are rounded (torchvision truncates in AugMix's mix), so they are within 1 level of torchvision's.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, Union

import numpy as np
import torch

from .. import functional as F
from ..core.image import ImageSpec
from ..core.kernels import run_numpy_per_image
from ..core.params import Params
from ..core.transform import Transform, put_rows
from ..core.validation import check_choice, check_fill, check_number, check_sequence
from ..functional.convert import max_value
from ..functional.geometry import WARP_INTERPOLATIONS
from ..mixing.beta import sample_beta, sample_dirichlet

__all__ = ["RandAugment", "TrivialAugmentWide", "AutoAugment", "AugMix", "AUTOAUGMENT_POLICIES",
           "Linear", "Bits", "KERNELS"]


# -- magnitude spaces ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Linear:
    """Magnitudes ``torch.linspace(start, end, bins)``; ``end`` is multiplied by the image width
    or height when ``per`` is ``"width"`` or ``"height"``; ``signed`` magnitudes are negated with
    probability 1/2 per image."""

    end: float
    start: float = 0.0
    signed: bool = False
    per: str = ""


@dataclass(frozen=True)
class Bits:
    """Posterize bits ``round(top - bin / ((bins - 1) / span))``, as torchvision computes them."""

    top: int
    span: int


Magnitude = Union[Linear, Bits, None]
Space = tuple[tuple[str, Magnitude], ...]

_SHEAR, _ROTATE, _ENHANCE = Linear(0.3, signed=True), Linear(30.0, signed=True), Linear(0.9, signed=True)
_SOLARIZE = Linear(0.0, start=1.0)
_TRANSLATE_X = Linear(150.0 / 331.0, signed=True, per="width")
_TRANSLATE_Y = Linear(150.0 / 331.0, signed=True, per="height")

RAND_AUGMENT_SPACE: Space = (
    ("Identity", None), ("ShearX", _SHEAR), ("ShearY", _SHEAR), ("TranslateX", _TRANSLATE_X),
    ("TranslateY", _TRANSLATE_Y), ("Rotate", _ROTATE), ("Brightness", _ENHANCE), ("Color", _ENHANCE),
    ("Contrast", _ENHANCE), ("Sharpness", _ENHANCE), ("Posterize", Bits(8, 4)), ("Solarize", _SOLARIZE),
    ("AutoContrast", None), ("Equalize", None),
)
AUTOAUGMENT_SPACE: Space = RAND_AUGMENT_SPACE[1:] + (("Invert", None),)
_WIDE = Linear(0.99, signed=True)
TRIVIAL_AUGMENT_SPACE: Space = (
    ("Identity", None), ("ShearX", _WIDE), ("ShearY", _WIDE), ("TranslateX", Linear(32.0, signed=True)),
    ("TranslateY", Linear(32.0, signed=True)), ("Rotate", Linear(135.0, signed=True)), ("Brightness", _WIDE),
    ("Color", _WIDE), ("Contrast", _WIDE), ("Sharpness", _WIDE), ("Posterize", Bits(8, 6)),
    ("Solarize", _SOLARIZE), ("AutoContrast", None), ("Equalize", None),
)
AUGMIX_SPACE: Space = (
    ("ShearX", _SHEAR), ("ShearY", _SHEAR), ("TranslateX", Linear(1 / 3, signed=True, per="width")),
    ("TranslateY", Linear(1 / 3, signed=True, per="height")), ("Rotate", _ROTATE), ("Posterize", Bits(4, 4)),
    ("Solarize", _SOLARIZE), ("AutoContrast", None), ("Equalize", None), ("Brightness", _ENHANCE),
    ("Color", _ENHANCE), ("Contrast", _ENHANCE), ("Sharpness", _ENHANCE),
)
AUGMIX_PARTIAL_OPS = 9  # without all_ops, AugMix uses the first 9 ops of its space

# AutoAugment sub-policies (Cubuk et al. 2019, as in torchvision): "op:probability[:magnitude bin]"
# pairs, applied in order; magnitudes use AUTOAUGMENT_SPACE with 10 bins.
_SUBPOLICIES = {
    "imagenet": (
        "Posterize:0.4:8 Rotate:0.6:9, Solarize:0.6:5 AutoContrast:0.6, Equalize:0.8 Equalize:0.6, "
        "Posterize:0.6:7 Posterize:0.6:6, Equalize:0.4 Solarize:0.2:4, Equalize:0.4 Rotate:0.8:8, "
        "Solarize:0.6:3 Equalize:0.6, Posterize:0.8:5 Equalize:1, Rotate:0.2:3 Solarize:0.6:8, "
        "Equalize:0.6 Posterize:0.4:6, Rotate:0.8:8 Color:0.4:0, Rotate:0.4:9 Equalize:0.6, "
        "Equalize:0 Equalize:0.8, Invert:0.6 Equalize:1, Color:0.6:4 Contrast:1:8, "
        "Rotate:0.8:8 Color:1:2, Color:0.8:8 Solarize:0.8:7, Sharpness:0.4:7 Invert:0.6, "
        "ShearX:0.6:5 Equalize:1, Color:0.4:0 Equalize:0.6, Equalize:0.4 Solarize:0.2:4, "
        "Solarize:0.6:5 AutoContrast:0.6, Invert:0.6 Equalize:1, Color:0.6:4 Contrast:1:8, "
        "Equalize:0.8 Equalize:0.6"
    ),
    "cifar10": (
        "Invert:0.1 Contrast:0.2:6, Rotate:0.7:2 TranslateX:0.3:9, Sharpness:0.8:1 Sharpness:0.9:3, "
        "ShearY:0.5:8 TranslateY:0.7:9, AutoContrast:0.5 Equalize:0.9, ShearY:0.2:7 Posterize:0.3:7, "
        "Color:0.4:3 Brightness:0.6:7, Sharpness:0.3:9 Brightness:0.7:9, Equalize:0.6 Equalize:0.5, "
        "Contrast:0.6:7 Sharpness:0.6:5, Color:0.7:7 TranslateX:0.5:8, Equalize:0.3 AutoContrast:0.4, "
        "TranslateY:0.4:3 Sharpness:0.2:6, Brightness:0.9:6 Color:0.2:8, Solarize:0.5:2 Invert:0, "
        "Equalize:0.2 AutoContrast:0.6, Equalize:0.2 Equalize:0.6, Color:0.9:9 Equalize:0.6, "
        "AutoContrast:0.8 Solarize:0.2:8, Brightness:0.1:3 Color:0.7:0, Solarize:0.4:5 AutoContrast:0.9, "
        "TranslateY:0.9:9 TranslateY:0.7:9, AutoContrast:0.9 Solarize:0.8:3, Equalize:0.8 Invert:0.1, "
        "TranslateY:0.7:9 AutoContrast:0.9"
    ),
    "svhn": (
        "ShearX:0.9:4 Invert:0.2, ShearY:0.9:8 Invert:0.7, Equalize:0.6 Solarize:0.6:6, "
        "Invert:0.9 Equalize:0.6, Equalize:0.6 Rotate:0.9:3, ShearX:0.9:4 AutoContrast:0.8, "
        "ShearY:0.9:8 Invert:0.4, ShearY:0.9:5 Solarize:0.2:6, Invert:0.9 AutoContrast:0.8, "
        "Equalize:0.6 Rotate:0.9:3, ShearX:0.9:4 Solarize:0.3:3, ShearY:0.8:8 Invert:0.7, "
        "Equalize:0.9 TranslateY:0.6:6, Invert:0.9 Equalize:0.6, Contrast:0.3:3 Rotate:0.8:4, "
        "Invert:0.8 TranslateY:0:2, ShearY:0.7:6 Solarize:0.4:8, Invert:0.6 Rotate:0.8:4, "
        "ShearY:0.3:7 TranslateX:0.9:3, ShearX:0.1:6 Invert:0.6, Solarize:0.7:2 TranslateY:0.6:7, "
        "ShearY:0.8:4 Invert:0.8, ShearX:0.7:9 TranslateY:0.8:3, ShearY:0.8:5 AutoContrast:0.7, "
        "ShearX:0.7:2 Invert:0.1"
    ),
}


def _parse_subpolicies(text: str) -> tuple[tuple[tuple[str, float, int], ...], ...]:
    """``"A:0.4:8 B:0.6, ..."`` -> ``(("A", 0.4, 8), ("B", 0.6, 0)), ...`` (no magnitude: bin 0)."""
    def step(item: str) -> tuple[str, float, int]:
        name, p, *bin_ = item.split(":")
        return name, float(p), int(bin_[0]) if bin_ else 0
    return tuple(tuple(step(item) for item in pair.split()) for pair in text.split(", "))


AUTOAUGMENT_POLICIES = {name: _parse_subpolicies(text) for name, text in _SUBPOLICIES.items()}


# -- what each op does -----------------------------------------------------------------------------
# Magnitude maps and matrices take a tensor (batches, any device) or a NumPy float64 (one image).

def _lib(m: Any) -> Any:
    return torch if isinstance(m, torch.Tensor) else np


def _one_plus(m: Any) -> Any:
    return (1.0 + m).clip(0.0, None)


def _bits(m: Any) -> Any:
    bits = _lib(m).trunc(m).clip(0, 8)
    return bits.long() if isinstance(bits, torch.Tensor) else int(bits)


def _fraction(m: Any) -> Any:
    return m.clip(0.0, 1.0)


def _matrix(m: Any, *entries: Any) -> Any:
    """``(k, 2, 3)`` matrices (``(1, 2, 3)`` for a number) from 6 entries, numbers or like ``m``."""
    lib, one = _lib(m), _lib(m).ones_like(m)
    return lib.stack([one * e for e in entries], -1).reshape(-1, 2, 3)


# the closed forms of F.affine_matrix for each op (torchvision's shear is about the top-left
# corner, pixel (-0.5, -0.5) with centres at integers; its rotation about the centre)
def _shear_x(m: Any, size: tuple[int, int]) -> Any:
    return _matrix(m, 1.0, -m, -0.5 * m, 0.0, 1.0, 0.0)


def _shear_y(m: Any, size: tuple[int, int]) -> Any:
    return _matrix(m, 1.0, 0.0, 0.0, -m, 1.0, -0.5 * m)


def _translate_x(m: Any, size: tuple[int, int]) -> Any:
    return _matrix(m, 1.0, 0.0, _lib(m).trunc(m), 0.0, 1.0, 0.0)


def _translate_y(m: Any, size: tuple[int, int]) -> Any:
    return _matrix(m, 1.0, 0.0, 0.0, 0.0, 1.0, _lib(m).trunc(m))


def _rotate(m: Any, size: tuple[int, int]) -> Any:
    lib = _lib(m)
    radians = lib.deg2rad(m)
    cos, sin = lib.cos(radians), lib.sin(radians)
    cx, cy = (size[1] - 1) * 0.5, (size[0] - 1) * 0.5
    return _matrix(m, cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy)


def _saturation_tensor(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return x if x.shape[-3] == 1 else F.adjust_saturation_tensor(x, factor)


def _saturation_numpy(x: np.ndarray, factor: float) -> np.ndarray:
    return x if x.ndim == 2 or x.shape[2] == 1 else F.adjust_saturation_numpy(x, factor)


@dataclass(frozen=True)
class Kernel:
    """What an op does: a pixel kernel pair (``tensor``, ``numpy``) taking ``arg(magnitude)``
    (nothing when ``arg`` is None), or a forward affine ``matrix(magnitudes, size)``; an op with
    neither leaves the image alone."""

    tensor: Callable | None = None
    numpy: Callable | None = None
    arg: Callable[[torch.Tensor], torch.Tensor] | None = None
    matrix: Callable[[torch.Tensor, tuple[int, int]], torch.Tensor] | None = None


KERNELS: dict[str, Kernel] = {
    "Identity": Kernel(),
    "ShearX": Kernel(matrix=_shear_x),
    "ShearY": Kernel(matrix=_shear_y),
    "TranslateX": Kernel(matrix=_translate_x),
    "TranslateY": Kernel(matrix=_translate_y),
    "Rotate": Kernel(matrix=_rotate),
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


# -- magnitudes of the drawn ops -----------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _magnitude_table(space: Space, size: tuple[int, int], device: torch.device) -> tuple[torch.Tensor, ...]:
    """Per op of ``space``: linspace start and end (float32), posterize top and span (0 if not
    posterize), signed, for images of ``size``."""
    rows = []
    for _, m in space:
        if isinstance(m, Linear):
            scale = {"width": size[1], "height": size[0]}.get(m.per, 1)
            rows.append((m.start, m.end * scale, 0.0, 0.0, float(m.signed)))
        elif isinstance(m, Bits):
            rows.append((0.0, 0.0, float(m.top), float(m.span), 0.0))
        else:
            rows.append((0.0, 0.0, 0.0, 0.0, 0.0))
    table = torch.tensor(rows, dtype=torch.float32, device=device)
    return table[:, 0], table[:, 1], table[:, 2], table[:, 3], table[:, 4] > 0


def _magnitudes(space: Space, size: tuple[int, int], ops: torch.Tensor, levels: torch.Tensor, bins: int,
                negate: torch.Tensor) -> torch.Tensor:
    """Signed float32 magnitudes of ``ops`` (indices into ``space``, -1 for none) at ``levels``
    (bin positions, possibly fractional), computed exactly like ``torch.linspace`` at whole bins."""
    start, end, top, span, signed = (t[ops.clamp(min=0)] for t in _magnitude_table(space, size, ops.device))
    steps = max(bins - 1, 1)
    step = ((end - start) / steps).double()
    level = levels.double()
    linear = torch.where(level < bins // 2, start.double() + step * level,
                         end.double() - step * (steps - level)).float()
    bits = (top - levels.float() / torch.where(span > 0, steps / span, 1.0)).round()
    value = torch.where(span > 0, bits, linear)
    return torch.where(signed & negate, -value, value)


@functools.lru_cache(maxsize=64)
def _bin_table(space: Space, size: tuple[int, int], bins: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """The magnitude of every op at every whole bin ``(ops, bins)``, and whether it is signed."""
    count = len(space)
    ops = torch.arange(count, device=device).repeat_interleave(bins)
    levels = torch.arange(bins, dtype=torch.float32, device=device).repeat(count)
    table = _magnitudes(space, size, ops, levels, bins, torch.zeros_like(ops, dtype=torch.bool))
    return table.view(count, bins), _magnitude_table(space, size, device)[4]


def _bin_magnitudes(space: Space, size: tuple[int, int], ops: torch.Tensor, levels: torch.Tensor, bins: int,
                    negate: torch.Tensor) -> torch.Tensor:
    """:func:`_magnitudes` at whole-bin ``levels`` (long), by table lookup."""
    table, signed = _bin_table(space, size, bins, ops.device)
    index = ops.clamp(min=0)
    value = table[index, levels]
    return torch.where(signed[index] & negate, -value, value)


def _index(space: Space, names: Sequence[str]) -> torch.Tensor:
    lookup = [name for name, _ in space]
    return torch.tensor([lookup.index(n) for n in names], dtype=torch.long)


# -- parameters and the shared apply step -------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class PolicyParams(Params):
    """Per image and position: ``ops`` ``(n, P)``, the index of the op in the policy's magnitude
    space (-1: none), and ``magnitudes`` ``(n, P)``, signed, in the op's own units."""

    ops: torch.Tensor
    magnitudes: torch.Tensor


_NUMPY_DTYPES = (torch.uint8, torch.uint16, torch.float32)


def _check_interpolation(interpolation: str) -> str:
    return check_choice(interpolation, "interpolation", WARP_INTERPOLATIONS)


class _Policy(Transform):
    """Applies ops chosen per image from ``space`` (the shared machinery of the policies)."""

    params_type = PolicyParams
    space: Space
    interpolation: str
    fill: float | tuple[float, ...]

    # -- tensors

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        if x.device.type == "cpu" and len(x) == 1 and x.dtype in _NUMPY_DTYPES:
            return run_numpy_per_image(x, self._apply_numpy, [params])
        return self._run(x, params.ops, params.magnitudes)

    def _run(self, x: torch.Tensor, ops: torch.Tensor, magnitudes: torch.Tensor,
             blend: bool | None = None) -> torch.Tensor:
        """Apply the ``(B, P)`` ops position by position to the batch ``x``: on subsets gathered
        on the CPU, or (``blend``, the default off the CPU) on all images, blended."""
        if x.device.type == "cpu" if blend is None else not blend:
            return self._run_subsets(x, ops, magnitudes)
        return self._run_blended(x, ops, magnitudes)

    def _run_blended(self, x: torch.Tensor, ops: torch.Tensor, magnitudes: torch.Tensor) -> torch.Tensor:
        """Every op computed on every image and blended in with ``torch.where``: no host sync."""
        size = tuple(x.shape[-2:])
        geometric = [k for k, (name, _) in enumerate(self.space) if KERNELS[name].matrix is not None]
        for position in range(ops.shape[1]):
            op, m = ops[:, position], magnitudes[:, position]
            if geometric:
                out = F.affine_tensor(x, self._matrices(op, m, size, geometric), self.interpolation, self.fill)
                x = torch.where(self._chosen(op, geometric).view(-1, 1, 1, 1), out, x)
            for k, (name, _) in enumerate(self.space):
                kernel = KERNELS[name]
                if kernel.tensor is not None:
                    chosen = op == k
                    out = self._pixel(kernel, x, torch.where(chosen, m, 0.0))
                    x = torch.where(chosen.view(-1, 1, 1, 1), out, x)
        return x

    def _run_subsets(self, x: torch.Tensor, ops: torch.Tensor, magnitudes: torch.Tensor) -> torch.Tensor:
        """Each op on the images that chose it (gathered; all geometric ops in one warp), the
        results written into one output tensor, allocated once: no full-batch temporaries."""
        size = tuple(x.shape[-2:])
        out = None  # ours once allocated, written in place
        for position in range(ops.shape[1]):
            op, m = ops[:, position], magnitudes[:, position]
            present = [k for k in op.unique().tolist() if k >= 0]
            geometric = [k for k in present if KERNELS[self.space[k][0]].matrix is not None]
            pixel = [k for k in present if KERNELS[self.space[k][0]].tensor is not None]
            groups = ([(geometric, None)] if geometric else []) + [([k], KERNELS[self.space[k][0]]) for k in pixel]
            if not groups:
                continue
            src = x if out is None else out
            if out is None:  # the images this position leaves alone come along once
                out = torch.empty_like(x)
                idle = (~self._chosen(op, [k for ks, _ in groups for k in ks])).nonzero().squeeze(1)
                if len(idle):
                    put_rows(out, idle, x.index_select(0, idle))
            for ks, kernel in groups:
                index = self._chosen(op, ks).nonzero().squeeze(1)
                whole = len(index) == len(x)
                rows = src if whole else src.index_select(0, index)
                op_rows, m_rows = (op, m) if whole else (op[index], m[index])
                if kernel is None:
                    result = F.affine_tensor(rows, self._matrices(op_rows, m_rows, size, ks),
                                             self.interpolation, self.fill)
                else:
                    result = self._pixel(kernel, rows, m_rows)
                if whole and result is not x:
                    out = result
                else:
                    put_rows(out, index, result)
        return x if out is None else out

    def _chosen(self, op: torch.Tensor, ks: Sequence[int]) -> torch.Tensor:
        """Whether each image's op (an index into the space, -1 for none) is one of ``ks``."""
        table = torch.zeros(len(self.space) + 1, dtype=torch.bool, device=op.device)
        table[torch.tensor(ks, dtype=torch.long, device=op.device) + 1] = True
        return table[op + 1]

    @staticmethod
    def _pixel(kernel: Kernel, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        return kernel.tensor(x) if kernel.arg is None else kernel.tensor(x, kernel.arg(m))

    def _matrices(self, op: torch.Tensor, m: torch.Tensor, size: tuple[int, int],
                  geometric: Sequence[int]) -> torch.Tensor:
        """``(B, 2, 3)`` forward matrices: the chosen geometric op's, identity for the others."""
        m = m.double()
        matrix = torch.eye(2, 3, dtype=torch.float64, device=op.device).expand(len(op), 2, 3)
        for k in geometric:
            candidate = KERNELS[self.space[k][0]].matrix(m, size).to(op.device)
            matrix = torch.where((op == k).view(-1, 1, 1), candidate, matrix)
        return matrix

    # -- arrays

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return self._run_numpy(x, params.ops[0].tolist(), params.magnitudes[0].tolist())

    def _run_numpy(self, x: np.ndarray, ops: list[int], magnitudes: list[float]) -> np.ndarray:
        for k, m in zip(ops, magnitudes):
            if k < 0:
                continue
            kernel, m = KERNELS[self.space[k][0]], np.float64(m)
            if kernel.matrix is not None:
                x = F.affine_numpy(x, kernel.matrix(m, x.shape[:2])[0], self.interpolation, self.fill)
            elif kernel.numpy is not None:
                x = kernel.numpy(x) if kernel.arg is None else kernel.numpy(x, kernel.arg(m))
        return x


def _check_ops(ops: Any, space: Space) -> list[str] | None:
    if ops is None:
        return None
    names = [name for name, _ in space]
    ops = list(check_sequence(ops, "ops"))
    if not ops:
        raise ValueError("ops must name at least one op; got []")
    for i, op in enumerate(ops):
        if op not in names:
            raise ValueError(f"ops[{i}] must be one of {', '.join(names)}; got {op!r}")
    return ops


def _uniform_choice(u: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """Index into ``candidates`` (a long tensor of op indices) chosen uniformly by ``u`` in [0, 1)."""
    pick = (u * len(candidates)).long().clamp_(max=len(candidates) - 1)
    return candidates.to(u.device)[pick]


# -- the policies --------------------------------------------------------------------------------------

class RandAugment(_Policy):
    """RandAugment (Cubuk et al. 2020): ``num_ops`` ops per image, drawn uniformly with
    replacement from torchvision's 14 (``Identity``, ``ShearX/Y``, ``TranslateX/Y``, ``Rotate``,
    ``Brightness``, ``Color``, ``Contrast``, ``Sharpness``, ``Posterize``, ``Solarize``,
    ``AutoContrast``, ``Equalize``), each at bin ``magnitude`` of ``num_magnitude_bins``
    (torchvision's ranges: shear 0.3, translate 150/331 of the side, rotate 30 degrees, enhance
    factors ``1 +- 0.9``, posterize 8 to 4 bits, solarize threshold 1 to 0) with a random sign.

    Beyond torchvision (timm's options): ``magnitude_std > 0`` adds Gaussian noise of that std to
    the magnitude per image and op (``inf``: uniform in ``[0, magnitude]``), clipped to
    ``[0, magnitude_max]`` (default ``num_magnitude_bins - 1``; larger values extrapolate the
    ranges); ``op_p`` applies each drawn op with that probability; ``ops`` restricts the op set
    (names as above). With the defaults, an image gets exactly torchvision's output for the same
    ops and signs.

    >>> import torch, augkit
    >>> ra = augkit.RandAugment(num_ops=2, magnitude=9)
    >>> ra(torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)).shape
    torch.Size([8, 3, 32, 32])
    >>> ra.sample_params(torch.zeros(8, 3, 32, 32)).ops.shape  # (images, positions)
    torch.Size([8, 2])
    """

    space = RAND_AUGMENT_SPACE

    def __init__(self, num_ops: int = 2, magnitude: float = 9, num_magnitude_bins: int = 31,
                 magnitude_std: float = 0.0, magnitude_max: float | None = None, op_p: float = 1.0,
                 ops: Sequence[str] | None = None, interpolation: str = "nearest",
                 fill: float | Sequence[float] = 0.0, p: float = 1.0) -> None:
        super().__init__(p)
        self.num_ops = check_number(num_ops, "num_ops", low=0, integer=True)
        self.num_magnitude_bins = check_number(num_magnitude_bins, "num_magnitude_bins", low=2, integer=True)
        top = self.num_magnitude_bins - 1
        self.magnitude_max = magnitude_max if magnitude_max is None else \
            float(check_number(magnitude_max, "magnitude_max", low=0.0))
        self.magnitude_std = float(check_number(magnitude_std, "magnitude_std", low=0.0)) \
            if magnitude_std != math.inf else math.inf
        self.magnitude = check_number(magnitude, "magnitude", low=0,
                                      high=top if self.magnitude_std == 0 else None)
        self.op_p = float(check_number(op_p, "op_p", low=0.0, high=1.0))
        self.ops = _check_ops(ops, self.space)
        self.interpolation = _check_interpolation(interpolation)
        self.fill = check_fill(fill)
        self._candidates = _index(self.space, self.ops or [n for n, _ in self.space])

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        n, positions = spec.n, self.num_ops
        u = torch.rand(n, positions, 4, generator=generator, device=spec.device)
        ops = _uniform_choice(u[..., 0], self._candidates)
        negate = u[..., 1] <= 0.5
        if self.magnitude_std == 0 and float(self.magnitude).is_integer():
            levels = torch.full((n, positions), int(self.magnitude), device=spec.device)
            magnitudes = _bin_magnitudes(self.space, spec.size, ops, levels, self.num_magnitude_bins, negate)
        else:
            levels = torch.full((n, positions), float(self.magnitude), device=spec.device)
            if self.magnitude_std == math.inf:
                levels = u[..., 3] * float(self.magnitude)
            elif self.magnitude_std > 0:
                noise = torch.randn(n, positions, generator=generator, device=spec.device)
                levels = levels + self.magnitude_std * noise
            if self.magnitude_std > 0:
                levels = levels.clamp(0.0, self.num_magnitude_bins - 1.0 if self.magnitude_max is None
                                      else self.magnitude_max)
            magnitudes = _magnitudes(self.space, spec.size, ops, levels, self.num_magnitude_bins, negate)
        if self.op_p < 1.0:
            ops = torch.where(u[..., 2] < self.op_p, ops, -1)
        return {"ops": ops, "magnitudes": magnitudes}


class TrivialAugmentWide(_Policy):
    """TrivialAugment (Muller & Hutter 2021), wide ranges: one op per image, drawn uniformly from
    RandAugment's 14 (or ``ops``), at a magnitude bin drawn uniformly from ``num_magnitude_bins``,
    with a random sign (ranges: shear 0.99, translate 32 pixels, rotate 135 degrees, enhance
    ``1 +- 0.99``, posterize 8 to 2 bits, solarize 1 to 0), as torchvision's.

    >>> import torch, augkit
    >>> augkit.TrivialAugmentWide()(torch.rand(4, 3, 32, 32)).shape
    torch.Size([4, 3, 32, 32])
    """

    space = TRIVIAL_AUGMENT_SPACE

    def __init__(self, num_magnitude_bins: int = 31, ops: Sequence[str] | None = None,
                 interpolation: str = "nearest", fill: float | Sequence[float] = 0.0, p: float = 1.0) -> None:
        super().__init__(p)
        self.num_magnitude_bins = check_number(num_magnitude_bins, "num_magnitude_bins", low=2, integer=True)
        self.ops = _check_ops(ops, self.space)
        self.interpolation = _check_interpolation(interpolation)
        self.fill = check_fill(fill)
        self._candidates = _index(self.space, self.ops or [n for n, _ in self.space])

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        u = torch.rand(spec.n, 1, 3, generator=generator, device=spec.device)
        ops = _uniform_choice(u[..., 0], self._candidates)
        levels = (u[..., 2] * self.num_magnitude_bins).long().clamp_(max=self.num_magnitude_bins - 1)
        magnitudes = _bin_magnitudes(self.space, spec.size, ops, levels, self.num_magnitude_bins, u[..., 1] <= 0.5)
        return {"ops": ops, "magnitudes": magnitudes}


class AutoAugment(_Policy):
    """AutoAugment (Cubuk et al. 2019) with the learned ``policy`` ``"imagenet"``, ``"cifar10"``
    or ``"svhn"``: each image draws one of the 25 sub-policies and applies its two ops in order,
    each with its own probability, at its magnitude bin (of 10, RandAugment's ranges plus
    ``Invert``) with a random sign, as torchvision's.

    >>> import torch, augkit
    >>> augkit.AutoAugment("cifar10")(torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)).dtype
    torch.uint8
    """

    space = AUTOAUGMENT_SPACE
    bins = 10

    def __init__(self, policy: str = "imagenet", interpolation: str = "nearest",
                 fill: float | Sequence[float] = 0.0, p: float = 1.0) -> None:
        super().__init__(p)
        self.policy = check_choice(policy, "policy", tuple(AUTOAUGMENT_POLICIES))
        self.interpolation = _check_interpolation(interpolation)
        self.fill = check_fill(fill)
        subs = AUTOAUGMENT_POLICIES[self.policy]
        names = [name for name, _ in self.space]
        self._table_ops = torch.tensor([[names.index(op) for op, _, _ in sub] for sub in subs])
        self._table_p = torch.tensor([[p for _, p, _ in sub] for sub in subs])
        self._table_bins = torch.tensor([[b for _, _, b in sub] for sub in subs])

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        u = torch.rand(spec.n, 5, generator=generator, device=spec.device)
        sub = (u[:, 0] * len(self._table_ops)).long().clamp_(max=len(self._table_ops) - 1)
        ops, prob, levels = (t.to(spec.device)[sub] for t in (self._table_ops, self._table_p, self._table_bins))
        magnitudes = _bin_magnitudes(self.space, spec.size, ops, levels, self.bins, u[:, 3:5] <= 0.5)
        return {"ops": torch.where(u[:, 1:3] <= prob, ops, -1), "magnitudes": magnitudes}


@dataclass(frozen=True, kw_only=True)
class AugMixParams(Params):
    """Per image: ``ops`` and ``magnitudes`` ``(n, width, depth)`` of each chain (-1: none),
    ``weights`` ``(n, width)`` of the chains in the mix and ``original`` ``(n,)``, the weight of the
    image itself."""

    ops: torch.Tensor
    magnitudes: torch.Tensor
    weights: torch.Tensor
    original: torch.Tensor


class AugMix(_Policy):
    """AugMix (Hendrycks et al. 2020): ``width`` chains of ``depth`` ops (``-1``: 1 to 3, drawn per
    image and chain) drawn uniformly with replacement, each at a magnitude bin drawn from the first
    ``severity`` of 10 (torchvision's ranges, translate a third of the side, posterize 4 to 0
    bits), mixed with weights ``~ Dirichlet(alpha)`` and blended with the image by
    ``Beta(alpha, alpha)``. ``all_ops=False`` leaves out Brightness, Color, Contrast and Sharpness
    (they overlap ImageNet-C corruptions).

    Mixing is in float32; integer images are rounded (torchvision truncates).

    >>> import torch, augkit
    >>> augkit.AugMix(severity=3, width=3)(torch.rand(2, 3, 32, 32)).shape
    torch.Size([2, 3, 32, 32])
    """

    params_type = AugMixParams
    space = AUGMIX_SPACE
    bins = 10

    def __init__(self, severity: int = 3, width: int = 3, depth: int = -1, alpha: float = 1.0,
                 all_ops: bool = True, interpolation: str = "bilinear", fill: float | Sequence[float] = 0.0,
                 p: float = 1.0) -> None:
        super().__init__(p)
        self.severity = check_number(severity, "severity", low=1, high=self.bins, integer=True)
        self.width = check_number(width, "width", low=1, integer=True)
        self.depth = check_number(depth, "depth", low=-1, integer=True)
        if self.depth == 0:
            raise ValueError("depth must be -1 (1 to 3 ops, drawn per chain) or positive; got 0")
        self.alpha = float(check_number(alpha, "alpha", low=0.0, low_inclusive=False))
        self.all_ops = bool(all_ops)
        self.interpolation = _check_interpolation(interpolation)
        self.fill = check_fill(fill)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        n, depth = spec.n, self.depth if self.depth > 0 else 3
        u = torch.rand(n, self.width, depth, 3, generator=generator, device=spec.device)
        count = len(self.space) if self.all_ops else AUGMIX_PARTIAL_OPS
        ops = _uniform_choice(u[..., 0], torch.arange(count))
        levels = (u[..., 2] * self.severity).long().clamp_(max=self.severity - 1)
        magnitudes = _bin_magnitudes(self.space, spec.size, ops, levels, self.bins, u[..., 1] <= 0.5)
        if self.depth < 0:
            chain = 1 + (torch.rand(n, self.width, 1, generator=generator, device=spec.device) * 3).long().clamp_(max=2)
            ops = torch.where(torch.arange(depth, device=spec.device) < chain, ops, -1)
        original = sample_beta(self.alpha, self.alpha, n, generator=generator, device=spec.device)
        weights = sample_dirichlet(self.alpha, self.width, n, generator=generator, device=spec.device)
        return {"ops": ops, "magnitudes": magnitudes, "weights": weights * (1.0 - original)[:, None],
                "original": original}

    def _apply_tensor(self, x: torch.Tensor, params: AugMixParams) -> torch.Tensor:
        if x.device.type == "cpu" and len(x) == 1 and x.dtype in _NUMPY_DTYPES:
            return super()._apply_tensor(x, params)
        work = x.dtype if x.is_floating_point() else torch.float32
        mix = x.to(work) * params.original.to(work).view(-1, 1, 1, 1)
        for chain in range(self.width):
            aug = self._run(x, params.ops[:, chain], params.magnitudes[:, chain])
            mix += aug.to(work) * params.weights[:, chain].to(work).view(-1, 1, 1, 1)
        if x.is_floating_point():
            return mix.clamp_(0.0, 1.0)
        return mix.round_().clamp_(0.0, max_value(x.dtype)).to(torch.int32).to(x.dtype)

    def _apply_numpy(self, x: np.ndarray, params: AugMixParams) -> np.ndarray:
        weights = params.weights[0].tolist()
        mix = x.astype(np.float32) * np.float32(params.original[0])
        for chain in range(self.width):
            aug = self._run_numpy(x, params.ops[0, chain].tolist(), params.magnitudes[0, chain].tolist())
            mix += aug.reshape(x.shape).astype(np.float32) * np.float32(weights[chain])
        if x.dtype.kind == "f":
            return np.clip(mix, 0.0, 1.0, out=mix).astype(x.dtype, copy=False)
        return np.clip(np.rint(mix, out=mix), 0, max_value(x.dtype), out=mix).astype(x.dtype)
