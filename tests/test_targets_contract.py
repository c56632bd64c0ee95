"""Every registered transform moves boxes, masks and keypoints exactly as it moves its image.

Two generic checks over tests/registry.py, so a new transform is covered the moment it is
registered (a transform whose pixels move but whose ``_point_matrix`` returns None fails here):

* a bright box on a black image, with its box, a semantic mask of it and keypoints inside it:
  after the transform the bright pixels are where the moved mask says, the moved box encloses
  the moved mask within 1 px, and every visible keypoint lies on the moved mask; on every input
  kind, on a batch (boxes per image) and with the case's own ``p``;
* an index map (each pixel's value is its own position): the point matrix sends the position
  every output pixel came from to that pixel's centre (within interpolation error).

A transform that cannot move a target raises a TypeError naming it (AugMix).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from augkit.core.image import inspect_image
from augkit.targets import Mask

from .helpers import as_numpy
from .registry import CASES

H, W = 40, 56
VALUE = 191  # not white: Solarize and Posterize keep it visible

cases = pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])


def _box(i: int) -> list[float]:
    """The box of image ``i`` of a batch, 10+ pixels from every side."""
    return [14.0 + 2 * i, 10.0 + i, 38.0 - i, 28.0 + i]


def _scene(kind: str, channels: int, n: int | None):
    """The image (bright box on black), and its boxes, mask and keypoints (per image for a batch)."""
    boxes, masks, points = [], [], []
    for i in range(n or 1):
        x1, y1, x2, y2 = _box(i)
        mask = np.zeros((H, W), np.uint8)
        mask[int(y1):int(y2), int(x1):int(x2)] = 1
        masks.append(mask)
        boxes.append(torch.tensor([[x1, y1, x2, y2]]))
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        points.append(torch.tensor([[[cx, cy], [x1 + 3, y1 + 3], [x2 - 3, y1 + 3], [x2 - 3, y2 - 3], [x1 + 3, y2 - 3]]]))
    pixels = [np.repeat((m * VALUE)[:, :, None], channels, 2) for m in masks]
    if kind == "tensor":
        image = torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).contiguous()
        image = image if n else image[0]
        mask = torch.from_numpy(np.stack(masks) if n else masks[0])
    else:
        image = pixels[0] if kind == "numpy" else Image.fromarray(pixels[0][:, :, 0] if channels == 1 else pixels[0])
        mask = masks[0]
    return image, (boxes if n else boxes[0]), Mask(mask, fill=255), (points if n else points[0])


def _per_image(out, n: int | None):
    """``(image HWC float, mask, boxes, keypoints)`` of each output image."""
    image, mask, boxes, points = out["image"], out["mask"].data, out["boxes"], out["keypoints"]
    if not n:
        return [(as_numpy(image), np.asarray(mask), np.asarray(boxes), np.asarray(points))]
    return [(as_numpy(image[i]), mask[i].numpy(), boxes[i].numpy(), points[i].numpy()) for i in range(n)]


def _grow(region: np.ndarray, r: int) -> np.ndarray:
    """``region`` dilated by ``r`` pixels (a (2r+1)^2 square)."""
    padded = np.pad(region, r)
    out = np.zeros_like(region)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            out |= padded[dy:dy + region.shape[0], dx:dx + region.shape[1]]
    return out


def _shrink(region: np.ndarray, r: int) -> np.ndarray:
    return ~_grow(~region, r)


def _check_image(image: np.ndarray, mask: np.ndarray, boxes: np.ndarray, points: np.ndarray, what: str) -> None:
    h, w = mask.shape
    inside, background = mask == 1, mask == 0
    # the moved box encloses the moved mask and is its box, within 1 px
    if inside.any():
        assert len(boxes) == 1, what
        ys, xs = np.nonzero(inside)
        x1, y1, x2, y2 = boxes[0]
        assert x1 <= xs.min() + 1 and y1 <= ys.min() + 1 and x2 >= xs.max() and y2 >= ys.max(), (
            f"{what}: box {boxes[0]} does not enclose the moved mask")
        ys, xs = np.nonzero(inside | (mask == 255))  # occluded or from outside: may be the box's
        assert x1 >= xs.min() - 1 and y1 >= ys.min() - 1 and x2 <= xs.max() + 2 and y2 <= ys.max() + 2, (
            f"{what}: box {boxes[0]} is larger than the moved mask")
    elif not (mask == 255).any():  # cropped out (not occluded): at most a sliver of a box is left
        x1, y1, x2, y2 = boxes[0]
        assert (x2 - x1) * (y2 - y1) <= (x2 - x1) + (y2 - y1) + 1e-4, f"{what}: box {boxes[0]} has no mask left"
    # every visible keypoint lies on the moved mask (within 1 px), the others outside the canvas
    for x, y in points.reshape(-1, 2):
        on_canvas = 0 <= x < w and 0 <= y < h
        if on_canvas:
            near = (inside | (mask == 255))[max(int(y) - 1, 0):int(y) + 2, max(int(x) - 1, 0):int(x) + 2]
            assert near.any(), f"{what}: keypoint ({x:.2f}, {y:.2f}) is off the moved mask"
    # the bright pixels are where the moved mask says (pixels from outside, mask 255, aside)
    far = background & ~_grow(inside, 3)
    if not (inside.any() and far.any()):
        return
    bg, fg = np.median(image[far], axis=0), np.median(image[inside], axis=0)
    channel = int(np.abs(fg - bg).argmax())
    contrast = abs(fg - bg)[channel]
    noise = image[far, channel].std()
    if contrast <= 6 * noise or contrast == 0:
        return  # the transform took the box's contrast away: nothing to see
    odd = np.abs(image[..., channel] - bg[channel]) > contrast / 2
    known = _shrink(mask != 255, 1)
    stray = odd & known & ~_grow(inside, 2)
    missing = _shrink(inside, 2) & known & ~odd
    assert not stray.any(), f"{what}: {stray.sum()} bright pixels outside the moved mask"
    assert not missing.any(), f"{what}: {missing.sum()} pixels of the moved mask are not bright"


def _sample_inputs(case):
    channels = 3 if 3 in case.channels else 1
    for kind in case.kinds:
        yield kind, channels, None
    if "tensor" in case.kinds:
        yield "tensor", channels, 3


def _transform(case):
    t = case.make()
    if hasattr(t, "mask_fill"):  # occlusions: the occluded part of a mask is unknown, like outside pixels
        t.mask_fill = 255
    return t


@cases
def test_targets_move_with_the_image(case):
    for kind, channels, n in _sample_inputs(case):
        image, boxes, mask, points = _scene(kind, channels, n)
        t = _transform(case)
        for seed in range(4):
            g = torch.Generator().manual_seed(seed)
            try:
                out = t({"image": image, "boxes": boxes, "mask": mask, "keypoints": points}, generator=g)
            except TypeError as error:  # refused: loud, and naming the target
                assert "boxes" in str(error) or "mask" in str(error), str(error)
                return
            if case.passes_targets:
                assert np.array_equal(np.asarray(out["mask"].data), np.asarray(mask.data))
                continue
            for i, row in enumerate(_per_image(out, n)):
                _check_image(*row, f"{case.id} {kind} n={n} seed={seed} image {i}")


def _index_map(n: int | None, array: bool):
    """Float images whose channels are x / W and y / H of each pixel's centre."""
    ys, xs = np.meshgrid((np.arange(H) + 0.5) / H, (np.arange(W) + 0.5) / W, indexing="ij")
    hwc = np.stack([xs, ys, np.full_like(xs, 0.5)], -1).astype(np.float32)
    if array:
        return hwc
    chw = torch.from_numpy(hwc).permute(2, 0, 1).contiguous()
    return chw.expand(n, -1, -1, -1).contiguous() if n else chw


def _moves_points(case) -> bool:
    t = case.make()
    image = torch.zeros(3, H, W)
    return not t.reads_values and t._point_matrix(inspect_image(image), t.sample_params(image)) is not None


@pytest.mark.parametrize("case", [c for c in CASES if 3 in c.channels and "float32" in c.dtypes and _moves_points(c)],
                         ids=lambda c: c.id)
def test_point_matrix_sends_each_source_position_to_its_output_pixel(case):
    t = case.make()
    nearest = getattr(t, "interpolation", "bilinear") == "nearest"
    for n, array in ((None, False), (3, False), (None, True)):
        image = _index_map(n, array)
        spec = inspect_image(image)
        for seed in range(3):
            params = t.sample_params(image, generator=torch.Generator().manual_seed(seed))
            out = t.apply(image, params)
            matrix = t._point_matrix(spec, params)
            if params.applied is not None:
                eye = torch.eye(3, dtype=torch.float64).expand_as(matrix)
                matrix = torch.where(params.applied.view(-1, 1, 1), matrix, eye)
            outs = [out] if array else (list(out) if n else [out])
            for i, o in enumerate(outs):
                o = as_numpy(o)
                oh, ow = o.shape[:2]
                source = torch.from_numpy(o[..., :2] * np.array([W, H])).double()  # where each pixel came from
                v, u = torch.meshgrid(torch.arange(oh) + 0.5, torch.arange(ow) + 0.5, indexing="ij")
                centres = torch.stack([u, v], -1).double()
                back = torch.linalg.inv(matrix[i])
                home = centres @ back[:2, :2].T + back[:2, 2]
                home = home / (centres @ back[2, :2] + back[2, 2])[..., None]
                # pixels that came from inside the image, away from its border (no padding, no fill)
                far = ((home[..., 0] > 2) & (home[..., 0] < W - 2) & (home[..., 1] > 2) & (home[..., 1] < H - 2))
                far[:2], far[-2:], far[:, :2], far[:, -2:] = False, False, False, False
                error = (home - source).norm(dim=-1)[far]
                tol = 0.72 if nearest else 0.15  # half a diagonal; antialiasing filters of fractional widths
                assert far.any() and error.max() <= tol, (
                    f"{case.id} n={n} array={array} seed={seed} image {i}: a pixel came from "
                    f"{error.max():.3f} px away from where the point matrix says")
