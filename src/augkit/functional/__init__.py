"""Pure kernels: ``F.op(image, ...)`` takes any input kind; ``op_tensor`` and ``op_numpy`` are the
kernels it routes to. No randomness here: every argument is explicit.

>>> import numpy as np, augkit.functional as F
>>> F.hflip(np.array([[1, 2, 3]], np.uint8)).tolist()
[[3, 2, 1]]
"""

from .color import *  # noqa: F403
from .color import __all__ as _color_all
from .colorspace import *  # noqa: F403
from .colorspace import __all__ as _colorspace_all
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

__all__ = [
    *_color_all,
    *_colorspace_all,
    *_convert_all,
    *_enhance_all,
    *_geometry_all,
    *_noise_all,
    *_occlusion_all,
]
