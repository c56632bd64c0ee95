"""Models for the comparison: a small CNN for small images and a ResNet-18 adapted to them.

Every model takes float images in ``[0, 1]`` and standardizes them with the training set's
per-channel mean and std in its first layer, so augmentations and mixing work on plain images.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Callable

import torch
from torch import nn

__all__ = ["MODELS", "Standardize", "build_model", "small_cnn", "resnet18"]


class Standardize(nn.Module):
    """``(x - mean) / std`` per channel, with fixed (non-trainable) statistics."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def _conv_bn_relu(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


def small_cnn(in_channels: int, num_classes: int, width: int = 32) -> nn.Module:
    """Two conv-BN-ReLU stages (``width`` and ``2 width`` channels), each followed by 2x2
    max-pooling, then a 128-unit hidden layer on the 7x7 feature map (adaptive average pooling
    brings larger inputs to 7x7) and a linear classifier. No dropout: augmentation is the only
    regularizer besides weight decay.

    >>> small_cnn(1, 10, width=8)(torch.rand(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    """
    return nn.Sequential(
        *_conv_bn_relu(in_channels, width), nn.MaxPool2d(2),
        *_conv_bn_relu(width, 2 * width), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(7), nn.Flatten(),
        nn.Linear(2 * width * 49, 128), nn.ReLU(inplace=True), nn.Linear(128, num_classes),
    )


def resnet18(in_channels: int, num_classes: int) -> nn.Module:
    """torchvision's ResNet-18 for small images: a 3x3 stride-1 stem and no max-pool, as is usual
    for CIFAR-sized inputs.

    >>> resnet18(3, 10)(torch.rand(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    """
    from torchvision.models import resnet18 as torchvision_resnet18

    net = torchvision_resnet18(num_classes=num_classes)
    net.conv1 = nn.Conv2d(in_channels, 64, 3, padding=1, bias=False)
    net.maxpool = nn.Identity()
    return net


MODELS: dict[str, Callable[..., nn.Module]] = {"small-cnn": small_cnn, "resnet18": resnet18}


def build_model(name: str, in_channels: int, num_classes: int, *, mean: Sequence[float],
                std: Sequence[float], width: int | None = None) -> nn.Module:
    """``Standardize(mean, std)`` followed by the model ``name`` (a key of :data:`MODELS`);
    ``width`` sets the small CNN's channel count.

    >>> m = build_model("small-cnn", 1, 10, mean=[0.3], std=[0.35], width=8)
    >>> m(torch.rand(4, 1, 28, 28)).shape
    torch.Size([4, 10])
    """
    if name not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {name!r}")
    if width is not None and name != "small-cnn":
        raise ValueError(f"width applies to small-cnn only; got width={width!r} with model {name!r}")
    kwargs = {} if width is None else {"width": width}
    return nn.Sequential(Standardize(mean, std), MODELS[name](in_channels, num_classes, **kwargs))
