"""Ready-made pipelines for common models.

``eval_transform`` gives the deterministic evaluation preprocessing of a model family:
``ResizedCenterCrop`` (resize the shorter side to ``size / crop_ratio`` and keep the centre
``size`` square, in one pass) then ``Normalize``. It takes tensors (CHW/BCHW, uint8 or float)
and NumPy arrays (HWC) and returns float tensors/arrays; PIL images need ``to_tensor=True``
(a ``ToTensor("uint8")`` first) because Normalize's float output is not a PIL mode.

``EvalPreprocess`` is the same computation as a ``torch.nn.Module`` on BCHW tensors, for
``torch.export`` / ONNX deployment.

The preset table follows the pretrained weights' published settings (timm ``default_cfg``:
``input_size``, ``crop_pct``, ``interpolation``, ``mean``, ``std``):

=================  ====  =====  ========  ========  =================================================
name               size  ratio  interp.   stats     source
=================  ====  =====  ========  ========  =================================================
resnet50           224   0.875  bilinear  ImageNet  timm ``resnet50.tv_in1k``; torchvision
vit-224            224   0.9    bicubic   0.5/0.5   timm ``vit_base_patch16_224.augreg2_in21k_ft_in1k``
inception_v3       299   0.875  bicubic   0.5/0.5   timm ``inception_v3.tf_in1k``
xception           299   0.875  bicubic   0.5/0.5   timm ``xception41.tf_in1k``
clip-vit-l-336     336   1.0    bicubic   CLIP      OpenAI CLIP ``ViT-L/14@336px`` (resize + centre crop)
vit-384            384   1.0    bicubic   0.5/0.5   timm ``vit_base_patch16_384.augreg_in21k_ft_in1k``
convnext-384       384   1.0    bicubic   ImageNet  timm ``convnext_base.fb_in22k_ft_in1k_384``
det-448            448   1.0    bilinear  ImageNet  detection / segmentation style square input
det-512            512   1.0    bilinear  ImageNet  detection / segmentation style square input
efficientnet-b7    600   0.949  bicubic   ImageNet  timm ``tf_efficientnet_b7.ra_in1k``
=================  ====  =====  ========  ========  =================================================

timm resizes ``convnext-384`` and ``clip-vit-l-336`` by squashing (no crop) when ``crop_pct`` is
1.0; augkit keeps the aspect ratio and crops the centre, as OpenAI's CLIP code does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as nnf

from .functional.convert import (CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MEAN,
                                 INCEPTION_STD)
from .transforms.compose import Compose
from .transforms.convert import Normalize, ToTensor
from .transforms.geometry import ResizedCenterCrop, eval_crop_box

__all__ = ["Preset", "PRESETS", "SIZE_PRESETS", "preset", "eval_transform", "EvalPreprocess"]


@dataclass(frozen=True)
class Preset:
    """Evaluation settings of a model family."""

    size: int
    crop_ratio: float
    interpolation: str
    mean: tuple[float, ...]
    std: tuple[float, ...]


_RESNET = Preset(224, 0.875, "bilinear", IMAGENET_MEAN, IMAGENET_STD)
_INCEPTION = Preset(299, 0.875, "bicubic", INCEPTION_MEAN, INCEPTION_STD)
_CLIP_336 = Preset(336, 1.0, "bicubic", CLIP_MEAN, CLIP_STD)
_CONVNEXT_384 = Preset(384, 1.0, "bicubic", IMAGENET_MEAN, IMAGENET_STD)

PRESETS: dict[str, Preset] = {
    "resnet50": _RESNET,
    "vit-224": Preset(224, 0.9, "bicubic", INCEPTION_MEAN, INCEPTION_STD),
    "inception_v3": _INCEPTION,
    "xception": _INCEPTION,
    "clip-vit-l-336": _CLIP_336,
    "vit-384": Preset(384, 1.0, "bicubic", INCEPTION_MEAN, INCEPTION_STD),
    "convnext-384": _CONVNEXT_384,
    "det-448": Preset(448, 1.0, "bilinear", IMAGENET_MEAN, IMAGENET_STD),
    "det-512": Preset(512, 1.0, "bilinear", IMAGENET_MEAN, IMAGENET_STD),
    "efficientnet-b7": Preset(600, 0.949, "bicubic", IMAGENET_MEAN, IMAGENET_STD),
}

# the preset used when only an input size is given
SIZE_PRESETS: dict[int, str] = {224: "resnet50", 299: "inception_v3", 336: "clip-vit-l-336",
                                384: "convnext-384", 448: "det-448", 512: "det-512", 600: "efficientnet-b7"}


def _key(name: str) -> str:
    return name.lower().replace("_", "-")


def preset(model: str | None = None, size: int | None = None) -> Preset:
    """The settings for ``model`` (a name of :data:`PRESETS`, ``_``/``-`` and case ignored) or,
    with no model, for the input ``size``; a ``size`` given with a model overrides its size.

    >>> preset("inception_v3").interpolation
    'bicubic'
    >>> preset(size=600).crop_ratio
    0.949
    """
    if model is None:
        if size not in SIZE_PRESETS:
            raise ValueError(f"size must be one of {sorted(SIZE_PRESETS)} when no model is given; got {size!r}")
        return PRESETS[SIZE_PRESETS[size]]
    names = {_key(k): k for k in PRESETS}
    if not isinstance(model, str) or _key(model) not in names:
        raise ValueError(f"model must be one of {', '.join(PRESETS)}; got {model!r}")
    found = PRESETS[names[_key(model)]]
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be a positive int; got {size!r}")
        found = Preset(size, found.crop_ratio, found.interpolation, found.mean, found.std)
    return found


def eval_transform(model: str | None = None, size: int | None = None, *, to_tensor: bool = False) -> Compose:
    """The deterministic eval pipeline of ``model`` / ``size``: ResizedCenterCrop + Normalize
    (after ``ToTensor("uint8")`` if ``to_tensor``, e.g. for PIL images).

    >>> import torch, augkit
    >>> t = augkit.presets.eval_transform("resnet50")
    >>> t(torch.zeros(3, 375, 500, dtype=torch.uint8)).shape
    torch.Size([3, 224, 224])
    """
    p = preset(model, size)
    steps = [ResizedCenterCrop(p.size, p.crop_ratio, p.interpolation), Normalize(p.mean, p.std)]
    return Compose(([ToTensor("uint8")] if to_tensor else []) + steps)


class EvalPreprocess(torch.nn.Module):
    """Eval preprocessing as a module: BCHW uint8 or float ``[0, 1]`` in, normalized float32 out.

    The same computation as :func:`eval_transform` on tensors (the crop box is fixed by the
    input shape, so an exported program is specialised to the input size it was traced with).

    >>> import torch
    >>> module = EvalPreprocess.from_preset("resnet50")
    >>> module(torch.zeros(2, 3, 375, 500, dtype=torch.uint8)).shape
    torch.Size([2, 3, 224, 224])
    """

    def __init__(self, size: int, crop_ratio: float = 0.875, interpolation: str = "bilinear",
                 mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD) -> None:
        super().__init__()
        if interpolation not in ("nearest", "bilinear", "bicubic"):
            raise ValueError(f"interpolation must be nearest, bilinear or bicubic; got {interpolation!r}")
        ResizedCenterCrop(size, crop_ratio, interpolation)  # validates the arguments
        self.size, self.crop_ratio, self.interpolation = size, float(crop_ratio), interpolation
        channels = max(len(mean), len(std))
        mean_t = torch.tensor(mean, dtype=torch.float32).expand(channels)
        std_t = torch.tensor(std, dtype=torch.float32).expand(channels)
        self.register_buffer("scale", (1.0 / std_t).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("bias", (-mean_t / std_t).view(1, -1, 1, 1), persistent=False)

    @classmethod
    def from_preset(cls, model: str | None = None, size: int | None = None) -> EvalPreprocess:
        p = preset(model, size)
        return cls(p.size, p.crop_ratio, p.interpolation, p.mean, p.std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, left, height, width = eval_crop_box((x.shape[-2], x.shape[-1]), self.size, self.crop_ratio)
        x = x[:, :, top:top + height, left:left + width]
        is_uint8 = x.dtype == torch.uint8
        work = x.to(torch.float32)
        if (height, width) != (self.size, self.size):
            if self.interpolation == "nearest":
                work = nnf.interpolate(work, size=(self.size, self.size), mode="nearest")
            else:
                work = nnf.interpolate(work, size=(self.size, self.size), mode=self.interpolation,
                                       antialias=True, align_corners=False)
        if is_uint8:  # round like the uint8 transform does, then scale to [0, 1]
            work = work.round().clamp(0.0, 255.0) / 255.0
        elif self.interpolation == "bicubic":
            work = work.clamp(0.0, 1.0)
        return work * self.scale + self.bias
