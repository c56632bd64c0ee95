"""The peer libraries, imported if installed (each row is skipped when its library is missing)."""

from __future__ import annotations

import functools
import importlib
import warnings
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Peers:
    torchvision: Any = None      # (transforms.v2, transforms.v2.functional)
    albumentations: Any = None
    kornia: Any = None
    timm: Any = None

    def versions(self) -> dict[str, str]:
        found = {"torchvision": self.torchvision and self.torchvision[0], "albumentations": self.albumentations,
                 "kornia": self.kornia, "timm": self.timm}
        out = {}
        for name, module in found.items():
            if module is not None:
                root = importlib.import_module(name)
                out[name] = getattr(root, "__version__", "?")
        return out


def _try(name: str) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except ImportError:
        return None


@functools.lru_cache(maxsize=1)
def peers() -> Peers:
    v2, tvF = _try("torchvision.transforms.v2"), _try("torchvision.transforms.v2.functional")
    return Peers(torchvision=(v2, tvF) if v2 else None, albumentations=_try("albumentations"),
                 kornia=_try("kornia"), timm=_try("timm"))
