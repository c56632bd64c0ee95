"""Ready-made pipelines: evaluation presets for common models, and training recipes.

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

``train_transform`` gives a training :class:`Recipe` (train pipeline, batch mixing settings and
the matching eval pipeline) for a data scale and an image domain; ``named_presets`` lists every
combination as ``train-<scale>-<domain>``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as nnf

from .functional.convert import (CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MEAN,
                                 INCEPTION_STD)
from .core.transform import Transform
from .mixing.switch import RandomMix
from .transforms.color import ColorJitter
from .transforms.compose import Compose, Identity, OneOf
from .transforms.convert import Normalize, ToTensor
from .transforms.enhance import CLAHE, GaussianBlur, MedianBlur
from .transforms.geometry import (HorizontalFlip, RandomResizedCrop, Resize, ResizedCenterCrop, VerticalFlip,
                                  eval_crop_box)
from .transforms.warp import RandomAffine, RandomRotation
from .transforms.policies import RAND_AUGMENT_SPACE, AutoAugment, RandAugment, TrivialAugmentWide

__all__ = ["Preset", "PRESETS", "SIZE_PRESETS", "preset", "eval_transform", "named_presets", "EvalPreprocess",
           "Recipe", "train_transform", "DATA_SCALES", "DOMAINS", "medical"]


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


def named_presets() -> dict[str, tuple[str, Callable[[], Transform]]]:
    """Every named preset: ``name -> (one-line description, factory)`` (used by ``augkit list``
    and ``augkit preview --preset``): the eval presets of :data:`PRESETS` under their model names,
    and the train pipelines of :func:`train_transform` (224 pixels) as ``train-<scale>-<domain>``.

    >>> description, make = named_presets()["resnet50"]
    >>> description
    'eval 224x224: crop 0.875 of the shorter side, bilinear, ImageNet mean/std'
    >>> named_presets()["train-small-natural"][0]
    'train 224px: crop, flips, TrivialAugmentWide, jitter; MixUp 0.2 often'
    """
    stats = {IMAGENET_MEAN: "ImageNet", CLIP_MEAN: "CLIP", INCEPTION_MEAN: "Inception (0.5)"}
    presets: dict[str, tuple[str, Callable[[], Transform]]] = {
        name: (f"eval {p.size}x{p.size}: crop {p.crop_ratio} of the shorter side, {p.interpolation}, "
               f"{stats.get(p.mean, 'custom')} mean/std", functools.partial(eval_transform, name))
        for name, p in PRESETS.items()
    }
    presets["medical-224"] = ("X-ray preprocessing: 3x3 median, CLAHE 2.0 on 8x8 tiles, resize to 224x224; "
                              "uint16 kept", functools.partial(medical, 224))
    for scale in DATA_SCALES:
        for domain in DOMAINS:
            recipe = train_transform(224, scale, domain)
            presets[f"train-{scale}-{domain}"] = (recipe.description, functools.partial(_train_only, scale, domain))
    return presets


def _train_only(data_scale: str, domain: str) -> Transform:
    return train_transform(224, data_scale, domain).train


# -- training recipes ------------------------------------------------------------------------------

DATA_SCALES = ("small", "medium", "large")
DOMAINS = ("natural", "medical", "document", "aerial", "product")

# ops that keep the hue of every pixel (product / fashion photos: the colour is the label)
_HUE_KEEPING_OPS = [op for op, _ in RAND_AUGMENT_SPACE if op not in ("Solarize", "Equalize", "AutoContrast")]


@dataclass(frozen=True)
class Recipe:
    """A training recipe: the ``train`` pipeline (uint8 or float tensors/arrays in, normalized
    float out), the batch ``mixing`` settings (keyword arguments of
    :class:`~augkit.mixing.RandomMix`, or None for no mixing), the matching deterministic
    ``eval`` pipeline, and a one-line ``description``."""

    train: Compose
    eval: Compose
    mixing: dict[str, float] | None
    description: str

    def mixer(self, num_classes: int | None = None, **kwargs) -> RandomMix | None:
        """The :class:`~augkit.mixing.RandomMix` of ``mixing`` (None when the recipe mixes
        nothing); ``kwargs`` (e.g. ``label_smoothing``) go to its constructor."""
        return None if self.mixing is None else RandomMix(num_classes=num_classes, **self.mixing, **kwargs)


def _rotations_90() -> OneOf:
    """A quarter turn of 0, 1, 2 or 3 per image (exact on square images: nearest, no fill)."""
    return OneOf([Identity(), *(RandomRotation((a, a)) for a in (90.0, 180.0, 270.0))])


def _policy(data_scale: str, ops: list[str] | None = None) -> Transform:
    if data_scale == "small":
        return TrivialAugmentWide(ops=ops)
    if data_scale == "medium" or ops is not None:
        return RandAugment(num_ops=2, magnitude=9, ops=ops)
    return AutoAugment("imagenet")


_MIXING = {  # RandomMix settings per data scale
    "small": {"mixup_alpha": 0.2, "cutmix_alpha": 1.0, "p_mixup": 0.6, "p_cutmix": 0.1},
    "medium": {"mixup_alpha": 0.2, "cutmix_alpha": 1.0, "p_mixup": 0.5, "p_cutmix": 0.5},
    "large": {"mixup_alpha": 0.8, "cutmix_alpha": 1.0, "p_mixup": 0.5, "p_cutmix": 0.5},
}
_POLICY_NAMES = {"small": "TrivialAugmentWide", "medium": "RandAugment(2, 9)", "large": "AutoAugment(imagenet)"}


def train_transform(size: int = 224, data_scale: str = "medium", domain: str = "natural", *,
                    flips: bool | None = None, to_tensor: bool = False) -> Recipe:
    """The usual training augmentation for ``data_scale`` and ``domain``, as a :class:`Recipe`.

    Data scale (how many labelled images per class, roughly: small < 1k, medium 1k-10k,
    large > 10k, or ImageNet-size datasets) sets the strength; smaller data needs stronger
    regularisation:

    * ``small``: strong geometry (``RandomResizedCrop`` with scale 0.08-1) and colour
      (``ColorJitter(0.4, 0.4, 0.4)`` with p=0.8) plus ``TrivialAugmentWide``; MixUp with alpha
      0.2 often (p=0.6), CutMix rarely (p=0.1).
    * ``medium``: ``RandomResizedCrop`` (0.08-1) and ``RandAugment(num_ops=2, magnitude=9)``
      (31 bins: the paper's ImageNet setting, in the N=2-3, M=7-12 range that works for
      mid-size data); MixUp (alpha 0.2) or CutMix (alpha 1.0), p=0.5 each.
    * ``large``: ``RandomResizedCrop`` (0.08-1) and ``AutoAugment("imagenet")``; MixUp (alpha
      0.8) or CutMix (alpha 1.0), p=0.5 each (DeiT's setting).

    Domain rules, applied on top:

    * ``natural``: horizontal flips (p=0.5). ``flips`` overrides every domain's flip default
      (except for documents).
    * ``medical``: left and right carry meaning (organ sides, laterality markers), so no flips
      unless ``flips=True``; intensity changes stay mild (brightness/contrast +-0.1, no colour
      policy), geometry is gentle (crop scale 0.7-1, rotation +-10 degrees, translate 5%,
      scale 0.9-1.1); MixUp only (alpha 0.2, the scale's MixUp probability): CutMix can cut out
      the finding that defines the label.
    * ``document`` (scans, OCR): never flipped (mirrored text is not text; ``flips`` is refused);
      the whole page is resized to ``size x size`` rather than cropped (crops cut words), rotated
      little (+-3 degrees, white fill), with brightness/contrast +-0.2 and no policy; no mixing
      (blending two pages makes neither readable).
    * ``aerial`` (satellite, drone): no canonical orientation, so horizontal and vertical flips and
      quarter turns (each of 0/90/180/270 degrees with p=1/4, after the square crop) on top of
      the scale's policy.
    * ``product`` (product and fashion photos): the colour is often the label, so hue is kept: no
      hue jitter, and the policy is ``RandAugment`` (``TrivialAugmentWide`` for small data) without
      Solarize, Equalize and AutoContrast (they shift colours); horizontal flips.

    The eval pipeline is the deterministic counterpart: ``ResizedCenterCrop(size, 0.875)`` (a
    plain ``Resize((size, size))`` for documents) then ``Normalize`` with ImageNet statistics,
    like the train pipeline's last step. With ``to_tensor`` both pipelines start with
    ``ToTensor("uint8")`` (for PIL images).

    >>> import torch, augkit
    >>> recipe = augkit.presets.train_transform(64, "small", "natural")
    >>> recipe.train(torch.randint(0, 256, (4, 3, 80, 96), dtype=torch.uint8)).shape
    torch.Size([4, 3, 64, 64])
    >>> recipe.mixing
    {'mixup_alpha': 0.2, 'cutmix_alpha': 1.0, 'p_mixup': 0.6, 'p_cutmix': 0.1}
    >>> recipe.eval(torch.zeros(3, 80, 96, dtype=torch.uint8)).shape
    torch.Size([3, 64, 64])
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive int; got {size!r}")
    if data_scale not in DATA_SCALES:
        raise ValueError(f"data_scale must be one of {', '.join(DATA_SCALES)}; got {data_scale!r}")
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {', '.join(DOMAINS)}; got {domain!r}")
    if flips is not None and not isinstance(flips, bool):
        raise TypeError(f"flips must be True, False or None (the domain's default); got {flips!r}")
    if domain == "document" and flips:
        raise ValueError("flips=True is refused for documents: mirrored text is not text")
    mixing: dict[str, float] | None = dict(_MIXING[data_scale])
    evaluate: list[Transform] = [ResizedCenterCrop(size, 0.875)]
    if domain == "medical":
        steps: list[Transform] = [
            RandomResizedCrop(size, scale=(0.7, 1.0), ratio=(0.9, 1.1)),
            RandomAffine(10, translate=(0.05, 0.05), scale=(0.9, 1.1), interpolation="bilinear"),
            ColorJitter(brightness=0.1, contrast=0.1, p=0.8),
        ]
        mixing = {"mixup_alpha": 0.2, "cutmix_alpha": 1.0, "p_mixup": mixing["p_mixup"], "p_cutmix": 0.0}
        summary = "gentle crop/affine, brightness/contrast 0.1, no flips; MixUp 0.2"
    elif domain == "document":
        steps = [Resize((size, size)),
                 RandomAffine(3, translate=(0.02, 0.02), scale=(0.95, 1.05), interpolation="bilinear", fill=1.0),
                 ColorJitter(brightness=0.2, contrast=0.2, p=0.8)]
        evaluate, mixing = [Resize((size, size))], None
        summary = "resize, rotate <= 3 deg, brightness/contrast 0.2, no flips; no mixing"
    else:
        steps = [RandomResizedCrop(size, scale=(0.08, 1.0))]
        if domain == "aerial":
            steps.append(_rotations_90())
        policy = _policy(data_scale, _HUE_KEEPING_OPS if domain == "product" else None)
        if data_scale == "small":
            steps.append(ColorJitter(0.4, 0.4, 0.4, p=0.8))
        steps.append(policy)
        name = type(policy).__name__ if domain == "product" else _POLICY_NAMES[data_scale]
        extras = {"aerial": "flips, 90-deg turns", "product": "flips, hue kept"}.get(domain, "flips")
        extras = extras if flips is not False else extras.replace("flips", "no flips")
        summary = f"crop, {extras}, {name}{', jitter' if data_scale == 'small' else ''}"
        summary += {"small": "; MixUp 0.2 often", "medium": "; MixUp/CutMix 0.5/0.5",
                    "large": "; CutMix/MixUp 0.5/0.5"}[data_scale]
    if domain in ("natural", "aerial", "product") if flips is None else flips:
        steps[1:1] = [HorizontalFlip(), VerticalFlip()] if domain == "aerial" else [HorizontalFlip()]
    head = [ToTensor("uint8")] if to_tensor else []
    normalize = Normalize(IMAGENET_MEAN, IMAGENET_STD)
    return Recipe(train=Compose(head + steps + [normalize]), eval=Compose(head + evaluate + [normalize]),
                  mixing=mixing, description=f"train {size}px: {summary}")


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


def medical(size: int = 224, *, denoise: str | None = "median", clip_limit: float = 2.0,
            tile_grid_size: int | Sequence[int] = (8, 8), interpolation: str = "area") -> Compose:
    """Preprocessing for X-rays and other single-channel scans: denoise, CLAHE, resize.

    Works end to end on 16-bit images without truncating them to 8 bits: read the scan with
    ``augkit.io.read_image(path, mode="L")`` (16-bit PNG/TIFF stay uint16), and the pipeline
    returns ``size x size`` in the input's dtype. The steps:

    * ``denoise``: ``"median"`` (3x3 median, removes salt-and-pepper detector noise and keeps
      edges), ``"gaussian"`` (3x3 Gaussian, sigma 0.8) or ``None``;
    * CLAHE with ``clip_limit`` and ``tile_grid_size`` (OpenCV's defaults for X-rays: 2.0, 8x8),
      on the full bit depth;
    * resize of the whole scan to ``size x size`` (``area`` by default: X-rays are downscaled
      a lot, and a crop would cut anatomy off at the borders).

    Normalize for the model afterwards, e.g. ``augkit.Normalize(mean=0.5, std=0.25)``.

    >>> import numpy as np, augkit
    >>> scan = (np.arange(512 * 512, dtype=np.uint32).reshape(512, 512) % 60000).astype(np.uint16)
    >>> out = augkit.presets.medical(224)(scan)
    >>> out.shape, out.dtype
    ((224, 224), dtype('uint16'))
    """
    steps: list[Transform] = []
    if denoise == "median":
        steps.append(MedianBlur(3))
    elif denoise == "gaussian":
        steps.append(GaussianBlur(3, sigma=(0.8, 0.8)))
    elif denoise is not None:
        raise ValueError(f"denoise must be 'median', 'gaussian' or None; got {denoise!r}")
    steps.append(CLAHE(clip_limit=clip_limit, tile_grid_size=tile_grid_size))
    steps.append(Resize((size, size), interpolation=interpolation))
    return Compose(steps)
