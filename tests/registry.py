"""Every public transform, with arguments for the generic contract tests.

Registering a transform here covers it by ``test_contract.py``: all input kinds and dtypes,
kind/dtype/device/shape kept, input not mutated, reproducible with a generator, params replay,
``p=0`` is the identity, batched == per image, bad batches refused, pickle and config round-trip.
Special behaviour belongs in the transform's own test file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import augkit
from augkit.core import Transform

from .helpers import DTYPES, KINDS


@dataclass(frozen=True)
class Case:
    make: Callable[[], Transform]
    id: str
    kinds: tuple[str, ...] = KINDS
    dtypes: tuple[str, ...] = DTYPES
    channels: tuple[int, ...] = (1, 3)
    keeps_kind: bool = True
    keeps_dtype: bool = True
    keeps_size: bool = True
    # largest difference allowed between the tensor and NumPy kernels' outputs, per input dtype
    kernel_atol: dict[str, float] = field(default_factory=dict)


def _flip_lambda():
    return augkit.Lambda("augkit.functional.geometry:hflip")


CASES = [
    Case(lambda: augkit.HorizontalFlip(p=0.5), "HorizontalFlip"),
    Case(lambda: augkit.VerticalFlip(p=0.5), "VerticalFlip"),
    Case(lambda: augkit.Identity(), "Identity"),
    Case(_flip_lambda, "Lambda"),
    Case(lambda: augkit.ToTensor(), "ToTensor", keeps_kind=False, keeps_dtype=False),
    Case(lambda: augkit.ToDtype("uint16"), "ToDtype", kinds=("numpy", "tensor"), keeps_dtype=False),
    Case(lambda: augkit.Normalize(mean=0.5, std=0.25), "Normalize", kinds=("numpy", "tensor"),
         keeps_dtype=False, kernel_atol={"uint8": 1e-5, "uint16": 1e-5, "float32": 1e-5}),
    Case(lambda: augkit.Compose([augkit.VerticalFlip(p=0.5), augkit.HorizontalFlip(p=0.5)], p=0.7),
         "Compose"),
    Case(lambda: augkit.RandomApply([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip()], p=0.5),
         "RandomApply"),
    Case(lambda: augkit.OneOf([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0),
                               augkit.Identity()], weights=[1, 2, 1], p=0.9), "OneOf"),
    Case(lambda: augkit.SomeOf([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=0.5),
                                augkit.Identity()], n=2), "SomeOf"),
]
