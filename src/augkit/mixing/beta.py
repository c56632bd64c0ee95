"""Beta draws from an explicit ``torch.Generator``, on any device, without host synchronisation.

``torch.distributions.Beta`` cannot take a generator, so augkit draws ``Beta(a, b)`` as
``G_a / (G_a + G_b)`` with gamma variables from the Marsaglia-Tsang method. Its rejection loop is
unrolled into a fixed number of vectorised rounds (the first accepted candidate is picked with
``argmax``), so there is no data-dependent branching and ``torch.compile(fullgraph=True)`` traces
it. A round is accepted with probability above 0.95, so all ``ROUNDS`` rounds fail with
probability below ``0.05 ** 16 < 1e-20`` per draw: the draws follow the Beta law exactly for any
practical purpose. Shapes below 1 use ``Gamma(a) = Gamma(a + 1) * U ** (1 / a)``, and the ratio
is taken in log space (``sigmoid(log G_a - log G_b)``) so tiny shapes neither underflow nor
return NaN.
"""

from __future__ import annotations

import math

import torch

__all__ = ["sample_beta", "sample_dirichlet"]

ROUNDS = 16


def _gamma_draws(shape: float, n: int, generator: torch.Generator | None, device: torch.device,
                 dtype: torch.dtype) -> list[torch.Tensor]:
    """The random numbers of ``n`` gamma variables of ``shape``: normal and uniform ``(n, ROUNDS)``
    candidates, and for shapes below 1 the uniforms in ``(0, 1]`` of the boost."""
    draws = [torch.randn(n, ROUNDS, generator=generator, device=device, dtype=dtype),
             torch.rand(n, ROUNDS, generator=generator, device=device, dtype=dtype)]
    if shape < 1.0:
        draws.append(1.0 - torch.rand(n, generator=generator, device=device, dtype=dtype))
    return draws


def _log_gamma(shape: float, draws: list[torch.Tensor]) -> torch.Tensor:
    """``log`` of the gamma variables of ``shape`` that ``draws`` (from ``_gamma_draws``, or several
    of them stacked, elementwise the same) give."""
    z, u = draws[0], draws[1]
    boosted = shape if shape >= 1.0 else shape + 1.0
    d = boosted - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    v = (1.0 + c * z) ** 3
    positive = v > 0
    log_v = torch.log(torch.where(positive, v, 1.0))
    accepted = positive & (torch.log(u) < 0.5 * z * z + d - d * v + d * log_v)
    first = accepted.to(torch.int32).argmax(dim=1, keepdim=True)
    log_g = math.log(d) + log_v.gather(1, first).squeeze(1)
    if shape < 1.0:
        log_g = log_g + torch.log(draws[2]) / shape
    return log_g


def _log_gamma_variates(shape: float, n: int, generator: torch.Generator | None,
                        device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``log`` of ``n`` draws from ``Gamma(shape, 1)``."""
    return _log_gamma(shape, _gamma_draws(shape, n, generator, device, dtype))


def sample_beta(a: float, b: float, n: int, *, generator: torch.Generator | None = None,
                device: torch.device | str | None = None,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``n`` draws from ``Beta(a, b)`` made with ``generator`` on its device.

    ``a`` and ``b`` are positive Python numbers (they are settings, not data). Without a
    generator, torch's global RNG is used on ``device`` (CPU by default). In float32 (the default),
    draws within ``6e-8`` of 1 round to exactly 1; pass ``dtype=torch.float64`` for more resolution.

    >>> import torch
    >>> x = sample_beta(0.4, 0.4, 5, generator=torch.Generator().manual_seed(0))
    >>> x.dtype, x.shape, bool(((x >= 0) & (x <= 1)).all())
    (torch.float32, torch.Size([5]), True)
    """
    if generator is not None:
        device = generator.device
    device = torch.device("cpu") if device is None else torch.device(device)
    a, b = float(a), float(b)
    draws_a, draws_b = _gamma_draws(a, n, generator, device, dtype), _gamma_draws(b, n, generator, device, dtype)
    if a == b:  # the usual Beta(alpha, alpha): both variables in one pass of the same operations
        log_a, log_b = _log_gamma(a, [torch.cat(pair) for pair in zip(draws_a, draws_b)]).split(n)
    else:
        log_a, log_b = _log_gamma(a, draws_a), _log_gamma(b, draws_b)
    return torch.sigmoid(log_a - log_b)


def sample_dirichlet(alpha: float, k: int, n: int, *, generator: torch.Generator | None = None,
                     device: torch.device | str | None = None,
                     dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``n`` draws of shape ``(n, k)`` from the symmetric ``Dirichlet(alpha, ..., alpha)``, made
    like :func:`sample_beta` (normalised gamma variables, in log space).

    >>> import torch
    >>> w = sample_dirichlet(1.0, 3, 4, generator=torch.Generator().manual_seed(0))
    >>> w.shape, bool(torch.allclose(w.sum(1), torch.ones(4)))
    (torch.Size([4, 3]), True)
    """
    if generator is not None:
        device = generator.device
    device = torch.device("cpu") if device is None else torch.device(device)
    return torch.softmax(_log_gamma_variates(float(alpha), n * k, generator, device, dtype).view(n, k), dim=1)
