"""The core abstraction: input kinds, the Transform base class, parameters, seeding, configs."""

from .config import from_config, registered_transforms, to_config
from .image import ImageLike, ImageSpec, Kind, check_finite, inspect_image, is_strict, set_strict
from .params import Params
from .random import derive_seed, make_generator
from .transform import Transform

__all__ = [
    "ImageLike", "ImageSpec", "Kind", "Params", "Transform", "check_finite", "derive_seed",
    "from_config", "inspect_image", "is_strict", "make_generator",
    "registered_transforms", "set_strict", "to_config",
]
