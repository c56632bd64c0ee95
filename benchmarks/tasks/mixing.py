"""MixUp / CutMix on a batch with labels, against timm, torchvision v2 and kornia, and against the
memory-bandwidth bound: a ``copy_`` of the batch into a preallocated tensor, in the same run.

timm's ``Mixup`` mixes in place, so its runner mixes a fresh ``clone`` of the batch (the same
out-of-place work as augkit's default); the ``inplace=True`` rows compare with timm on the batch
itself. torchvision v2 draws one lambda / box per batch (no per-sample mode), kornia draws per
sample.
"""

from __future__ import annotations

import torch

from augkit.mixing import CutMix, MixUp, Mosaic, RandomMix

from ..harness import AUGKIT, Task
from ..inputs import batch_generator, photo_batch
from ..peers import peers

BOUND = "copy_ (bandwidth bound)"


def tasks(scale: float = 1.0) -> list[Task]:
    side = max(16, int(224 * scale))
    n = max(2, int(64 * scale)) // 2 * 2          # timm needs an even batch
    classes = 1000
    lib = peers()
    g = batch_generator()
    labels = torch.randint(0, classes, (n,), generator=g, device=g.device)
    shape = f"{n}x3x{side}x{side}"
    out: list[Task] = []
    for dtype in (torch.float32, torch.uint8):
        x = photo_batch(n, side, side, dtype)
        scratch = x.clone()
        name = str(dtype).removeprefix("torch.")
        mixup = MixUp(0.2, num_classes=classes, mode="elem")
        cutmix = CutMix(1.0, num_classes=classes, mode="elem")
        mixup_in = MixUp(0.2, num_classes=classes, mode="elem", inplace=True)
        cutmix_in = CutMix(1.0, num_classes=classes, mode="elem", inplace=True)
        rand = RandomMix(num_classes=classes, mixup_alpha=0.2, cutmix_alpha=1.0, p_mixup=0.4, p_cutmix=0.4)
        bound = lambda x=x, s=scratch: s.copy_(x)   # noqa: E731
        rows = {
            "mixup": Task(f"MixUp per-sample lambda {name} {shape}", n,
                          {AUGKIT: lambda x=x: mixup(x, labels, generator=g), BOUND: bound}),
            "cutmix": Task(f"CutMix per-sample box {name} {shape}", n,
                           {AUGKIT: lambda x=x: cutmix(x, labels, generator=g), BOUND: bound}),
            "mixup_in": Task(f"MixUp per-sample lambda inplace {name} {shape}", n,
                             {AUGKIT: lambda s=scratch: mixup_in(s, labels, generator=g), BOUND: bound}),
            "cutmix_in": Task(f"CutMix per-sample box inplace {name} {shape}", n,
                              {AUGKIT: lambda s=scratch: cutmix_in(s, labels, generator=g), BOUND: bound}),
            "random": Task(f"RandomMix per batch (0.4 MixUp / 0.4 CutMix) {name} {shape}", n,
                           {AUGKIT: lambda x=x: rand(x, labels, generator=g), BOUND: bound}),
        }
        if lib.timm:
            from timm.data.mixup import Mixup
            kw = dict(label_smoothing=0.0, num_classes=classes)
            t_mix = Mixup(mixup_alpha=0.2, cutmix_alpha=0.0, mode="elem", **kw)
            t_cut = Mixup(mixup_alpha=0.0, cutmix_alpha=1.0, mode="elem", **kw)
            t_rand = Mixup(mixup_alpha=0.2, cutmix_alpha=1.0, prob=0.8, switch_prob=0.5, mode="batch", **kw)
            rows["mixup"].runners["timm elem"] = lambda x=x: t_mix(x.clone(), labels)
            rows["cutmix"].runners["timm elem"] = lambda x=x: t_cut(x.clone(), labels)
            rows["mixup_in"].runners["timm elem (in place)"] = lambda s=scratch: t_mix(s, labels)
            rows["cutmix_in"].runners["timm elem (in place)"] = lambda s=scratch: t_cut(s, labels)
            if dtype.is_floating_point:   # timm's batch-mode MixUp cannot write into uint8
                rows["random"].runners["timm batch"] = lambda x=x: t_rand(x.clone(), labels)
        if lib.torchvision:
            v2 = lib.torchvision[0]
            tv_cut = v2.CutMix(alpha=1.0, num_classes=classes)
            rows["cutmix"].runners["torchvision v2 (per batch)"] = lambda x=x: tv_cut(x, labels)
            if dtype.is_floating_point:   # v2.MixUp cannot write float results into uint8
                tv_mix = v2.MixUp(alpha=0.2, num_classes=classes)
                rows["mixup"].runners["torchvision v2 (per batch)"] = lambda x=x: tv_mix(x, labels)
        if lib.kornia and dtype.is_floating_point:   # kornia mixes float images only
            K = lib.kornia.augmentation
            k_mix = K.RandomMixUpV2(data_keys=["input", "class"])
            k_cut = K.RandomCutMixV2(data_keys=["input", "class"], use_correct_lambda=True)
            rows["mixup"].runners["kornia"] = lambda x=x: k_mix(x, labels)
            rows["cutmix"].runners["kornia"] = lambda x=x: k_cut(x, labels)
        out += rows.values()
    return out + _target_tasks(scale, lib, g)


def _target_tasks(scale: float, lib, g: torch.Generator) -> list[Task]:
    from .detection import _targets

    side = max(32, int(224 * scale))
    n = max(2, int(32 * scale))
    x = photo_batch(n, side, side, torch.float32)
    boxes, box_labels, mask = _targets(side, side)
    boxes, box_labels = [boxes.to(x.device)] * n, [box_labels.to(x.device)] * n
    masks = mask.to(x.device).expand(n, side, side).contiguous()
    shape = f"{n}x3x{side}x{side}"
    mixup, cutmix, mosaic = MixUp(0.2, mode="elem"), CutMix(1.0, mode="elem"), Mosaic(side)
    rows = [
        Task(f"MixUp per-sample lambda with 8 boxes and labels per image, float32 {shape}", n,
             {AUGKIT: lambda: mixup(x, box_labels, boxes=boxes, generator=g),
              "augkit images only": lambda: mixup({"image": x}, generator=g)}),
        Task(f"CutMix per-sample box with 8 boxes, labels and a mask per image, float32 {shape}", n,
             {AUGKIT: lambda: cutmix(x, box_labels, boxes=boxes, mask=masks, generator=g),
              "augkit images only": lambda: cutmix({"image": x}, generator=g)}),
        Task(f"Mosaic per sample ({side}x{side} canvas) with 8 boxes and labels per image, float32 {shape}", n,
             {AUGKIT: lambda: mosaic(x, boxes=boxes, labels=box_labels, generator=g),
              "augkit images only": lambda: mosaic(x, generator=g)}),
    ]
    if lib.kornia:
        K = lib.kornia.augmentation
        k_mosaic = K.RandomMosaic((side, side), data_keys=["input", "bbox_xyxy"], p=1.0)
        padded = torch.stack(boxes)
        rows[2].runners["kornia RandomMosaic"] = lambda: k_mosaic(x, padded)
    return rows


