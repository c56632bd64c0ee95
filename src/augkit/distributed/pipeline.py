"""The deterministic (eval) pipeline that preprocessing stores.

Preprocessing runs a pipeline once and keeps its output, so the pipeline must give the same
result every time: :func:`check_deterministic` refuses transforms that draw anything random.
The stored images stay uint8: :func:`split_pipeline` moves the dtype conversions and
normalization at the end of the pipeline (``Normalize``, ``ToDtype``, ``ToTensor``) into a
*deferred* part, recorded in the manifest and applied when the shards are read back.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np
import torch

from ..core.config import from_config, init_arguments
from ..core.image import inspect_image
from ..core.params import Params
from ..core.transform import Transform
from ..presets import eval_transform
from ..transforms.compose import Compose
from ..transforms.convert import Normalize, ToDtype, ToTensor

__all__ = ["resolve_transform", "check_deterministic", "split_pipeline"]

DEFERRABLE = (Normalize, ToDtype, ToTensor)
# A noise image of an unremarkable size: the probe for random draws and the output dtype.
_PROBE_SIZE = (197, 263)


def resolve_transform(*, preset: str | None = None,
                      transform: Transform | dict[str, Any] | str | os.PathLike | None = None) -> Transform:
    """The eval pipeline named by ``preset`` (``augkit.presets.eval_transform(model=preset)``) or
    given as ``transform``: a Transform, a config dict, or the path of a JSON config file.

    >>> resolve_transform(transform={"transform": "HorizontalFlip", "p": 1.0})
    HorizontalFlip(p=1.0)
    """
    if (preset is None) == (transform is None):
        raise ValueError("give exactly one of preset (a model name) and transform (a config); "
                         f"got preset={preset!r}, transform={transform!r}")
    if preset is not None:
        return eval_transform(model=preset)
    if isinstance(transform, Transform):
        return transform
    if isinstance(transform, dict):
        return from_config(transform)
    if isinstance(transform, (str, os.PathLike)):
        try:
            with open(transform, encoding="utf-8") as file:
                config = json.load(file)
        except FileNotFoundError:
            raise FileNotFoundError(f"transform config file not found: {os.fspath(transform)}") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"transform config {os.fspath(transform)} is not valid JSON: {error}") from None
        return from_config(config)
    raise TypeError(f"transform must be an augkit Transform, a config dict or a JSON file path; "
                    f"got {transform!r}")


def _walk(transform: Transform):
    """``transform`` and every transform nested in its arguments (Compose children, ...)."""
    yield transform
    for value in init_arguments(transform).values():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, Transform):
                yield from _walk(item)


def _same_params(a: Any, b: Any) -> bool:
    if isinstance(a, Params) and type(a) is type(b):
        return all(_same_params(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same_params(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _probe() -> np.ndarray:
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (*_PROBE_SIZE, 3), dtype=torch.uint8, generator=generator).numpy()


def check_deterministic(transform: Transform) -> None:
    """Raise ``ValueError`` if ``transform`` is random: a probability ``0 < p < 1`` anywhere in
    it, or parameters that differ between two generators.

    >>> import augkit
    >>> check_deterministic(augkit.HorizontalFlip(p=1.0))
    >>> check_deterministic(augkit.HorizontalFlip(p=0.3))
    Traceback (most recent call last):
      ...
    ValueError: preprocessing needs a deterministic pipeline, but HorizontalFlip(p=0.3) applies with probability p=0.3; use p=1 (or 0), and apply random augmentation at training time
    """
    for part in _walk(transform):
        if 0.0 < part.p < 1.0:
            raise ValueError(
                f"preprocessing needs a deterministic pipeline, but {part!r} applies with "
                f"probability p={part.p}; use p=1 (or 0), and apply random augmentation at training time"
            )
    spec = inspect_image(_probe())
    first = transform.sample_params(spec, generator=torch.Generator().manual_seed(1))
    second = transform.sample_params(spec, generator=torch.Generator().manual_seed(2))
    if not _same_params(first, second):
        raise ValueError(
            f"preprocessing needs a deterministic pipeline, but {type(transform).__name__} draws "
            f"random parameters (two generators gave different ones); use its eval/centre "
            f"variant, and apply random augmentation at training time:\n{transform!r}"
        )


def split_pipeline(transform: Transform) -> tuple[Transform, Transform | None]:
    """``(stored, deferred)``: the part run before storing, which must keep uint8 images, and
    the trailing dtype conversions and normalization (or ``None``), applied when reading back.

    >>> import augkit
    >>> split_pipeline(augkit.Compose([augkit.HorizontalFlip(p=1.0), augkit.Normalize()]))
    (Compose(transforms=[
        HorizontalFlip(p=1.0),
    ]), Compose(transforms=[
        Normalize(),
    ]))
    """
    steps = list(transform.transforms) if type(transform) is Compose else [transform]
    cut = len(steps)
    while cut > 0 and isinstance(steps[cut - 1], DEFERRABLE):
        cut -= 1
    stored = Compose(steps[:cut])
    deferred = Compose(steps[cut:]) if cut < len(steps) else None
    out = stored(_probe())
    if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.ndim != 3:
        got = f"{out.dtype} {type(out).__name__}" if hasattr(out, "dtype") else type(out).__name__
        raise ValueError(
            f"the stored part of the pipeline must turn HWC uint8 arrays into HWC uint8 arrays, "
            f"but it returns {got} (shape {tuple(getattr(out, 'shape', ()))}); put dtype "
            f"conversions and Normalize at the end of the pipeline, where they are deferred to "
            f"reading time:\n{stored!r}"
        )
    return stored, deferred
