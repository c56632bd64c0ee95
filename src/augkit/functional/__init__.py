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
from .geometry import *  # noqa: F403
from .geometry import __all__ as _geometry_all

__all__ = [*_color_all, *_colorspace_all, *_convert_all, *_geometry_all]
