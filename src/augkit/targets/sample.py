"""Samples: an image with its targets, as a dict or as keyword arguments of a transform call.

``t({"image": x, "mask": m, "boxes": b, "labels": l, "keypoints": k})`` and
``t(x, mask=m, boxes=b, labels=l, keypoints=k)`` both return a dict of the same keys; each target
comes back in the form it was given (a tensor, an array, a list per image of a batch, or a
:class:`Mask` / :class:`Boxes` / :class:`Keypoints`). Keys other than these pass through.

* ``mask``: a semantic mask (:class:`Mask`); ``masks``: instance masks ``N x H x W``, one per box;
* ``boxes``: ``xyxy`` pixels unless given as :class:`Boxes`; ``labels`` (and the other
  :data:`BOX_FIELDS`: ``iscrowd``, ``scores``, ``weights``): one per box;
* ``keypoints``: ``(N, K, 2)`` or ``(N, K, 3)`` with visibility, one group per box when both
  are given.

On a batch (``BCHW``), boxes, labels, instance masks and keypoints are one list per image or
packed :class:`Boxes` / :class:`Keypoints` with offsets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..core.image import ImageSpec, Kind, inspect_image
from ..core.params import Params
from ..functional.points import convert_box_format, masks_to_boxes, to_pixel_centres
from .boxes import Boxes
from .keypoints import Keypoints
from .mask import Mask, nearest_view, to_planes
from .packing import Packed, to_tensor

__all__ = ["BOX_FIELDS", "TARGET_KEYS", "Labels", "Sample", "parse_sample", "move_targets"]

BOX_FIELDS = ("labels", "iscrowd", "scores", "weights")
"""Keys of per-box values (one per box) that follow their boxes through SanitizeBoxes and mixing."""
TARGET_KEYS = ("mask", "masks", "boxes", "keypoints", *BOX_FIELDS)


@dataclass
class Sample:
    """An image, its canonical targets, and how to give them back as they came."""

    image: Any
    targets: dict[str, Any]
    forms: dict[str, str]
    extra: dict[str, Any]

    def output(self) -> dict[str, Any]:
        out = {"image": self.image}
        for key, value in self.targets.items():
            out[key] = _give_back(value, self.forms[key])
        out.update(self.extra)
        return out


def _form(value: Any) -> str:
    if isinstance(value, (Mask, Boxes, Keypoints)):
        return "object"
    if isinstance(value, np.ndarray):
        return "numpy"
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (torch.Tensor, np.ndarray)):
        return "list-numpy" if isinstance(value[0], np.ndarray) else "list"
    return "tensor" if isinstance(value, torch.Tensor) else "list-python"


def _give_back(value: Any, form: str) -> Any:
    if form == "object":
        return value
    if isinstance(value, Mask):
        data = value.data
        if form.startswith("list"):
            return list(data.split(value.offsets.diff().tolist())) if value.offsets is not None else [data]
        return data
    if isinstance(value, Keypoints):
        data = value.with_visibility() if form.endswith("3") else value.data
        form = form.removesuffix("3")
        value = list(data.split(value.counts.tolist())) if value.batched and form.startswith("list") else data
    elif isinstance(value, Boxes):
        value = value.to_list() if value.batched and form.startswith("list") else value.data
    elif isinstance(value, Labels):
        value = value.to_list() if value.batched and form.startswith("list") else value.data
    if form in ("numpy", "list-numpy"):
        return [v.numpy() for v in value] if isinstance(value, list) else value.numpy()
    if form == "list-python":
        return value.tolist()
    return value


@dataclass(frozen=True, eq=False)
class Labels(Packed):
    """Labels (or any per-box field) packed like the boxes they follow."""

    def select(self, keep: torch.Tensor, offsets: torch.Tensor | None = None) -> Labels:
        return self._select_rows(keep, offsets)


def parse_sample(image: Any, targets: dict[str, Any]) -> tuple[Sample, ImageSpec]:
    """The canonical sample of ``image`` (a dict with ``"image"``, or an image) and keyword
    ``targets``, checked against the image."""
    targets = {k: v for k, v in targets.items() if v is not None}
    if isinstance(image, dict):
        if targets:
            raise TypeError("pass the targets inside the sample dict or as keywords, not both")
        if "image" not in image:
            raise ValueError(f"a sample dict needs an 'image' key; got keys {sorted(image)}")
        given = dict(image)
        image = given.pop("image")
    else:
        given = targets
    spec = inspect_image(image)
    extra_keys = set(given) - set(TARGET_KEYS)
    if "boxes" not in given:  # without boxes, "labels" is the image's class: it passes through
        extra_keys |= set(BOX_FIELDS) & set(given)
    extra = {k: given[k] for k in given if k in extra_keys}
    found = {k: given[k] for k in TARGET_KEYS if k in given and k not in extra_keys}
    forms: dict[str, str] = {}
    canonical: dict[str, Any] = {}
    boxes_offsets = None
    for key in ("boxes", "keypoints", *BOX_FIELDS, "masks", "mask"):
        if key not in found:
            continue
        value = found[key]
        forms[key] = _form(value)
        if key == "boxes":
            canonical[key] = _boxes(value, spec)
            boxes_offsets = canonical[key].offsets
        elif key == "keypoints":
            canonical[key] = _keypoints(value, spec)
            first = value[0] if forms[key] in ("list", "list-numpy") else value
            if forms[key] != "object" and to_tensor(first, key).shape[-1] == 3:
                forms[key] += "3"
        elif key in BOX_FIELDS:
            canonical[key] = _labels(value, spec, boxes_offsets, key)
        else:
            canonical[key] = _mask(value, spec, instance=key == "masks", offsets=boxes_offsets)
    _check_aligned(canonical)
    return Sample(image, canonical, forms, extra), spec


def _batch_rows(value: Any, spec: ImageSpec, key: str) -> bool:
    """Whether ``value`` is one entry per image of a batch (a list), checked against the batch size."""
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (torch.Tensor, np.ndarray)):
        if not spec.batched:
            raise ValueError(f"{key} is a list of {len(value)} tensors but the image is a single image; "
                             f"pass one {key} tensor")
        if len(value) != spec.n:
            raise ValueError(f"{key} has entries for {len(value)} images but the batch holds {spec.n}")
        return True
    return False


def _boxes(value: Any, spec: ImageSpec) -> Boxes:
    boxes = _packed(Boxes, value, spec, "boxes")
    if boxes.batched and boxes.num_images != spec.n:
        raise ValueError(f"boxes hold {boxes.num_images} images but the batch holds {spec.n}")
    return boxes


def _keypoints(value: Any, spec: ImageSpec) -> Keypoints:
    return _packed(Keypoints, value, spec, "keypoints")


def _packed(kind: type, value: Any, spec: ImageSpec, key: str) -> Any:
    """``value`` as ``kind`` (:class:`Boxes` or :class:`Keypoints`) on its image's canvas."""
    if isinstance(value, kind):
        rows = value if value.canvas_size is not None else dataclasses.replace(value, canvas_size=spec.size)
    elif _batch_rows(value, spec, key):
        rows = kind.from_list(value, canvas_size=spec.size)
    else:
        rows = kind(value, canvas_size=spec.size)
    if rows.canvas_size != spec.size:
        raise ValueError(f"{key} have canvas_size {rows.canvas_size} but their image is {spec.size}")
    if spec.batched and not rows.batched:
        raise ValueError(f"{key} of a batch of {spec.n} images need offsets ({kind.__name__}.from_list or "
                         f"one tensor per image)")
    return rows


def _labels(value: Any, spec: ImageSpec, offsets: torch.Tensor | None, key: str) -> Labels:
    if _batch_rows(value, spec, key):
        rows = [to_tensor(v, f"{key}[{i}]") for i, v in enumerate(value)]
        counts = torch.tensor([len(r) for r in rows])
        return Labels(torch.cat(rows), offsets=torch.cat([counts.new_zeros(1), counts.cumsum(0)]))
    return Labels(to_tensor(value, key), offsets=offsets)


def _mask(value: Any, spec: ImageSpec, instance: bool, offsets: torch.Tensor | None) -> Mask:
    name = "masks" if instance else "mask"
    if isinstance(value, Mask):
        mask = value
    elif instance and _batch_rows(value, spec, name):
        rows = [to_tensor(v, f"{name}[{i}]") for i, v in enumerate(value)]
        counts = torch.tensor([len(r) for r in rows])
        mask = Mask(torch.cat(rows), instance=True, offsets=torch.cat([counts.new_zeros(1), counts.cumsum(0)]))
    else:
        mask = Mask(value, instance=instance, offsets=offsets if instance else None)
    if instance and not mask.instance:
        mask = Mask(mask.data, mask.fill, True, offsets=mask.offsets)
    if instance and spec.batched and mask.offsets is None:
        mask = Mask(mask.data, mask.fill, True, offsets=offsets)
    if mask.size != spec.size:
        raise ValueError(f"{name} has size {mask.size} (shape {tuple(mask.data.shape)}) but its image is {spec.size}")
    if isinstance(mask.data, np.ndarray) != (spec.kind is not Kind.TENSOR):
        raise TypeError(f"{name} must be of its image's kind: a tensor next to a tensor, an array next to an "
                        f"array or PIL image; got {type(mask.data).__name__}")
    if not instance and spec.kind is Kind.TENSOR:
        expected = 3 if spec.batched else 2
        if mask.data.ndim not in (expected, expected + 1) or (spec.batched and mask.data.shape[0] != spec.n):
            shape = "B x H x W or B x C x H x W" if spec.batched else "H x W or C x H x W"
            raise ValueError(f"mask of a {'batch' if spec.batched else 'CHW image'} must be {shape}; "
                             f"got shape {tuple(mask.data.shape)}")
    if instance and mask.data.ndim != 3:
        raise ValueError(f"masks (instance masks) must be N x H x W; got shape {tuple(mask.data.shape)}")
    return mask


def _check_aligned(targets: dict[str, Any]) -> None:
    boxes = targets.get("boxes")
    for key in (*BOX_FIELDS, "masks", "keypoints"):
        value = targets.get(key)
        if boxes is not None and value is not None and len(value.data) != len(boxes.data):
            raise ValueError(f"{key} has {len(value.data)} entries but there are {len(boxes.data)} boxes; "
                             f"{key} must follow the boxes one to one")


# -- moving targets with a transform -------------------------------------------------------------


def move_targets(transform: Any, spec: ImageSpec, params: Any, targets: dict[str, Any]) -> dict[str, Any]:
    """The targets after ``transform`` with ``params`` on an image of ``spec`` (the same draws)."""
    applied = params.applied
    if applied is not None and spec.n == 1 and spec.device.type == "cpu" and not applied.item():
        return targets  # one CPU image the transform leaves alone (its coin read as a number: no sync)
    matrix = transform._point_matrix(spec, params)
    if matrix is None:  # pixel values only
        return targets
    if applied is not None and not (spec.n == 1 and spec.device.type == "cpu"):
        eye = torch.eye(3, dtype=matrix.dtype, device=matrix.device)
        matrix = torch.where(applied.view(-1, 1, 1).to(matrix.device), matrix, eye)
    size = transform.output_size(spec.size, params)
    moved = {}
    for key, value in targets.items():
        if isinstance(value, (Boxes, Keypoints)):
            moved[key] = value.transformed(matrix, size)
        elif isinstance(value, Mask):
            moved[key] = _move_mask(transform, value, spec, params, size, matrix)
        else:
            moved[key] = value
    if not transform.keeps_axes and "boxes" in moved and isinstance(moved.get("masks"), Mask):
        moved["boxes"] = _boxes_from_masks(moved["boxes"], moved["masks"], matrix)
    return moved


def _boxes_from_masks(boxes: Boxes, masks: Mask, matrix: torch.Tensor) -> Boxes:
    """After a rotation, shear or perspective, each box as the box of its moved instance mask
    (tighter than the box of its moved corners); boxes whose mask left the image, and those of
    images whose map keeps the axes (a flip, a shift, or left alone), keep theirs."""
    if boxes.format == "cxcywhr":
        return boxes
    data = masks.data if isinstance(masks.data, torch.Tensor) else torch.from_numpy(masks.data)
    from_masks, found = masks_to_boxes(data)
    turns = (matrix[:, 0, 1] != 0) | (matrix[:, 1, 0] != 0) | (matrix[:, 2, :2] != 0).any(-1)
    found = found & (turns[boxes.image_index()] if len(matrix) > 1 else turns[0]).to(found.device)
    pixels = boxes.to_pixels()
    xyxy = convert_box_format(pixels.data, boxes.format, "xyxy")
    # the box as if nothing were clipped: the mask's box grown by what clipping cut off each side
    cut = convert_box_format(pixels.unclipped, boxes.format, "xyxy") - xyxy
    found = found[:, None]
    tight = torch.where(found, from_masks.to(xyxy.dtype), xyxy)
    out = pixels.derived(data=convert_box_format(tight, "xyxy", boxes.format),
                         unclipped=convert_box_format(torch.where(found, tight + cut, xyxy + cut), "xyxy", boxes.format))
    return out.to_normalized() if boxes.normalized else out


def _move_mask(transform: Any, mask: Mask, spec: ImageSpec, params: Any, size: tuple[int, int],
               matrix: torch.Tensor) -> Mask:
    """``mask`` through the transform's own geometry with nearest sampling: its nearest view for
    transforms that only move pixels; for those that also change values (the policies), one
    nearest warp by the point ``matrix``."""
    if transform.reads_values:
        view, params = _MatrixWarp(size), _pixel_matrix(matrix)
    else:
        view = nearest_view(transform)
        if not transform.samples_outside and not mask.instance and mask.data.dtype in _ONE_BYTE:
            return mask.with_data(_as_is(view, mask.data, spec, params))
    data = mask.data
    if isinstance(data, np.ndarray):  # next to an array or PIL image: the array kernels
        hwc = np.moveaxis(data, 0, -1) if mask.instance else data
        if hwc.size == 0:
            return mask.with_data(np.zeros((0, *size) if mask.instance else (*size, *hwc.shape[2:]), data.dtype))
        planes, restore = to_planes(hwc, "hwc")
        out = restore(view._apply_checked(planes, inspect_image(planes), params), mask.fill)
        return mask.with_data(np.ascontiguousarray(np.moveaxis(out, -1, 0)) if mask.instance else out)
    if mask.instance and spec.batched:  # every instance with the params of its image
        index = (torch.zeros(len(data), dtype=torch.int64, device=data.device) if mask.offsets is None
                 else torch.repeat_interleave(torch.arange(len(mask.offsets) - 1, device=data.device),
                                              mask.offsets.diff(), output_size=len(data)))
        chw, params = data[:, None], params[index]
    elif mask.instance or not spec.batched:
        chw = data[None] if data.ndim == 2 else data
        chw = chw[None] if mask.instance else chw
    else:
        chw = data[:, None] if data.ndim == 3 else data
    if chw.numel() == 0:
        out = chw.new_zeros((*chw.shape[:-2], *size))
    else:
        planes, restore = to_planes(chw, "chw")
        out = restore(view._apply_checked(planes, inspect_image(planes), params), mask.fill)
    if mask.instance:
        out = out[:, 0] if spec.batched else out[0]
    elif not spec.batched and data.ndim == 2:
        out = out[0]
    elif spec.batched and data.ndim == 3:
        out = out[:, 0]
    return mask.with_data(out)


_ONE_BYTE = (torch.uint8, torch.bool, np.dtype(np.uint8), np.dtype(np.bool_))


def _as_is(view: Any, data: Any, spec: ImageSpec, params: Any) -> Any:
    """A one-byte mask through a transform that brings in nothing from outside: the image path
    itself, with no byte planes and no fill."""
    array = isinstance(data, np.ndarray)
    image = data.view(np.uint8) if array else data.view(torch.uint8)
    if not array:
        image = image[None] if image.ndim == 2 else image
        image = image[:, None] if spec.batched and data.ndim == 3 else image
    out = view._apply_checked(image, inspect_image(image), params)
    if not array:
        out = out[:, 0] if spec.batched and data.ndim == 3 else (out[0] if data.ndim == 2 else out)
    return out.view(np.bool_ if data.dtype == np.bool_ else np.uint8) if array else out.view(data.dtype)


def _pixel_matrix(matrix: torch.Tensor) -> Any:
    """Continuous-coordinate maps as the image warps' pixel-centre ``(n, 2, 3)`` matrices, wrapped
    as the params of :class:`_MatrixWarp`."""
    return _WarpParams(matrix=to_pixel_centres(matrix)[:, :2])


@dataclass(frozen=True, kw_only=True)
class _WarpParams(Params):
    matrix: torch.Tensor


class _MatrixWarp:
    """A nearest warp by given matrices, for masks next to transforms that also change values."""

    interpolation, fill, reads_values = "nearest", 0.0, False

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size

    def _apply_checked(self, planes: Any, spec: ImageSpec, params: Any) -> Any:
        from .. import functional as F

        if isinstance(planes, np.ndarray):
            return F.affine_numpy(planes, params.matrix[0], "nearest", 0.0, self.size)
        return F.affine_tensor(planes if spec.batched else planes[None], params.matrix, "nearest", 0.0,
                               self.size)[slice(None) if spec.batched else 0]
