"""augkit: composable, fast, reproducible image augmentation and preprocessing for PyTorch.

Transforms take PIL images, NumPy arrays (HW/HWC) and tensors (CHW/BCHW, any device) and return
the kind they were given; on batches every image draws its own parameters from an explicit
``torch.Generator``.

>>> import torch, augkit
>>> t = augkit.Compose([augkit.HorizontalFlip(p=0.5), augkit.Normalize()])
>>> t(torch.rand(4, 3, 32, 32), generator=torch.Generator().manual_seed(0)).shape
torch.Size([4, 3, 32, 32])
"""

from . import (
    data,
    functional,
    io,
    losses,
    mixing,
    policies,
    presets,
    targets,
    tta,
    viz,
)
from .core import (
    ImageSpec,
    Params,
    Transform,
    derive_seed,
    from_config,
    inspect_image,
    make_generator,
    registered_transforms,
    set_strict,
    to_config,
)
from .transforms import *  # noqa: F403
from .transforms import __all__ as _transforms_all

__version__ = "0.1.0"

__all__ = [
    *_transforms_all,
    "ImageSpec",
    "Params",
    "Transform",
    "__version__",
    "data",
    "derive_seed",
    "from_config",
    "functional",
    "inspect_image",
    "io",
    "losses",
    "make_generator",
    "mixing",
    "policies",
    "presets",
    "registered_transforms",
    "set_strict",
    "to_config",
    "tta",
    "viz",
]
