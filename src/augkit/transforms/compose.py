"""Composition: Compose, RandomApply, OneOf, SomeOf, Identity and Lambda.

Containers draw their children's parameters up front (children that change the image size
report it through ``output_size``, so later children draw for the right size) and keep them as
``ComposeParams.children``: a container call is replayed exactly like a single transform's.
Choices made per image (``OneOf``, ``SomeOf``) are folded into the children's ``applied`` masks,
so on a batch every child runs once, on the images that chose it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from ..core.config import resolve_function
from ..core.executor import whole_batch
from ..core.image import ImageLike, ImageSpec, inspect_image
from ..core.params import Params
from ..core.transform import Transform
from ..core.validation import check_number, check_sequence
from ..targets.sample import Sample

__all__ = ["Compose", "RandomApply", "OneOf", "SomeOf", "Identity", "Lambda"]


@dataclass(frozen=True, kw_only=True)
class ComposeParams(Params):
    """The parameters of each child, in order."""

    children: tuple[Params, ...]


def _check_transforms(transforms: Any, name: str = "transforms") -> list[Transform]:
    items = check_sequence(transforms, name)
    for i, t in enumerate(items):
        if not isinstance(t, Transform):
            raise TypeError(
                f"{name}[{i}] must be an augkit Transform; got {t!r} (wrap plain functions in augkit.Lambda)"
            )
    return list(items)


def _both(a: torch.Tensor | None, b: torch.Tensor) -> torch.Tensor:
    return b if a is None else a & b


class Compose(Transform):
    """Apply ``transforms`` one after another (all of them, with probability ``p`` per image).

    >>> import torch, augkit
    >>> t = augkit.Compose([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0)])
    >>> t(torch.tensor([[[1, 2], [3, 4]]], dtype=torch.uint8)).tolist()
    [[[4, 3], [2, 1]]]
    """

    reads_values = False  # the children check their inputs

    params_type = ComposeParams

    def __init__(self, transforms: Sequence[Transform], p: float = 1.0) -> None:
        super().__init__(p)
        self.transforms = _check_transforms(transforms)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        children = []
        for t in self.transforms:
            params = t._sample(spec, generator)
            children.append(params)
            spec = spec._replace(size=t.output_size(spec.size, params))
        return {"children": tuple(children)}

    def output_size(self, size: tuple[int, int], params: ComposeParams) -> tuple[int, int]:
        for t, child in zip(self.transforms, params.children):
            size = t.output_size(size, child)
        return size

    def _apply_all(self, image: ImageLike, spec: ImageSpec, params: ComposeParams) -> ImageLike:
        for t, child in zip(self.transforms, params.children):
            image = t.apply(image, child)
        return image

    def _apply_sample(self, sample: Sample, spec: ImageSpec, params: ComposeParams) -> Sample:
        # the container's own draw (p, or the choices of SomeOf/OneOf, already in the children)
        # narrows each child's, so each child moves the image and its targets together
        for t, child in zip(self.transforms, params.children):
            if params.applied is not None:
                child = dataclasses.replace(child, applied=_both(child.applied, params.applied))
            child_spec = inspect_image(sample.image)
            sample = t._apply_sample(sample, child_spec, child)
        return sample

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, index: int) -> Transform:
        return self.transforms[index]


class RandomApply(Compose):
    """Apply all of ``transforms`` in order with probability ``p`` per image, or none of them.

    >>> import augkit
    >>> augkit.RandomApply([augkit.HorizontalFlip(p=1.0)], p=0.3).p
    0.3
    """

    def __init__(self, transforms: Sequence[Transform], p: float = 0.5) -> None:
        super().__init__(transforms, p)


class SomeOf(Compose):
    """Apply ``n`` of ``transforms`` chosen per image without replacement, in the listed order.

    >>> import torch, augkit
    >>> t = augkit.SomeOf([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0)], n=1)
    >>> t(torch.rand(4, 3, 8, 8)).shape
    torch.Size([4, 3, 8, 8])
    """

    def __init__(self, transforms: Sequence[Transform], n: int = 1, p: float = 1.0) -> None:
        super().__init__(transforms, p)
        self.n = check_number(n, "n", low=0, high=len(self.transforms), integer=True)

    def _choose(self, spec: ImageSpec, generator: torch.Generator | None) -> torch.Tensor:
        """A bool ``(images, transforms)`` mask: which transforms each image gets."""
        keys = torch.rand(spec.n, len(self.transforms), generator=generator, device=spec.device)
        chosen = torch.zeros_like(keys, dtype=torch.bool)
        return chosen.scatter_(1, keys.topk(self.n, dim=1).indices, True)

    def _draw(self, spec: ImageSpec, generator: torch.Generator | None) -> dict[str, Any]:
        chosen = self._choose(spec, generator)
        children = (t._sample(spec, generator) for t in self.transforms)
        return {"children": tuple(
            dataclasses.replace(params, applied=_both(params.applied, chosen[:, k]))
            for k, params in enumerate(children)
        )}

    def output_size(self, size: tuple[int, int], params: ComposeParams) -> tuple[int, int]:
        sizes = [size]
        for t, child in zip(self.transforms, params.children):
            if t.output_size(size, child) != size:
                sizes.append(t.output_size(size, child) if bool(child.applied.all()) else None)
        if len(sizes) > 2 or None in sizes:
            raise ValueError(
                f"{type(self).__name__} children change the image size differently per image; "
                f"apply it to single images, or make the sizes agree"
            )
        return sizes[-1]


class OneOf(SomeOf):
    """Apply exactly one of ``transforms`` per image, chosen with probabilities proportional to
    ``weights`` (uniform by default); with probability ``1 - p`` apply none.

    >>> import augkit
    >>> augkit.OneOf([augkit.HorizontalFlip(p=1.0), augkit.Identity()], weights=[3, 1]).weights
    (3.0, 1.0)
    """

    def __init__(self, transforms: Sequence[Transform], weights: Sequence[float] | None = None,
                 p: float = 1.0) -> None:
        if not check_sequence(transforms, "transforms"):
            raise ValueError("transforms must hold at least one transform to choose from; got []")
        super().__init__(transforms, n=1, p=p)
        if weights is not None:
            weights = check_sequence(weights, "weights", len(self.transforms))
            weights = tuple(float(check_number(w, f"weights[{i}]", low=0.0)) for i, w in enumerate(weights))
            if not sum(weights) > 0:
                raise ValueError(f"weights must not all be 0; got {weights!r}")
        self.weights = weights

    def _choose(self, spec: ImageSpec, generator: torch.Generator | None) -> torch.Tensor:
        k = len(self.transforms)
        weights = torch.ones(k) if self.weights is None else torch.tensor(self.weights)
        weights = weights.to(spec.device).expand(spec.n, k)
        index = torch.multinomial(weights, 1, generator=generator)
        return torch.zeros(spec.n, k, dtype=torch.bool, device=spec.device).scatter_(1, index, True)


class Identity(Transform):
    """Return the input unchanged (a placeholder, e.g. in ``OneOf`` or test-time views).

    >>> import augkit
    >>> augkit.Identity()
    Identity()
    """

    reads_values = False  # returns the image as it is

    def __init__(self) -> None:
        super().__init__()

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return x

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return x


@whole_batch  # fn sees the whole batch
class Lambda(Transform):
    """Apply a deterministic function ``fn(image) -> image`` (with probability ``p`` per image).

    ``fn`` gets a PIL image, an HW/HWC array, or a BCHW tensor (a CHW tensor arrives as a batch of
    one) and must return the same kind without modifying its input. A module-level function is written to configs as ``"module:name"``.
    ``fn`` sees only the image: a sample's targets pass through untouched, so it must not move pixels.

    >>> import augkit
    >>> augkit.Lambda("operator:neg")
    Lambda(fn=<built-in function neg>)
    """

    reads_values = False  # the function is the user's

    def __init__(self, fn: Callable[[ImageLike], ImageLike] | str, p: float = 1.0) -> None:
        super().__init__(p)
        self.fn = resolve_function(fn, "fn")

    def _apply_all(self, image: ImageLike, spec: ImageSpec, params: Params) -> ImageLike:
        return self.fn(image)
