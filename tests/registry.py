"""Every public transform, with arguments for the generic contract tests.

Registering a transform here covers it by ``test_contract.py``: all input kinds and dtypes,
kind/dtype/device/shape kept, input not mutated, reproducible with a generator, params replay,
``p=0`` is the identity, batched == per image, bad batches refused, pickle and config round-trip.
Special behaviour belongs in the transform's own test file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


import augkit
from augkit.core import Transform
from augkit.transforms.policies import RAND_AUGMENT_SPACE

from .helpers import DTYPES, KINDS


@dataclass(frozen=True)
class Case:
    make: Callable[[], Transform]
    id: str
    kinds: tuple[str, ...] = KINDS
    dtypes: tuple[str, ...] = DTYPES
    channels: tuple[int, ...] = (1, 3)
    keeps_kind: bool = True
    keeps_dtype: bool = True
    keeps_size: bool = True
    # largest difference allowed between the tensor and NumPy kernels' outputs, per input dtype
    kernel_atol: dict[str, float] = field(default_factory=dict)
    # largest difference allowed between a batch and its images one by one (resampling a batch
    # in one pass rounds differently from resampling each image), per input dtype
    batch_atol: dict[str, float] = field(default_factory=dict)
    # functions its config names, which from_config loads only when allowed
    allowed_callables: tuple[str, ...] = ()
    # its function sees only the image, so targets pass through untouched (documented)
    passes_targets: bool = False


def _flip_lambda():
    return augkit.Lambda("augkit.functional.geometry:hflip")


# OpenCV's fixed-point resampling (uint8) and 1/32-pixel warp positions vs torch's
_RESAMPLE_ATOL = {"uint8": 1, "uint16": 257, "float32": 1 / 255}
_WARP_ATOL = {"uint8": 1, "uint16": 257, "float32": 1 / 255}


CASES = [
    Case(lambda: augkit.HorizontalFlip(p=0.5), "HorizontalFlip"),
    Case(lambda: augkit.VerticalFlip(p=0.5), "VerticalFlip"),
    Case(lambda: augkit.Identity(), "Identity"),
    Case(lambda: augkit.SanitizeBoxes(), "SanitizeBoxes"),  # images pass through; tests/test_targets.py
    Case(_flip_lambda, "Lambda", allowed_callables=("augkit.functional.geometry:hflip",), passes_targets=True),
    Case(lambda: augkit.ToTensor(), "ToTensor", keeps_kind=False, keeps_dtype=False),
    Case(lambda: augkit.ToDtype("uint16"), "ToDtype", kinds=("numpy", "tensor"), keeps_dtype=False),
    Case(lambda: augkit.Normalize(mean=0.5, std=0.25), "Normalize", kinds=("numpy", "tensor"),
         keeps_dtype=False, kernel_atol={"uint8": 1e-5, "uint16": 1e-5, "float32": 1e-5}),
    Case(lambda: augkit.Compose([augkit.VerticalFlip(p=0.5), augkit.HorizontalFlip(p=0.5)], p=0.7),
         "Compose"),
    Case(lambda: augkit.RandomApply([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip()], p=0.5),
         "RandomApply"),
    Case(lambda: augkit.OneOf([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0),
                               augkit.Identity()], weights=[1, 2, 1], p=0.9), "OneOf"),
    Case(lambda: augkit.SomeOf([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=0.5),
                                augkit.Identity()], n=2), "SomeOf"),
    Case(lambda: augkit.Resize(16), "Resize", keeps_size=False, kernel_atol=_RESAMPLE_ATOL),
    Case(lambda: augkit.Resize((30, 20), interpolation="bicubic"), "Resize[bicubic-up]", keeps_size=False,
         kernel_atol=_RESAMPLE_ATOL),
    Case(lambda: augkit.Resize(12, interpolation="area"), "Resize[area]", keeps_size=False,
         kernel_atol=_RESAMPLE_ATOL),
    Case(lambda: augkit.CenterCrop((16, 20)), "CenterCrop", keeps_size=False),
    Case(lambda: augkit.RandomCrop(20, padding=2, padding_mode="reflect"), "RandomCrop", keeps_size=False),
    Case(lambda: augkit.Pad((1, 2, 3, 4), fill=0.5), "Pad", keeps_size=False),
    Case(lambda: augkit.ResizedCenterCrop(16), "ResizedCenterCrop", keeps_size=False,
         kernel_atol=_RESAMPLE_ATOL),
    Case(lambda: augkit.RandomResizedCrop((16, 20)), "RandomResizedCrop", keeps_size=False,
         kernel_atol=_RESAMPLE_ATOL, batch_atol={"uint8": 1, "uint16": 1, "float32": 1e-5}),
    Case(lambda: augkit.RandomRotation(30, interpolation="bilinear", fill=0.5), "RandomRotation",
         kernel_atol=_WARP_ATOL),
    Case(lambda: augkit.RandomRotation(20, expand=True), "RandomRotation[expand]", keeps_size=False,
         kernel_atol=_WARP_ATOL),
    Case(lambda: augkit.RandomAffine(15, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=10),
         "RandomAffine", kernel_atol=_WARP_ATOL),
    Case(lambda: augkit.RandomPerspective(0.4, p=0.7), "RandomPerspective", kernel_atol=_WARP_ATOL),
    Case(lambda: augkit.RandomZoomOut(fill=(0.2, 0.4, 0.6), side_range=(1.0, 2.0), p=0.6),
         "RandomZoomOut", channels=(3,), kernel_atol=_WARP_ATOL),
    Case(lambda: augkit.ColorJitter(0.4, 0.4, 0.4, 0.1, p=0.8), "ColorJitter", channels=(3,),
         kernel_atol={"uint8": 1, "uint16": 257, "float32": 1e-5}),
    Case(lambda: augkit.ColorJitter(0.5, 0.5, p=0.8, same_on_batch=True), "ColorJitter[gray]",
         kernel_atol={"uint8": 1, "uint16": 1, "float32": 1e-5}),
    Case(lambda: augkit.Brightness(0.5, p=0.7), "Brightness", kernel_atol={"uint16": 1, "float32": 1e-6}),
    Case(lambda: augkit.Contrast(0.5, p=0.7), "Contrast", kernel_atol={"uint16": 1, "float32": 1e-6}),
    Case(lambda: augkit.Saturation(0.5, p=0.7), "Saturation", channels=(3,),
         kernel_atol={"uint8": 1, "uint16": 257, "float32": 1e-5}),
    Case(lambda: augkit.Hue(0.2, p=0.7), "Hue", channels=(3,),
         kernel_atol={"uint8": 1, "uint16": 20, "float32": 1e-5}),
    Case(lambda: augkit.Sharpness((0.0, 2.0), p=0.7), "Sharpness",
         kernel_atol={"uint8": 1, "uint16": 1, "float32": 1e-5}),
    Case(lambda: augkit.RandomGrayscale(p=0.5), "RandomGrayscale", channels=(3,),
         kernel_atol={"uint8": 1, "uint16": 1, "float32": 1e-5}),
    Case(lambda: augkit.Grayscale(channels=3), "Grayscale", channels=(3,),
         kernel_atol={"uint8": 1, "uint16": 1, "float32": 1e-5}),
    Case(lambda: augkit.ConvertColor("rgb2lab"), "ConvertColor", dtypes=("uint8", "float32"), channels=(3,),
         kernel_atol={"uint8": 1, "float32": 2e-3}),
    Case(lambda: augkit.SelectChannels([2, 1, 0]), "SelectChannels", channels=(3,)),
    Case(lambda: augkit.Posterize(bits=3), "Posterize"),
    Case(lambda: augkit.Solarize(0.6), "Solarize"),
    Case(lambda: augkit.Equalize(), "Equalize", dtypes=("uint8", "float32")),
    Case(lambda: augkit.AutoContrast(), "AutoContrast", kernel_atol={"uint16": 1, "float32": 1e-6}),
    Case(lambda: augkit.Invert(), "Invert"),
    Case(lambda: augkit.ChannelShuffle(p=0.8), "ChannelShuffle", channels=(3,)),
    Case(lambda: augkit.GaussianBlur(5, sigma=(0.5, 2.0), p=0.7), "GaussianBlur",
         kernel_atol={"uint8": 1, "uint16": 1, "float32": 1e-5}),
    Case(lambda: augkit.MedianBlur(5, p=0.7), "MedianBlur"),
    Case(lambda: augkit.MedianBlur(7), "MedianBlur[7]"),
    Case(lambda: augkit.BilateralFilter(5, sigma_color=0.2, sigma_space=3.0, p=0.7), "BilateralFilter",
         kernel_atol={"uint8": 1, "uint16": 2, "float32": 1e-5}),
    Case(lambda: augkit.NonLocalMeans(h=0.04, p=0.7), "NonLocalMeans", dtypes=("uint8",)),
    Case(lambda: augkit.CLAHE(clip_limit=(1.0, 4.0), tile_grid_size=(4, 4), colour="per_channel", p=0.7), "CLAHE",
         kernel_atol={"float32": 1e-6}),
    Case(lambda: augkit.CLAHE(clip_limit=(1.0, 4.0), tile_grid_size=(4, 4), p=0.7), "CLAHE[lab]", channels=(3,),
         kernel_atol={"float32": 1e-6}),
    Case(lambda: augkit.Threshold("otsu", p=0.7), "Threshold"),
    Case(lambda: augkit.Threshold("adaptive_mean", block_size=7, c=0.01), "Threshold[adaptive_mean]"),
    Case(lambda: augkit.Threshold("adaptive_gaussian", block_size=5, c=-0.01, max_value=0.8),
         "Threshold[adaptive_gaussian]"),
    Case(lambda: augkit.Threshold("fixed", threshold=0.4), "Threshold[fixed]"),
    Case(lambda: augkit.UnsharpMask(sigma=(0.5, 1.5), amount=(0.5, 2.0), threshold=0.01, p=0.7), "UnsharpMask",
         kernel_atol={"uint8": 1, "uint16": 1, "float32": 1e-5}),
    Case(lambda: augkit.GaussianNoise(std=(0.01, 0.1), p=0.7), "GaussianNoise"),
    Case(lambda: augkit.GaussianNoise(mean=0.05, std=0.05, per_channel=False, clip=False), "GaussianNoise[shared]"),
    Case(lambda: augkit.JPEGCompression(quality=(30, 90), p=0.7), "JPEGCompression", kernel_atol={"float32": 1e-6}),
    Case(lambda: augkit.RandomErasing(p=0.7), "RandomErasing"),
    Case(lambda: augkit.RandomErasing(p=1.0, scale=(0.1, 0.5), value="random"), "RandomErasing[random]"),
    Case(lambda: augkit.RandomErasing(p=1.0, value=(0.2, 0.5, 0.9)), "RandomErasing[per_channel]", channels=(3,)),
    # Policies: an image gives the same pixels alone and in a batch (the same tensor kernel
    # calls). Arrays take the array kernels: affine_numpy (cv2.warpAffine, samples on a
    # 1/32-pixel grid) differs from affine_tensor (grid_sample) by up to _WARP_ATOL, and a
    # posterize or solarize threshold after a warp turns that into a jump, so those cases leave
    # the thresholds out or run them alone (AutoAugment chains them: only the shape and dtype are
    # checked for arrays here; tests/test_policies.py bounds the share of pixels that differ).
    Case(lambda: augkit.RandAugment(num_ops=3, magnitude=12, interpolation="bilinear", fill=0.5, p=0.9,
                                    ops=[op for op, _ in RAND_AUGMENT_SPACE if op not in ("Posterize", "Solarize")]),
         "RandAugment", kernel_atol=_WARP_ATOL),
    Case(lambda: augkit.RandAugment(magnitude=5, magnitude_std=2.0, op_p=0.5,
                                    ops=["Posterize", "Solarize", "Brightness", "Identity"]),
         "RandAugment[noise]"),
    Case(lambda: augkit.TrivialAugmentWide(interpolation="bilinear"), "TrivialAugmentWide",
         kernel_atol=_WARP_ATOL),
    Case(lambda: augkit.AutoAugment("svhn", interpolation="bilinear", p=0.8), "AutoAugment",
         kernel_atol=_WARP_ATOL),
    Case(lambda: augkit.AugMix(severity=4, width=2, depth=-1), "AugMix", kernel_atol=_WARP_ATOL),
]
