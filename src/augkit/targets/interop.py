"""Targets from and to other libraries' forms: torchvision ``tv_tensors``, COCO annotation dicts
(as pycocotools reads them) and YOLO label files.

* :func:`from_tv_tensors` / :func:`to_tv_tensors`: ``BoundingBoxes`` (every format; ``XYWHR`` and
  ``XYXYXYXY`` become augkit's rotated ``cxcywhr``), ``Mask``, ``KeyPoints`` and ``Image``, one
  value or a whole torchvision v2 sample dict.
* :func:`from_coco` / :func:`to_coco`: one image's annotations as a sample dict (``bbox`` xywh,
  ``segmentation`` polygons or RLE as instance masks, ``keypoints`` with their category's names,
  ``iscrowd``), and samples back to a COCO dict.
* :func:`parse_yolo` / :func:`format_yolo` (:func:`read_yolo` / :func:`write_yolo` for files):
  ``class cx cy w h`` (normalized), YOLO-pose ``class cx cy w h x1 y1 [v1] ...`` and YOLO-seg
  ``class x1 y1 x2 y2 ...`` polygons.

>>> from augkit.targets import interop
>>> sample = interop.parse_yolo("3 0.5 0.5 0.25 0.5", canvas_size=(40, 80))
>>> sample["boxes"].convert("xyxy").to_pixels().data.tolist(), sample["labels"].tolist()
([[30.0, 10.0, 50.0, 30.0]], [3])
>>> interop.format_yolo(sample)
'3 0.500000 0.500000 0.250000 0.500000\\n'
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.image import Kind, inspect_image
from .boxes import Boxes
from .keypoints import Keypoints
from .mask import Mask
from .packing import to_tensor
from .rle import decode_rle, encode_rle, mask_to_polygons, polygons_to_mask
from .sample import parse_sample

__all__ = ["format_yolo", "from_coco", "from_tv_tensors", "load_coco", "parse_yolo", "read_yolo",
           "to_coco", "to_tv_tensors", "write_yolo"]

_TV_FORMATS = {"XYXY": "xyxy", "XYWH": "xywh", "CXCYWH": "cxcywh", "CXCYWHR": "cxcywhr"}


def _tv() -> tuple[Any, Any]:
    from torchvision import tv_tensors
    from torchvision.transforms.v2 import functional

    if not hasattr(tv_tensors, "KeyPoints"):  # pragma: no cover - depends on the environment
        raise ImportError("augkit.targets.interop needs torchvision >= 0.23 (tv_tensors.KeyPoints and rotated boxes)")
    return tv_tensors, functional


# -- torchvision tv_tensors ----------------------------------------------------------------------

def from_tv_tensors(value: Any, *, instance: bool = False) -> Any:
    """torchvision's ``tv_tensors`` as augkit's targets: ``BoundingBoxes`` as :class:`Boxes`
    (``XYWHR`` and ``XYXYXYXY`` converted to ``cxcywhr``), ``Mask`` as :class:`Mask` (instance
    masks under a sample's ``masks`` key, or with ``instance=True``), ``KeyPoints`` ``(N, 2)`` or
    ``(N, K, 2)`` as :class:`Keypoints` ``(N, 1 or K, 2)`` with visibility 1 (torchvision has
    none), ``Image`` as a plain tensor; other values as they are. A dict (a torchvision v2
    sample) is converted key by key.
    """
    if isinstance(value, Mapping):
        return {k: from_tv_tensors(v, instance=k == "masks") for k, v in value.items()}
    tv, F = _tv()
    if isinstance(value, tv.BoundingBoxes):
        name = value.format.name
        if name not in _TV_FORMATS:
            value = F.convert_bounding_box_format(value, new_format=tv.BoundingBoxFormat.CXCYWHR)
            name = "CXCYWHR"
        return Boxes(value.as_subclass(torch.Tensor), format=_TV_FORMATS[name], canvas_size=value.canvas_size)
    if isinstance(value, tv.KeyPoints):
        data = value.as_subclass(torch.Tensor)
        if data.ndim not in (2, 3):
            raise ValueError(f"KeyPoints must be (N, 2) or (N, K, 2) to become augkit Keypoints; got shape {tuple(data.shape)}")
        return Keypoints(data[:, None] if data.ndim == 2 else data, canvas_size=value.canvas_size)
    if isinstance(value, tv.Mask):
        return Mask(value.as_subclass(torch.Tensor), instance=instance)
    if isinstance(value, tv.TVTensor):
        return value.as_subclass(torch.Tensor)
    return value


def to_tv_tensors(value: Any, *, box_format: str | None = None) -> Any:
    """augkit's targets as torchvision's ``tv_tensors``: :class:`Boxes` as ``BoundingBoxes`` in
    pixels (in ``box_format``, e.g. ``"XYWHR"``, when given), :class:`Mask` as ``Mask``,
    :class:`Keypoints` as ``KeyPoints`` ``(N, K, 2)`` (the visibility is dropped: torchvision has
    none), an image tensor or HW/HWC array as ``Image``. Packed batches become one value per image.
    A sample dict is converted key by key (its image as ``Image``, PIL images as they are).
    """
    if isinstance(value, Mapping):
        return {k: (_tv_image(v) if k == "image" else to_tv_tensors(v, box_format=box_format)) for k, v in value.items()}
    tv, F = _tv()
    if isinstance(value, Boxes):
        if value.canvas_size is None:
            raise ValueError("boxes need a canvas_size to become BoundingBoxes")
        pixels = value.to_pixels()
        rows = pixels.to_list() if pixels.batched else [pixels.data]
        out = []
        for row in rows:
            boxes = tv.BoundingBoxes(row, format=value.format.upper(), canvas_size=value.canvas_size)
            out.append(boxes if box_format is None else
                       F.convert_bounding_box_format(boxes, new_format=tv.BoundingBoxFormat[box_format.upper()]))
        return out if pixels.batched else out[0]
    if isinstance(value, Keypoints):
        if value.canvas_size is None:
            raise ValueError("keypoints need a canvas_size to become KeyPoints")
        rows = value.to_list() if value.batched else [value.data]
        out = [tv.KeyPoints(row, canvas_size=value.canvas_size) for row in rows]
        return out if value.batched else out[0]
    if isinstance(value, Mask):
        data = torch.from_numpy(np.ascontiguousarray(value.data)) if isinstance(value.data, np.ndarray) else value.data
        if value.offsets is not None:
            return [tv.Mask(part) for part in data.split(value.offsets.diff().tolist())]
        return tv.Mask(data)
    return value


def _tv_image(image: Any) -> Any:
    tv, _ = _tv()
    if isinstance(image, np.ndarray):
        return tv.Image(torch.from_numpy(np.ascontiguousarray(image if image.ndim == 3 else image[..., None])).permute(2, 0, 1))
    return tv.Image(image) if isinstance(image, torch.Tensor) and not isinstance(image, tv.TVTensor) else image


# -- COCO ----------------------------------------------------------------------------------------

def load_coco(source: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    """A COCO annotation dict from a json file (or a dict, checked): ``images``, ``annotations``
    and ``categories`` lists."""
    coco = json.loads(Path(source).read_text(encoding="utf-8")) if not isinstance(source, Mapping) else dict(source)
    for key in ("images", "annotations"):
        if not isinstance(coco.get(key), list):
            raise ValueError(f"a COCO dict needs an {key!r} list; got {type(coco.get(key)).__name__}")
    coco.setdefault("categories", [])
    return coco


def _field(annotation: Mapping[str, Any], key: str, length: int | None = None) -> Any:
    """An annotation's field, checked for its length when ``length`` is given."""
    if key not in annotation:
        raise ValueError(f"COCO annotation {annotation.get('id')} has no {key!r}")
    value = annotation[key]
    if length is not None and (not isinstance(value, Sequence) or len(value) != length):
        raise ValueError(f"COCO annotation {annotation.get('id')} {key!r} must have {length} values; got {value!r:.80}")
    return value


def _decode_segmentation(annotation: Mapping[str, Any], size: tuple[int, int]) -> np.ndarray:
    segmentation = annotation.get("segmentation")
    if segmentation is None:
        return np.zeros(size, np.uint8)
    if isinstance(segmentation, Mapping):
        if tuple(int(v) for v in segmentation.get("size", ())) != tuple(size):
            raise ValueError(f"COCO annotation {annotation.get('id')} 'segmentation' size {segmentation.get('size')} "
                             f"differs from its image's {list(size)}")
        return decode_rle(segmentation)
    if isinstance(segmentation, (list, tuple)) and all(isinstance(p, (list, tuple)) for p in segmentation):
        return polygons_to_mask(segmentation, size)
    raise ValueError(f"COCO annotation {annotation.get('id')} 'segmentation' must be polygons [[x1, y1, ...], ...] "
                     f"or an RLE dict; got {type(segmentation).__name__}")


def from_coco(coco: str | os.PathLike | Mapping[str, Any], image_id: int, image: Any = None, *,
              images_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """The sample of one image of a COCO dict (or json file).

    Args:
        coco: ``{"images": [...], "annotations": [...], "categories": [...]}`` as pycocotools
            reads it, or the path of its json.
        image_id: the ``id`` of the image in ``images``.
        image: the image (any kind augkit takes); read from ``images_dir / file_name`` when not
            given. Its size must be the entry's ``height`` and ``width``.

    Returns ``{"image", "boxes", "labels", "iscrowd", "image_id", "file_name"}``, and
    ``"masks"`` (``Mask(instance=True)``, uint8 ``N x H x W``, a tensor next to a tensor image,
    an array otherwise) when annotations have a ``segmentation`` (polygons, uncompressed or
    compressed RLE), ``"keypoints"`` (``Keypoints`` with the category's ``keypoints`` names and so
    its left/right flip map) and ``"skeleton"`` (0-based index pairs) when they have keypoints.
    Boxes are ``xywh`` float64, as in the file. Keypoint coordinates are pixel indices in COCO;
    they get 0.5 added (detectron2's convention) to become augkit's continuous coordinates.
    ``iscrowd`` follows the boxes like ``labels`` (through :class:`~augkit.SanitizeBoxes` too);
    ``image_id`` and ``file_name`` pass through.
    """
    coco = load_coco(coco)
    entries = [e for e in coco["images"] if e.get("id") == image_id]
    if not entries:
        raise ValueError(f"image_id {image_id} is not in the COCO dict's images")
    entry = entries[0]
    size = (int(entry["height"]), int(entry["width"]))
    if image is None:
        if images_dir is None:
            raise ValueError("from_coco needs the image or images_dir to read its file_name from")
        from ..io import read_image

        image = read_image(Path(images_dir) / entry["file_name"])
    spec = inspect_image(image)
    if spec.size != size:
        raise ValueError(f"image is {spec.size[0]} x {spec.size[1]} but the COCO image {image_id} is "
                         f"{size[0]} x {size[1]} (height x width)")
    annotations = [a for a in coco["annotations"] if a.get("image_id") == image_id]
    boxes = torch.tensor([[float(v) for v in _field(a, "bbox", 4)] for a in annotations],
                         dtype=torch.float64).reshape(-1, 4)
    sample: dict[str, Any] = {
        "image": image,
        "boxes": Boxes(boxes, format="xywh", canvas_size=size),
        "labels": torch.tensor([int(_field(a, "category_id")) for a in annotations], dtype=torch.int64),
        "iscrowd": torch.tensor([int(a.get("iscrowd", 0)) for a in annotations], dtype=torch.int64),
    }
    if any("segmentation" in a for a in annotations):
        masks = np.stack([_decode_segmentation(a, size) for a in annotations]) if annotations else np.zeros((0, *size), np.uint8)
        sample["masks"] = Mask(torch.from_numpy(masks) if spec.kind is Kind.TENSOR else masks, instance=True)
    if any("keypoints" in a for a in annotations):
        sample.update(_coco_keypoints(coco, annotations, size))
    sample.update(image_id=image_id, file_name=entry.get("file_name"))
    return sample


def _coco_keypoints(coco: Mapping[str, Any], annotations: list, size: tuple[int, int]) -> dict[str, Any]:
    categories = {c["id"]: c for c in coco["categories"]}
    used = [categories.get(a["category_id"], {}) for a in annotations if "keypoints" in a]
    names = {tuple(c.get("keypoints", ())) for c in used}
    if len(names) > 1:
        raise ValueError("COCO keypoints of one image must all have the same category keypoints; got "
                         f"{sorted(len(n) for n in names)} names")
    point_names = names.pop()
    k = len(point_names) or len(next(a["keypoints"] for a in annotations if "keypoints" in a)) // 3
    rows = []
    for a in annotations:
        flat = a.get("keypoints", [0.0] * (3 * k))
        if len(flat) != 3 * k:
            raise ValueError(f"COCO annotation {a.get('id')} 'keypoints' must have 3 x {k} values; got {len(flat)}")
        rows.append(flat)
    points = torch.tensor(rows, dtype=torch.float64).reshape(-1, k, 3)
    out: dict[str, Any] = {"keypoints": Keypoints(points[..., :2] + 0.5, visibility=points[..., 2], canvas_size=size,
                                                  names=point_names or None)}
    skeleton = next((c.get("skeleton") for c in used if c.get("skeleton")), None)
    if skeleton:
        out["skeleton"] = [(int(a) - 1, int(b) - 1) for a, b in skeleton]
    return out


def to_coco(samples: Sequence[Mapping[str, Any]], categories: Sequence[Mapping[str, Any]] = (), *,
            segmentation: str = "auto", first_id: int = 1) -> dict[str, Any]:
    """A COCO dict of ``samples`` (one dict per image, as :func:`from_coco` and transforms give).

    Each image gets ``id`` (its ``image_id``, else its 1-based position), ``file_name`` when the
    sample has one, and its ``height`` and ``width``; each box an annotation numbered from
    ``first_id`` with ``bbox`` (xywh pixels), ``category_id`` (its label), ``iscrowd`` and
    ``area`` (its mask's pixel count, else the box's area); with instance masks a
    ``segmentation``: ``"polygon"`` (outer contours, see
    :func:`~augkit.targets.rle.mask_to_polygons`), ``"rle"`` (compressed strings), or ``"auto"``:
    polygons, and uncompressed RLE for crowd regions as COCO's own files; with keypoints
    ``keypoints`` (pixel indices, 0.5 taken off; ``0, 0, 0`` where the visibility is 0) and
    ``num_keypoints``.
    """
    if segmentation not in ("auto", "polygon", "rle"):
        raise ValueError(f"segmentation must be 'auto', 'polygon' or 'rle'; got {segmentation!r}")
    images, annotations = [], []
    for n, given in enumerate(samples):
        sample, spec = parse_sample(dict(given), {})
        image_id = given.get("image_id", n + 1)
        entry = {"id": image_id, "file_name": given.get("file_name"), "height": spec.size[0], "width": spec.size[1]}
        images.append({k: v for k, v in entry.items() if v is not None})
        boxes = sample.targets.get("boxes")
        if boxes is None:
            continue
        if boxes.format == "cxcywhr":
            raise ValueError("COCO boxes are axis-aligned; got rotated boxes (cxcywhr)")
        xywh = boxes.to_pixels().convert("xywh").data.double().tolist()
        labels = sample.targets["labels"].data.tolist() if "labels" in sample.targets else [0] * len(xywh)
        crowd = torch.as_tensor(given.get("iscrowd", [0] * len(xywh))).tolist()
        masks = sample.targets.get("masks")
        masks = None if masks is None else np.asarray(masks.data.cpu() if isinstance(masks.data, torch.Tensor) else masks.data)
        keypoints = sample.targets.get("keypoints")
        for i, box in enumerate(xywh):
            annotation: dict[str, Any] = {"id": first_id + len(annotations), "image_id": image_id,
                                          "category_id": int(labels[i]), "bbox": box,
                                          "area": float(masks[i].astype(bool).sum()) if masks is not None else box[2] * box[3],
                                          "iscrowd": int(crowd[i])}
            if masks is not None:
                polygons = segmentation == "polygon" or (segmentation == "auto" and not crowd[i])
                annotation["segmentation"] = (mask_to_polygons(masks[i]) if polygons
                                              else encode_rle(masks[i], compressed=segmentation == "rle"))
            if keypoints is not None:
                annotation.update(_coco_keypoint_fields(keypoints.data[i], keypoints.visibility[i]))
            annotations.append(annotation)
    return {"images": images, "annotations": annotations, "categories": [dict(c) for c in categories]}


def _coco_keypoint_fields(points: torch.Tensor, visibility: torch.Tensor) -> dict[str, Any]:
    visible = visibility > 0
    xy = torch.where(visible[:, None], points.double() - 0.5, torch.zeros_like(points, dtype=torch.float64))
    v = torch.where(visible, visibility.double(), 0.0)
    flat = torch.cat([xy, v[:, None]], 1)
    values = [int(x) if j % 3 == 2 else x for j, x in enumerate(flat.ravel().tolist())]
    return {"keypoints": values, "num_keypoints": int(visible.sum())}


# -- YOLO ----------------------------------------------------------------------------------------

_TASKS = ("detect", "pose", "seg")


def parse_yolo(text: str, canvas_size: tuple[int, int] | None = None, image: Any = None, *,
               task: str = "detect", keypoint_shape: tuple[int, int] | None = None,
               keypoint_names: Sequence[str] | None = None, flip_map: Any = None) -> dict[str, Any]:
    """The targets of a YOLO label file's ``text``: one object a line, ``class`` then values
    normalized to the image's width and height.

    Args:
        canvas_size: ``(height, width)`` of the image; taken from ``image`` when that is given
            (and then part of the returned sample).
        task: ``"detect"`` (``class cx cy w h``), ``"pose"`` (``class cx cy w h`` then ``K``
            points ``x y`` or ``x y v``, as ``keypoint_shape=(K, 2 or 3)`` says) or ``"seg"``
            (``class x1 y1 x2 y2 ...``, a polygon of at least 3 points).

    Returns ``{"boxes": Boxes (cxcywh, normalized), "labels"}``, with ``"keypoints"`` (in pixels,
    with ``keypoint_names`` / ``flip_map``) for pose and ``"masks"`` (the polygons rasterized as
    :func:`~augkit.targets.rle.polygons_to_mask` does, of ``image``'s kind, an array without one;
    the boxes enclose the polygons) for seg.
    """
    if task not in _TASKS:
        raise ValueError(f"task must be one of {', '.join(_TASKS)}; got {task!r}")
    if image is not None:
        canvas_size = inspect_image(image).size
    if canvas_size is None:
        raise ValueError("parse_yolo needs canvas_size (height, width) or the image")
    h, w = canvas_size
    k, dims = keypoint_shape if keypoint_shape is not None else (0, 2)
    if task == "pose" and (keypoint_shape is None or dims not in (2, 3) or k < 1):
        raise ValueError(f"task 'pose' needs keypoint_shape=(K, 2 or 3); got {keypoint_shape!r}")
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            raise ValueError(f"YOLO line {number} must hold numbers; got {line!r}") from None
        expected = {"detect": 5, "pose": 5 + k * dims}.get(task)
        if (expected is not None and len(values) != expected) or (task == "seg" and (len(values) < 7 or len(values) % 2 == 0)):
            want = f"{expected} values (class cx cy w h{' + keypoints' if task == 'pose' else ''})" if expected \
                else "1 + 2n values (class and a polygon of n >= 3 points)"
            raise ValueError(f"YOLO line {number} of a {task} label must have {want}; got {len(values)}")
        if values[0] != int(values[0]) or values[0] < 0:
            raise ValueError(f"YOLO line {number} class must be an integer >= 0; got {values[0]}")
        rows.append(values)
    labels = torch.tensor([int(r[0]) for r in rows], dtype=torch.int64)
    sample: dict[str, Any] = {} if image is None else {"image": image}
    if task == "seg":
        polygons = [np.asarray(r[1:], np.float64).reshape(-1, 2) * (w, h) for r in rows]
        lo = [p.min(0) for p in polygons]
        hi = [p.max(0) for p in polygons]
        xyxy = torch.tensor(np.array([[*a, *b] for a, b in zip(lo, hi)]).reshape(-1, 4), dtype=torch.float64)
        masks = np.stack([polygons_to_mask([p.ravel()], (h, w)) for p in polygons]) if rows else np.zeros((0, h, w), np.uint8)
        tensor = image is not None and inspect_image(image).kind is Kind.TENSOR
        sample["boxes"] = Boxes(xyxy, canvas_size=(h, w)).convert("cxcywh").to_normalized()
        sample["masks"] = Mask(torch.from_numpy(masks) if tensor else masks, instance=True)
    else:
        data = torch.tensor([r[1:5] for r in rows], dtype=torch.float64).reshape(-1, 4)
        sample["boxes"] = Boxes(data, format="cxcywh", normalized=True, canvas_size=(h, w))
    sample["labels"] = labels
    if task == "pose":
        points = torch.tensor([r[5:] for r in rows], dtype=torch.float64).reshape(-1, k, dims)
        xy = points[..., :2] * torch.tensor([w, h], dtype=torch.float64)
        visibility = points[..., 2] if dims == 3 else None
        sample["keypoints"] = Keypoints(xy, visibility=visibility, canvas_size=(h, w), names=keypoint_names,
                                        flip_map=flip_map)
    return sample


def format_yolo(sample: Mapping[str, Any], *, task: str | None = None, visibility: bool = True,
                decimals: int = 6) -> str:
    """A sample's targets as YOLO label text (the inverse of :func:`parse_yolo`), values with
    ``decimals`` decimals. The task is ``"pose"`` with keypoints, ``"seg"`` with instance masks
    (the largest outer contour of each, see :func:`~augkit.targets.rle.mask_to_polygons`; an
    object whose mask is empty gets no line), else ``"detect"``. Pose points are written ``x y
    v`` (``x y`` with ``visibility=False``); points with visibility 0 as ``0 0 0``, as YOLO does.
    Needs the boxes' canvas size (from :class:`Boxes` or the sample's image)."""
    boxes = sample.get("boxes")
    if boxes is None:
        raise ValueError("format_yolo needs the sample's boxes")
    size = inspect_image(sample["image"]).size if "image" in sample else getattr(boxes, "canvas_size", None)
    if size is None:
        raise ValueError("format_yolo needs the sample's image, or Boxes with a canvas_size")
    boxes = boxes if isinstance(boxes, Boxes) else Boxes(to_tensor(boxes, "boxes"), canvas_size=size)
    if boxes.format == "cxcywhr":
        raise ValueError("format_yolo needs axis-aligned boxes (xyxy, xywh or cxcywh); got cxcywhr")
    h, w = size
    keypoints, masks = sample.get("keypoints"), sample.get("masks")
    task = task or ("pose" if keypoints is not None else "seg" if masks is not None else "detect")
    if task not in _TASKS:
        raise ValueError(f"task must be one of {', '.join(_TASKS)}; got {task!r}")
    if task == "pose":
        keypoints = keypoints if isinstance(keypoints, Keypoints) else Keypoints(to_tensor(keypoints, "keypoints"))
    if task == "seg":
        masks = masks.data if isinstance(masks, Mask) else masks
        masks = masks.cpu().numpy() if isinstance(masks, torch.Tensor) else np.asarray(masks)
    cxcywh = boxes.convert("cxcywh").to_normalized().data.double().tolist()
    labels = to_tensor(sample["labels"], "labels").tolist() if "labels" in sample else [0] * len(cxcywh)
    for name, value in (("labels", labels), ("keypoints", keypoints if task == "pose" else None),
                        ("masks", masks if task == "seg" else None)):
        if value is not None and len(value) != len(cxcywh):
            raise ValueError(f"{name} has {len(value)} entries but there are {len(cxcywh)} boxes")

    def number(v: float) -> str:
        return f"{v:.{decimals}f}"

    lines = []
    for i, box in enumerate(cxcywh):
        values = box
        if task == "seg":
            polygons = mask_to_polygons(masks[i])
            if not polygons:
                continue
            values = (np.asarray(max(polygons, key=len)).reshape(-1, 2) / (w, h)).ravel().tolist()
        elif task == "pose":
            vis = keypoints.visibility[i].double()
            xy = (keypoints.data[i].double() / torch.tensor([w, h], dtype=torch.float64)) * (vis[:, None] > 0)
            values = values + torch.cat([xy, vis[:, None]], 1)[:, :3 if visibility else 2].ravel().tolist()
        fields = [number(v) for v in values]
        if task == "pose" and visibility:  # the visibility of each point as an integer
            fields[6::3] = [str(int(float(v))) for v in fields[6::3]]
        lines.append(" ".join([str(int(labels[i]))] + fields))
    return "".join(line + "\n" for line in lines)


def read_yolo(path: str | os.PathLike, canvas_size: tuple[int, int] | None = None, image: Any = None,
              **kwargs: Any) -> dict[str, Any]:
    """:func:`parse_yolo` of a label file."""
    return parse_yolo(Path(path).read_text(encoding="utf-8"), canvas_size, image, **kwargs)


def write_yolo(path: str | os.PathLike, sample: Mapping[str, Any], **kwargs: Any) -> None:
    """Write :func:`format_yolo` of ``sample`` to a label file."""
    Path(path).write_text(format_yolo(sample, **kwargs), encoding="utf-8")

