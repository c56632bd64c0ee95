"""Masks, boxes and keypoints move with their image: parity with torchvision v2, invariants, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF
from hypothesis import given
from hypothesis import strategies as st
from torchvision import tv_tensors

import augkit
from augkit import functional as F
from augkit.targets import Boxes, Keypoints, Mask
from augkit.transforms.geometry import CropParams, ResizedCropParams
from augkit.transforms.warp import AffineParams, PerspectiveParams

H, W = 48, 64


def _targets(seed: int = 0, n: int = 5):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * torch.tensor([W - 12, H - 12])
    wh = 2 + torch.rand(n, 2, generator=g) * 10
    boxes = torch.cat([xy, xy + wh], 1)
    points = torch.rand(n, 3, 2, generator=g) * torch.tensor([W, H])
    mask = torch.randint(0, 6, (H, W), generator=g, dtype=torch.uint8)
    return boxes, points, mask


def _tv(boxes, points, mask):
    return (tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(H, W)),
            tv_tensors.KeyPoints(points, canvas_size=(H, W)), tv_tensors.Mask(mask))


def _ours(transform, params, boxes, points, mask):
    image = torch.zeros(3, H, W, dtype=torch.uint8)
    return transform.apply({"image": image, "boxes": boxes, "keypoints": points, "mask": mask}, params)


def _angle_matrix(angle, translate=(0.0, 0.0), scale=1.0, shear=(0.0, 0.0)):
    m = F.affine_matrix(torch.tensor([angle]), (torch.tensor([translate[0]]), torch.tensor([translate[1]])),
                        torch.tensor([scale]), (torch.tensor([shear[0]]), torch.tensor([shear[1]])),
                        ((W - 1) * 0.5, (H - 1) * 0.5))
    return AffineParams(matrix=m)


def _centred(resize, x):
    """torchvision's resize of images and boxes; masks with NEAREST_EXACT (the pixel under each
    output centre, as augkit resizes masks: torchvision's Mask kernels take the legacy NEAREST,
    which shifts masks off their image and boxes by up to half an output pixel)."""
    if isinstance(x, tv_tensors.Mask):
        return resize(x.as_subclass(torch.Tensor)[None], TF.InterpolationMode.NEAREST_EXACT)[0]
    return resize(x, TF.InterpolationMode.BILINEAR)


CASES = {
    "hflip": (augkit.HorizontalFlip(p=1.0), lambda: augkit.HorizontalFlip(p=1.0).sample_params(torch.zeros(3, H, W)),
              lambda x: TF.horizontal_flip(x)),
    "vflip": (augkit.VerticalFlip(p=1.0), lambda: augkit.VerticalFlip(p=1.0).sample_params(torch.zeros(3, H, W)),
              lambda x: TF.vertical_flip(x)),
    "resize": (augkit.Resize((30, 50)), lambda: augkit.Resize((30, 50)).sample_params(torch.zeros(3, H, W)),
               lambda x: _centred(lambda y, mode: TF.resize(y, [30, 50], mode), x)),
    "center_crop": (augkit.CenterCrop((30, 40)), lambda: augkit.CenterCrop(1).sample_params(torch.zeros(3, H, W)),
                    lambda x: TF.center_crop(x, [30, 40])),
    "pad": (augkit.Pad((3, 4, 5, 6)), lambda: augkit.Pad(1).sample_params(torch.zeros(3, H, W)),
            lambda x: TF.pad(x, [3, 4, 5, 6])),
    "crop": (augkit.RandomCrop((30, 40)), lambda: CropParams(top=torch.tensor([7]), left=torch.tensor([11])),
             lambda x: TF.crop(x, 7, 11, 30, 40)),
    "resized_crop": (augkit.RandomResizedCrop((32, 36)),
                     lambda: ResizedCropParams(top=torch.tensor([5]), left=torch.tensor([9]),
                                               height=torch.tensor([30]), width=torch.tensor([41])),
                     lambda x: _centred(lambda y, mode: TF.resized_crop(y, 5, 9, 30, 41, [32, 36], mode), x)),
    "rotate": (augkit.RandomRotation(40), lambda: _angle_matrix(23.0), lambda x: TF.rotate(x, 23.0)),
    "affine": (augkit.RandomAffine(40), lambda: _angle_matrix(-17.0, (3.0, -5.0), 1.2, (8.0, -4.0)),
               lambda x: TF.affine(x, 17.0, [3.0, -5.0], 1.2, [8.0, -4.0])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity_with_torchvision(name):
    transform, params, reference = CASES[name]
    boxes, points, mask = _targets()
    out = _ours(transform, params(), boxes, points, mask)
    tv_boxes, _, tv_mask = (reference(x) for x in _tv(boxes, points, mask))
    torch.testing.assert_close(out["boxes"], tv_boxes.as_subclass(torch.Tensor), atol=1e-3, rtol=0)
    assert torch.equal(out["mask"], tv_mask.as_subclass(torch.Tensor))
    _assert_points_like_torchvision_boxes(out, points, reference)


def _assert_points_like_torchvision_boxes(out, points, reference):
    """Keypoints are continuous coordinates like boxes (COCO, detectron2): each point moves as
    torchvision moves a zero-size box at it. torchvision's own keypoint kernels mix conventions
    (flips map x to W - 1 - x, resizes scale x), so they are not the reference."""
    as_boxes = tv_tensors.BoundingBoxes(points.reshape(-1, 2).repeat(1, 2), format="XYXY", canvas_size=(H, W))
    expected = reference(as_boxes).as_subclass(torch.Tensor)[:, :2].reshape(points.shape)
    h, w = out["image"].shape[-2:]
    x, y = out["keypoints"][..., 0], out["keypoints"][..., 1]
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)  # torchvision clamps boxes into the canvas
    torch.testing.assert_close(out["keypoints"][inside], expected[inside], atol=1e-3, rtol=0)


def test_perspective_parity_with_torchvision():
    boxes, points, mask = _targets(1)
    start = [[0, 0], [W - 1, 0], [W - 1, H - 1], [0, H - 1]]
    end = [[3, 2], [W - 5, 4], [W - 2, H - 6], [6, H - 3]]
    params = PerspectiveParams(startpoints=torch.tensor([start], dtype=torch.float64),
                               endpoints=torch.tensor([end], dtype=torch.float64))
    out = _ours(augkit.RandomPerspective(p=1.0), params, boxes, points, mask)
    tv_boxes, _, tv_mask = (TF.perspective(x, start, end) for x in _tv(boxes, points, mask))
    torch.testing.assert_close(out["boxes"], tv_boxes.as_subclass(torch.Tensor), atol=1e-3, rtol=0)
    _assert_points_like_torchvision_boxes(out, points, lambda x: TF.perspective(x, start, end))
    assert torch.equal(out["mask"], tv_mask.as_subclass(torch.Tensor))


@pytest.mark.parametrize("name", ["hflip", "resize", "crop", "resized_crop", "rotate", "affine"])
def test_arrays_and_pil_move_targets_like_tensors(name):
    transform, params, _ = CASES[name]
    boxes, points, mask = _targets(2)
    tensor_out = _ours(transform, params(), boxes, points, mask)
    image = np.zeros((H, W, 3), np.uint8)
    array_out = transform.apply({"image": image, "boxes": boxes.numpy(), "keypoints": points.numpy(),
                                 "mask": mask.numpy()}, params())
    np.testing.assert_allclose(array_out["boxes"], tensor_out["boxes"].numpy(), atol=1e-4)
    np.testing.assert_allclose(array_out["keypoints"], tensor_out["keypoints"].numpy(), atol=1e-4)
    _assert_masks_agree(array_out["mask"], tensor_out["mask"].numpy(), name)
    pil_out = transform.apply({"image": augkit.core.image.array_to_pil(image), "boxes": boxes,
                               "mask": mask.numpy()}, params())
    torch.testing.assert_close(pil_out["boxes"], tensor_out["boxes"])
    _assert_masks_agree(pil_out["mask"], tensor_out["mask"].numpy(), name)


def _assert_masks_agree(array_mask, tensor_mask, name):
    """Equal, except where OpenCV's and torch's nearest warps round a tie the other way."""
    differ = (array_mask != tensor_mask).mean()
    assert differ == 0 if name not in ("rotate", "affine") else differ < 0.005


@pytest.mark.parametrize("transform", [
    augkit.RandomResizedCrop(40), augkit.RandomAffine(30, translate=(0.1, 0.1), scale=(0.8, 1.2), shear=10),
    augkit.RandomRotation(20, expand=True), augkit.RandomPerspective(0.4, p=0.7), augkit.HorizontalFlip(),
    augkit.RandomCrop(40, padding=4), augkit.RandAugment(2, 9), augkit.RandomZoomOut(p=0.8),
], ids=lambda t: type(t).__name__)
def test_batch_draws_per_image_and_matches_each_image(transform):
    boxes, points, mask = _targets(3)
    batch = torch.randint(0, 255, (4, 3, H, W), dtype=torch.uint8)
    boxes_list = [boxes[: k + 1] for k in range(4)]
    masks = torch.stack([mask, mask.flip(0), mask.flip(1), mask])
    instance = [torch.rand(k + 1, H, W) > 0.5 for k in range(4)]
    params = transform.sample_params(batch, generator=torch.Generator().manual_seed(5))
    out = transform.apply({"image": batch, "boxes": boxes_list, "mask": masks, "masks": instance}, params)
    for i in range(4):
        one = transform.apply({"image": batch[i], "boxes": boxes_list[i], "mask": masks[i], "masks": instance[i]},
                              params[i])
        torch.testing.assert_close(out["boxes"][i], one["boxes"], atol=1e-4, rtol=0)
        assert torch.equal(out["mask"][i], one["mask"])
        assert torch.equal(out["masks"][i], one["masks"])
        assert (out["image"][i].int() - one["image"].int()).abs().max() <= 1  # the image numerics


def test_packed_boxes_round_trip_and_padding_is_marked():
    rows = [torch.rand(2, 4), torch.zeros(0, 4), torch.rand(3, 4)]
    boxes = Boxes.from_list([torch.cat([r[:, :2], r[:, :2] + r[:, 2:]], 1) for r in rows], canvas_size=(8, 8))
    assert boxes.counts.tolist() == [2, 0, 3]
    padded, valid = boxes.to_padded()
    assert padded.shape == (3, 3, 4) and valid.tolist() == [[True, True, False], [False] * 3, [True] * 3]
    assert [len(b) for b in boxes.to_list()] == [2, 0, 3]
    assert boxes.image_index().tolist() == [0, 0, 2, 2, 2]


@given(st.integers(0, 2**31 - 1))
def test_flipping_twice_is_the_identity_on_every_target(seed):
    boxes, points, mask = _targets(seed % 1000)
    kp = Keypoints(points, flip_map=[(0, 1)])
    flip = augkit.Compose([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0)] * 2)
    out = flip(torch.zeros(3, H, W), boxes=boxes, keypoints=kp, mask=mask)
    torch.testing.assert_close(out["boxes"], boxes)
    torch.testing.assert_close(out["keypoints"].data, points)
    assert torch.equal(out["mask"], mask)


@given(st.integers(0, 2**31 - 1))
def test_boxes_stay_in_the_canvas_and_masks_keep_their_values(seed):
    boxes, points, mask = _targets(seed % 1000)
    t = augkit.Compose([augkit.RandomAffine(45, translate=(0.3, 0.3), scale=(0.5, 1.5)), augkit.RandomResizedCrop(40)])
    out = t(torch.zeros(3, H, W), boxes=boxes, keypoints=Keypoints(points), mask=Mask(mask, fill=255),
            generator=torch.Generator().manual_seed(seed))
    b = out["boxes"]
    assert (b >= 0).all() and (b[:, 0::2] <= 40).all() and (b[:, 1::2] <= 40).all()
    assert set(out["mask"].data.unique().tolist()) <= set(mask.unique().tolist()) | {255}
    kp = out["keypoints"]
    x, y = kp.data[..., 0], kp.data[..., 1]
    outside = (x < 0) | (x >= 40) | (y < 0) | (y >= 40)
    assert torch.equal(kp.visibility == 0, outside)


@given(st.integers(0, 2**31 - 1))
def test_sanitize_keeps_labels_masks_and_keypoints_with_their_boxes(seed):
    boxes, points, _ = _targets(seed % 1000, n=8)
    labels = torch.arange(8)
    instance = torch.zeros(8, H, W, dtype=torch.uint8)
    for k, (x1, y1, x2, y2) in enumerate(boxes.long().tolist()):
        instance[k, y1:y2, x1:x2] = k + 1
    t = augkit.Compose([augkit.RandomCrop(24), augkit.SanitizeBoxes(min_visibility=0.3)])
    out = t(torch.zeros(3, H, W), boxes=boxes, labels=labels, masks=instance, keypoints=points,
            generator=torch.Generator().manual_seed(seed))
    assert len(out["boxes"]) == len(out["labels"]) == len(out["masks"]) == len(out["keypoints"])
    for label, m in zip(out["labels"].tolist(), out["masks"]):
        assert set(m.unique().tolist()) <= {0, label + 1}


def test_min_visibility_matches_albumentations_on_crops():
    albumentations = pytest.importorskip("albumentations")
    boxes = torch.tensor([[0.0, 0.0, 20.0, 20.0], [25.0, 5.0, 45.0, 25.0], [50.0, 30.0, 63.0, 47.0]])
    image = np.zeros((H, W, 3), np.uint8)
    for visibility in (0.1, 0.4, 0.7):
        ref = albumentations.Compose(
            [albumentations.Crop(x_min=10, y_min=8, x_max=50, y_max=40)],
            bbox_params=albumentations.BboxParams(format="pascal_voc", min_visibility=visibility, label_fields=["labels"]),
        )(image=image, bboxes=boxes.numpy(), labels=[0, 1, 2])
        t = augkit.Compose([augkit.RandomCrop((32, 40)), augkit.SanitizeBoxes(min_visibility=visibility, min_area=0)])
        params = t.sample_params(image)
        crop = CropParams(top=torch.tensor([8]), left=torch.tensor([10]))
        params = type(params)(children=(crop, params.children[1]))
        out = t.apply({"image": image, "boxes": boxes, "labels": torch.tensor([0, 1, 2])}, params)
        assert out["labels"].tolist() == list(ref["labels"])
        np.testing.assert_allclose(out["boxes"].numpy(), np.asarray(ref["bboxes"]).reshape(-1, 4), atol=1e-4)


def test_keypoints_swap_left_and_right_by_the_flip_map():
    kp = Keypoints([[[10.0, 5.0], [30.0, 5.0], [20.0, 8.0]]], names=("left_eye", "right_eye", "nose"))
    assert kp.flip_map == (1, 0, 2)
    out = augkit.HorizontalFlip(p=1.0)(torch.zeros(3, 16, 40), keypoints=kp)["keypoints"]
    assert out.data[0].tolist() == [[10.0, 5.0], [30.0, 5.0], [20.0, 8.0]]  # the eyes swapped places
    turned = augkit.Compose([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0)])(
        torch.zeros(3, 16, 40), keypoints=kp)["keypoints"]
    assert turned.data[0, 0].tolist() == [30.0, 11.0]  # a half turn is no mirror: no swap


def test_points_leaving_the_image_get_visibility_zero_and_stay():
    kp = Keypoints([[[2.0, 2.0], [30.0, 10.0]]], visibility=torch.tensor([[2.0, 2.0]]))
    out = augkit.CenterCrop(10)(torch.zeros(3, 20, 40), keypoints=kp)["keypoints"]
    assert out.visibility.tolist() == [[0.0, 0.0]] and len(out.data[0]) == 2
    out = augkit.Resize((10, 20))(torch.zeros(3, 20, 40), keypoints=kp)["keypoints"]
    assert out.visibility.tolist() == [[2.0, 2.0]]


def test_normalized_and_other_formats_round_trip_through_a_transform():
    image = torch.zeros(3, 20, 40)
    xyxy = torch.tensor([[4.0, 2.0, 14.0, 12.0]])
    for fmt in ("xywh", "cxcywh"):
        b = Boxes(F.convert_box_format(xyxy, "xyxy", fmt), format=fmt).convert(fmt)
        out = augkit.HorizontalFlip(p=1.0)(image, boxes=b)["boxes"]
        torch.testing.assert_close(out.convert("xyxy").data, torch.tensor([[26.0, 2.0, 36.0, 12.0]]))
    norm = Boxes(xyxy / torch.tensor([40.0, 20.0, 40.0, 20.0]), normalized=True)
    out = augkit.Resize((10, 10))(image, boxes=norm)["boxes"]
    assert out.normalized
    torch.testing.assert_close(out.data, norm.data)


def test_rotated_boxes_turn_with_the_image():
    box = Boxes([[20.0, 10.0, 8.0, 4.0, 0.0]], format="cxcywhr")
    params = _angle_matrix(90.0)
    out = augkit.RandomRotation(90).apply({"image": torch.zeros(3, H, W), "boxes": box}, params)["boxes"]
    cx, cy, w, h, angle = out.data[0].tolist()
    assert (round(w, 4), round(h, 4), round(angle, 4)) == (8.0, 4.0, 90.0)
    assert (round(cx, 4), round(cy, 4)) == (W / 2 + (10 - H / 2), H / 2 - (20 - W / 2))


def test_pixel_transforms_pass_targets_through():
    boxes, points, mask = _targets()
    out = augkit.ColorJitter(0.4, 0.4)(torch.rand(3, H, W), boxes=boxes, mask=mask, keypoints=points)
    assert torch.equal(out["boxes"], boxes) and torch.equal(out["mask"], mask) and torch.equal(out["keypoints"], points)


def test_sample_forms_give_back_what_they_took():
    boxes, points, mask = _targets()
    image = torch.zeros(3, H, W)
    by_keyword = augkit.HorizontalFlip(p=1.0)(image, boxes=boxes, mask=mask, labels=torch.arange(5))
    by_dict = augkit.HorizontalFlip(p=1.0)({"image": image, "boxes": boxes, "mask": mask,
                                            "labels": torch.arange(5), "id": "a"})
    assert set(by_dict) == {"image", "boxes", "mask", "labels", "id"} and by_dict["id"] == "a"
    for key in by_keyword:
        assert torch.equal(by_keyword[key], by_dict[key])
    assert isinstance(augkit.HorizontalFlip()(image, boxes=Boxes(boxes))["boxes"], Boxes)


def test_augmix_refuses_targets_it_cannot_move():
    with pytest.raises(TypeError, match="AugMix .* boxes"):
        augkit.AugMix()(torch.rand(3, H, W), boxes=torch.tensor([[0.0, 0.0, 4.0, 4.0]]))


@pytest.mark.parametrize("call, match", [
    (lambda: augkit.HorizontalFlip()(torch.zeros(3, H, W), mask=torch.zeros(H + 1, W, dtype=torch.uint8)),
     r"mask has size \(49, 64\).*image is \(48, 64\)"),
    (lambda: Boxes([[0.0, 0.0, 1.0, 1.0]], format="xyzw"), "format must be one of xyxy"),
    (lambda: Boxes([[5.0, 0.0, 1.0, 1.0]]), r"x2 >= x1.*box 0 is \[5.0, 0.0, 1.0, 1.0\]"),
    (lambda: Keypoints(torch.zeros(2, 3, 4)), r"keypoints must have shape \(N, K, 2\)"),
    (lambda: augkit.HorizontalFlip()(torch.zeros(3, H, W), boxes=torch.zeros(2, 4), labels=torch.zeros(3)),
     "labels has 3 entries but there are 2 boxes"),
    (lambda: augkit.HorizontalFlip()(torch.zeros(2, 3, H, W), boxes=torch.zeros(2, 4)), "need offsets"),
    (lambda: augkit.HorizontalFlip()(torch.zeros(3, H, W), mask=torch.zeros(H, W)), "mask has dtype torch.float32"),
    (lambda: Boxes([[0.0, float("nan"), 1.0, 1.0]]), "contains NaN"),
])
def test_bad_targets_raise_naming_the_target(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


def test_flip_without_flip_map_of_named_sides_warns_once():
    kp = Keypoints([[[1.0, 1.0], [3.0, 1.0]]], names=("left_hand", "nose"))
    with pytest.warns(UserWarning, match="flip_map"):
        augkit.HorizontalFlip(p=1.0)(torch.zeros(3, 8, 8), keypoints=kp)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        augkit.HorizontalFlip(p=1.0)(torch.zeros(3, 8, 8), keypoints=kp)


def test_random_erasing_fills_the_erased_rectangle_of_masks_with_mask_fill():
    erase = augkit.RandomErasing(p=0.6, value=0.0, mask_fill=255)
    batch = torch.full((6, 3, 20, 30), 200, dtype=torch.uint8)
    mask = torch.ones(6, 20, 30, dtype=torch.int64)
    params = erase.sample_params(batch, generator=torch.Generator().manual_seed(3))
    out = erase.apply({"image": batch, "mask": mask}, params)
    erased = (out["image"] == 0).all(1)
    assert torch.equal(out["mask"] == 255, erased) and erased.any()
    one = erase.apply({"image": batch[0].permute(1, 2, 0).numpy(), "mask": mask[0].numpy()}, params[0])
    np.testing.assert_array_equal(one["mask"], out["mask"][0].numpy())
    assert torch.equal(augkit.RandomErasing(p=1.0)(batch, mask=mask)["mask"], mask)  # no mask_fill: untouched


def test_boxes_after_rotation_come_from_instance_masks_when_given():
    masks = torch.zeros(2, H, W, dtype=torch.bool)
    masks[0, 10:20, 10:30] = True
    masks[1, 30:40, 40:44] = True
    boxes = torch.tensor([[10.0, 10.0, 30.0, 20.0], [40.0, 30.0, 44.0, 40.0]])
    params = _angle_matrix(30.0)
    out = augkit.RandomRotation(30).apply({"image": torch.zeros(3, H, W), "boxes": boxes, "masks": masks}, params)
    expected, _ = F.masks_to_boxes(out["masks"])
    torch.testing.assert_close(out["boxes"], expected)
    corners = augkit.RandomRotation(30).apply({"image": torch.zeros(3, H, W), "boxes": boxes}, params)["boxes"]
    assert (box_area := F.box_areas(out["boxes"])).le(F.box_areas(corners) + 1).all() and box_area.gt(0).all()
    flipped = augkit.HorizontalFlip(p=1.0)(torch.zeros(3, H, W), boxes=boxes + 0.25, masks=masks)["boxes"]
    torch.testing.assert_close(flipped, F.transform_boxes(boxes + 0.25, F.axis_matrix(1, (-1.0, 1.0), (W, 0.0))[0]))


def test_every_per_box_field_follows_its_boxes():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 5.5, 9.0]])
    out = augkit.SanitizeBoxes()({"image": torch.zeros(3, 20, 20), "boxes": boxes, "labels": torch.tensor([1, 2]),
                                  "iscrowd": torch.tensor([0, 1]), "scores": torch.tensor([0.5, 0.25])})
    assert out["labels"].tolist() == [1] and out["iscrowd"].tolist() == [0] and out["scores"].tolist() == [0.5]
    assert augkit.HorizontalFlip()(torch.zeros(3, 8, 8), labels=3)["labels"] == 3  # an image's class passes through


def test_keypoints_of_a_batch_come_back_with_their_visibility():
    points = [torch.tensor([[[1.0, 1.0, 2.0]]]), torch.tensor([[[9.0, 1.0, 1.0]], [[2.0, 2.0, 0.0]]])]
    out = augkit.HorizontalFlip(p=1.0)(torch.zeros(2, 3, 8, 8), keypoints=points)
    assert [p.tolist() for p in out["keypoints"]] == [[[[7.0, 1.0, 2.0]]], [[[-1.0, 1.0, 0.0]], [[6.0, 2.0, 0.0]]]]


def test_keypoints_of_a_batch_as_a_list_of_arrays_come_back_as_arrays():
    groups = [np.array([[[1.0, 2.0, 2.0], [3.0, 4.0, 2.0]]], np.float32), np.zeros((0, 2, 3), np.float32)]
    out = augkit.HorizontalFlip(p=1.0)(torch.zeros(2, 3, 8, 10), keypoints=groups)["keypoints"]
    assert [type(g) for g in out] == [np.ndarray, np.ndarray] and [g.shape for g in out] == [(1, 2, 3), (0, 2, 3)]
    np.testing.assert_array_equal(out[0], [[[9.0, 2.0, 2.0], [7.0, 4.0, 2.0]]])
    as_tensors = augkit.HorizontalFlip(p=1.0)(torch.zeros(2, 3, 8, 10), keypoints=[torch.from_numpy(g) for g in groups])
    assert [g.shape[-1] for g in as_tensors["keypoints"]] == [3, 3]  # the visibility comes back
    with pytest.raises(ValueError, match=r"keypoints of every image must have the same"):
        augkit.HorizontalFlip()(torch.zeros(2, 3, 8, 10), keypoints=[torch.zeros(1, 2, 2), torch.zeros(1, 2, 3)])


def test_boxes_from_instance_masks_keep_the_visibility_of_the_object():
    """A disk turned by 45 degrees is still wholly visible: its box from the mask is as tight
    as before, so SanitizeBoxes(min_visibility=...) keeps it; cut by the border, it loses the
    fraction clipping took from its box."""
    ys, xs = torch.meshgrid(torch.arange(64) + 0.5, torch.arange(64) + 0.5, indexing="ij")
    disks = torch.stack([(xs - 32) ** 2 + (ys - 32) ** 2 < 100, (xs - 56) ** 2 + (ys - 56) ** 2 < 36])
    boxes = torch.tensor([[22.0, 22.0, 42.0, 42.0], [50.0, 50.0, 62.0, 62.0]])
    turn = AffineParams(matrix=F.affine_matrix(torch.tensor([45.0]), center=(31.5, 31.5)))
    out = augkit.RandomRotation(45).apply({"image": torch.zeros(3, 64, 64), "boxes": Boxes(boxes), "masks": disks},
                                          turn)["boxes"]
    visibility = out.visibility()
    assert visibility[0] == 1.0 and 0.2 < visibility[1] < 0.5, visibility


def test_policy_ops_move_targets_one_after_another_like_the_image():
    """TranslateX out then back: what the first shift pushed out of the image is fill in the
    image, so it is outside the box, fill in the mask and invisible for keypoints."""
    ra = augkit.RandAugment(num_ops=2, ops=["TranslateX"], fill=0.0)
    params = ra.sample_params(torch.zeros(3, H, W))
    params = type(params)(ops=params.ops, magnitudes=torch.tensor([[-20.0, 20.0]]))
    mask = torch.ones(H, W, dtype=torch.uint8)
    image = torch.full((3, H, W), 200, dtype=torch.uint8)
    for sample in ({"image": image, "mask": Mask(mask, fill=255)},
                   {"image": image.permute(1, 2, 0).numpy(), "mask": Mask(mask.numpy(), fill=255)}):
        out = ra.apply({**sample, "boxes": torch.tensor([[0.0, 0.0, 30.0, 20.0]]),
                        "keypoints": Keypoints([[[5.0, 5.0], [25.0, 5.0]]])}, params)
        torch.testing.assert_close(out["boxes"], torch.tensor([[20.0, 0.0, 30.0, 20.0]]))
        assert out["keypoints"].visibility.tolist() == [[0.0, 1.0]]
        lost = torch.as_tensor(np.asarray(out["mask"].data)) == 255
        assert lost[:, :20].all() and not lost[:, 20:].any()


def _point_cases(seed: int):
    """Arguments of each point kernel: boxes, points, (3, 3) and per-row maps (affine and projective)."""
    g = torch.Generator().manual_seed(seed)
    n = 7
    xy = (torch.rand(n, 2, generator=g) - 0.2) * torch.tensor([W, H])
    boxes = torch.cat([xy, xy + torch.rand(n, 2, generator=g) * 30], 1)
    reference = torch.cat([boxes[:, :2] - torch.rand(n, 2, generator=g) * 5, boxes[:, 2:] + 3], 1)
    matrices = torch.eye(3, dtype=torch.float64).repeat(n, 1, 1) + torch.rand(n, 3, 3, generator=g, dtype=torch.float64) * 0.3
    matrices[:, 2, :2] *= 0.01 * (seed % 2)  # projective on odd seeds, affine on even ones
    matrices[:, 2, 2] = 1.0
    matrices[:, :2, 2] *= 40
    one = matrices[0]
    points = torch.rand(n, 3, 2, generator=g) * torch.tensor([W, H])
    return {
        "transform_points": [(points, one), (points, matrices)],
        "transform_boxes": [(boxes, one), (boxes, matrices)],
        "move_boxes": [(boxes, one, (H, W)), (boxes, matrices, (H, W), reference), (boxes[:0], one, (H, W))],
        "sanitize_boxes": [(boxes, (H, W), 1.0, 4.0, 0.5, reference), (boxes, None, 2.0, 0.0, 0.0, None),
                           (boxes.double(), (H, W), 1.0, 1.0, 0.9, reference.double())],
    }


@pytest.mark.parametrize("seed", range(4))
def test_point_kernel_backends_agree_with_the_torch_backend(seed):
    from augkit.core import kernels

    rows = {row.op: row for row in kernels.rows() if row.kind in ("boxes", "keypoints")}
    cases = _point_cases(seed)
    assert set(cases) <= set(rows) and all(len(rows[name].backends) > 1 for name in cases)
    for name, calls in cases.items():
        torch_fn = rows[name].backends[-1].fn
        for args in calls:
            expected = torch_fn(*args)
            for b in rows[name].backends[:-1]:
                assert b.takes(args[0], args[1:]), f"{name}: {b.name} refuses a CPU call"
                got = b.fn(*args)
                for a, e in zip(got if isinstance(got, tuple) else (got,), expected if isinstance(expected, tuple) else (expected,)):
                    assert a.dtype == e.dtype and a.shape == e.shape, name
                    if a.dtype == torch.bool:
                        assert torch.equal(a, e), name
                    else:
                        torch.testing.assert_close(a, e, atol=1e-4, rtol=0), name
    # the NumPy backends take plain CPU tensors: autograd and other devices stay with torch
    boxes = cases["transform_boxes"][0][0].clone().requires_grad_()
    assert rows["transform_boxes"].select(boxes, (cases["transform_boxes"][0][1],)).name == "torch"


def test_one_cpu_image_moves_its_targets_like_the_torch_path():
    # boxes and points that need autograd take the torch backends; plain CPU ones the NumPy ones
    boxes, points, _ = _targets(3)
    labels = torch.arange(len(boxes))
    image = torch.zeros(3, H, W, dtype=torch.uint8)
    t = augkit.Compose([augkit.RandomResizedCrop((40, 44), scale=(0.2, 1.0)), augkit.HorizontalFlip(),
                        augkit.RandomAffine(20, shear=10), augkit.SanitizeBoxes(min_visibility=0.3)])
    for seed in range(6):
        fast = t(image, boxes=boxes, keypoints=points, labels=labels, generator=torch.Generator().manual_seed(seed))
        slow = t(image, boxes=boxes.clone().requires_grad_(), keypoints=points.clone().requires_grad_(),
                 labels=labels, generator=torch.Generator().manual_seed(seed))
        assert torch.equal(fast["labels"], slow["labels"])
        torch.testing.assert_close(fast["boxes"], slow["boxes"].detach(), atol=1e-4, rtol=0)
        torch.testing.assert_close(fast["keypoints"], slow["keypoints"].detach(), atol=1e-4, rtol=0)
