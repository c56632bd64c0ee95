"""Automatic augmentation policies: RandAugment, TrivialAugmentWide and AutoAugment, and the op
spaces they and :class:`~augkit.transforms.augmix.AugMix` draw from.

The op sets, magnitude bins and signed ops are torchvision's (``transforms.v2``), so for the same
chosen op, magnitude and sign the output matches torchvision's. Two tables drive everything:

* magnitude spaces: op name -> :class:`Linear` (``torch.linspace(start, end, bins)``, ``end``
  possibly a fraction of the image width or height, ``signed`` ops negated with probability 1/2)
  or :class:`Bits` (posterize bits), per policy;
* :data:`~augkit.transforms.policy_ops.KERNELS`: op name -> what it does (see
  :mod:`augkit.transforms.policy_ops`, which also applies the drawn ops).

Randomness: every image of a batch draws its own ops, magnitudes and signs. Ops are drawn
uniformly **with replacement** at each position (RandAugment may apply the same op twice), as
torchvision and timm do. Draws come from the generator in one or two calls, so a batch costs the
same to draw as one image.

Application: tensors of any batch size take the tensor kernels, a single image the same calls as
a batch, so an image gives the same pixels alone or in a batch; arrays and PIL images take the
array kernels, within one level of the tensor kernels per op where the kernel rows agree (warps
differ more: OpenCV places samples on a 1/32-pixel grid).

Dtypes: uint8, uint16 and float32 images, 1 or 3 channels (``Color`` leaves gray images alone,
as torchvision does). Integer results are rounded (torchvision truncates in AugMix's mix), so
they are within 1 level of torchvision's.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import torch

from ..core.image import ImageSpec
from ..core.params import Params
from ..core.transform import Transform
from ..core.validation import check_choice, check_fill, check_number, check_sequence
from ..functional.geometry import WARP_INTERPOLATIONS
from ..functional.points import axis_matrix, from_pixel_centres
from ..targets.sample import Sample, move_targets
from .policy_ops import KERNELS, apply_ops, apply_ops_numpy, op_matrices

__all__ = ["RandAugment", "TrivialAugmentWide", "AutoAugment", "AUTOAUGMENT_POLICIES", "AUGMIX_SPACE",
           "AUGMIX_PARTIAL_OPS", "AUTOAUGMENT_SPACE", "RAND_AUGMENT_SPACE", "TRIVIAL_AUGMENT_SPACE", "Linear",
           "Bits", "KERNELS", "PolicyParams", "bin_magnitudes", "magnitudes", "op_names", "uniform_choice"]


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


@functools.lru_cache(maxsize=16)
def op_names(space: Space) -> tuple[str, ...]:
    """The names of the ops of ``space``, in order: ``ops`` params index into them.

    >>> op_names(AUGMIX_SPACE)[:2]
    ('ShearX', 'ShearY')
    """
    return tuple(name for name, _ in space)


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


def magnitudes(space: Space, size: tuple[int, int], ops: torch.Tensor, levels: torch.Tensor, bins: int,
               negate: torch.Tensor) -> torch.Tensor:
    """Signed float32 magnitudes of ``ops`` (indices into ``space``, -1 for none) at ``levels``
    (bin positions, possibly fractional), computed exactly like ``torch.linspace`` at whole bins.

    >>> rotate = op_names(RAND_AUGMENT_SPACE).index("Rotate")
    >>> magnitudes(RAND_AUGMENT_SPACE, (32, 32), torch.tensor([rotate]), torch.tensor([15.0]), 31,
    ...            torch.tensor([True]))
    tensor([-15.])
    """
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
    table = magnitudes(space, size, ops, levels, bins, torch.zeros_like(ops, dtype=torch.bool))
    return table.view(count, bins), _magnitude_table(space, size, device)[4]


def bin_magnitudes(space: Space, size: tuple[int, int], ops: torch.Tensor, levels: torch.Tensor, bins: int,
                   negate: torch.Tensor) -> torch.Tensor:
    """:func:`magnitudes` at whole-bin ``levels`` (long), by table lookup.

    >>> posterize = op_names(RAND_AUGMENT_SPACE).index("Posterize")
    >>> bin_magnitudes(RAND_AUGMENT_SPACE, (32, 32), torch.tensor([posterize]), torch.tensor([30]), 31,
    ...                torch.tensor([False]))
    tensor([4.])
    """
    table, signed = _bin_table(space, size, bins, ops.device)
    index = ops.clamp(min=0)
    value = table[index, levels]
    return torch.where(signed[index] & negate, -value, value)


def _index(space: Space, names: Sequence[str]) -> torch.Tensor:
    lookup = op_names(space)
    return torch.tensor([lookup.index(n) for n in names], dtype=torch.long)


# -- parameters and the shared apply step -------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class PolicyParams(Params):
    """Per image and position: ``ops`` ``(n, P)``, the index of the op in the policy's magnitude
    space (-1: none), and ``magnitudes`` ``(n, P)``, signed, in the op's own units."""

    ops: torch.Tensor
    magnitudes: torch.Tensor


class _Policy(Transform):
    """Applies ops chosen per image from ``space`` (the shared machinery of the policies)."""

    params_type = PolicyParams
    keeps_axes = False  # shears and rotations among the ops
    space: Space
    interpolation: str
    fill: float | tuple[float, ...]

    def __init__(self, interpolation: str, fill: float | Sequence[float], p: float) -> None:
        super().__init__(p)
        self.interpolation = check_choice(interpolation, "interpolation", WARP_INTERPOLATIONS)
        self.fill = check_fill(fill)

    def _apply_tensor(self, x: torch.Tensor, params: PolicyParams) -> torch.Tensor:
        return apply_ops(x, params.ops, params.magnitudes, op_names(self.space), self.interpolation, self.fill)

    def _point_steps(self, spec: ImageSpec, params: PolicyParams) -> list[torch.Tensor]:
        """The ``(n, 3, 3)`` point map of each op position, in order (identity for value ops)."""
        names = op_names(self.space)
        return [from_pixel_centres(op_matrices(params.ops[:, k], params.magnitudes[:, k], spec.size, names))
                for k in range(params.ops.shape[1])]

    def _point_matrix(self, spec: ImageSpec, params: PolicyParams) -> torch.Tensor:
        matrix = axis_matrix(spec.n, device=params.ops.device)
        for step in self._point_steps(spec, params):
            matrix = step @ matrix
        return matrix

    def _apply_sample(self, sample: Sample, spec: ImageSpec, params: PolicyParams) -> Sample:
        # op by op, like the image: what one op moves out of the canvas is lost to the next ones
        image = self._apply_checked(sample.image, spec, params)
        targets = sample.targets
        for step in self._point_steps(spec, params) if targets else ():
            if step.device.type != "cpu" or not bool((step == torch.eye(3, dtype=step.dtype)).all()):
                targets = move_targets(_Step(step), spec, params, targets)
        return dataclasses.replace(sample, image=image, targets=targets)

    def _apply_numpy(self, x: np.ndarray, params: PolicyParams) -> np.ndarray:
        return apply_ops_numpy(x, params.ops[0].tolist(), params.magnitudes[0].tolist(), op_names(self.space),
                               self.interpolation, self.fill)


class _Step:
    """One op position of a policy, as the targets see it: a warp by given point maps."""

    reads_values, keeps_axes, samples_outside = True, False, True

    def __init__(self, matrix: torch.Tensor) -> None:
        self.matrix = matrix

    def _point_matrix(self, spec: ImageSpec, params: Params) -> torch.Tensor:
        return self.matrix

    def output_size(self, size: tuple[int, int], params: Params) -> tuple[int, int]:
        return size


def _check_ops(ops: Any, space: Space) -> list[str] | None:
    if ops is None:
        return None
    names = op_names(space)
    ops = list(check_sequence(ops, "ops"))
    if not ops:
        raise ValueError("ops must name at least one op; got []")
    for i, op in enumerate(ops):
        if op not in names:
            raise ValueError(f"ops[{i}] must be one of {', '.join(names)}; got {op!r}")
    return ops


def uniform_choice(u: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """The entry of ``candidates`` (a long tensor of op indices) chosen uniformly by each ``u`` in [0, 1).

    >>> uniform_choice(torch.tensor([0.1, 0.9]), torch.tensor([3, 5]))
    tensor([3, 5])
    """
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
        super().__init__(interpolation, fill, p)
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
        self._candidates = _index(self.space, self.ops or op_names(self.space))

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        n, positions = spec.n, self.num_ops
        u = torch.rand(n, positions, 4, generator=generator, device=spec.device)
        ops = uniform_choice(u[..., 0], self._candidates)
        negate = u[..., 1] <= 0.5
        if self.magnitude_std == 0 and float(self.magnitude).is_integer():
            levels = torch.full((n, positions), int(self.magnitude), device=spec.device)
            values = bin_magnitudes(self.space, spec.size, ops, levels, self.num_magnitude_bins, negate)
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
            values = magnitudes(self.space, spec.size, ops, levels, self.num_magnitude_bins, negate)
        if self.op_p < 1.0:
            ops = torch.where(u[..., 2] < self.op_p, ops, -1)
        return {"ops": ops, "magnitudes": values}


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
        super().__init__(interpolation, fill, p)
        self.num_magnitude_bins = check_number(num_magnitude_bins, "num_magnitude_bins", low=2, integer=True)
        self.ops = _check_ops(ops, self.space)
        self._candidates = _index(self.space, self.ops or op_names(self.space))

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        u = torch.rand(spec.n, 1, 3, generator=generator, device=spec.device)
        ops = uniform_choice(u[..., 0], self._candidates)
        levels = (u[..., 2] * self.num_magnitude_bins).long().clamp_(max=self.num_magnitude_bins - 1)
        values = bin_magnitudes(self.space, spec.size, ops, levels, self.num_magnitude_bins, u[..., 1] <= 0.5)
        return {"ops": ops, "magnitudes": values}


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
        super().__init__(interpolation, fill, p)
        self.policy = check_choice(policy, "policy", tuple(AUTOAUGMENT_POLICIES))
        subs = AUTOAUGMENT_POLICIES[self.policy]
        names = [name for name, _ in self.space]
        self._table_ops = torch.tensor([[names.index(op) for op, _, _ in sub] for sub in subs])
        self._table_p = torch.tensor([[p for _, p, _ in sub] for sub in subs])
        self._table_bins = torch.tensor([[b for _, _, b in sub] for sub in subs])

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        u = torch.rand(spec.n, 5, generator=generator, device=spec.device)
        sub = (u[:, 0] * len(self._table_ops)).long().clamp_(max=len(self._table_ops) - 1)
        ops, prob, levels = (t.to(spec.device)[sub] for t in (self._table_ops, self._table_p, self._table_bins))
        values = bin_magnitudes(self.space, spec.size, ops, levels, self.bins, u[:, 3:5] <= 0.5)
        return {"ops": torch.where(u[:, 1:3] <= prob, ops, -1), "magnitudes": values}
