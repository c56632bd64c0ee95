"""Transform classes: they draw parameters and call the kernels of :mod:`augkit.functional`."""

from .color import *  # noqa: F403
from .color import __all__ as _color_all
from .compose import *  # noqa: F403
from .compose import __all__ as _compose_all
from .convert import *  # noqa: F403
from .convert import __all__ as _convert_all
from .geometry import *  # noqa: F403
from .geometry import __all__ as _geometry_all
from .policies import AugMix, AutoAugment, RandAugment, TrivialAugmentWide

__all__ = [*_color_all, *_compose_all, *_convert_all, *_geometry_all, "AugMix", "AutoAugment", "RandAugment",
           "TrivialAugmentWide"]
