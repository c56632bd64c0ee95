"""``Boxes``: the bounding boxes of an image or of a batch, with their format and canvas size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..functional.points import BOX_FORMATS, box_areas, convert_box_format, move_boxes, transform_boxes, visible_fraction
from .packing import Packed, check_canvas, host_values, to_float_tensor

__all__ = ["Boxes"]


@dataclass(frozen=True, eq=False, kw_only=True)
class Boxes(Packed):
    """Boxes ``(N, 4)`` (``(N, 5)`` for rotated ``cxcywhr``) of one image, or of a batch packed
    with per-image ``offsets`` (the boxes of image ``i`` are rows ``offsets[i]:offsets[i + 1]``;
    never padding that could pass for a box).

    Args:
        data: the boxes, a tensor or array (float; integers are converted to float32).
        format: ``xyxy`` (corners), ``xywh`` (top-left corner and size), ``cxcywh`` (centre and
            size) or ``cxcywhr`` (centre, size, angle in degrees counter-clockwise).
        canvas_size: ``(height, width)`` of the image the boxes belong to; a sample fills it in
            from its image.
        normalized: coordinates are fractions of the canvas width and height in ``[0, 1]``.
        offsets: ``(B + 1,)`` int64 offsets for a batch, ``None`` for one image.

    Coordinates are continuous: ``[0, 0, W, H]`` is the whole image (torchvision's convention).
    The boxes transforms also carry ``unclipped``, the boxes as if nothing had been clipped, from
    which :class:`~augkit.SanitizeBoxes` reads the visible fraction of each box.

    >>> b = Boxes([[10, 10, 30, 50]], canvas_size=(100, 200))
    >>> b.convert("cxcywh").data.tolist()
    [[20.0, 30.0, 20.0, 40.0]]
    >>> Boxes.from_list([torch.zeros(2, 4), torch.zeros(0, 4)], canvas_size=(8, 8)).counts.tolist()
    [2, 0]
    """

    format: str = "xyxy"
    canvas_size: tuple[int, int] | None = None
    normalized: bool = False
    unclipped: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.format not in BOX_FORMATS:
            raise ValueError(f"boxes format must be one of {', '.join(BOX_FORMATS)}; got {self.format!r}")
        data = to_float_tensor(self.data, "boxes")
        width = 5 if self.format == "cxcywhr" else 4
        if data.ndim != 2 or data.shape[1] != width:
            raise ValueError(f"boxes in format {self.format} must have shape (N, {width}); got {tuple(data.shape)}")
        object.__setattr__(self, "data", data)
        if self.canvas_size is not None:
            object.__setattr__(self, "canvas_size", check_canvas(self.canvas_size, "boxes canvas_size"))
        super().__post_init__()
        if data.device.type != "cpu" or not len(data) or self.format == "cxcywhr":
            return
        values = host_values(data)
        if self.format == "xyxy":
            bad = (values[:, 2] < values[:, 0]) | (values[:, 3] < values[:, 1])
            if bool(bad.any()):
                row = int(torch.as_tensor(bad).nonzero()[0, 0])
                raise ValueError(f"boxes in format xyxy need x2 >= x1 and y2 >= y1; box {row} is {data[row].tolist()}")
        elif bool((values[:, 2:4] < 0).any()):
            raise ValueError(f"boxes in format {self.format} need a width and height >= 0")

    # -- conversions -----------------------------------------------------------------------------

    @classmethod
    def from_list(cls, boxes: Sequence[Any], **kwargs: Any) -> Boxes:
        """A batch from one ``(N_i, 4)`` tensor or array per image."""
        data, offsets = cls._pack([to_float_tensor(b, f"boxes[{i}]").reshape(-1, 5 if kwargs.get("format") == "cxcywhr" else 4)
                                   for i, b in enumerate(boxes)])
        return cls(data, offsets=offsets, **kwargs)

    def convert(self, format: str) -> Boxes:
        """The same boxes in another format."""
        if format not in BOX_FORMATS:
            raise ValueError(f"format must be one of {', '.join(BOX_FORMATS)}; got {format!r}")
        if format == self.format:
            return self
        return self.derived(data=convert_box_format(self.data, self.format, format), format=format,
                                   unclipped=None if self.unclipped is None
                                   else convert_box_format(self.unclipped, self.format, format))

    def to_pixels(self) -> Boxes:
        """The boxes in pixels of the canvas (a no-op when they already are)."""
        if not self.normalized:
            return self
        scale = self._scale()
        return self.derived(data=self.data * scale, normalized=False,
                                   unclipped=None if self.unclipped is None else self.unclipped * scale)

    def to_normalized(self) -> Boxes:
        """The boxes as fractions of the canvas width and height."""
        if self.normalized:
            return self
        scale = self._scale()
        return self.derived(data=self.data / scale, normalized=True,
                                   unclipped=None if self.unclipped is None else self.unclipped / scale)

    def _scale(self) -> torch.Tensor:
        if self.canvas_size is None:
            raise ValueError("boxes need a canvas_size to convert between pixels and normalized coordinates")
        h, w = self.canvas_size
        values = [w, h, w, h] + ([1] if self.format == "cxcywhr" else [])
        if self.format == "cxcywhr":
            raise ValueError("rotated boxes (cxcywhr) are kept in pixels; normalized=True is not supported")
        return torch.tensor(values, dtype=self.data.dtype, device=self.data.device)

    def areas(self) -> torch.Tensor:
        """The ``(N,)`` area of each box in pixels."""
        pixels = self.to_pixels()
        if self.format == "cxcywhr":
            return box_areas(pixels.data, "cxcywhr")
        return box_areas(convert_box_format(pixels.data, self.format, "xyxy"))

    def visibility(self) -> torch.Tensor:
        """The ``(N,)`` fraction of each box's area left after clipping by the transforms so far
        (1 for boxes never clipped, and for rotated boxes, which are not clipped)."""
        if self.unclipped is None or self.format == "cxcywhr":
            return torch.ones(len(self.data), dtype=self.data.dtype, device=self.data.device)
        pixels = self.to_pixels()
        return visible_fraction(pixels.areas(), box_areas(convert_box_format(pixels.unclipped, self.format, "xyxy")))

    # -- transforms ------------------------------------------------------------------------------

    def transformed(self, matrix: torch.Tensor, canvas_size: tuple[int, int]) -> Boxes:
        """The boxes moved by ``matrix`` (``(B, 3, 3)`` per image, continuous pixel coordinates)
        onto a canvas of ``canvas_size``, clipped to it (rotated boxes are not clipped)."""
        pixels = self.to_pixels()
        m = matrix[self.image_index()] if len(matrix) > 1 else matrix[0]
        if self.format == "cxcywhr":
            moved = transform_boxes(pixels.data, m, "cxcywhr")
            out = pixels.derived(data=moved.to(self.data.dtype), canvas_size=canvas_size)
        else:
            xyxy = convert_box_format(pixels.data, self.format, "xyxy")
            # nothing clipped yet (no unclipped boxes): the boxes are their own reference
            before = None if pixels.unclipped is None else convert_box_format(pixels.unclipped, self.format, "xyxy")
            clipped, unclipped = move_boxes(xyxy, m, canvas_size, before)
            out = pixels.derived(data=convert_box_format(clipped, "xyxy", self.format),
                                 unclipped=convert_box_format(unclipped, "xyxy", self.format),
                                 canvas_size=canvas_size)
        return out.to_normalized() if self.normalized else out

    def select(self, keep: torch.Tensor, offsets: torch.Tensor | None = None) -> Boxes:
        """Only the boxes where the ``(N,)`` bool ``keep`` is true (offsets follow, or are given)."""
        return self._select_rows(keep, offsets, unclipped=None if self.unclipped is None else self.unclipped[keep])

    def numpy(self) -> np.ndarray:
        """The box coordinates as an ``(N, 4)`` array."""
        return self.data.detach().cpu().numpy()
