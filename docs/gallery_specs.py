"""What the docs gallery shows for each registered transform: a factory building the transform
with arguments whose effect is easy to see, and the sample photo to show it on.

``docs/make_gallery.py`` renders one PNG per entry (the docs build puts them into the site); a
test checks every registered transform has an entry.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

import augkit
from augkit.data import sample_image


class Spec(NamedTuple):
    make: Callable[[], augkit.Transform]
    photo: str = "astronaut"
    prepare: Callable[[np.ndarray], np.ndarray] | None = None  # makes the effect visible

    def image(self) -> np.ndarray:
        photo = sample_image(self.photo)
        return photo if self.prepare is None else self.prepare(photo)


def low_contrast(photo: np.ndarray) -> np.ndarray:
    """``photo`` squeezed into grey levels 70-170, for the transforms that stretch contrast."""
    return (photo.astype(np.float32) * (100 / 255) + 70).round().astype(np.uint8)


GALLERY: dict[str, Spec] = {
    "HorizontalFlip": Spec(lambda: augkit.HorizontalFlip(p=0.5)),
    "VerticalFlip": Spec(lambda: augkit.VerticalFlip(p=0.5)),
    "Identity": Spec(lambda: augkit.Identity()),
    "SanitizeBoxes": Spec(lambda: augkit.SanitizeBoxes()),  # images pass through; it filters boxes
    "Lambda": Spec(lambda: augkit.Lambda("augkit.functional.geometry:vflip", p=0.5)),
    "ToTensor": Spec(lambda: augkit.ToTensor("uint8")),
    "ToDtype": Spec(lambda: augkit.ToDtype("float32")),
    "Normalize": Spec(lambda: augkit.Normalize()),
    "Compose": Spec(lambda: augkit.Compose([augkit.HorizontalFlip(), augkit.VerticalFlip()])),
    "RandomApply": Spec(lambda: augkit.RandomApply([augkit.VerticalFlip(p=1.0)], p=0.5)),
    "OneOf": Spec(lambda: augkit.OneOf([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0)])),
    "SomeOf": Spec(lambda: augkit.SomeOf([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0)], n=1)),
    "Resize": Spec(lambda: augkit.Resize(128)),
    "CenterCrop": Spec(lambda: augkit.CenterCrop(320)),
    "RandomCrop": Spec(lambda: augkit.RandomCrop(384, padding=32)),
    "Pad": Spec(lambda: augkit.Pad(48, padding_mode="reflect")),
    "ResizedCenterCrop": Spec(lambda: augkit.ResizedCenterCrop(224)),
    "RandomResizedCrop": Spec(lambda: augkit.RandomResizedCrop(224)),
    "RandomRotation": Spec(lambda: augkit.RandomRotation(30, interpolation="bilinear")),
    "RandomAffine": Spec(lambda: augkit.RandomAffine(15, translate=(0.1, 0.1), scale=(0.8, 1.2), shear=10)),
    "RandomPerspective": Spec(lambda: augkit.RandomPerspective(0.5, p=1.0)),
    "RandomZoomOut": Spec(lambda: augkit.RandomZoomOut(fill=0.5, side_range=(1.0, 2.0), p=1.0)),
    "ColorJitter": Spec(lambda: augkit.ColorJitter(0.4, 0.4, 0.4, 0.1)),
    "Brightness": Spec(lambda: augkit.Brightness(0.5)),
    "Contrast": Spec(lambda: augkit.Contrast(0.6)),
    "Saturation": Spec(lambda: augkit.Saturation((0.0, 2.0)), "coffee"),
    "Hue": Spec(lambda: augkit.Hue(0.3), "coffee"),
    "Sharpness": Spec(lambda: augkit.Sharpness((0.0, 4.0)), "chelsea"),
    "RandomGrayscale": Spec(lambda: augkit.RandomGrayscale(p=0.5)),
    "Grayscale": Spec(lambda: augkit.Grayscale(channels=3)),
    "ConvertColor": Spec(lambda: augkit.ConvertColor("rgb2hsv"), "coffee"),
    "SelectChannels": Spec(lambda: augkit.SelectChannels([2, 1, 0])),
    "Posterize": Spec(lambda: augkit.Posterize(bits=2, p=1.0)),
    "Solarize": Spec(lambda: augkit.Solarize(0.5, p=1.0)),
    "Equalize": Spec(lambda: augkit.Equalize(p=1.0), "rocket", low_contrast),
    "AutoContrast": Spec(lambda: augkit.AutoContrast(p=1.0), "rocket", low_contrast),
    "Invert": Spec(lambda: augkit.Invert(p=1.0)),
    "ChannelShuffle": Spec(lambda: augkit.ChannelShuffle(p=1.0), "coffee"),
    "GaussianBlur": Spec(lambda: augkit.GaussianBlur(9, sigma=(2.0, 3.0))),
    "MedianBlur": Spec(lambda: augkit.MedianBlur(7)),
    "BilateralFilter": Spec(lambda: augkit.BilateralFilter(9, sigma_color=0.3, sigma_space=9.0)),
    "NonLocalMeans": Spec(lambda: augkit.NonLocalMeans(h=0.06)),
    "CLAHE": Spec(lambda: augkit.CLAHE(clip_limit=4.0), "camera"),
    "Threshold": Spec(lambda: augkit.Threshold("adaptive_gaussian", block_size=15, c=0.02), "camera"),
    "UnsharpMask": Spec(lambda: augkit.UnsharpMask(sigma=2.0, amount=2.0)),
    "GaussianNoise": Spec(lambda: augkit.GaussianNoise(std=(0.05, 0.1))),
    "JPEGCompression": Spec(lambda: augkit.JPEGCompression(quality=(5, 10))),
    "RandomErasing": Spec(lambda: augkit.RandomErasing(p=1.0, value="random")),
    "RandAugment": Spec(lambda: augkit.RandAugment(num_ops=2, magnitude=9)),
    "TrivialAugmentWide": Spec(lambda: augkit.TrivialAugmentWide()),
    "AutoAugment": Spec(lambda: augkit.AutoAugment("imagenet"), "chelsea"),
    "AugMix": Spec(lambda: augkit.AugMix(severity=3, width=3), "coffee"),
}
