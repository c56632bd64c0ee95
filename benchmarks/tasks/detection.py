"""A detection/segmentation train pipeline with its targets: RandomResizedCrop + HorizontalFlip +
ColorJitter on a 600 x 450 photo with 8 boxes, their labels and a semantic mask, per image
(uint8 array vs albumentations, uint8 tensor vs torchvision v2 tv_tensors) and on a float batch
with per-sample parameters (vs kornia's AugmentationSequential, which pads the boxes)."""

from __future__ import annotations

import torch

import augkit

from ..harness import AUGKIT, Task
from ..inputs import batch_generator, photo, photo_batch
from ..peers import peers

JITTER = (0.4, 0.4, 0.4, 0.1)
BOXES = 8


def _targets(h: int, w: int, n: int = BOXES, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * torch.tensor([w * 0.7, h * 0.7])
    wh = torch.tensor([w, h]) * (0.1 + 0.2 * torch.rand(n, 2, generator=g))
    boxes = torch.cat([xy, xy + wh], 1)
    mask = torch.zeros(h, w, dtype=torch.uint8)
    for k, (x1, y1, x2, y2) in enumerate(boxes.long().tolist()):
        mask[y1:y2, x1:x2] = k + 1
    return boxes, torch.arange(n) % 5, mask


def tasks(scale: float = 1.0) -> list[Task]:
    side = max(32, int(448 * scale))
    h, w = max(32, int(450 * scale)), max(32, int(600 * scale))
    batch_n = max(2, int(32 * scale))
    array = photo(h, w)
    image = torch.from_numpy(array).permute(2, 0, 1).contiguous()
    boxes, labels, mask = _targets(h, w)
    batch = photo_batch(batch_n, h, w, torch.float32)
    batch_boxes = [boxes] * batch_n
    batch_masks = mask.expand(batch_n, h, w).to(batch.device).contiguous()
    lib = peers()
    g, gb = torch.Generator().manual_seed(0), batch_generator()

    train = augkit.Compose([augkit.RandomResizedCrop(side), augkit.HorizontalFlip(), augkit.ColorJitter(*JITTER),
                            augkit.SanitizeBoxes()])
    name = f"Detection: RandomResizedCrop({side}) + HFlip + ColorJitter with {BOXES} boxes, labels, mask"
    np_boxes, np_labels, np_mask = boxes.numpy(), labels.numpy(), mask.numpy()
    out = [
        Task(f"{name}, uint8 array {w}x{h}", 1, {AUGKIT: lambda: train(
            array, boxes=np_boxes, labels=np_labels, mask=np_mask, generator=g)}),
        Task(f"{name}, uint8 tensor {w}x{h}", 1, {AUGKIT: lambda: train(
            image, boxes=boxes, labels=labels, mask=mask, generator=g)}),
        Task(f"{name} per sample, float batch {batch_n}x3x{h}x{w}", batch_n, {AUGKIT: lambda: train(
            batch, boxes=batch_boxes, mask=batch_masks, generator=gb)}),
    ]
    if lib.albumentations:
        A = lib.albumentations
        a_train = A.Compose([A.RandomResizedCrop((side, side)), A.HorizontalFlip(), A.ColorJitter(*JITTER, p=1.0)],
                            bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], min_area=1))
        out[0].runners["albumentations"] = lambda: a_train(image=array, bboxes=np_boxes, labels=np_labels,
                                                           mask=np_mask)
    if lib.torchvision:
        v2, _ = lib.torchvision
        from torchvision import tv_tensors

        tv_train = v2.Compose([v2.RandomResizedCrop(side, antialias=True), v2.RandomHorizontalFlip(),
                               v2.ColorJitter(*JITTER), v2.SanitizeBoundingBoxes()])
        tv_boxes = tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(h, w))
        tv_mask = tv_tensors.Mask(mask)
        out[1].runners["torchvision v2"] = lambda: tv_train(
            {"image": tv_tensors.Image(image), "boxes": tv_boxes, "labels": labels, "mask": tv_mask})
    if lib.kornia:
        K = lib.kornia
        k_train = K.augmentation.AugmentationSequential(
            K.augmentation.RandomResizedCrop((side, side)), K.augmentation.RandomHorizontalFlip(),
            K.augmentation.ColorJitter(*JITTER, p=1.0), data_keys=["input", "bbox_xyxy", "mask"])
        padded = torch.stack(batch_boxes).to(batch.device)
        k_mask = batch_masks[:, None].to(torch.float32)
        out[2].runners["kornia"] = lambda: k_train(batch, padded, k_mask)
    return out
