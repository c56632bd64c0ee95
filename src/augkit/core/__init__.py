"""The core abstraction: input kinds, the Transform base class, parameters, seeding, configs."""

from .config import from_config, registered_transforms, to_config
from .dispatch import dispatch, numpy_kernel
from .image import ImageLike, ImageSpec, Kind, check_finite, inspect_image, is_strict, set_strict
from .params import Params
from .random import derive_seed, make_generator
from .transform import Transform

__all__ = [
    "ImageLike", "ImageSpec", "Kind", "Params", "Transform", "check_finite", "derive_seed",
    "dispatch", "from_config", "inspect_image", "is_strict", "make_generator", "numpy_kernel",
    "registered_transforms", "set_strict", "to_config",
]
