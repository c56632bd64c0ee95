"""Transform classes: they draw parameters and call the kernels of :mod:`augkit.functional`."""

from .color import *  # noqa: F403
from .color import __all__ as _color_all
from .compose import *  # noqa: F403
from .compose import __all__ as _compose_all
from .convert import *  # noqa: F403
from .convert import __all__ as _convert_all
from .enhance import *  # noqa: F403
from .enhance import __all__ as _enhance_all
from .geometry import *  # noqa: F403
from .geometry import __all__ as _geometry_all
from .noise import *  # noqa: F403
from .noise import __all__ as _noise_all
from .occlusion import *  # noqa: F403
from .occlusion import __all__ as _occlusion_all
from .sanitize import SanitizeBoxes
from .warp import *  # noqa: F403
from .warp import __all__ as _warp_all
from .augmix import AugMix
from .policies import AutoAugment, RandAugment, TrivialAugmentWide

__all__ = [
    *_color_all,
    *_compose_all,
    *_convert_all,
    *_enhance_all,
    *_geometry_all,
    *_noise_all,
    *_occlusion_all,
    *_warp_all,
    "AugMix",
    "AutoAugment",
    "RandAugment",
    "SanitizeBoxes",
    "TrivialAugmentWide",
]
