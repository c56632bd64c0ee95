"""Targets that move with their image: masks, boxes and keypoints (see :mod:`augkit.targets.sample`
for the sample forms a transform takes).

>>> import torch, augkit
>>> out = augkit.HorizontalFlip(p=1.0)(torch.zeros(3, 10, 20), boxes=torch.tensor([[0.0, 0.0, 5.0, 10.0]]))
>>> out["boxes"].tolist()
[[15.0, 0.0, 20.0, 10.0]]
"""

from . import interop
from .boxes import Boxes
from .interop import (format_yolo, from_coco, from_tv_tensors, load_coco, parse_yolo, read_yolo, to_coco,
                      to_tv_tensors, write_yolo)
from .keypoints import Keypoints
from .mask import Mask

__all__ = ["Boxes", "Keypoints", "Mask", "format_yolo", "from_coco", "from_tv_tensors", "interop", "load_coco",
           "parse_yolo", "read_yolo", "to_coco", "to_tv_tensors", "write_yolo"]
