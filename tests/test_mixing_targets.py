"""Mixing with targets: CutMix / MixUp / RandomMix with boxes, masks and keypoints, and Mosaic
(hypothesis invariants against rasterised boxes, replay, config, errors, devices)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, strategies as st

import augkit
from augkit.mixing import CutMix, MixUp, Mosaic, MosaicParams, RandomMix
from augkit.targets import Boxes, Keypoints

H, W = 12, 16


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def int_boxes(g: torch.Generator, n: int, h: int = H, w: int = W) -> torch.Tensor:
    """``n`` integer boxes (some of them thin) inside an ``h x w`` image."""
    x1, y1 = torch.randint(0, w, (n,), generator=g), torch.randint(0, h, (n,), generator=g)
    x2 = x1 + 1 + (torch.rand(n, generator=g) * (w - x1)).floor().long()
    y2 = y1 + 1 + (torch.rand(n, generator=g) * (h - y1)).floor().long()
    return torch.stack([x1, y1, x2, y2], 1).to(torch.float32)


def raster(boxes: torch.Tensor, h: int = H, w: int = W) -> torch.Tensor:
    """Bool ``(N, h, w)``: the pixels of each integer box."""
    ys, xs = torch.arange(h).view(1, -1, 1), torch.arange(w).view(1, 1, -1)
    x1, y1, x2, y2 = (boxes[:, i].view(-1, 1, 1) for i in range(4))
    return (xs >= x1) & (xs < x2) & (ys >= y1) & (ys < y2)


def enclosing(pixels: torch.Tensor) -> list[float] | None:
    """The enclosing box of the true pixels of ``(h, w)``, or ``None`` when there are none."""
    ys, xs = pixels.nonzero(as_tuple=True)
    if len(ys) == 0:
        return None
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def detection_batch(seed: int, n: int, counts: list[int]):
    g = gen(seed)
    images = torch.rand(n, 3, H, W, generator=g)
    boxes = [int_boxes(g, c) for c in counts]
    first = torch.tensor([0] + counts).cumsum(0)
    labels = [torch.arange(first[i], first[i + 1]) for i in range(n)]   # unique ids: where each row came from
    return images, boxes, labels


# -- CutMix -------------------------------------------------------------------------------------

@given(seed=st.integers(0, 10_000), n=st.integers(2, 5), mode=st.sampled_from(["batch", "elem", "pair"]),
       counts=st.lists(st.integers(0, 4), min_size=5, max_size=5))
def test_cutmix_boxes_are_the_enclosing_boxes_of_their_visible_pixels(seed, n, mode, counts):
    """Every kept box is the enclosing box of its pixels left visible (own boxes minus the pasted
    rectangle, partner boxes inside it), dropped exactly when none are; labels and instance masks
    follow their boxes, and every box lies in its visible region."""
    images, boxes, labels = detection_batch(seed, n, counts[:n])
    masks = [raster(b) for b in boxes]
    mix = CutMix(mode=mode)
    params = mix.sample_params(images, generator=gen(seed + 1))
    out = mix.apply(images, labels, params, boxes=boxes, masks=masks)
    all_masks = torch.cat(masks)
    for i in range(n):
        top, bottom, left, right = params.box[i].tolist()
        pasted = torch.zeros(H, W, dtype=torch.bool)
        pasted[top:bottom, left:right] = int(params.index[i]) != i
        expected_boxes, expected_labels = [], []
        for source, region in ((i, ~pasted), (int(params.index[i]), pasted)):
            if source == i and region is pasted:
                continue
            for row in labels[source].tolist():
                box = enclosing(all_masks[row] & region)
                if box is not None:
                    expected_boxes.append(box)
                    expected_labels.append(row)
        assert out["labels"][i].tolist() == expected_labels
        assert out["boxes"][i].tolist() == expected_boxes
        for box, mask, row in zip(out["boxes"][i], out["masks"][i], out["labels"][i].tolist()):
            assert enclosing(mask) == box.tolist()
            assert bool((mask <= all_masks[row]).all())
        assert torch.equal(out["weights"][i], torch.ones(len(expected_boxes)))


@given(seed=st.integers(0, 10_000), n=st.integers(2, 6), mode=st.sampled_from(["batch", "elem", "pair"]),
       minmax=st.sampled_from([None, (0.2, 0.8)]))
def test_cutmix_label_weight_is_the_pasted_pixel_fraction_of_the_mask(seed, n, mode, minmax):
    """With a semantic mask holding each image's id, the own class's share of the soft label is
    the fraction of the mask still holding the own id, and the image pixels agree."""
    images = (torch.arange(n, dtype=torch.float32) / n).view(n, 1, 1, 1).expand(n, 3, H, W).contiguous()
    mask = torch.arange(n, dtype=torch.int32).view(n, 1, 1).expand(n, H, W).contiguous()
    mix = CutMix(num_classes=n, mode=mode, cutmix_minmax=minmax)
    out = mix({"image": images, "mask": mask, "labels": torch.arange(n)}, generator=gen(seed))
    own = (out["mask"] == torch.arange(n, dtype=torch.int32).view(n, 1, 1)).float().mean((1, 2))
    assert torch.allclose(out["labels"].diagonal(), own, atol=1e-6)
    assert torch.equal(out["mask"], (out["image"][:, 0] * n).round().to(torch.int32))
    assert out["mask"].dtype == torch.int32


def test_cutmix_with_keypoints_hides_the_points_under_the_pasted_box():
    images = torch.rand(2, 3, H, W)
    points = [torch.tensor([[[1.5, 1.5, 1.0], [14.5, 10.5, 1.0]]])] * 2
    params = augkit.mixing.MixParams(index=torch.tensor([1, 0]), lam=torch.tensor([0.5, 1.0]),
                                     box=torch.tensor([[0, 6, 0, 8], [0, 0, 0, 0]]))
    out = CutMix().apply(images, None, params, keypoints=points)
    # image 0: its own group with the point under the box hidden, then image 1's group seen in the box only
    assert out["keypoints"][0][..., 2].tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert out["keypoints"][1][..., 2].tolist() == [[1.0, 1.0]]


def test_cutmix_rotated_boxes_are_refused():
    boxes = Boxes.from_list([torch.tensor([[5.0, 5.0, 4.0, 4.0, 30.0]])] * 2, format="cxcywhr", canvas_size=(H, W))
    with pytest.raises(ValueError, match="rotated boxes"):
        CutMix()(torch.rand(2, 3, H, W), boxes=boxes, generator=gen())


# -- MixUp and RandomMix ------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["batch", "elem", "pair"])
def test_mixup_keeps_both_images_boxes_with_their_weights(mode):
    images, boxes, labels = detection_batch(0, 5, [2, 0, 3, 1, 1])
    mix = MixUp(alpha=1.0, mode=mode)
    params = mix.sample_params(images, generator=gen(3))
    out = mix.apply(images, labels, params, boxes=boxes)
    for i in range(5):
        j = int(params.index[i])
        assert torch.equal(out["boxes"][i], torch.cat([boxes[i], boxes[j]]))
        assert torch.equal(out["labels"][i], torch.cat([labels[i], labels[j]]))
        lam = float(params.lam[i])
        expected = [lam] * len(boxes[i]) + [1.0 - lam] * len(boxes[j])
        assert out["weights"][i].tolist() == pytest.approx(expected)


def test_mixup_refuses_a_semantic_mask_and_takes_instance_masks():
    images, boxes, labels = detection_batch(1, 3, [1, 2, 1])
    with pytest.raises(ValueError, match="mask: MixUp blends"):
        MixUp()(images, labels, boxes=boxes, mask=torch.zeros(3, H, W, dtype=torch.uint8), generator=gen())
    out = MixUp()(images, labels, boxes=boxes, masks=[raster(b) for b in boxes], generator=gen())
    assert [len(m) for m in out["masks"]] == [len(b) for b in out["boxes"]]


def test_randommix_per_sample_treats_each_sample_by_its_choice():
    images, boxes, labels = detection_batch(2, 8, [2] * 8)
    mix = RandomMix(mode="elem", p_mixup=0.4, p_cutmix=0.4)
    params = mix.sample_params(images, generator=gen(5))
    out = mix.apply(images, labels, params, boxes=boxes)
    for i in range(8):
        weight, box = float(params.weight[i]), params.box[i]
        if weight < 1:    # MixUp: both images' boxes, weighted
            assert len(out["boxes"][i]) == 4 and out["weights"][i][2:].tolist() == pytest.approx([1 - weight] * 2)
        elif int((box[1] - box[0]) * (box[3] - box[2])) == 0:   # neither: its own boxes
            assert torch.equal(out["boxes"][i], boxes[i])
        assert len(out["labels"][i]) == len(out["boxes"][i]) == len(out["weights"][i])


def test_self_paired_sample_and_disabled_mixer_keep_their_targets():
    images, boxes, labels = detection_batch(4, 1, [3])
    with pytest.warns(UserWarning, match="batch of one"):
        out = CutMix()(images, labels, boxes=boxes, generator=gen())
    assert torch.equal(out["boxes"][0], boxes[0]) and torch.equal(out["labels"][0], labels[0])
    mix = CutMix()
    mix.enabled = False
    images, boxes, labels = detection_batch(4, 3, [1, 2, 0])
    out = mix({"image": images, "boxes": boxes, "labels": labels})
    assert out["image"] is images and all(torch.equal(a, b) for a, b in zip(out["boxes"], boxes))


def test_forms_weights_through_sanitize_and_packed_boxes():
    """Packed boxes give packed results; ``weights`` follow their boxes through SanitizeBoxes."""
    images, boxes, labels = detection_batch(5, 4, [2, 1, 3, 2])
    packed = Boxes.from_list(boxes, canvas_size=(H, W))
    out = MixUp()(images, torch.cat(labels), boxes=packed, generator=gen())
    assert isinstance(out["boxes"], Boxes) and out["weights"].shape == (len(out["boxes"]),)
    tiny = torch.cat([out["boxes"].data[:, :2], out["boxes"].data[:, :2] + 0.5], 1)   # every box below min_size
    keep = torch.arange(len(tiny)) % 2 == 0
    data = torch.where(keep[:, None], out["boxes"].data, tiny)
    sample = dict(out, boxes=out["boxes"].derived(data=data, unclipped=None))
    clean = augkit.SanitizeBoxes(min_size=0.9, min_area=0.0)(sample)
    assert torch.equal(clean["weights"], out["weights"][keep]) and torch.equal(clean["labels"], out["labels"][keep])


def test_mixer_errors_name_the_argument():
    images, boxes, labels = detection_batch(6, 2, [1, 1])
    with pytest.raises(TypeError, match="unexpected target keyword"):
        CutMix()(images, labels, bboxes=boxes)
    with pytest.raises(ValueError, match="labels has 3 entries but there are 2 boxes"):
        CutMix()(images, [torch.tensor([1]), torch.tensor([2, 3])], boxes=boxes)
    with pytest.raises(ValueError, match="mask has size"):
        CutMix()(images, mask=torch.zeros(2, H + 1, W, dtype=torch.uint8))


# -- Mosaic -------------------------------------------------------------------------------------

def coordinate_batch(n: int, h: int, w: int) -> torch.Tensor:
    """float64 images whose pixels tell their image, row and column: ``(i + 1, y, x)``."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    return torch.stack([torch.full((n, h, w), 1.0, dtype=torch.float64) * (torch.arange(n) + 1).view(n, 1, 1),
                        ys.expand(n, h, w), xs.expand(n, h, w)], 1).contiguous()


@given(seed=st.integers(0, 10_000), n=st.integers(1, 5), out=st.sampled_from([(12, 16), (24, 32), (9, 20)]),
       counts=st.lists(st.integers(0, 3), min_size=5, max_size=5))
def test_mosaic_places_each_quadrant_and_moves_its_targets(seed, n, out, counts):
    images, boxes, labels = detection_batch(seed, n, counts[:n])
    images = coordinate_batch(n, H, W)
    masks = [raster(b) for b in boxes]
    mosaic = Mosaic(out)
    params = mosaic.sample_params(images, generator=gen(seed))
    assert bool(((params.index == torch.arange(n).view(-1, 1)).sum(1) >= 1).all())
    result = mosaic.apply(images, params, boxes=boxes, labels=labels, masks=masks)
    oh, ow = out
    all_masks = torch.cat(masks)
    for b in range(n):
        cx, cy = params.centre[b].tolist()
        expected_boxes, expected_labels = [], []
        for q in range(4):
            source = int(params.index[b, q])
            dx, dy = cx - W * (1 - q % 2), cy - H * (1 - q // 2)
            quadrant = torch.zeros(oh, ow, dtype=torch.bool)
            quadrant[(cy if q >= 2 else 0):(oh if q >= 2 else cy), (cx if q % 2 else 0):(ow if q % 2 else cx)] = True
            ys, xs = torch.meshgrid(torch.arange(oh), torch.arange(ow), indexing="ij")
            sy, sx = ys - dy, xs - dx
            shown = quadrant & (sy >= 0) & (sy < H) & (sx >= 0) & (sx < W)
            pixels = result["image"][b][:, shown]
            assert torch.equal(pixels[0], torch.full_like(pixels[0], source + 1.0))
            assert torch.equal(pixels[1], sy[shown].double()) and torch.equal(pixels[2], sx[shown].double())
            assert bool((result["image"][b][:, quadrant & ~shown] == 0).all())
            for row in labels[source].tolist():
                moved = torch.zeros(oh, ow, dtype=torch.bool)
                moved[shown] = all_masks[row][sy[shown], sx[shown]]
                box = enclosing(moved)
                if box is not None:
                    expected_boxes.append(box)
                    expected_labels.append(row)
        assert result["labels"][b].tolist() == expected_labels
        assert result["boxes"][b].tolist() == expected_boxes
        for box, mask in zip(result["boxes"][b], result["masks"][b]):
            assert enclosing(mask) == box.tolist()
    assert "weights" not in result


def test_mosaic_semantic_mask_keypoints_and_normalized_boxes():
    images = torch.rand(4, 3, H, W)
    mask = torch.arange(1, 5, dtype=torch.uint8).view(4, 1, 1).expand(4, H, W).contiguous()
    points = Keypoints.from_list([torch.tensor([[[0.5, 0.5], [15.5, 11.5]]])] * 4)
    boxes = Boxes.from_list([torch.tensor([[0.0, 0.0, 1.0, 1.0]])] * 4, normalized=True)
    params = MosaicParams(index=torch.tensor([[0, 1, 2, 3]] * 4), centre=torch.tensor([[16, 12]] * 4))
    out = Mosaic((24, 32), fill=0.0).apply(images, params, mask=augkit.targets.Mask(mask, fill=255),
                                           keypoints=points, boxes=boxes)
    assert torch.equal(out["mask"].data[0], torch.tensor([[1, 2], [3, 4]], dtype=torch.uint8)
                       .repeat_interleave(12, 0).repeat_interleave(16, 1))
    assert out["boxes"].normalized and out["boxes"].data[:4].tolist() == [
        [0.0, 0.0, 0.5, 0.5], [0.5, 0.0, 1.0, 0.5], [0.0, 0.5, 0.5, 1.0], [0.5, 0.5, 1.0, 1.0]]
    # each image's two points: the top-left one is seen in the quadrants right/below, the other left/above
    assert out["keypoints"].visibility[:4].tolist() == [[1.0, 1.0]] * 4
    moved = Mosaic((24, 32)).apply(images, MosaicParams(torch.tensor([[0, 1, 2, 3]] * 4),
                                                        torch.tensor([[10, 6]] * 4)), keypoints=points)
    assert moved["keypoints"].visibility[0].tolist() == [0.0, 1.0]   # (0.5, 0.5) is cut off at the left and top
    out = Mosaic((24, 32)).apply(images, MosaicParams(torch.tensor([[0, 1, 2, 3]] * 4),
                                                      torch.tensor([[4, 20]] * 4)), mask=mask)
    assert bool((out["mask"][0, :20 - H] == 0).all()) and out["mask"].shape == (4, 24, 32)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_mosaic_replays_and_round_trips_its_config(dtype):
    images = (torch.rand(6, 3, H, W) * 255).to(dtype) if dtype == torch.uint8 else torch.rand(6, 3, H, W)
    mosaic = Mosaic((20, 24), centre_range=(0.3, 0.6), fill=0.5)
    a = mosaic(images, generator=gen(7))
    params = mosaic.sample_params(images, generator=gen(7))
    assert torch.equal(a, mosaic.apply(images, params)) and a.dtype == dtype and a.shape == (6, 3, 20, 24)
    assert bool(((params.centre[:, 0] >= 7) & (params.centre[:, 0] <= 14)).all())
    assert bool(((params.centre[:, 1] >= 6) & (params.centre[:, 1] <= 12)).all())
    again = augkit.from_config(augkit.to_config(mosaic))
    assert again == mosaic and repr(again) == repr(mosaic) == "Mosaic(size=(20, 24), centre_range=(0.3, 0.6), fill=0.5)"
    assert torch.equal(again(images, generator=gen(7)), a)
    fill = 128 if dtype == torch.uint8 else 0.5   # where no image reaches
    corner = mosaic.apply(images, MosaicParams(params.index, torch.tensor([[12, 16]] * 6)))
    assert bool((corner[:, :, :16 - H] == fill).all()) and not bool((corner[:, :, 16 - H:] == fill).all())


def test_mosaic_errors():
    images = torch.rand(2, 3, H, W)
    with pytest.raises(ValueError, match="labels: Mosaic"):
        Mosaic(16)(images, labels=torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="params must be MosaicParams"):
        Mosaic(16).apply(images, None)
    with pytest.raises(ValueError, match="centre_range"):
        Mosaic(16, centre_range=(0.8, 0.2))
    with pytest.raises(TypeError, match="images must be"):
        Mosaic(16)(images.numpy())
    with pytest.raises(ValueError, match="params were drawn for 2"):
        Mosaic(16).apply(torch.rand(3, 3, H, W), Mosaic(16).sample_params(images))


# -- devices ------------------------------------------------------------------------------------

@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_images_and_masks_never_sync_and_match_the_cpu():
    """Images and semantic masks mix without a host sync (torch's sync debug mode raises on one);
    boxes give the CPU's results."""
    images, boxes, labels = detection_batch(0, 6, [2, 1, 0, 3, 1, 2])
    mask = torch.randint(0, 5, (6, H, W), dtype=torch.uint8)
    cuda = [b.cuda() for b in boxes]
    for mixer in (CutMix(num_classes=6, mode="elem"), Mosaic((20, 24))):
        params = mixer.sample_params(images, generator=gen(1))
        moved = (MosaicParams(params.index.cuda(), params.centre.cuda()) if isinstance(params, MosaicParams)
                 else params._map(lambda t: t.cuda()))
        extra = {} if isinstance(mixer, Mosaic) else {"labels": torch.arange(6).cuda()}
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            gpu = mixer.apply({"image": images.cuda(), "mask": mask.cuda(), **extra}, params=moved)
        finally:
            torch.cuda.set_sync_debug_mode(0)
        cpu = mixer.apply({"image": images, "mask": mask, **({"labels": torch.arange(6)} if extra else {})},
                          params=params)
        assert torch.equal(gpu["image"].cpu(), cpu["image"]) and torch.equal(gpu["mask"].cpu(), cpu["mask"])
        gpu = mixer.apply(images.cuda(), params=moved, boxes=cuda, labels=[l.cuda() for l in labels])
        cpu = mixer.apply(images, params=params, boxes=boxes, labels=labels)
        assert all(torch.equal(a.cpu(), b) for a, b in zip(gpu["boxes"], cpu["boxes"]))
