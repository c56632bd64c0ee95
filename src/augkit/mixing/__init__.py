"""Batch mixing: MixUp, CutMix, a random switch between them, a collate, and Mosaic.

Mixers act on ``(images, labels)`` batches on any device and return mixed images and float32
soft labels for :func:`augkit.losses.soft_target_cross_entropy`. Lambdas, the permutation and the
boxes are drawn as tensors on the images' device (from a ``torch.Generator`` or torch's global
RNG): no ``.item()``, no NumPy, no branch on data, so a training step stays asynchronous.
``torch.compile(mixer, fullgraph=True)`` compiles when the global RNG is used (Dynamo cannot trace
an explicit ``torch.Generator``); with a generator, draw eagerly with ``sample_params`` and compile
``apply``.

Mixers also take a batch's targets (boxes with their labels, instance masks, semantic masks,
keypoints) in the transforms' sample convention; :class:`Mosaic` puts four images of a batch in
one canvas with their targets (:mod:`augkit.mixing.targets`).

>>> import torch, augkit
>>> mix = augkit.mixing.RandomMix(num_classes=10, mixup_alpha=0.2, cutmix_alpha=1.0, p_mixup=0.4, p_cutmix=0.4)
>>> x, y = mix(torch.rand(8, 3, 32, 32), torch.randint(0, 10, (8,)), generator=torch.Generator().manual_seed(0))
>>> augkit.losses.soft_target_cross_entropy(torch.randn(8, 10), y).shape
torch.Size([])
"""

from .base import MixParams, Mixer, from_config
from .beta import sample_beta, sample_dirichlet
from .collate import MixCollate
from .cutmix import CutMix, draw_boxes
from .kernels import box_mask, mix_images
from .labels import mix_labels, soft_labels
from .mixup import MixUp
from .mosaic import Mosaic, MosaicParams
from .switch import RandomMix

__all__ = [
    "CutMix", "MixCollate", "MixParams", "MixUp", "Mixer", "Mosaic", "MosaicParams", "RandomMix", "box_mask", "draw_boxes",
    "from_config", "mix_images", "mix_labels", "sample_beta", "sample_dirichlet", "soft_labels",
]
