"""The ``Transform`` base class every augkit transform inherits.

A transform is two steps kept apart: ``sample_params`` draws the random parameters for all images
at once (tensors with a leading dimension ``n``), and ``apply`` is deterministic. ``__call__`` is
``apply(image, sample_params(image))``, so ``t.apply(image, params)`` replays a call exactly.

Subclasses implement:

* ``_draw(spec, generator) -> dict`` (optional): the random fields of ``Params`` for ``spec.n``
  images, drawn on ``spec.device``;
* ``_apply_tensor(x, params)``: the batched kernel call on a ``(B, C, H, W)`` tensor;
* ``_apply_numpy(x, params)``: the kernel call on one HW/HWC array (PIL images go through it),
  with ``params`` of length 1 on the CPU;
* ``output_size(size, params)`` if the transform changes the image size.

The base class handles input kinds, layouts, the per-sample probability ``p``, ``same_on_batch``,
configs and ``repr``.

How a large CPU batch is executed (in cache-sized blocks, into reused buffers) is the policy of
:mod:`augkit.core.executor`, not of the transform.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, ClassVar

import numpy as np
import torch

from . import config as _config
from . import executor
from .image import ImageLike, ImageSpec, Kind, check_unit_range, inspect_image, is_strict, pil_to_array
from .kernels import run_numpy
from .params import Params
from .random import bernoulli, coin
from .validation import check_probability
from ..targets.sample import Sample, move_targets, parse_sample

_CPU = torch.device("cpu")
_FLOAT_DTYPES = frozenset({torch.float16, torch.bfloat16, torch.float32, torch.float64, np.dtype(np.float32)})

__all__ = ["Transform"]


class Transform:
    """Base class of augkit transforms.

    Args:
        p: probability that the transform acts on an image; drawn independently for every image
            of a batch.

    Example:
        >>> import torch, augkit
        >>> flip = augkit.HorizontalFlip(p=0.5)
        >>> batch = torch.rand(8, 3, 32, 32)
        >>> g = torch.Generator().manual_seed(0)
        >>> params = flip.sample_params(batch, generator=g)
        >>> torch.equal(flip.apply(batch, params), flip(batch, generator=torch.Generator().manual_seed(0)))
        True
    """

    params_type: ClassVar[type[Params]] = Params
    reads_values: ClassVar[bool] = True
    """Whether the transform interprets pixel values (colour, tone, Normalize): float images must
    then be in ``[0, 1]`` (:func:`~augkit.core.image.check_unit_range`); geometry moves values and
    containers leave the check to their children, so they set it to False."""
    samples_outside: ClassVar[bool] = True
    """Whether output pixels can come from outside the input (padding, warps), where masks get
    their fill; flips, resizes and crops inside the image set it to False."""
    keeps_axes: ClassVar[bool] = True
    """Whether boxes stay axis-aligned rectangles (flips, crops, resizes); rotations, shears and
    perspective set it to False, and boxes are then recomputed from instance masks when given."""
    mask_interpolation: ClassVar[str] = "nearest"
    """How masks are resampled: the resizes take ``"nearest-exact"`` (the pixel under each output
    centre, aligned with the image and boxes); warps sample at mapped pixel centres already."""
    p: float = 1.0
    same_on_batch: bool = False

    def __init__(self, p: float = 1.0) -> None:
        self.p = check_probability(p)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_") and not inspect.isabstract(cls):
            _config.register(cls)

    # -- the public protocol -------------------------------------------------------------------

    def __call__(self, image: ImageLike | dict[str, Any], *, generator: torch.Generator | None = None,
                 mask: Any = None, masks: Any = None, boxes: Any = None, labels: Any = None,
                 keypoints: Any = None) -> Any:
        """Transform ``image`` (PIL, NumPy HW/HWC or tensor CHW/BCHW) with freshly drawn params.

        With targets (a sample dict ``{"image": ..., "mask": ..., "boxes": ..., "labels": ...,
        "keypoints": ...}``, or the same as keywords) it returns a dict of the sample's keys,
        every target moved with the image's params (:mod:`augkit.targets`).
        """
        if mask is None and masks is None and boxes is None and labels is None and keypoints is None \
                and not isinstance(image, dict):  # an image alone: the per-call cost of every pipeline
            spec = inspect_image(image)
            if spec.n == 1 and spec.device == _CPU and (generator is None or generator.device == _CPU):
                return self._call_one(image, spec, generator)
            return self._apply_checked(image, spec, self._sample(spec, generator))
        sample, spec = parse_sample(image, dict(mask=mask, masks=masks, boxes=boxes, labels=labels,
                                                keypoints=keypoints))
        return self._apply_sample(sample, spec, self._sample(spec, generator)).output()

    def sample_params(self, image: ImageLike | ImageSpec | dict[str, Any], *,
                      generator: torch.Generator | None = None) -> Params:
        """Draw parameters for every image of ``image`` (only its kind, shape and device are read;
        a sample dict's ``"image"``).

        Draws come from ``generator`` (on its device) or torch's global RNG, and are returned on
        the image's device.
        """
        if isinstance(image, dict):
            image = image.get("image")
        spec = image if isinstance(image, ImageSpec) else inspect_image(image)
        return self._sample(spec, generator)

    def apply(self, image: ImageLike | dict[str, Any], params: Params) -> Any:
        """Apply the transform with the given ``params``; deterministic, never in place. A sample
        dict gives a sample dict."""
        if not isinstance(params, self.params_type):
            raise TypeError(
                f"params must be {self.params_type.__name__} from {type(self).__name__}.sample_params; "
                f"got {type(params).__name__}"
            )
        if isinstance(image, dict):
            sample, spec = parse_sample(image, {})
            self._check_params(spec, params)
            return self._apply_sample(sample, spec, params).output()
        spec = inspect_image(image)
        self._check_params(spec, params)
        return self._apply_checked(image, spec, params)

    @staticmethod
    def _check_params(spec: ImageSpec, params: Params) -> None:
        if params.applied is not None and len(params.applied) != spec.n:
            raise ValueError(f"params were drawn for {len(params.applied)} image(s) but image holds {spec.n}")

    def output_size(self, size: tuple[int, int], params: Params) -> tuple[int, int]:
        """The ``(height, width)`` of the output for an input of ``size``."""
        return size

    def to_config(self) -> dict[str, Any]:
        """A JSON-compatible dict; ``augkit.from_config`` rebuilds the transform from it."""
        return _config.to_config(self)

    def __repr__(self) -> str:
        signature = inspect.signature(type(self).__init__)
        shown = []
        for name, value in _config.init_arguments(self).items():
            default = signature.parameters[name].default
            if default is inspect.Parameter.empty or not _same(value, default):
                shown.append(f"{name}={_repr_value(value)}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(_same(a, b) for a, b in zip(_config.init_arguments(self).values(),
                                                _config.init_arguments(other).values()))

    __hash__ = object.__hash__

    # -- hooks for subclasses --------------------------------------------------------------------

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        """The random fields of the params for ``spec.n`` images, on ``spec.device``."""
        return {}

    def _point_matrix(self, spec: ImageSpec, params: Params) -> torch.Tensor | None:
        """The ``(n, 3, 3)`` float64 map of each image's points, input to output, in continuous
        pixel coordinates (:mod:`augkit.functional.points`), for boxes and keypoints; ``None`` for
        transforms that change pixel values only (targets pass through). Images that ``applied``
        leaves alone are given the identity by the caller."""
        return None

    def _apply_sample(self, sample: Sample, spec: ImageSpec, params: Params) -> Sample:
        """Apply to a sample: the image as :meth:`apply` does, its targets with the same params."""
        image = self._apply_checked(sample.image, spec, params)
        targets = move_targets(self, spec, params, sample.targets) if sample.targets else sample.targets
        return dataclasses.replace(sample, image=image, targets=targets)

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no tensor kernel")

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} has no NumPy kernel")

    # -- machinery -------------------------------------------------------------------------------

    def _sample(self, spec: ImageSpec, generator: torch.Generator | None) -> Params:
        n = 1 if self.same_on_batch else spec.n
        device = spec.device if generator is None else generator.device
        draw_spec = spec if n == spec.n and device == spec.device else spec._replace(n=n, device=device)
        if self.p >= 1.0:
            applied = None
        elif self.p <= 0.0:
            applied = torch.zeros(n, dtype=torch.bool, device=device)
        else:
            applied = bernoulli(n, self.p, generator=generator, device=device)
        params = self.params_type(applied=applied, **self._draw(draw_spec, generator))
        if n != spec.n:
            params = params.expand(spec.n)
        if device != spec.device:
            params = params.to(spec.device)
        return params

    def _call_one(self, image: ImageLike, spec: ImageSpec, generator: torch.Generator | None) -> ImageLike:
        """``_apply_checked(image, spec, _sample(spec, generator))`` for one CPU image, the call of
        every per-image pipeline, with the same draws: an image the coin leaves alone builds no
        params."""
        applied = self.p >= 1.0 or (self.p > 0.0 and coin(self.p, generator))
        fields = self._draw(spec, generator)
        if not applied:
            self._check_values(image, spec)
            return image
        return self._apply_checked(image, spec, self.params_type(applied=None, **fields))

    def _check_values(self, image: ImageLike, spec: ImageSpec) -> None:
        if self.reads_values and spec.dtype in _FLOAT_DTYPES and (spec.device == _CPU or is_strict()):
            check_unit_range(image if spec.kind is not Kind.PIL else pil_to_array(image))

    def _apply_checked(self, image: ImageLike, spec: ImageSpec, params: Params) -> ImageLike:
        self._check_values(image, spec)
        if spec.n == 1 and spec.device == _CPU:  # one image, the case of per-image pipelines
            applied = params.applied
            if applied is not None and not applied.item():
                return image  # left as it is
            if spec.kind is not Kind.TENSOR or spec.batched:
                return self._apply_all(image, spec, params)
            return self._apply_all(image.unsqueeze(0), spec, params).squeeze(0)
        if spec.batched:
            return executor.run_batch(self, image, spec, params, self._apply_masked)
        return executor.run_batch(self, image.unsqueeze(0), spec, params, self._apply_masked).squeeze(0)

    def _apply_masked(self, x: torch.Tensor, spec: ImageSpec, params: Params) -> torch.Tensor:
        """Apply to the images of the BCHW batch ``x`` that ``params.applied`` selects.

        On the CPU only the selected images are computed; on other devices all are computed and
        blended with ``torch.where``, which needs no device-to-host sync.
        """
        mask = params.applied
        if mask is None:
            return self._apply_all(x, spec, params)
        if len(mask) == 1 and x.device.type == "cpu":
            return self._apply_all(x, spec, params) if mask.item() else x
        if x.device.type != "cpu":
            out = self._apply_all(x, spec, params)
            _check_same_shape(self, x, out)
            return torch.where(mask.view(-1, 1, 1, 1), out, x)
        index = mask.nonzero().squeeze(1)
        if len(index) == len(mask):
            return self._apply_all(x, spec, params)
        if len(index) == 0:
            return x
        part = x.index_select(0, index)
        out_part = self._apply_all(part, spec._replace(n=len(index)), params[index])
        _check_same_shape(self, part, out_part)
        out = x.clone()
        put_rows(out, index, out_part)
        return out

    def _apply_all(self, image: ImageLike, spec: ImageSpec, params: Params) -> ImageLike:
        """Apply to every image (``params.applied`` already honoured); dispatch on the kind."""
        if spec.kind is Kind.TENSOR:
            return self._apply_tensor(image, params)
        return run_numpy(self._apply_numpy, image, spec.kind, params)


def put_rows(x: torch.Tensor, index: torch.Tensor, rows: torch.Tensor) -> None:
    """``x[index] = rows`` in place, for every image dtype (index_put has no uint16 kernel, so
    uint16 bits move as int16)."""
    if x.dtype == torch.uint16:
        x.view(torch.int16)[index] = rows.view(torch.int16)
    else:
        x[index] = rows


def _check_same_shape(transform: Transform, x: torch.Tensor, out: torch.Tensor) -> None:
    if out.shape != x.shape or out.dtype != x.dtype:
        raise ValueError(
            f"{type(transform).__name__} turns {tuple(x.shape)} {x.dtype} images into "
            f"{tuple(out.shape)} {out.dtype}, so it cannot act on only some images of a batch; "
            f"use p=1 for transforms that change the size or dtype"
        )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except (RuntimeError, ValueError, TypeError):
        return a is b


def _repr_value(value: Any) -> str:
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], Transform):
        inner = ",\n".join("    " + repr(t).replace("\n", "\n    ") for t in value)
        return f"[\n{inner},\n]"
    if isinstance(value, torch.dtype):
        return str(value)
    return repr(value)
