"""Seeding and random draws.

Every draw in augkit goes through a ``torch.Generator`` passed by the caller, or torch's global
RNG when none is: no Python ``random``, no ``np.random``. Draws are made on the generator's device
(the input's device when no generator is given), so they stay asynchronous on GPUs.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

__all__ = ["derive_seed", "make_generator", "uniform", "unit_draws", "bernoulli", "coin", "draw_device"]

_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def derive_seed(seed: int, *keys: int) -> int:
    """A well-mixed 63-bit seed from ``seed`` and integer keys (e.g. epoch and sample index).

    >>> derive_seed(0, 1, 2) == derive_seed(0, 1, 2) != derive_seed(0, 2, 1)
    True
    """
    state = _splitmix64(int(seed) & _MASK64)
    for key in keys:
        state = _splitmix64(state ^ (int(key) & _MASK64))
    return state >> 1


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed``."""
    return torch.Generator(device=device).manual_seed(int(seed))


def draw_device(generator: torch.Generator | None, device: torch.device) -> torch.device:
    """Where draws happen: the generator's device, else ``device``."""
    return generator.device if generator is not None else device


def uniform(n: int, low: float, high: float, *, generator: torch.Generator | None,
            device: torch.device) -> torch.Tensor:
    """``n`` float32 draws from ``U[low, high)``."""
    return torch.rand(n, generator=generator, device=device) * (high - low) + low


def unit_draws(n: int, *shape: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """``(n, *shape)`` float64 draws from ``U[0, 1)``: one row per image.

    >>> unit_draws(2, 3, generator=torch.Generator().manual_seed(0), device=torch.device("cpu")).shape
    torch.Size([2, 3])
    """
    return torch.rand(n, *shape, generator=generator, device=device, dtype=torch.float64)


_CPU = torch.device("cpu")
_ONE_IMAGE = (torch.zeros(1, dtype=torch.bool), torch.ones(1, dtype=torch.bool))  # shared: params are read-only
_scratch = threading.local()  # per thread: one float32 draw buffer and its NumPy view


def _one_draw(generator: torch.Generator | None) -> np.float32:
    """One ``U[0, 1)`` float32 draw on the CPU: the value ``torch.rand(1, generator=generator)``
    gives, into a reused buffer (half the cost of a new tensor), read through NumPy (cheaper
    than ``.item()``)."""
    try:
        buffer, value = _scratch.buffer
    except AttributeError:
        buffer = torch.empty(1)
        buffer, value = _scratch.buffer = buffer, buffer.numpy()
    buffer.uniform_(generator=generator)
    return value[0]


_FLOAT32: dict[float, float] = {}  # probabilities seen, rounded to float32


def _as_float32(p: float) -> float:
    try:
        return _FLOAT32[p]
    except KeyError:
        if len(_FLOAT32) > 4096:
            _FLOAT32.clear()
        rounded = _FLOAT32[p] = float(np.float32(p))
        return rounded


def coin(p: float, generator: torch.Generator | None) -> bool:
    """One CPU draw that is True with probability ``p``: ``bernoulli(1, p, ...)`` as a bool."""
    return bool(_one_draw(generator) < _as_float32(p))  # in float32, as bernoulli compares


def bernoulli(n: int, p: float, *, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """``n`` bool draws that are True with probability ``p`` (``U[0, 1) < p``, in float32).

    >>> bernoulli(3, 0.5, generator=torch.Generator().manual_seed(0), device=torch.device("cpu")).tolist()
    [True, False, True]
    """
    if n == 1 and device == _CPU:  # one image on the CPU, the fixed cost of every per-image pipeline
        return _ONE_IMAGE[int(coin(p, generator))]
    u = torch.rand(n, generator=generator, device=device)
    if device != _CPU:
        return u < p
    return torch.from_numpy(u.numpy() < p)  # the same float32 comparison, a few times cheaper per call
