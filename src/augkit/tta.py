"""Test-time augmentation: average a classifier's predictions over deterministic views.

A *view* is a deterministic function of a ``(B, C, H, W)`` batch: an augkit ``Transform`` that
draws nothing random (``Identity()``, ``HorizontalFlip(p=1.0)``, a ``Compose`` of such), or one of
the views made by :func:`five_crop`, :func:`ten_crop` and :func:`multi_scale`. Lists of views may
be nested; they are flattened in order.

Random transforms are refused when the views are given (:func:`check_deterministic`): a transform
is random if it, or any transform nested in its constructor arguments, has ``0 < p < 1``, or if
two parameter draws with differently seeded generators differ (compared field by field,
recursively through containers' child parameters). A transform whose draw fails on the probe size
is checked again on the first batch it sees.

The views of a batch are evaluated in one forward per output size (views giving the same size are
concatenated), split into forwards of at most ``max_batch`` images; on a CUDA out-of-memory error
the split is halved and retried. The merged result is a probability tensor of shape ``(B, K)``
with the model output's dtype, on the model output's device.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Union

import torch
import torch.nn.functional as F

from .core.config import child_transforms
from .core.image import ImageSpec, Kind
from .core.params import Params
from .core.transform import Transform
from .core.validation import check_number, check_sequence, check_size
from .functional._utils import pair
from .transforms.compose import Identity
from .transforms.geometry import HorizontalFlip

__all__ = ["TTA", "predict", "View", "CropView", "ResizeView", "five_crop", "ten_crop", "multi_scale",
           "check_deterministic", "UndecidedError", "resize_tensor", "MERGES"]

Size = Union[int, Sequence[int]]

MERGES = ("mean", "logits", "max", "gmean")
"""``mean``: mean of the softmax probabilities; ``logits``: softmax of the mean logits; ``max``:
per-class maximum of the probabilities, renormalised to sum to 1; ``gmean``: geometric mean of the
probabilities, renormalised (mathematically the same as ``logits``, computed from log-probabilities).
"""

_PROBE = ImageSpec(kind=Kind.TENSOR, n=8, size=(256, 256), channels=3, dtype=torch.float32,
                   device=torch.device("cpu"), batched=True)


# -- views ---------------------------------------------------------------------------------------

class View:
    """A deterministic function of a ``(B, C, H, W)`` batch; subclasses implement ``__call__``."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    __hash__ = object.__hash__


_POSITIONS = ("top_left", "top_right", "bottom_left", "bottom_right", "center")


class CropView(View):
    """The ``size`` crop at ``position`` (a corner or ``"center"``), of the image mirrored
    left-right first if ``hflip`` (top-bottom if ``vflip``). Centre offsets are rounded like
    torchvision's ``center_crop`` (``round((H - h) / 2)``, halves to even).

    >>> import torch
    >>> CropView(2, "bottom_right")(torch.arange(9.0).view(1, 1, 3, 3)).tolist()
    [[[[4.0, 5.0], [7.0, 8.0]]]]
    """

    def __init__(self, size: Size, position: str = "center", hflip: bool = False,
                 vflip: bool = False) -> None:
        if position not in _POSITIONS:
            raise ValueError(f"position must be one of {', '.join(_POSITIONS)}; got {position!r}")
        self.size = pair(check_size(size))
        self.position = position
        self.hflip = bool(hflip)
        self.vflip = bool(vflip)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        h, w = self.size
        if h > height or w > width:
            raise ValueError(f"crop size {self.size} is larger than the images ({height}, {width})")
        if self.hflip:
            x = x.flip(-1)
        if self.vflip:
            x = x.flip(-2)
        if self.position == "center":
            top, left = round((height - h) / 2), round((width - w) / 2)
        else:
            top = 0 if self.position.startswith("top") else height - h
            left = 0 if self.position.endswith("left") else width - w
        return x[..., top:top + h, left:left + w]


class ResizeView(View):
    """Resize to ``size``: an int sets the shorter side (keeping the aspect ratio, like
    torchvision's ``Resize(int)``), a pair sets ``(height, width)``.

    Resizing uses :func:`resize_tensor` (bilinear, antialiased).

    >>> import torch
    >>> ResizeView(4)(torch.rand(2, 3, 8, 16)).shape
    torch.Size([2, 3, 4, 8])
    """

    def __init__(self, size: Size) -> None:
        self.size = check_size(size)  # an int: the shorter side; a pair: the output size

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        if not isinstance(self.size, int):
            return self.size
        if height <= width:
            return self.size, max(1, int(self.size * width / height))
        return max(1, int(self.size * height / width)), self.size

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return resize_tensor(x, self.output_size(*x.shape[-2:]))


def resize_tensor(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear, antialiased resize of a ``(B, C, H, W)`` batch to ``size``; integer images are
    rounded and clamped back to their dtype. The one place test-time views resize."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    out = F.interpolate(x if x.is_floating_point() else x.float(), size=size, mode="bilinear",
                        align_corners=False, antialias=True)
    if x.is_floating_point():
        return out
    info = torch.iinfo(x.dtype)
    return out.round_().clamp_(info.min, info.max).to(x.dtype)


def five_crop(size: Size) -> list[CropView]:
    """The four corner crops and the centre crop of ``size`` (torchvision's ``five_crop`` order).

    >>> [v.position for v in five_crop(224)]
    ['top_left', 'top_right', 'bottom_left', 'bottom_right', 'center']
    """
    return [CropView(size, position) for position in _POSITIONS]


def ten_crop(size: Size, vertical_flip: bool = False) -> list[CropView]:
    """:func:`five_crop` of the image, then of its mirror image (top-bottom if ``vertical_flip``,
    else left-right), like torchvision's ``ten_crop``.

    >>> len(ten_crop(224))
    10
    """
    mirrored = [CropView(size, position, hflip=not vertical_flip, vflip=vertical_flip)
                for position in _POSITIONS]
    return five_crop(size) + mirrored


def multi_scale(sizes: Sequence[Size]) -> list[ResizeView]:
    """One :class:`ResizeView` per size (for models that take any input size).

    >>> multi_scale([224, 256])
    [ResizeView(size=224), ResizeView(size=256)]
    """
    return [ResizeView(size) for size in check_sequence(sizes, "sizes")]


# -- determinism ---------------------------------------------------------------------------------

def _same_params(a: Any, b: Any) -> bool:
    if isinstance(a, Params):
        return type(a) is type(b) and all(
            _same_params(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same_params, a, b))
    return a == b


class UndecidedError(ValueError):
    """A transform's parameters could not be drawn for the probe images, so its determinism is
    not known yet."""


def _random_reason(t: Transform, spec: ImageSpec, where: str) -> str | None:
    what = f"{where} ({type(t).__name__})"
    if 0.0 < t.p < 1.0:
        return f"{what} applies with probability p={t.p}; use p=1.0 (or leave it out)"
    for name, child in child_transforms(t):
        reason = _random_reason(child, spec, f"{where}.{name}")
        if reason:
            return reason
    try:
        first = t.sample_params(spec, generator=torch.Generator().manual_seed(1))
        second = t.sample_params(spec, generator=torch.Generator().manual_seed(2))
    except Exception as error:  # noqa: BLE001 - any failure to draw leaves the question open
        raise UndecidedError(f"cannot draw the parameters of {what} for {spec.n} image(s) of "
                             f"size {spec.size}: {error}") from error
    if not _same_params(first, second):
        return f"{what} draws random parameters"
    return None


def check_deterministic(transform: Transform, spec: ImageSpec = _PROBE, name: str = "transform") -> None:
    """Raise ``ValueError`` if ``transform`` is random (see the module docstring), and
    :class:`UndecidedError` if its parameters cannot be drawn for the images ``spec`` describes
    (by default eight 256x256 RGB images). ``name`` names the transform in the message.

    >>> import augkit
    >>> check_deterministic(augkit.HorizontalFlip(p=1.0))
    >>> check_deterministic(augkit.Compose([augkit.HorizontalFlip()]), name="views[1]")
    Traceback (most recent call last):
    ...
    ValueError: test-time views must be deterministic, but views[1].transforms[0] (HorizontalFlip) applies with probability p=0.5; use p=1.0 (or leave it out)
    """
    reason = _random_reason(transform, spec, name)
    if reason:
        raise ValueError(f"test-time views must be deterministic, but {reason}")


def _flatten_views(views: Any, name: str = "views") -> list[Callable[[torch.Tensor], torch.Tensor]]:
    flat: list = []
    for i, view in enumerate(check_sequence(views, name)):
        if isinstance(view, (list, tuple)):
            flat += _flatten_views(view, f"{name}[{i}]")
        elif isinstance(view, (Transform, View)):
            flat.append(view)
        else:
            raise TypeError(f"{name}[{i}] must be an augkit Transform or a tta View (e.g. from "
                            f"five_crop); got {view!r}")
    if not flat:
        raise ValueError(f"{name} must hold at least one view; got {views!r}")
    return flat


# -- prediction ----------------------------------------------------------------------------------

def _forward(model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
             chunk: list[int]) -> torch.Tensor:
    """``model(x)`` in forwards of at most ``chunk[0]`` images, halving ``chunk[0]`` on CUDA
    out-of-memory errors (the smaller size is kept for later forwards of the same call)."""
    outputs, start = [], 0
    while start < len(x):
        try:
            outputs.append(model(x[start:start + chunk[0]]))
            start += chunk[0]
        except torch.OutOfMemoryError:
            if chunk[0] == 1:
                raise
            chunk[0] = (chunk[0] + 1) // 2
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    return torch.cat(outputs)


def _merge(logits: torch.Tensor, merge: str) -> torch.Tensor:
    """Merge ``(V, B, K)`` logits over views into ``(B, K)`` probabilities."""
    z = logits if logits.dtype in (torch.float32, torch.float64) else logits.float()
    if merge == "mean":
        out = z.softmax(-1).mean(0)
    elif merge == "logits":
        out = z.mean(0).softmax(-1)
    elif merge == "max":
        out = z.softmax(-1).amax(0)
        out = out / out.sum(-1, keepdim=True)
    else:
        out = z.log_softmax(-1).mean(0).softmax(-1)
    return out.to(logits.dtype)


class TTA(torch.nn.Module):
    """Wrap a classifier so it predicts the merge of its predictions over ``views``.

    Args:
        model: maps a ``(N, C, H, W)`` batch to logits ``(N, K)``.
        views: deterministic transforms or views (nested lists allowed), e.g.
            ``[Identity(), HorizontalFlip(p=1.0)]`` or ``ten_crop(224)``.
        merge: one of :data:`MERGES`.
        max_batch: the most images per forward (``None``: one forward per output size).

    ``tta(x)`` runs under ``torch.no_grad`` and returns probabilities ``(B, K)``. The model's mode
    is not changed: call ``tta.eval()`` (or ``model.eval()``) first.

    >>> import torch, augkit
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 5))
    >>> tta = TTA(model, views=[augkit.Identity(), augkit.HorizontalFlip(p=1.0)])
    >>> tta(torch.rand(4, 3, 8, 8)).shape
    torch.Size([4, 5])
    """

    def __init__(self, model: Callable[[torch.Tensor], torch.Tensor], views: Sequence[Any] | None = None,
                 merge: str = "mean", max_batch: int | None = None) -> None:
        super().__init__()
        if not callable(model):
            raise TypeError(f"model must be callable (e.g. a torch.nn.Module); got {model!r}")
        if merge not in MERGES:
            raise ValueError(f"merge must be one of {', '.join(map(repr, MERGES))}; got {merge!r}")
        if max_batch is not None:
            check_number(max_batch, "max_batch", low=1, integer=True)
        self.model = model
        self.views = _flatten_views(views if views is not None else [Identity(), HorizontalFlip(p=1.0)])
        self.merge = merge
        self.max_batch = max_batch
        self._unchecked: list[tuple[int, Transform]] = []
        for i, view in enumerate(self.views):
            if isinstance(view, Transform):
                try:
                    check_deterministic(view, name=f"views[{i}]")
                except UndecidedError:  # checked again on the first batch, at its real size
                    self._unchecked.append((i, view))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 4:
            raise TypeError(f"x must be a (B, C, H, W) tensor; got "
                            f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
        if self._unchecked:
            spec = _PROBE._replace(n=len(x), size=tuple(x.shape[-2:]), channels=x.shape[1], dtype=x.dtype)
            for i, view in self._unchecked:
                check_deterministic(view, spec, name=f"views[{i}]")
            self._unchecked = []
        with torch.no_grad():
            groups: dict[tuple[int, ...], list[int]] = {}
            outputs = []
            for k, view in enumerate(self.views):
                out = view(x, generator=torch.Generator().manual_seed(0)) if isinstance(view, Transform) else view(x)
                outputs.append(out)
                groups.setdefault(tuple(out.shape), []).append(k)
            chunk = [self.max_batch or len(self.views) * len(x)]
            logits: list[torch.Tensor | None] = [None] * len(self.views)
            for members in groups.values():
                batch = torch.cat([outputs[k] for k in members]) if len(members) > 1 else outputs[members[0]]
                for k, part in zip(members, _forward(self.model, batch, chunk).split(len(x))):
                    logits[k] = part
            return _merge(torch.stack(logits), self.merge)

    def extra_repr(self) -> str:
        return f"views={self.views!r}, merge={self.merge!r}, max_batch={self.max_batch!r}"


def predict(model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
            views: Sequence[Any] | None = None, merge: str = "mean",
            max_batch: int | None = None) -> torch.Tensor:
    """``TTA(model, views, merge, max_batch)(x)``: probabilities ``(B, K)`` merged over views
    (default: the image and its mirror image).

    >>> import torch
    >>> model = lambda x: x.mean((2, 3))   # "logits" = mean of each channel
    >>> predict(model, torch.zeros(2, 3, 4, 4)).tolist()[0]
    [0.3333333432674408, 0.3333333432674408, 0.3333333432674408]
    """
    return TTA(model, views, merge, max_batch)(x)
