"""Targets through the batch mixers: every output image takes the rows (boxes with their labels,
weights, instance masks and keypoint groups) of a few source images of the batch, each row seen
through a region of the output.

A mixer describes, per output image, its ``Q`` source images (``(B, Q)`` indices: CutMix and
MixUp the image and its partner, Mosaic four images) and, per source, how that source shows in the
output: shifted by ``(dx, dy)`` pixels and visible inside a rectangle (or outside it). Rows are
then moved as one packed batch:

* boxes, shifted, are clipped to the rectangle they are seen inside (dropped when no area is left),
  or cut out of the rectangle they are hidden by: the enclosing box of what is left of the box
  (the box itself unless the rectangle spans its whole height or width), dropped when nothing is
  left;
* instance masks are shifted and zeroed where their source is not seen;
* keypoints are shifted; points where their source is not seen get visibility 0;
* labels and other per-box fields follow their boxes; ``weights`` (a float per box, 1 when the
  input had none) is multiplied by the share of its source's pixels.

The number of rows changes, so this reads two counts on the host: the rows taken from the sources,
and the rows kept. Images and semantic masks never wait for it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from ..functional.points import box_areas, clip_boxes, convert_box_format
from ..targets import Boxes, Keypoints, Mask
from ..targets.packing import kept_offsets
from ..targets.sample import Labels, Sample
from .kernels import box_mask

__all__ = ["Regions", "gather_rows", "move_rows", "pair_regions", "paste_mask", "sample_output", "shift_rows"]

@dataclass(frozen=True)
class Regions:
    """How each source of each output image shows: ``(B, Q, ...)`` tensors.

    ``shift`` (int64 ``(B, Q, 2)`` as dx, dy, or ``None`` for no shift), ``rect`` (float
    ``(B, Q, 4)`` as x1, y1, x2, y2 in output pixels), ``inside`` (bool ``(B, Q)``: seen inside
    ``rect``, else everywhere outside it), ``used`` (bool ``(B, Q)``: false drops the source's
    rows), ``share`` (float ``(B, Q)``: the weight of the source's pixels, or ``None`` to add no
    ``weights``)."""

    rect: torch.Tensor
    inside: torch.Tensor
    used: torch.Tensor
    share: torch.Tensor | None = None
    shift: torch.Tensor | None = None


@dataclass(frozen=True)
class Rows:
    """The candidate rows of an output batch: ``source`` (the input row), ``image`` and ``slot``
    (which output image and which of its sources), all ``(M,)``, and ``offsets`` ``(B + 1,)``."""

    source: torch.Tensor
    image: torch.Tensor
    slot: torch.Tensor
    offsets: torch.Tensor


def gather_rows(offsets: torch.Tensor, sources: torch.Tensor) -> Rows:
    """The rows of the sources ``(B, Q)`` of every output image, in order: image by image, the
    rows of source 0, then of source 1, ... (reads their total on the host)."""
    n, q = sources.shape
    counts = offsets.diff()[sources].reshape(-1)
    total = int(counts.sum())  # the number of rows of the output: the one host read of this step
    group = torch.repeat_interleave(torch.arange(n * q, device=offsets.device), counts, output_size=total)
    position = torch.arange(total, device=offsets.device) - (counts.cumsum(0) - counts)[group]
    source = offsets[sources.reshape(-1)][group] + position
    per_image = counts.view(n, q).sum(1)
    return Rows(source, group // q, group % q, torch.cat([per_image.new_zeros(1), per_image.cumsum(0)]))


def _clip_into(xyxy: torch.Tensor, rect: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Boxes clipped to ``rect``, and which keep some area (or lay inside it)."""
    clipped = clip_boxes(xyxy, rect)
    within = (xyxy[:, :2] >= rect[:, :2]).all(1) & (xyxy[:, 2:] <= rect[:, 2:]).all(1)
    return clipped, (box_areas(clipped) > 0) | within


def _cut_out(xyxy: torch.Tensor, rect: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The enclosing box of each box minus ``rect``, and which keep something."""
    x1, y1, x2, y2 = xyxy.unbind(1)
    left, top, right, bottom = rect.unbind(1)
    hit = (torch.minimum(x2, right) > torch.maximum(x1, left)) & (torch.minimum(y2, bottom) > torch.maximum(y1, top))
    spans_h = hit & (top <= y1) & (bottom >= y2)  # the rectangle crosses the box from top to bottom
    spans_w = hit & (left <= x1) & (right >= x2)
    clamp = lambda v, lo, hi: torch.minimum(torch.maximum(v, lo), hi)  # noqa: E731
    cut = torch.stack([torch.where(spans_h & (left <= x1), clamp(right, x1, x2), x1),
                       torch.where(spans_w & (top <= y1), clamp(bottom, y1, y2), y1),
                       torch.where(spans_h & (right >= x2), clamp(left, x1, x2), x2),
                       torch.where(spans_w & (bottom >= y2), clamp(top, y1, y2), y2)], 1)
    return cut, ~(spans_h & spans_w)


def _seen(x: torch.Tensor, y: torch.Tensor, rect: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """Whether points ``(x, y)`` (rows first) are where their row's source is seen."""
    shape = (-1,) + (1,) * (x.ndim - 1)
    left, top, right, bottom = (rect[:, i].view(shape) for i in range(4))
    within = (x >= left) & (x < right) & (y >= top) & (y < bottom)
    return torch.where(inside.view(shape), within, ~within)


def shift_rows(data: torch.Tensor, source: torch.Tensor, shift: torch.Tensor | None,
               size: tuple[int, int]) -> torch.Tensor:
    """Rows ``data[source]`` (``(M, H, W)``) moved by ``shift`` (``(M, 2)`` dx, dy) onto a canvas of
    ``size``, zero where they come from outside."""
    if shift is None:
        return data[source]
    h, w = data.shape[-2:]
    sy = torch.arange(size[0], device=data.device) - shift[:, 1:2]
    sx = torch.arange(size[1], device=data.device) - shift[:, 0:1]
    valid = ((sy >= 0) & (sy < h))[:, :, None] & ((sx >= 0) & (sx < w))[:, None, :]
    out = data[source[:, None, None], sy.clamp(0, h - 1)[:, :, None], sx.clamp(0, w - 1)[:, None, :]]
    return torch.where(valid, out, torch.zeros((), dtype=out.dtype, device=out.device))


def move_rows(targets: dict[str, Any], sources: torch.Tensor, regions: Regions,
              size: tuple[int, int]) -> dict[str, Any]:
    """The row targets of an output batch of canvas ``size`` (module doc); other targets are not
    touched. ``weights`` is added next to the boxes."""
    packed = [targets[k] for k in ("boxes", "keypoints", "masks") if k in targets]
    if not packed:
        return targets
    offsets = packed[0].offsets
    if offsets is None:
        raise ValueError("masks: instance masks of a batch need boxes or offsets to say which image each belongs to")
    rows = gather_rows(offsets, sources)
    at = (rows.image, rows.slot)
    rect, inside = regions.rect[at], regions.inside[at]
    shift = None if regions.shift is None else regions.shift[at]
    empty = (rect[:, 2] <= rect[:, 0]) | (rect[:, 3] <= rect[:, 1])
    keep = regions.used[at] & ~(inside & empty)  # a source seen nowhere brings no rows
    out = dict(targets)
    if "boxes" in targets:
        boxes, kept = _move_boxes(targets["boxes"], rows, rect, inside, shift, size)
        keep = keep & kept
        share, weights = None if regions.share is None else regions.share[at], targets.get("weights")
        if weights is not None:
            given = weights.data[rows.source]
            share = given if share is None else given * share.to(given.dtype)
        if share is not None:
            out["weights"] = Labels(share, offsets=rows.offsets)
        out["boxes"] = boxes
    for key, value in targets.items():
        if isinstance(value, Labels) and key != "weights":
            out[key] = value.derived(data=value.data[rows.source], offsets=rows.offsets)
        elif isinstance(value, Keypoints):
            out[key] = _move_points(value, rows, rect, inside, shift, size)
        elif isinstance(value, Mask) and value.instance:
            data = shift_rows(value.data, rows.source, shift, size)
            y = torch.arange(size[0], device=data.device, dtype=rect.dtype).view(1, -1, 1) + 0.5
            x = torch.arange(size[1], device=data.device, dtype=rect.dtype).view(1, 1, -1) + 0.5
            seen = _seen(x, y, rect, inside)
            out[key] = dataclasses.replace(value, data=torch.where(seen, data, torch.zeros_like(data)),
                                           offsets=rows.offsets)
    offsets = kept_offsets(rows.image, keep, len(rows.offsets) - 1)  # of every kind of row at once
    for key, value in out.items():
        if isinstance(value, (Boxes, Labels, Keypoints)):
            out[key] = value.select(keep, offsets)
    if "masks" in out:
        out["masks"] = dataclasses.replace(out["masks"], data=out["masks"].data[keep], offsets=offsets)
    return out


def _move_boxes(boxes: Boxes, rows: Rows, rect: torch.Tensor, inside: torch.Tensor, shift: torch.Tensor | None,
                size: tuple[int, int]) -> tuple[Boxes, torch.Tensor]:
    if boxes.format == "cxcywhr":
        raise ValueError("boxes: rotated boxes (cxcywhr) cannot be clipped to the regions a mixer shows; "
                         "convert them to an axis-aligned format first")
    pixels = boxes.to_pixels()
    xyxy = convert_box_format(pixels.data, pixels.format, "xyxy")[rows.source]
    before = xyxy if pixels.unclipped is None else convert_box_format(pixels.unclipped, pixels.format, "xyxy")[rows.source]
    if shift is not None:
        offset = shift.to(xyxy.dtype).repeat(1, 2)
        xyxy, before = xyxy + offset, before + offset
    rect = rect.to(xyxy.dtype)
    clipped, kept_in = _clip_into(xyxy, rect)
    cut, kept_out = _cut_out(xyxy, rect)
    moved = torch.where(inside[:, None], clipped, cut)
    out = pixels.derived(data=convert_box_format(moved, "xyxy", pixels.format),
                         unclipped=convert_box_format(before, "xyxy", pixels.format),
                         offsets=rows.offsets, canvas_size=size)
    return (out.to_normalized() if boxes.normalized else out), torch.where(inside, kept_in, kept_out)


def _move_points(points: Keypoints, rows: Rows, rect: torch.Tensor, inside: torch.Tensor,
                 shift: torch.Tensor | None, size: tuple[int, int]) -> Keypoints:
    data = points.data[rows.source]
    if shift is not None:
        data = data + shift.to(data.dtype)[:, None, :]
    x, y = data[..., 0], data[..., 1]
    seen = _seen(x, y, rect.to(data.dtype), inside) & (x >= 0) & (x < size[1]) & (y >= 0) & (y < size[0])
    visibility = points.visibility[rows.source]
    return points.derived(data=data, visibility=torch.where(seen, visibility, torch.zeros_like(visibility)),
                          offsets=rows.offsets, canvas_size=size)


def sample_output(sample: Sample, image: torch.Tensor, targets: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The output dict of a mixed ``sample``: each target in the form it came in, and ``weights``
    (when a mixer added them) in the form of the boxes."""
    forms = dict(sample.forms)
    if "weights" in targets and "weights" not in forms:
        forms["weights"] = "list" if forms["boxes"].startswith("list") else "tensor"
    return dataclasses.replace(sample, image=image, targets=targets, forms=forms, extra=extra).output()


def pair_regions(index: torch.Tensor, weight: torch.Tensor | None, box: torch.Tensor | None,
                 size: tuple[int, int]) -> tuple[torch.Tensor, Regions]:
    """The sources ``(B, 2)`` (the image, its partner) and their regions for a CutMix / MixUp
    draw: the image is seen outside the pasted ``box`` with its blend ``weight``, the partner
    inside the box, or everywhere with ``1 - weight`` where the pair is blended. A sample paired
    with itself keeps its own rows only."""
    n, (height, width) = len(index), size
    own = torch.arange(n, device=index.device)
    alone = index == own
    share = torch.ones(n, device=index.device) if weight is None else weight.to(torch.float32)
    blended = share < 1
    rect = (torch.zeros(n, 4, device=index.device) if box is None
            else box[:, [2, 0, 3, 1]].to(torch.float32))  # (top, bottom, left, right) as x1, y1, x2, y2
    canvas = torch.tensor([0.0, 0.0, width, height], device=index.device)
    regions = Regions(rect=torch.stack([torch.where(alone[:, None], 0.0, rect),
                                        torch.where(blended[:, None], canvas, rect)], 1),
                      inside=torch.stack([torch.zeros_like(alone), torch.ones_like(alone)], 1),
                      used=torch.stack([torch.ones_like(alone), ~alone], 1),
                      share=torch.stack([share, torch.where(blended, 1.0 - share, 1.0)], 1))
    return torch.stack([own, index], 1), regions


def paste_mask(mask: Mask, index: torch.Tensor, box: torch.Tensor | None) -> Mask:
    """A semantic mask ``(B, H, W)`` or ``(B, C, H, W)`` with each sample's ``box`` (top, bottom,
    left, right) taken from its partner's, as CutMix pastes the pixels."""
    if box is None:
        return mask
    data = mask.data
    inside = box_mask(box, *data.shape[-2:])
    return mask.with_data(torch.where(inside if data.ndim == 4 else inside[:, 0], data[index], data))
