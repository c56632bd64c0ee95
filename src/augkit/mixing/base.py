"""The shared machinery of MixUp, CutMix and RandomMix: validation, pairing, modes, labels.

A mixer is, like a transform, two steps kept apart: ``sample_params`` draws a :class:`MixParams`
(partner index, label share, pixel share, boxes) as tensors on the images' device, and ``apply``
is deterministic. Subclasses only implement ``_draw``.

Modes (``mode``):

* ``"batch"``: one draw (lambda, box, choice) shared by the whole batch;
* ``"elem"``: one draw per sample;
* ``"pair"``: samples are paired up mutually (``i`` mixes with ``j`` and ``j`` with ``i``) and
  both members of a pair share one draw.

Pairing (``pairing``): ``"permutation"`` (a random cycle through the batch from the generator:
every sample mixes with another one) or ``"flip"`` (sample ``i`` with sample ``B - 1 - i``, as timm
does; the middle sample of an odd batch takes its neighbour). No sample of a batch of two or more
pairs with itself; in ``"pair"`` mode the odd one out of an odd batch mixes with the first sample
of the first pair. A batch of one cannot be mixed: it is returned as it is, with its labels as
soft labels, and a ``UserWarning`` says so (once per calling line, Python's default).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from ..core import config as core_config
from ..core.config import Configurable
from ..core.validation import check_number
from ..targets.sample import parse_sample
from .kernels import mix_images
from .labels import mix_labels, soft_labels
from .targets import move_rows, pair_regions, paste_mask, sample_output

__all__ = ["MixParams", "Mixer", "from_config"]

MODES = ("batch", "elem", "pair")
TARGETS = ("mask", "masks", "boxes", "keypoints")
PAIRINGS = ("permutation", "flip")


@dataclass(frozen=True)
class MixParams:
    """One draw of a mixer for a batch of ``B`` images (tensors on the images' device).

    ``index`` (int64 ``(B,)``): the partner of each sample; ``lam`` (float32 ``(B,)``): the share
    of the sample's own label; ``weight`` (float32 ``(B,)`` or ``None`` for 1): the share of the
    sample's own pixels outside its box; ``box`` (int64 ``(B, 4)`` as top, bottom, left, right,
    or ``None``): the region taken from the partner.
    """

    index: torch.Tensor
    lam: torch.Tensor
    weight: torch.Tensor | None = None
    box: torch.Tensor | None = None

    def _map(self, fn) -> MixParams:
        return MixParams(*(None if v is None else fn(v) for v in dataclasses.astuple(self)))


def _check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def _check_images(images: Any) -> torch.Tensor:
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a (B, C, H, W) torch.Tensor; got {type(images).__name__}")
    if images.ndim != 4:
        raise ValueError(f"images must be a (B, C, H, W) batch; got shape {tuple(images.shape)}")
    if images.shape[0] == 0:
        raise ValueError(f"images is an empty batch (shape {tuple(images.shape)}); expected at least one image")
    if not (images.is_floating_point() or images.dtype == torch.uint8):
        raise TypeError(f"images have dtype {images.dtype}; expected uint8 or a floating dtype")
    return images


class Mixer(Configurable, abstract=True):
    """Base class of the batch mixers; see the module docstring for modes and pairing.

    Args:
        num_classes: number of classes; required for integer class labels, checked against
            label rows otherwise.
        mode: ``"batch"``, ``"elem"`` or ``"pair"``.
        pairing: ``"permutation"`` or ``"flip"``.
        label_smoothing: ``s`` in ``[0, 1]``, applied before mixing (timm's formula).
        multi_label: labels are multi-hot rows; smoothing goes toward 0.5.
        inplace: write the mixed images into the input batch instead of a new tensor.

    Calling ``mixer(images, labels)`` returns ``(mixed images, float32 soft labels)``. Set
    ``mixer.enabled = False`` (e.g. for the last epochs) to return the images untouched and the
    labels as (smoothed) soft labels.

    With targets, in the transforms' sample convention (``mixer(images, labels, boxes=...,
    masks=..., mask=..., keypoints=...)`` or ``mixer({"image": ..., "boxes": ..., "labels": ...})``),
    the result is a dict of the same keys: ``labels`` are the labels of the boxes when boxes are
    given (they follow their boxes, unmixed), else the images' class labels (mixed into soft
    labels). Boxes come with ``weights``, the share of each box's pixels (its image's blend weight;
    1 for pasted boxes). How each target is mixed is described in :mod:`augkit.mixing.targets`;
    with boxes, instance masks or keypoints a call reads the new number of boxes on the host (the
    only host synchronisation of a mixer), images and semantic masks never wait for it.

    Mixers round-trip through ``augkit.to_config`` / ``augkit.from_config`` (under the key
    ``"mixer"``); ``==`` and ``repr`` follow the constructor arguments.
    """

    config_key: ClassVar[str] = "mixer"

    def __init__(self, *, num_classes: int | None = None, mode: str = "batch", pairing: str = "permutation",
                 label_smoothing: float = 0.0, multi_label: bool = False, inplace: bool = False) -> None:
        self.num_classes = None if num_classes is None else check_number(num_classes, "num_classes", low=1, integer=True)
        self.mode = _check_choice(mode, "mode", MODES)
        self.pairing = _check_choice(pairing, "pairing", PAIRINGS)
        self.label_smoothing = float(check_number(label_smoothing, "label_smoothing", low=0.0, high=1.0))
        self.multi_label = _check_bool(multi_label, "multi_label")
        self.inplace = _check_bool(inplace, "inplace")
        self.enabled = True

    # -- the public protocol -------------------------------------------------------------------

    def __call__(self, images: torch.Tensor | dict[str, Any], labels: torch.Tensor | None = None, *,
                 generator: torch.Generator | None = None, **targets: Any) -> Any:
        """Mix ``images`` (``(B, C, H, W)``, uint8 or float) and ``labels`` with fresh draws; with
        targets (keywords ``mask``, ``masks``, ``boxes``, ``keypoints``, or a sample dict) the
        result is a sample dict (module :mod:`augkit.mixing.targets`)."""
        batch = _check_images(images.get("image") if isinstance(images, dict) else images)
        if not self.enabled:
            return self._mix(images, labels, targets, None)
        if len(batch) == 1:
            warnings.warn(f"{type(self).__name__} got a batch of one image, which has no partner to mix with: "
                          "it is returned unchanged (with soft labels)", UserWarning, stacklevel=2)
        return self._mix(images, labels, targets, self.sample_params(batch, generator=generator))

    def sample_params(self, images: torch.Tensor, *, generator: torch.Generator | None = None) -> MixParams:
        """Draw a :class:`MixParams` for ``images`` (only its shape and device are read; a sample
        dict's ``"image"``), from ``generator`` on its device or torch's global RNG on the images'
        device."""
        images = _check_images(images.get("image") if isinstance(images, dict) else images)
        n, (height, width) = images.shape[0], images.shape[-2:]
        device = images.device if generator is None else generator.device
        index = self._pair_index(n, generator, device)
        draws = self._draw(1 if self.mode == "batch" else n, (height, width), generator, device)
        if self.mode == "batch":
            draws = {k: None if v is None else v.expand(n, *v.shape[1:]) for k, v in draws.items()}
        elif self.mode == "pair":
            first = torch.minimum(torch.arange(n, device=device), index)
            draws = {k: None if v is None else v[first] for k, v in draws.items()}
        params = MixParams(index=index, **draws)
        return params if device == images.device else params._map(lambda t: t.to(images.device, non_blocking=True))

    def apply(self, images: torch.Tensor | dict[str, Any], labels: torch.Tensor | None = None,
              params: MixParams | None = None, **targets: Any) -> Any:
        """Mix with the given ``params``; deterministic. Returns images and float32 soft labels, or
        a sample dict with targets (see :meth:`__call__`)."""
        if not isinstance(params, MixParams):
            raise TypeError(f"params must be MixParams from sample_params; got {type(params).__name__}")
        return self._mix(images, labels, targets, params)

    def _mix(self, images: Any, labels: Any, targets: dict[str, Any], params: MixParams | None) -> Any:
        unknown = set(targets) - set(TARGETS)
        if unknown:
            raise TypeError(f"unexpected target keyword(s) {sorted(unknown)}; targets are {', '.join(TARGETS)}")
        if not isinstance(images, dict) and all(v is None for v in targets.values()):
            images = _check_images(images)
            mixed, lam, _ = self._mix_images(images, params)
            return mixed, self._mix_labels(labels, images, params, lam)
        sample, spec = parse_sample(images, dict(targets, labels=labels))
        batch = _check_images(sample.image)
        mixed, lam, weight = self._mix_images(batch, params)
        moved = sample.targets
        if params is not None:
            if "mask" in moved and params.weight is not None:
                raise ValueError(f"mask: {type(self).__name__} blends images, and a semantic mask cannot be "
                                 "blended; pass instance masks (masks=...) or use CutMix")
            index, box = params.index, params.box
            moved = move_rows(moved, *pair_regions(index, weight, box, spec.size), spec.size)
            if "mask" in moved:
                moved["mask"] = paste_mask(moved["mask"], index, box)
        extra = dict(sample.extra)
        if "labels" in extra:
            extra["labels"] = self._mix_labels(extra["labels"], batch, params, lam)
        return sample_output(sample, mixed, moved, extra)

    def _pixel_share(self, images: torch.Tensor, params: MixParams) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The label share and the pixel share of ``params`` for ``images``: floating images blend
        with the share their dtype can hold, and give the labels that same share."""
        if params.index.shape[0] != images.shape[0]:
            raise ValueError(f"params were drawn for {params.index.shape[0]} image(s) but images hold {images.shape[0]}")
        lam, weight = params.lam, params.weight
        if weight is not None and images.is_floating_point() and images.dtype != torch.float64:
            rounded = weight.to(images.dtype).to(torch.float32)
            lam = torch.where(weight == lam, rounded, lam)
            weight = rounded
        return lam, weight

    def _mix_images(self, images: torch.Tensor, params: MixParams | None) -> tuple[torch.Tensor, Any, Any]:
        """The mixed images, the label share and the pixel share (``None`` for no mixing)."""
        if params is None:
            return images, None, None
        lam, weight = self._pixel_share(images, params)
        return mix_images(images, params.index, weight, params.box, inplace=self.inplace), lam, weight

    def _mix_labels(self, labels: Any, images: torch.Tensor, params: MixParams | None,
                    lam: torch.Tensor | None) -> torch.Tensor:
        rows = self.soft_labels(labels, images)
        return rows if params is None else mix_labels(rows, params.index, lam)

    def soft_labels(self, labels: torch.Tensor, images: torch.Tensor | None = None) -> torch.Tensor:
        """``labels`` as float32 smoothed rows ``(B, K)`` (on the images' device), unmixed."""
        rows = soft_labels(labels, self.num_classes, label_smoothing=self.label_smoothing,
                           multi_label=self.multi_label, device=None if images is None else images.device)
        if images is not None and rows.shape[0] != images.shape[0]:
            raise ValueError(f"labels hold {rows.shape[0]} row(s) but images hold {images.shape[0]}; expected one label per image")
        return rows

    # -- hooks and helpers -----------------------------------------------------------------------

    def _draw(self, n: int, size: tuple[int, int], generator: torch.Generator | None,
              device: torch.device) -> dict[str, torch.Tensor | None]:
        """``lam``, ``weight`` and ``box`` for ``n`` draws (see :class:`MixParams`)."""
        raise NotImplementedError

    def _pair_index(self, n: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
        """The partner of each sample: never the sample itself when ``n >= 2``."""
        if self.pairing == "flip":
            index = torch.arange(n - 1, -1, -1, device=device)
            if n % 2 and n > 1:
                index[n // 2] = n // 2 - 1
            return index
        order = torch.randperm(n, generator=generator, device=device)
        if self.mode != "pair":  # each sample of the random order mixes with the next, the last with the first
            return torch.empty_like(order).scatter_(0, order, order.roll(-1))
        even = n - n % 2
        partners = order[:even].view(-1, 2).flip(1).reshape(-1)
        index = torch.arange(n, device=device).scatter(0, order[:even], partners)
        return index.scatter(0, order[even:], order[:1].expand(n - even)) if n > 1 else index


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool; got {value!r} ({type(value).__name__})")
    return value


def from_config(config: dict[str, Any], *, allowed_callables: Iterable[Any] | None = None) -> Mixer:
    """:func:`augkit.from_config` for a config that must hold a mixer (or a ``MixCollate``).

    >>> import augkit
    >>> augkit.mixing.from_config({"augkit": "0.1", "mixer": {"mixer": "MixUp", "alpha": 0.2, "num_classes": 10}})
    MixUp(alpha=0.2, num_classes=10)
    """
    obj = core_config.from_config(config, allowed_callables=allowed_callables)
    if not (isinstance(obj, Configurable) and obj.config_key == Mixer.config_key):
        raise ValueError(f"config holds {type(obj).__name__}, not a mixer; use augkit.from_config")
    return obj
