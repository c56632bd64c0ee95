"""Mixing inside a DataLoader: a ``collate_fn`` that stacks samples and mixes the batch."""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch.utils.data import default_collate

from ..core.config import Configurable, resolve_function
from .base import Mixer

__all__ = ["MixCollate"]


class MixCollate(Configurable):
    """A DataLoader ``collate_fn`` that mixes each batch in the worker (e.g. on uint8 images).

    Samples are ``(image, label)`` pairs with CHW tensor images; ``collate_fn`` (default
    ``default_collate``) stacks them, then ``mix`` mixes the batch with the worker's RNG (which
    the DataLoader seeds per worker, so a seeded DataLoader is reproducible). ``enabled`` is
    ``mix.enabled``: when false the batch is only stacked and the labels turned into (smoothed)
    soft labels, so the loss sees the same format. Workers hold a copy of this object: a change of
    ``enabled`` reaches them when the DataLoader starts new workers (every epoch unless
    ``persistent_workers=True``).

    ``collate_fn=None`` means ``default_collate``. ``augkit.to_config`` writes the mixer nested
    under the key ``"mixer"``; a ``collate_fn`` of your own is written as ``"module:qualname"``
    and loads only if allowed (``augkit.from_config(config, allowed_callables=[fn])``).

    Example:
        >>> import torch, augkit
        >>> collate = augkit.mixing.MixCollate(augkit.mixing.CutMix(num_classes=4))
        >>> samples = [(torch.full((3, 8, 8), i, dtype=torch.uint8), i) for i in range(4)]
        >>> x, y = collate(samples)
        >>> x.dtype, x.shape, y.shape
        (torch.uint8, torch.Size([4, 3, 8, 8]), torch.Size([4, 4]))
        >>> collate.enabled = False
        >>> torch.equal(collate(samples)[1], torch.eye(4))
        True
    """

    config_key = Mixer.config_key

    def __init__(self, mix: Mixer, *, enabled: bool = True,
                 collate_fn: Callable[[list[Any]], Any] | str | None = None) -> None:
        if not isinstance(mix, Mixer):
            raise TypeError(f"mix must be an augkit.mixing mixer (MixUp, CutMix, RandomMix); got {mix!r}")
        if collate_fn is not None:
            collate_fn = resolve_function(collate_fn, "collate_fn")
        self.mix = mix
        self.collate_fn = None if collate_fn is default_collate else collate_fn
        self.enabled = enabled

    @property
    def enabled(self) -> bool:
        return self.mix.enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"enabled must be a bool; got {value!r}")
        self.mix.enabled = value

    def __call__(self, samples: list[Any]) -> tuple[torch.Tensor, torch.Tensor]:
        if len(samples) == 0:
            raise ValueError("cannot collate an empty list of samples")
        collated = (self.collate_fn or default_collate)(samples)
        if not isinstance(collated, (list, tuple)) or len(collated) != 2:
            raise ValueError("samples must be (image, label) pairs; collate_fn returned "
                             f"{type(collated).__name__} of length {len(collated) if hasattr(collated, '__len__') else '?'}")
        images, labels = collated
        return self.mix(images, torch.as_tensor(labels))

    def __repr__(self) -> str:
        fn = "" if self.collate_fn is None else f", collate_fn={self.collate_fn!r}"
        return f"MixCollate({self.mix!r}, enabled={self.enabled}{fn})"
