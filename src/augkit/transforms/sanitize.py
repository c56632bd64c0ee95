"""SanitizeBoxes: drop the boxes that transforms made degenerate or pushed mostly outside."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..core.image import ImageSpec
from ..core.params import Params
from ..core.transform import Transform
from ..core.validation import check_number
from ..functional.points import convert_box_format, sanitize_boxes
from ..targets import Boxes, Keypoints, Mask
from ..targets.sample import Labels, Sample

__all__ = ["SanitizeBoxes"]


class SanitizeBoxes(Transform):
    """Remove boxes narrower or lower than ``min_size`` pixels, smaller than ``min_area``, or with
    less than ``min_visibility`` of their area left inside the image after the transforms so far
    (albumentations' ``BboxParams(min_visibility=...)``); their labels, instance masks and keypoint
    groups go with them. Semantic masks and the image are never touched.

    ``clip`` first clips the boxes to the image (transforms already clip the boxes they move).
    The number of boxes changes here, so on a GPU this is the step that reads the kept count on
    the host; every other step of a pipeline with targets runs without a sync.

    >>> import torch, augkit
    >>> boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 5.5, 9.0]])
    >>> out = augkit.SanitizeBoxes()(torch.zeros(3, 20, 20), boxes=boxes, labels=torch.tensor([1, 2]))
    >>> out["boxes"].tolist(), out["labels"].tolist()
    ([[0.0, 0.0, 10.0, 10.0]], [1])
    """

    reads_values = False  # changes no pixel

    def __init__(self, min_size: float = 1.0, min_area: float = 1.0, min_visibility: float = 0.0,
                 clip: bool = True) -> None:
        super().__init__()
        self.min_size = float(check_number(min_size, "min_size", low=0.0))
        self.min_area = float(check_number(min_area, "min_area", low=0.0))
        self.min_visibility = float(check_number(min_visibility, "min_visibility", low=0.0, high=1.0))
        self.clip = bool(clip)

    def _apply_tensor(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return x

    def _apply_numpy(self, x: np.ndarray, params: Params) -> np.ndarray:
        return x

    def keep(self, boxes: Boxes) -> torch.Tensor:
        """The ``(N,)`` bool mask of the boxes this transform keeps."""
        return self._sanitized(boxes, None)[1]

    def _sanitized(self, boxes: Boxes, size: tuple[int, int] | None) -> tuple[Boxes, torch.Tensor]:
        """``boxes`` clipped to a canvas of ``size`` (as they are when ``None``, and rotated boxes
        always), and which of them to keep."""
        pixels = boxes.to_pixels()
        if pixels.format == "cxcywhr":
            width, height = pixels.data[:, 2], pixels.data[:, 3]
            return boxes, (width >= self.min_size) & (height >= self.min_size) & (pixels.areas() >= self.min_area)
        xyxy = convert_box_format(pixels.data, pixels.format, "xyxy")
        reference = (None if pixels.unclipped is None or self.min_visibility <= 0
                     else convert_box_format(pixels.unclipped, pixels.format, "xyxy"))
        clipped, keep = sanitize_boxes(xyxy, size, self.min_size, self.min_area, self.min_visibility, reference)
        if size is not None:
            pixels = pixels.derived(data=convert_box_format(clipped, "xyxy", boxes.format))
            boxes = pixels.to_normalized() if boxes.normalized else pixels
        return boxes, keep

    def _apply_sample(self, sample: Sample, spec: ImageSpec, params: Params) -> Sample:
        boxes = sample.targets.get("boxes")
        if boxes is None:
            return sample
        boxes, keep = self._sanitized(boxes, spec.size if self.clip else None)
        targets = dict(sample.targets)
        targets["boxes"] = boxes
        if bool(keep.all()):  # nothing to drop (the kept count is read here anyway: the batch's sync)
            return dataclasses.replace(sample, targets=targets)
        targets["boxes"] = kept = boxes.select(keep)
        for key, value in sample.targets.items():
            if isinstance(value, (Labels, Keypoints)):
                targets[key] = value.select(keep, kept.offsets)
            elif isinstance(value, Mask) and value.instance:
                index = keep if isinstance(value.data, torch.Tensor) else keep.numpy()
                targets[key] = dataclasses.replace(value, data=value.data[index], offsets=kept.offsets)
        return dataclasses.replace(sample, targets=targets)
