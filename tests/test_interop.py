"""Targets interop: COCO (RLE, polygons, keypoints), YOLO label files and torchvision tv_tensors,
round trips exact and masks compared with pycocotools."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

import augkit
from augkit.targets import Boxes, Keypoints, Mask, interop
from augkit.targets.rle import (decode_rle, encode_rle, mask_to_polygons, polygons_to_mask, rle_from_string,
                                rle_to_string)

tv_tensors = pytest.importorskip("torchvision.tv_tensors")
# pycocotools 2.0 under NumPy 2 warns about its own __array__ use
PYCOCOTOOLS_WARNING = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _blobs(rng: np.random.Generator, n: int, size: tuple[int, int]) -> np.ndarray:
    """``n`` instance masks of random filled ellipses and rectangles (no holes)."""
    h, w = size
    masks = np.zeros((n, h, w), np.uint8)
    for m in masks:
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        if rng.random() < 0.5:
            cv2.ellipse(m, centre, (int(rng.integers(1, 12)), int(rng.integers(1, 12))), float(rng.uniform(0, 180)),
                        0, 360, 1, -1)
        else:
            cv2.rectangle(m, centre, (centre[0] + int(rng.integers(0, 9)), centre[1] + int(rng.integers(0, 9))), 1, -1)
    return masks


def _random_polygon(rng: np.random.Generator) -> list[float]:
    k = int(rng.integers(3, 9))
    angles = np.sort(rng.uniform(0, 2 * np.pi, k))
    radius = rng.uniform(2, 12, k)
    centre = rng.uniform(8, 32, 2)
    points = np.stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)], 1)
    return np.round(points, 2).ravel().tolist()


# -- RLE and polygons ----------------------------------------------------------------------------

def test_rle_strings_decode_counts_and_back():
    rng = np.random.default_rng(0)
    for _ in range(100):
        counts = [int(rng.integers(0, 5))] + rng.integers(1, 3000, int(rng.integers(0, 12))).tolist()
        assert rle_from_string(rle_to_string(counts)) == counts
    # hand-made: a 3 x 4 mask whose runs down the columns are 4 zeros, 2 ones, 1 zero, 2 ones, 3 zeros
    mask = np.zeros((3, 4), np.uint8)
    mask[1:, 1:3] = 1
    assert encode_rle(mask, compressed=False) == {"size": [3, 4], "counts": [4, 2, 1, 2, 3]}
    assert encode_rle(mask) == {"size": [3, 4], "counts": "42102"}
    assert np.array_equal(decode_rle({"size": [3, 4], "counts": "42102"}), mask)
    assert encode_rle(np.ones((2, 2), bool), compressed=False)["counts"] == [0, 4]


@PYCOCOTOOLS_WARNING
def test_rle_and_polygon_parity_with_pycocotools():
    coco_mask = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(1)
    for _ in range(50):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        mask = (rng.random((h, w)) < rng.random()).astype(np.uint8)
        ours, theirs = encode_rle(mask), coco_mask.encode(np.asfortranarray(mask))
        assert ours["counts"] == theirs["counts"].decode() and ours["size"] == theirs["size"]
        assert np.array_equal(decode_rle({"size": [h, w], "counts": theirs["counts"]}), mask)
    polygons = [_random_polygon(rng) for _ in range(200)]
    differing, total = 0, 0
    for polygon in polygons:
        ours = polygons_to_mask([polygon], (40, 48))
        theirs = coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects([polygon], 40, 48)))
        differing += int((ours != theirs).sum())
        total += int(theirs.sum())
        assert (ours != theirs).sum() <= 6  # a pixel or two along an edge at most
    assert differing / total < 0.005, differing / total


@PYCOCOTOOLS_WARNING
def test_mask_to_polygons_rasterizes_back_to_the_same_mask():
    coco_mask = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(2)
    for mask in _blobs(rng, 60, (30, 34)):
        polygons = mask_to_polygons(mask)
        assert np.array_equal(polygons_to_mask(polygons, mask.shape), mask)
        if polygons:
            rle = coco_mask.merge(coco_mask.frPyObjects(polygons, *mask.shape))
            assert np.array_equal(coco_mask.decode(rle), mask)
    single = np.zeros((5, 5), np.uint8)
    single[2, 3] = 1  # one pixel keeps an area
    assert np.array_equal(polygons_to_mask(mask_to_polygons(single), (5, 5)), single)


def test_polygons_follow_the_pixel_centre_convention():
    mask = polygons_to_mask([[1, 1, 5, 1, 5, 4, 1, 4]], (6, 7))  # the pixels [1, 5) x [1, 4)
    expected = np.zeros((6, 7), np.uint8)
    expected[1:4, 1:5] = 1
    assert np.array_equal(mask, expected)
    assert not polygons_to_mask([[-9, -9, -5, -9, -5, -5]], (4, 4)).any()  # wholly outside


def test_bad_rle_and_polygons_raise_naming_the_field():
    with pytest.raises(ValueError, match="counts.*add up to"):
        decode_rle({"size": [2, 2], "counts": [1, 2]})
    with pytest.raises(ValueError, match="size"):
        decode_rle({"counts": [4]})
    with pytest.raises(ValueError, match="counts string"):
        rle_from_string("4~")
    with pytest.raises(ValueError, match="polygon 0"):
        polygons_to_mask([[1, 2, 3, 4]], (5, 5))


# -- COCO ----------------------------------------------------------------------------------------

def _coco(rng: np.random.Generator, size=(36, 44)) -> dict:
    h, w = size
    masks = _blobs(rng, 4, size)
    annotations = []
    for i, m in enumerate(masks):
        ys, xs = np.nonzero(m)
        bbox = [float(xs.min()), float(ys.min()), float(xs.max() + 1 - xs.min()), float(ys.max() + 1 - ys.min())]
        crowd = int(i == 3)
        keypoints = []
        for k in range(3):
            v = int(rng.integers(0, 3))
            keypoints += [int(rng.integers(0, w)), int(rng.integers(0, h)), v] if v else [0, 0, 0]
        annotations.append({"id": i + 1, "image_id": 7, "category_id": 1 + i % 2, "bbox": bbox,
                            "area": float(m.sum()), "iscrowd": crowd,
                            "segmentation": encode_rle(m, compressed=not crowd),
                            "keypoints": keypoints, "num_keypoints": sum(v > 0 for v in keypoints[2::3])})
    categories = [{"id": c, "name": f"thing{c}", "keypoints": ["nose", "left_eye", "right_eye"],
                   "skeleton": [[1, 2], [1, 3]]} for c in (1, 2)]
    return {"images": [{"id": 7, "file_name": "seven.png", "height": h, "width": w}],
            "annotations": annotations, "categories": categories}, masks


def test_coco_to_sample_and_back_is_exact():
    coco, masks = _coco(np.random.default_rng(3))
    image = np.zeros((36, 44, 3), np.uint8)
    sample = interop.from_coco(coco, 7, image)
    assert isinstance(sample["boxes"], Boxes) and sample["boxes"].format == "xywh"
    assert np.array_equal(sample["masks"].data, masks) and sample["masks"].instance
    points = sample["keypoints"]
    assert points.names == ("nose", "left_eye", "right_eye") and points.flip_map == (0, 2, 1)
    assert sample["skeleton"] == [(0, 1), (0, 2)] and sample["labels"].tolist() == [1, 2, 1, 2]
    back = interop.to_coco([sample], coco["categories"], segmentation="rle")
    crowd = interop.to_coco([sample], coco["categories"], segmentation="auto")["annotations"][3]
    for annotation in coco["annotations"]:
        if annotation["iscrowd"]:
            assert crowd == annotation  # crowd regions as uncompressed RLE, as COCO's files
            annotation["segmentation"] = encode_rle(masks[3])
    assert back == coco


@PYCOCOTOOLS_WARNING
def test_coco_polygons_decode_as_pycocotools_and_come_back_as_the_same_masks():
    rng = np.random.default_rng(4)
    polygons = [_random_polygon(rng) for _ in range(3)]
    coco = {"images": [{"id": 1, "height": 40, "width": 48}],
            "annotations": [{"id": i, "image_id": 1, "category_id": 5, "bbox": [0, 0, 4, 4], "segmentation": [p]}
                            for i, p in enumerate(polygons)]}
    sample = interop.from_coco(coco, 1, torch.zeros(3, 40, 48, dtype=torch.uint8))
    masks = sample["masks"].data
    assert isinstance(masks, torch.Tensor) and masks.shape == (3, 40, 48)  # a tensor next to a tensor image
    coco_mask = pytest.importorskip("pycocotools.mask")
    for polygon, mask in zip(polygons, masks.numpy()):
        theirs = coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects([polygon], 40, 48)))
        assert (theirs != mask).sum() <= 6
    again = interop.from_coco(interop.to_coco([sample]), 1, torch.zeros(3, 40, 48, dtype=torch.uint8))
    assert torch.equal(again["masks"].data, masks)


def test_a_coco_sample_goes_through_a_transform():
    coco, _ = _coco(np.random.default_rng(5))
    sample = interop.from_coco(coco, 7, np.zeros((36, 44, 3), np.uint8))
    out = augkit.Compose([augkit.HorizontalFlip(p=1.0), augkit.SanitizeBoxes()])(sample)
    flipped = interop.to_coco([out], coco["categories"], segmentation="rle")
    for before, after in zip(coco["annotations"], flipped["annotations"]):
        x, y, w, h = before["bbox"]
        assert after["bbox"] == pytest.approx([44 - x - w, y, w, h])
        assert np.array_equal(decode_rle(after["segmentation"]), decode_rle(before["segmentation"])[:, ::-1])
    eyes = [np.reshape(a["keypoints"], (-1, 3)) for a in coco["annotations"]]
    moved = [np.reshape(a["keypoints"], (-1, 3)) for a in flipped["annotations"]]
    for e, m in zip(eyes, moved):  # left and right eyes swap, with their visibility
        assert m[0, 2] == e[0, 2]
        assert (m[1, 2], m[2, 2]) == (e[2, 2], e[1, 2]) or e[1, 2] == e[2, 2]


def test_from_coco_reads_the_image_file(tmp_path):
    coco, _ = _coco(np.random.default_rng(6))
    cv2.imwrite(str(tmp_path / "seven.png"), np.full((36, 44, 3), 9, np.uint8))
    path = tmp_path / "ann.json"
    import json

    path.write_text(json.dumps(coco))
    sample = interop.from_coco(path, 7, images_dir=tmp_path)
    assert sample["image"].shape == (36, 44, 3) and sample["file_name"] == "seven.png"


def test_bad_coco_input_raises_naming_the_field():
    coco, _ = _coco(np.random.default_rng(7))
    image = np.zeros((36, 44, 3), np.uint8)
    with pytest.raises(ValueError, match="image_id 3"):
        interop.from_coco(coco, 3, image)
    with pytest.raises(ValueError, match="36 x 44"):
        interop.from_coco(coco, 7, np.zeros((10, 10, 3), np.uint8))
    coco["annotations"][0]["bbox"] = [1, 2, 3]
    with pytest.raises(ValueError, match="'bbox' must have 4"):
        interop.from_coco(coco, 7, image)
    coco["annotations"][0]["bbox"] = [1, 2, 3, 4]
    coco["annotations"][1]["keypoints"] = [1, 2]
    with pytest.raises(ValueError, match="'keypoints' must have 3 x 3"):
        interop.from_coco(coco, 7, image)
    coco["annotations"][1]["keypoints"] = [0] * 9
    coco["annotations"][2]["segmentation"] = "nope"
    with pytest.raises(ValueError, match="'segmentation' must be"):
        interop.from_coco(coco, 7, image)
    with pytest.raises(ValueError, match="'annotations' list"):
        interop.load_coco({"images": []})
    with pytest.raises(ValueError, match="segmentation must be"):
        interop.to_coco([], segmentation="mask")


# -- YOLO ----------------------------------------------------------------------------------------

def test_yolo_detect_and_pose_round_trips_are_exact(tmp_path):
    text = "0 0.481719 0.634028 0.690625 0.713278\n12 0.100000 0.200000 0.050000 0.075000\n"
    sample = interop.parse_yolo(text, (480, 640))
    assert sample["labels"].tolist() == [0, 12]
    xyxy = sample["boxes"].convert("xyxy").to_pixels().data
    assert xyxy[1].tolist() == pytest.approx([48.0, 78.0, 80.0, 114.0])
    assert interop.format_yolo(sample) == text
    pose = "1 0.500000 0.500000 0.200000 0.400000 0.450000 0.400000 2 0.550000 0.400000 1 0.000000 0.000000 0\n"
    sample = interop.parse_yolo(pose, image=np.zeros((100, 200, 3), np.uint8), task="pose", keypoint_shape=(3, 3),
                                keypoint_names=["nose", "left_eye", "right_eye"])
    assert sample["keypoints"].data[0, 0].tolist() == pytest.approx([90.0, 40.0])
    assert sample["keypoints"].visibility.tolist() == [[2, 1, 0]] and sample["keypoints"].flip_map == (0, 2, 1)
    interop.write_yolo(tmp_path / "a.txt", sample)
    assert (tmp_path / "a.txt").read_text() == pose
    again = interop.read_yolo(tmp_path / "a.txt", image=sample["image"], task="pose", keypoint_shape=(3, 3))
    assert torch.equal(again["keypoints"].data, sample["keypoints"].data)
    two = "0 0.5 0.5 0.2 0.2 0.25 0.75\n"
    assert interop.format_yolo(interop.parse_yolo(two, (8, 8), task="pose", keypoint_shape=(1, 2)), visibility=False,
                               decimals=2) == "0 0.50 0.50 0.20 0.20 0.25 0.75\n"


def test_yolo_seg_polygons_become_masks_and_come_back():
    rng = np.random.default_rng(8)
    lines = []
    for c in range(3):
        polygon = np.asarray(_random_polygon(rng)).reshape(-1, 2) / (48, 40)
        lines.append(" ".join([str(c)] + [f"{v:.6f}" for v in polygon.ravel()]))
    sample = interop.parse_yolo("\n".join(lines), (40, 48), task="seg")
    masks = sample["masks"].data
    assert masks.shape == (3, 40, 48) and isinstance(masks, np.ndarray)
    xyxy = sample["boxes"].convert("xyxy").to_pixels().data
    ys, xs = np.nonzero(masks[0])
    assert xyxy[0, 0] <= xs.min() + 0.5 and xyxy[0, 2] >= xs.max() + 0.5
    again = interop.parse_yolo(interop.format_yolo(sample), (40, 48), task="seg")
    assert np.array_equal(again["masks"].data, masks) and again["labels"].tolist() == [0, 1, 2]


def test_bad_yolo_input_raises_naming_the_line():
    with pytest.raises(ValueError, match="line 2 .* 5 values"):
        interop.parse_yolo("0 0.5 0.5 0.1 0.1\n1 0.5 0.5 0.1\n", (10, 10))
    with pytest.raises(ValueError, match="line 1 class"):
        interop.parse_yolo("0.5 0.5 0.5 0.1 0.1", (10, 10))
    with pytest.raises(ValueError, match="keypoint_shape"):
        interop.parse_yolo("0 0.5 0.5 0.1 0.1", (10, 10), task="pose")
    with pytest.raises(ValueError, match="polygon of n >= 3"):
        interop.parse_yolo("0 0.5 0.5 0.1 0.1", (10, 10), task="seg")
    with pytest.raises(ValueError, match="task must be"):
        interop.parse_yolo("", (10, 10), task="obb")
    with pytest.raises(ValueError, match="canvas_size"):
        interop.parse_yolo("0 0.5 0.5 0.1 0.1")
    with pytest.raises(ValueError, match="labels has 1 entries but there are 2 boxes"):
        interop.format_yolo({"boxes": Boxes(torch.zeros(2, 4), canvas_size=(4, 4)), "labels": torch.tensor([1])})


# -- torchvision tv_tensors ----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["XYXY", "XYWH", "CXCYWH", "CXCYWHR", "XYWHR", "XYXYXYXY"])
def test_bounding_boxes_both_ways(fmt):
    from torchvision.transforms.v2 import functional as F

    rng = np.random.default_rng(9)
    rotated = torch.tensor(np.c_[rng.uniform(20, 40, (5, 2)), rng.uniform(2, 10, (5, 2)), rng.uniform(-80, 80, 5)],
                           dtype=torch.float32)
    cxcywhr = tv_tensors.BoundingBoxes(rotated, format="CXCYWHR", canvas_size=(60, 70))
    axis = tv_tensors.BoundingBoxes(torch.tensor([[2.0, 3.0, 20.0, 30.0], [0.0, 0.0, 70.0, 60.0]]), format="XYXY",
                                    canvas_size=(60, 70))
    source = F.convert_bounding_box_format(cxcywhr if "R" in fmt or fmt == "XYXYXYXY" else axis, new_format=fmt)
    boxes = interop.from_tv_tensors(source)
    assert isinstance(boxes, Boxes) and boxes.canvas_size == (60, 70)
    back = interop.to_tv_tensors(boxes, box_format=fmt)
    assert isinstance(back, tv_tensors.BoundingBoxes) and back.format.name == fmt
    if fmt in ("XYXY", "XYWH", "CXCYWH", "CXCYWHR"):
        assert boxes.format == fmt.lower() and torch.equal(back.as_subclass(torch.Tensor), source.as_subclass(torch.Tensor))
    else:  # through augkit's cxcywhr
        assert boxes.format == "cxcywhr"
        torch.testing.assert_close(back.as_subclass(torch.Tensor), source.as_subclass(torch.Tensor), atol=1e-4, rtol=0)
    ours = Boxes(torch.tensor([[0.1, 0.2, 0.5, 0.5]]), normalized=True, canvas_size=(10, 20))
    assert interop.to_tv_tensors(ours).tolist()[0] == pytest.approx([2.0, 2.0, 10.0, 5.0])  # torchvision: pixels


def test_a_torchvision_sample_both_ways_and_through_a_transform():
    from torchvision.transforms import v2

    image = tv_tensors.Image(torch.randint(0, 256, (3, 32, 48), dtype=torch.uint8))
    sample = {"image": image, "labels": torch.tensor([1, 2]),
              "boxes": tv_tensors.BoundingBoxes([[4.0, 4.0, 20.0, 16.0], [30.0, 10.0, 46.0, 30.0]], format="XYXY",
                                                canvas_size=(32, 48)),
              "masks": tv_tensors.Mask(torch.zeros(2, 32, 48, dtype=torch.uint8)),
              "mask": tv_tensors.Mask(torch.ones(32, 48, dtype=torch.uint8)),
              "keypoints": tv_tensors.KeyPoints(torch.tensor([[[5.0, 6.0], [7.0, 8.0]], [[31.0, 11.0], [40.0, 20.0]]]),
                                                canvas_size=(32, 48))}
    ours = interop.from_tv_tensors(sample)
    assert type(ours["image"]) is torch.Tensor and ours["masks"].instance and not ours["mask"].instance
    assert isinstance(ours["keypoints"], Keypoints) and ours["keypoints"].data.shape == (2, 2, 2)
    back = interop.to_tv_tensors(ours)
    for key, value in sample.items():
        assert type(back[key]) is type(value) and torch.equal(back[key].as_subclass(torch.Tensor), value.as_subclass(torch.Tensor)), key
    flipped_ours = interop.to_tv_tensors(augkit.HorizontalFlip(p=1.0)(ours))
    flipped_theirs = v2.RandomHorizontalFlip(p=1.0)(sample)
    # torchvision flips keypoints as pixel indices (x -> W - 1 - x), augkit's are continuous (x -> W - x)
    assert torch.equal(flipped_ours["keypoints"][..., 0], 48 - sample["keypoints"][..., 0])
    for key in ("image", "boxes", "masks", "mask"):
        torch.testing.assert_close(flipped_ours[key].as_subclass(torch.Tensor).float(),
                                   flipped_theirs[key].as_subclass(torch.Tensor).float(), atol=1e-3, rtol=0)
    batch = interop.to_tv_tensors(Boxes.from_list([torch.zeros(1, 4), torch.zeros(2, 4)], canvas_size=(8, 8)))
    assert [len(b) for b in batch] == [1, 2]
    assert interop.from_tv_tensors(tv_tensors.KeyPoints(torch.zeros(4, 2), canvas_size=(8, 8))).data.shape == (4, 1, 2)
    with pytest.raises(ValueError, match="KeyPoints must be"):
        interop.from_tv_tensors(tv_tensors.KeyPoints(torch.zeros(1, 2, 3, 2), canvas_size=(8, 8)))
    with pytest.raises(ValueError, match="canvas_size"):
        interop.to_tv_tensors(Boxes(torch.zeros(1, 4)))
    assert isinstance(interop.to_tv_tensors(Mask(np.zeros((4, 4), np.uint8))), tv_tensors.Mask)


def test_coco_iscrowd_follows_its_boxes_through_sanitize():
    import augkit
    from augkit.targets import from_coco

    coco = {"images": [{"id": 1, "width": 40, "height": 30, "file_name": "a.jpg"}],
            "categories": [{"id": 3, "name": "cat"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [2, 2, 10, 10], "iscrowd": 1},
                            {"id": 2, "image_id": 1, "category_id": 3, "bbox": [5, 5, 0.2, 4], "iscrowd": 0}]}
    import numpy as np
    sample = from_coco(coco, 1, image=np.zeros((30, 40, 3), np.uint8))
    out = augkit.SanitizeBoxes()(sample)
    assert out["iscrowd"].tolist() == [1] and len(out["boxes"]) == 1
