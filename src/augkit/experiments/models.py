"""Models for the comparison: two small built-in models for small images, and any torchvision or
timm classification model, as a user would train it.

Every model takes float images in ``[0, 1]`` at the size of the data. The built-in models
(:data:`BUILTIN`) standardize them with the training set's per-channel mean and std in their
first layer. A torchvision or timm model gets its eval preset instead (the resize, centre crop
and normalization of its published weights: :class:`augkit.presets.EvalPreprocess`), grayscale
images repeated to three channels, its head replaced by a fresh one for the task's classes, and
optionally the weights of a local checkpoint (nothing is downloaded) and a frozen backbone.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from ..presets import PRESETS, EvalPreprocess, Preset, preset

__all__ = ["BUILTIN", "Standardize", "Classifier", "build_model", "small_cnn", "resnet18_small", "model_preset"]


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


def resnet18_small(in_channels: int, num_classes: int) -> nn.Module:
    """torchvision's ResNet-18 for small images: a 3x3 stride-1 stem and no max-pool, as is usual
    for CIFAR-sized inputs (``--model resnet18`` is torchvision's own, for transfer learning).

    >>> resnet18_small(3, 10)(torch.rand(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    """
    from torchvision.models import resnet18 as torchvision_resnet18

    net = torchvision_resnet18(num_classes=num_classes)
    net.conv1 = nn.Conv2d(in_channels, 64, 3, padding=1, bias=False)
    net.maxpool = nn.Identity()
    return net


BUILTIN: dict[str, Callable[..., nn.Module]] = {"small-cnn": small_cnn, "resnet18-small": resnet18_small}


class Classifier(nn.Module):
    """``head(backbone(prepare(x)))`` where only ``head`` is trained if ``frozen``: the backbone's
    parameters take no gradient and its batch-norm statistics stay as loaded (it stays in eval
    mode when the model is put in training mode)."""

    def __init__(self, prepare: nn.Module, net: nn.Module, head: str, frozen: bool = False) -> None:
        super().__init__()
        self.prepare, self.net, self.head, self.frozen = prepare, net, head, frozen
        if frozen:
            for name, parameter in net.named_parameters():
                parameter.requires_grad_(name.startswith(f"{head}."))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.prepare(x))

    def train(self, mode: bool = True) -> Classifier:
        super().train(mode)
        if self.frozen:
            self.net.eval()
            self.net.get_submodule(self.head).train(mode)
        return self


def _torchvision_names() -> list[str]:
    import torchvision.models

    return torchvision.models.list_models(module=torchvision.models)


def _timm():
    try:
        import timm
    except ImportError:
        return None
    return timm


def model_preset(name: str) -> Preset:
    """The eval preset of the library model ``name``: augkit's table (:data:`augkit.presets.PRESETS`)
    when it has the name, else the one of the model's published weights (torchvision's
    ``DEFAULT`` weights' transforms, timm's ``pretrained_cfg``; read from the code, not downloaded).

    >>> model_preset("efficientnet_b0")
    Preset(size=224, crop_ratio=0.875, interpolation='bicubic', mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    """
    if name.lower().replace("_", "-") in {k.lower().replace("_", "-") for k in PRESETS}:
        return preset(name)
    if name in _torchvision_names():
        import torchvision.models

        t = torchvision.models.get_model_weights(name).DEFAULT.transforms()
        return Preset(t.crop_size[0], t.crop_size[0] / t.resize_size[0], t.interpolation.value,
                      tuple(t.mean), tuple(t.std))
    cfg = _timm().create_model(name, pretrained=False).pretrained_cfg
    return Preset(cfg["input_size"][-1], cfg.get("crop_pct", 0.875), cfg.get("interpolation", "bicubic"),
                  tuple(cfg["mean"]), tuple(cfg["std"]))


def _library_model(name: str) -> tuple[nn.Module, str]:
    """The torchvision or timm model ``name`` with its own head, and the head's module name."""
    if name in _torchvision_names():
        import torchvision.models

        net = torchvision.models.get_model(name, weights=None)
        linears = [n for n, m in net.named_modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise ValueError(f"model {name!r} has no linear classification head to replace")
        return net, linears[-1]
    timm = _timm()
    if timm is not None and timm.is_model(name):
        net = timm.create_model(name, pretrained=False)
        return net, net.pretrained_cfg.get("classifier", "head")
    known = sorted({*BUILTIN, *_torchvision_names(), *(timm.list_models() if timm is not None else [])})
    close = difflib.get_close_matches(name, known, n=3)
    raise ValueError(f"model must be {', '.join(BUILTIN)} or a torchvision or timm classification model name; "
                     f"got {name!r}" + (f" (did you mean {', '.join(close)}?)" if close else "")
                     + ("" if timm is not None else " (timm is not installed: pip install timm)"))


def _replace_head(net: nn.Module, head: str, num_classes: int) -> None:
    if hasattr(net, "reset_classifier"):  # timm
        net.reset_classifier(num_classes)
        return
    parent, _, attribute = head.rpartition(".")
    old = net.get_submodule(head)
    setattr(net.get_submodule(parent) if parent else net, attribute,
            nn.Linear(old.in_features, num_classes, bias=old.bias is not None))


def _load_weights(net: nn.Module, path: Path, head: str) -> None:
    """Load a local state_dict or checkpoint (``{"state_dict": ...}``, ``{"model": ...}``, ...;
    ``module.`` prefixes stripped) into ``net``; the head may differ (it is replaced anyway)."""
    if not path.is_file():
        raise FileNotFoundError(f"--weights {str(path)!r} is not a file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the same user error
        raise ValueError(f"--weights {str(path)!r} is not a PyTorch state_dict or checkpoint "
                         f"({str(error).splitlines()[0]})") from None
    for key in ("state_dict", "model_state_dict", "model", "module"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"--weights {str(path)!r} holds no state_dict (a mapping of names to tensors)")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    own = net.state_dict()
    state = {k: v for k, v in state.items() if not (k.startswith(f"{head}.") and k in own and v.shape != own[k].shape)}
    missing = [k for k in own if k not in state and not k.startswith(f"{head}.")]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in state if k in own and state[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        problems = [f"{label} {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''} ({len(keys)})"
                    for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
                    if keys]
        raise ValueError(f"--weights {str(path)!r} does not fit the model: " + "; ".join(problems))
    net.load_state_dict(state, strict=False)


def build_model(name: str, in_channels: int, num_classes: int, *, mean: Sequence[float], std: Sequence[float],
                width: int | None = None, weights: str | Path | None = None,
                freeze_backbone: bool = False) -> nn.Module:
    """The model ``name``: a key of :data:`BUILTIN` (standardized with ``mean`` and ``std``, the
    training set's; ``width`` sets the small CNN's channels) or a torchvision / timm
    classification model (prepared by its eval preset, see the module doc), with the weights of
    the local file ``weights`` and only its head trained if ``freeze_backbone``.

    >>> m = build_model("small-cnn", 1, 10, mean=[0.3], std=[0.35], width=8)
    >>> m(torch.rand(4, 1, 28, 28)).shape
    torch.Size([4, 10])
    """
    if width is not None and name != "small-cnn":
        raise ValueError(f"width applies to small-cnn only; got width={width!r} with model {name!r}")
    if name in BUILTIN:
        net = BUILTIN[name](in_channels, num_classes, **({} if width is None else {"width": width}))
        head = [n for n, m in net.named_modules() if isinstance(m, nn.Linear)][-1]
        if weights is not None:
            _load_weights(net, Path(weights), head)
        return Classifier(Standardize(mean, std), net, head, freeze_backbone)
    net, head = _library_model(name)
    if weights is not None:
        _load_weights(net, Path(weights), head)
    _replace_head(net, head, num_classes)
    p = model_preset(name)
    prepare = nn.Sequential(*([_Gray3()] if in_channels == 1 else []),
                            EvalPreprocess(p.size, p.crop_ratio, p.interpolation, p.mean, p.std))
    return Classifier(prepare, net, head, freeze_backbone)


class _Gray3(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.expand(-1, 3, -1, -1)
