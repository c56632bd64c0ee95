"""What the docs gallery shows for each registered transform: a factory building the transform
with arguments whose effect is easy to see, and the sample photo to show it on (with targets drawn
on it, for the transforms that act on targets).

``docs/make_gallery.py`` renders one PNG per entry of ``GALLERY`` and of ``FIGURES`` (figures of
other pages, such as the detection recipe of docs/targets.md); the docs build puts them into the
site. A test checks every registered transform has a ``GALLERY`` entry.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import cv2
import numpy as np
import torch

import augkit
from augkit.data import sample_image
from augkit.targets import Keypoints, Mask


class Spec(NamedTuple):
    make: Callable[[], augkit.Transform]
    photo: str = "astronaut"
    prepare: Callable[[np.ndarray], np.ndarray] | None = None  # makes the effect visible
    targets: Callable[[], dict[str, Any]] | None = None  # boxes, masks, keypoints of the photo
    class_names: tuple[str, ...] | None = None  # of the targets' labels

    def image(self) -> np.ndarray:
        photo = sample_image(self.photo)
        return photo if self.prepare is None else self.prepare(photo)

    def sample(self) -> np.ndarray | dict[str, Any]:
        """The photo, or the sample dict of the photo and its targets."""
        return self.image() if self.targets is None else {"image": self.image(), **self.targets()}


def low_contrast(photo: np.ndarray) -> np.ndarray:
    """``photo`` squeezed into grey levels 70-170, for the transforms that stretch contrast."""
    return (photo.astype(np.float32) * (100 / 255) + 70).round().astype(np.uint8)


def astronaut_targets() -> dict[str, Any]:
    """Hand-placed targets of the astronaut photo: boxes around the face, the badge, the rocket and
    the helmet; a mask of the face (1) and the helmet (2); the nose and eyes."""
    mask = np.zeros((512, 512), np.uint8)
    cv2.ellipse(mask, (227, 105), (60, 82), 0, 0, 360, 1, -1)
    cv2.circle(mask, (392, 445), 112, 2, -1)
    return {
        "boxes": torch.tensor([[155.0, 15.0, 300.0, 190.0], [133.0, 345.0, 210.0, 425.0],
                               [355.0, 0.0, 470.0, 275.0], [278.0, 335.0, 505.0, 512.0]]),
        "labels": torch.tensor([0, 1, 2, 3]),
        "mask": Mask(mask),
        "keypoints": Keypoints(torch.tensor([[[227.0, 128.0], [248.0, 108.0], [207.0, 108.0]]] + [[[0.0, 0.0]] * 3] * 3),
                               visibility=torch.tensor([[2.0, 2.0, 2.0]] + [[0.0] * 3] * 3),
                               names=["nose", "left_eye", "right_eye"]),
        "skeleton": [(1, 0), (0, 2)],
    }


def sanitize_targets() -> dict[str, Any]:
    """Boxes for SanitizeBoxes: the face; a box too small to keep; one that runs off the right edge."""
    return {"boxes": torch.tensor([[155.0, 15.0, 300.0, 190.0], [300.0, 300.0, 312.0, 306.0], [440.0, 200.0, 560.0, 300.0]]),
            "labels": torch.tensor([0, 1, 2])}


GALLERY: dict[str, Spec] = {
    "HorizontalFlip": Spec(lambda: augkit.HorizontalFlip(p=0.5)),
    "VerticalFlip": Spec(lambda: augkit.VerticalFlip(p=0.5)),
    "Identity": Spec(lambda: augkit.Identity()),
    "SanitizeBoxes": Spec(lambda: augkit.SanitizeBoxes(min_size=20), targets=sanitize_targets,
                          class_names=("face", "speck", "edge")),
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

# figures of other pages: name -> the transform and its sample (rendered as gallery/<name>.png)
FIGURES: dict[str, Spec] = {
    "targets-detection": Spec(lambda: augkit.Compose([
        augkit.RandomResizedCrop(384, scale=(0.35, 1.0)),
        augkit.HorizontalFlip(),
        augkit.RandomRotation(15),
        augkit.ColorJitter(0.3, 0.3, 0.3),
        augkit.SanitizeBoxes(min_visibility=0.3),
    ]), targets=astronaut_targets, class_names=("face", "badge", "rocket", "helmet")),
}
