"""Augmentation policies, and timm-style spec strings that name them.

The policy classes live in :mod:`augkit.transforms.policies` and :mod:`augkit.transforms.augmix`
(see there for the op tables and the torchvision semantics); this module re-exports them and adds
:func:`from_spec`.

Spec strings: a policy name, then ``-``-separated options, each a key and a number:

======================  ================================================================================
``rand-m9-n2-mstd0.5``  :class:`RandAugment`: ``m`` magnitude (default 10), ``n`` ops (2), ``mstd``
                        magnitude noise std (0; above 100 means uniform in ``[0, m]``), ``mmax`` upper
                        clip of the noisy magnitude (10), ``p`` probability of each op (0.5, as timm),
                        ``inc`` accepted for timm compatibility (augkit's ops always grow in severity
                        with the magnitude, like timm's ``inc1`` ops), ``b`` magnitude bins (11, so that
                        ``m`` is in tenths of the full range like timm's; ``b31`` is torchvision's scale)
``augmix-m3-w3-d-1``    :class:`AugMix`: ``m`` severity (3), ``w`` width (3), ``d`` depth (-1: 1 to 3),
                        ``a`` alpha (1.0)
``trivial``             :class:`TrivialAugmentWide` (also ``ta_wide``, ``trivialaugmentwide``); ``b`` bins
``autoaug-imagenet``    :class:`AutoAugment` with the ``imagenet`` (also plain ``autoaug`` and timm's
                        ``original``), ``cifar10`` or ``svhn`` policy
======================  ================================================================================

The op set is torchvision's in every case (timm's RandAugment swaps Identity for Invert and
SolarizeAdd, and its non-``inc`` ops weaken some ops as the magnitude grows); timm's ``t`` (op set
weights) and AutoAugment ``v0`` policies are not supported and raise ``ValueError``.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

from .core.transform import Transform
from .transforms.augmix import AugMix
from .transforms.policies import AUTOAUGMENT_POLICIES, AutoAugment, RandAugment, TrivialAugmentWide

__all__ = ["RandAugment", "TrivialAugmentWide", "AutoAugment", "AugMix", "from_spec"]

_SECTION = re.compile(r"([a-z]+)(-?(?:\d+\.?\d*|\.\d+))")


def _integer(value: float) -> int:
    if not value.is_integer():
        raise ValueError(f"expected a whole number; got {value:g}")
    return int(value)


def _number(value: float) -> float:
    return int(value) if value.is_integer() else value


def _noise(value: float) -> float:
    return math.inf if value > 100 else _number(value)


def _flag(value: float) -> int:
    if value not in (0, 1):
        raise ValueError(f"inc must be 0 or 1; got {value:g}")
    return int(value)


# policy -> (class, fixed arguments, {option key: (argument name, converter)})
_OPTIONS: dict[str, tuple[type[Transform], dict[str, Any], dict[str, tuple[str | None, Callable]]]] = {
    "rand": (RandAugment, {"magnitude": 10, "num_magnitude_bins": 11, "op_p": 0.5},
             {"m": ("magnitude", _number), "n": ("num_ops", _integer), "mstd": ("magnitude_std", _noise),
              "mmax": ("magnitude_max", float), "p": ("op_p", float), "inc": (None, _flag),
              "b": ("num_magnitude_bins", _integer)}),
    "augmix": (AugMix, {}, {"m": ("severity", _integer), "w": ("width", _integer), "d": ("depth", _integer),
                            "a": ("alpha", float)}),
    "trivial": (TrivialAugmentWide, {}, {"b": ("num_magnitude_bins", _integer)}),
    **{f"autoaug-{name}": (AutoAugment, {"policy": name}, {}) for name in AUTOAUGMENT_POLICIES},
}
_ALIASES = {"ta_wide": "trivial", "trivialaugmentwide": "trivial", "autoaug": "autoaug-imagenet",
            "original": "autoaug-imagenet"}


def _sections(rest: str) -> list[str]:
    """Split ``"m9-n2-d-1"`` into ``["m9", "n2", "d-1"]`` (a bare number after a bare key is a
    negative value)."""
    sections: list[str] = []
    for part in rest.split("-") if rest else []:
        if sections and re.fullmatch(r"[\d.]+", part) and re.fullmatch(r"[a-z]+", sections[-1]):
            sections[-1] += "-" + part
        else:
            sections.append(part)
    return sections


def from_spec(spec: str, **kwargs: Any) -> Transform:
    """The policy a timm-style spec string names (see the module docstring); ``kwargs`` (e.g.
    ``interpolation``, ``fill``) go to the policy's constructor.

    >>> import augkit
    >>> augkit.policies.from_spec("rand-m9-n2-mstd0.5")
    RandAugment(num_magnitude_bins=11, magnitude_std=0.5, op_p=0.5)
    >>> augkit.policies.from_spec("augmix-m5-w4-d-1")
    AugMix(severity=5, width=4)
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a string such as 'rand-m9-n2'; got {spec!r}")
    text = spec.strip().lower()
    name = next((n for n in sorted(_OPTIONS, key=len, reverse=True) if text == n or text.startswith(n + "-")),
                None)
    if name is None:
        alias = next((a for a in _ALIASES if text == a or text.startswith(a + "-")), None)
        if alias is None:
            raise ValueError(f"unknown policy in spec {spec!r}; expected one of "
                             f"{', '.join([*_OPTIONS, *_ALIASES])}, then -key<value> options")
        name, text = _ALIASES[alias], _ALIASES[alias] + text[len(alias):]
    cls, arguments, options = _OPTIONS[name]
    arguments = dict(arguments)
    for section in _sections(text[len(name) + 1:]):
        match = _SECTION.fullmatch(section)
        if match is None or match.group(1) not in options:
            keys = ", ".join(options) or "none"
            raise ValueError(f"unknown option {section!r} in spec {spec!r}; {name} takes: {keys}")
        argument, convert = options[match.group(1)]
        value = convert(float(match.group(2)))
        if argument is not None:
            arguments[argument] = value
    return cls(**arguments, **kwargs)
