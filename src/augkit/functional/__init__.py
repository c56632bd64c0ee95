"""Pure kernels: ``F.op(image, ...)`` takes any input kind; ``op_tensor`` and ``op_numpy`` are the
kernels it routes to. No randomness here: every argument is explicit.

>>> import numpy as np, augkit.functional as F
>>> F.hflip(np.array([[1, 2, 3]], np.uint8)).tolist()
[[3, 2, 1]]
"""

from .adaptive_histogram import *  # noqa: F403
from .adaptive_histogram import __all__ as _adaptive_histogram_all
from .blur import *  # noqa: F403
from .blur import __all__ as _blur_all
from .color import *  # noqa: F403
from .color import __all__ as _color_all
from .colorspace import *  # noqa: F403
from .colorspace import __all__ as _colorspace_all
from .convert import *  # noqa: F403
from .convert import __all__ as _convert_all
from .denoise import *  # noqa: F403
from .denoise import __all__ as _denoise_all
from .geometry import *  # noqa: F403
from .geometry import __all__ as _geometry_all
from .jitter import *  # noqa: F403
from .jitter import __all__ as _jitter_all
from .median import *  # noqa: F403
from .median import __all__ as _median_all
from .noise import *  # noqa: F403
from .noise import __all__ as _noise_all
from .occlusion import *  # noqa: F403
from .occlusion import __all__ as _occlusion_all
from .points import *  # noqa: F403
from .points import __all__ as _points_all
from .thresholding import *  # noqa: F403
from .thresholding import __all__ as _thresholding_all
from .tone import *  # noqa: F403
from .tone import __all__ as _tone_all
from .warp import *  # noqa: F403
from .warp import __all__ as _warp_all

__all__ = [
    *_adaptive_histogram_all,
    *_blur_all,
    *_color_all,
    *_colorspace_all,
    *_convert_all,
    *_denoise_all,
    *_geometry_all,
    *_jitter_all,
    *_median_all,
    *_noise_all,
    *_occlusion_all,
    *_points_all,
    *_thresholding_all,
    *_tone_all,
    *_warp_all,
]
