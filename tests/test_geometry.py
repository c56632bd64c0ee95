"""Flips: per-sample randomness on batches and parity with torchvision."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF

import augkit
import augkit.functional as F

from .helpers import make_image, same


def test_batch_of_identical_images_gets_independent_flips():
    image = make_image("tensor", "uint8")
    batch = image.expand(64, -1, -1, -1).contiguous()
    out = augkit.HorizontalFlip(p=0.5)(batch, generator=torch.Generator().manual_seed(0))
    flipped = torch.tensor([torch.equal(o, image.flip(-1)) for o in out])
    kept = torch.tensor([torch.equal(o, image) for o in out])
    assert bool((flipped | kept).all())
    assert 10 < int(flipped.sum()) < 54, "p=0.5 per sample should flip about half of 64"
    again = augkit.HorizontalFlip(p=0.5)(batch, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


@pytest.mark.parametrize("kernel, reference", [(F.hflip, TF.horizontal_flip), (F.vflip, TF.vertical_flip)])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_flip_kernels_match_torchvision(kernel, reference, dtype):
    x = make_image("tensor", dtype, batch=3)
    assert torch.equal(kernel(x), reference(x))
    array = make_image("numpy", dtype)
    expected = reference(torch.from_numpy(array).permute(2, 0, 1)).permute(1, 2, 0).numpy()
    assert np.array_equal(kernel(array), expected)


@pytest.mark.parametrize("kernel, dim", [(F.hflip_tensor, -1), (F.vflip_tensor, -2)])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_flip_kernels_mirror_only_the_chosen_images_of_a_batch(kernel, dim, dtype):
    x = make_image("tensor", dtype, batch=5)
    which = torch.tensor([True, False, False, True, True])
    out = kernel(x, which)
    for image, result, chosen in zip(x, out, which):
        assert torch.equal(result, image.flip(dim) if chosen else image)
    assert torch.equal(kernel(x, torch.ones(5, dtype=torch.bool)), kernel(x))


def test_pil_numpy_and_tensor_give_the_same_pixels():
    flip = augkit.VerticalFlip(p=1.0)
    tensor, array, pil = (make_image(k, "uint8") for k in ("tensor", "numpy", "pil"))
    params = flip.sample_params(tensor)
    out_t = flip.apply(tensor, params).permute(1, 2, 0).numpy()
    assert np.array_equal(flip.apply(array, params), out_t)
    assert np.array_equal(np.asarray(flip.apply(pil, params)), out_t)


def test_flip_keeps_channels_last_memory_format_and_device():
    x = make_image("tensor", "float32", batch=4).to(memory_format=torch.channels_last)
    out = augkit.HorizontalFlip(p=0.5)(x)
    assert out.device == x.device and out.shape == x.shape
    assert same(augkit.HorizontalFlip(p=0.0)(x), x)


# -- resize, crops, padding ------------------------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torchvision.transforms import InterpolationMode as IM  # noqa: E402

from augkit.core.image import ImageSpec, Kind  # noqa: E402

from .helpers import assert_close, photo_array  # noqa: E402

_TV_MODES = {"nearest": IM.NEAREST, "bilinear": IM.BILINEAR, "bicubic": IM.BICUBIC}


def _hwc(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).numpy()


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("size", [16, [50, 21], 70, (24, 90)])
def test_resize_tensor_equals_torchvision(interpolation, antialias, size):
    x = make_image("tensor", "uint8", 36, 48, batch=2)
    expected = TF.resize(x, size, _TV_MODES[interpolation], antialias=antialias)
    assert torch.equal(F.resize(x, size, interpolation, antialias=antialias), expected)
    xf = x.float() / 255
    expected_f = TF.resize(xf, size, _TV_MODES[interpolation], antialias=antialias).clamp(0, 1)
    assert_close(F.resize(xf, size, interpolation, antialias=antialias)[0], expected_f[0], 1e-6)


@pytest.mark.parametrize("interpolation, atol", [("bilinear", 1), ("nearest", 0), ("area", 1), ("bicubic", 9)])
@pytest.mark.parametrize("size", [(12, 17), (24, 32), (50, 70)])
def test_resize_numpy_agrees_with_tensor(interpolation, atol, size):
    """Arrays: exact where torch's antialiased filter runs on a view, OpenCV otherwise
    (fixed-point bilinear within 1 level; bicubic without antialias within 9 at sharp edges)."""
    array = photo_array(36, 48)
    for antialias in (True, False):
        tensor = F.resize(torch.from_numpy(array).permute(2, 0, 1), size, interpolation, antialias=antialias)
        assert_close(F.resize(array, size, interpolation, antialias=antialias), tensor, atol,
                     f"{interpolation} antialias={antialias}")


def test_area_matches_opencv_and_lanczos_is_close_to_pillow():
    from PIL import Image

    array = photo_array(60, 80)
    tensor = torch.from_numpy(array).permute(2, 0, 1)
    for size in [(24, 31), (30, 40), (13, 17)]:
        expected = cv2.resize(array, size[::-1], interpolation=cv2.INTER_AREA)
        assert_close(F.resize(tensor, size, "area"), expected, 1, f"area {size}")
    for size in [(24, 31), (90, 120)]:
        pil = np.asarray(Image.fromarray(array).resize(size[::-1], Image.LANCZOS))
        diff = np.abs(_hwc(F.resize(tensor, size, "lanczos")).astype(int) - pil)
        # Pillow rounds to uint8 between its two passes
        assert diff.max() <= 12 and diff.mean() < 0.6, (size, diff.max(), diff.mean())


def test_resize_shorter_side_and_max_size():
    x = torch.zeros(3, 375, 500, dtype=torch.uint8)
    assert F.resize(x, 256).shape[-2:] == (256, 341)
    assert F.resize(x, 256, max_size=300).shape[-2:] == (225, 300)
    assert F.resized_size((500, 375), 256) == tuple(TF.resize(torch.zeros(1, 500, 375), [256]).shape[-2:])


def test_resize_uint16_and_float16():
    x = make_image("tensor", "uint16", batch=2)
    out = F.resize(x, 12)
    assert out.dtype == torch.uint16
    reference = F.resize(x.float(), 12, antialias=True).round()
    assert_close(out[0].float(), reference[0], 1)
    half = F.resize(x.float().div(65535).half(), 12)
    assert half.dtype == torch.float16


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_matches_torchvision_and_numpy(mode):
    x = make_image("tensor", "uint8", 10, 12)
    padding = [3, 1, 2, 4]
    fill = 0.5 if mode == "constant" else 0.0
    expected = TF.pad(x, padding, fill=128 if mode == "constant" else 0, padding_mode=mode)
    assert torch.equal(F.pad(x, padding, fill, mode), expected)
    assert np.array_equal(F.pad(_hwc(x).copy(), padding, fill, mode), _hwc(expected))


def test_crop_and_center_crop_match_torchvision_inside_and_outside():
    x = make_image("tensor", "uint8", 20, 30)
    for box in [(2, 3, 10, 12), (-2, -3, 10, 12), (15, 25, 10, 12)]:
        assert torch.equal(F.crop(x, *box), TF.crop(x, *box)), box
        assert np.array_equal(F.crop(_hwc(x), *box), _hwc(TF.crop(x, *box))), box
    for size in [(10, 11), (24, 36), 7]:
        assert torch.equal(F.center_crop(x, size), TF.center_crop(x, size)), size


@pytest.mark.parametrize("h, w", [(20, 30), (7, 9), (1, 1), (4, 5)])
def test_center_crop_is_placed_like_torchvision_for_odd_and_even_differences(h, w):
    x = make_image("tensor", "uint8", h, w)
    for ch in range(1, h + 6):
        for cw in (1, w - 1, w, w + 1, w + 2, w + 3):
            if cw < 1:
                continue
            expected = TF.center_crop(x, [ch, cw])
            assert torch.equal(F.center_crop(x, (ch, cw)), expected), (ch, cw)
            assert np.array_equal(F.center_crop(_hwc(x), (ch, cw)), _hwc(expected)), (ch, cw)
            assert np.array_equal(F.center_crop(_hwc(x)[..., 0], (ch, cw)), _hwc(expected)[..., 0]), (ch, cw)
    assert torch.equal(augkit.CenterCrop((h + 3, w + 1))(x), TF.center_crop(x, [h + 3, w + 1]))


def test_per_image_crop_offsets_on_a_batch():
    x = make_image("tensor", "uint8", 20, 30, batch=3)
    top, left = torch.tensor([0, 5, 10]), torch.tensor([7, 0, 18])
    out = F.crop(x, top, left, 10, 12)
    for i in range(3):
        assert torch.equal(out[i], F.crop(x[i], int(top[i]), int(left[i]), 10, 12))


@pytest.mark.parametrize("interpolation, atol", [("bilinear", 1), ("bicubic", 2), ("nearest", 0),
                                                 ("area", 0), ("lanczos", 0)])
def test_per_image_resized_crop_matches_cropping_each_image(interpolation, atol):
    x = make_image("tensor", "uint8", 60, 80, batch=4)
    box = [torch.tensor(v) for v in ([0, 5, 10, 30], [3, 0, 20, 60], [50, 30, 40, 8], [60, 70, 45, 20])]
    out = F.resized_crop(x, *box, (32, 28), interpolation)
    for i in range(4):
        one = F.resized_crop(x[i], *(int(v[i]) for v in box), (32, 28), interpolation)
        assert_close(out[i], one, atol, f"{interpolation} image {i}")
    xf = x.float() / 255
    out_f = F.resized_crop(xf, *box, (32, 28), interpolation)
    one_f = F.resized_crop(xf[1], *(int(v[1]) for v in box), (32, 28), interpolation)
    assert_close(out_f[1], one_f, 1e-5)


def test_resized_crop_matches_torchvision():
    x = make_image("tensor", "uint8", 60, 80)
    expected = TF.resized_crop(x, 5, 7, 40, 50, [24, 24], antialias=True)
    assert torch.equal(F.resized_crop(x, 5, 7, 40, 50, 24), expected)
    assert np.array_equal(F.resized_crop(_hwc(x), 5, 7, 40, 50, 24), _hwc(expected))


# -- warps -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("angle", [30.0, -75.0, 90.0])
@pytest.mark.parametrize("expand", [False, True])
def test_rotate_matches_torchvision(angle, expand):
    x = make_image("tensor", "float32", 24, 32)
    expected = TF.rotate(x, angle, IM.BILINEAR, expand=expand)
    out = F.rotate(x, angle, "bilinear", expand=expand)
    assert out.shape == expected.shape
    assert_close(out, expected, 1e-4)


@pytest.mark.parametrize("h, w", [(3, 5), (4, 5), (6, 3), (7, 7), (1, 4)])
@pytest.mark.parametrize("angle", [0.0, 90.0, 180.0, 270.0, -90.0])
def test_rotate_expand_keeps_exact_sizes_and_pixels_at_right_angles(h, w, angle):
    x = (torch.rand(2, h, w, generator=torch.Generator().manual_seed(h * w)) * 255).to(torch.uint8)
    expected = TF.rotate(x, angle, IM.NEAREST, expand=True)
    assert F.expanded_size((h, w), [angle]) == tuple(expected.shape[-2:])
    assert torch.equal(F.rotate(x, angle, "nearest", expand=True), expected)
    assert np.array_equal(F.rotate(_hwc(x).copy(), angle, "nearest", expand=True), _hwc(expected))


def test_expanded_size_matches_torchvision_at_any_angle():
    for h, w in [(3, 5), (4, 5), (24, 32), (1, 7), (13, 8)]:
        for angle in [float(a) for a in np.arange(-400.0, 400.0, 7.3)] + [45.0, 360.0]:
            expected = TF.rotate(torch.zeros(1, h, w), angle, IM.NEAREST, expand=True).shape[-2:]
            assert F.expanded_size((h, w), [angle]) == tuple(expected), (h, w, angle)


def test_affine_matches_torchvision_with_angle_negated():
    x = make_image("tensor", "float32", 24, 32)
    h, w = x.shape[-2:]
    matrix = F.affine_matrix(25.0, (3.0, -2.0), 1.2, (10.0, -5.0), ((w - 1) / 2, (h - 1) / 2))
    expected = TF.affine(x, angle=-25.0, translate=[3, -2], scale=1.2, shear=[10.0, -5.0],
                         interpolation=IM.BILINEAR)
    assert_close(F.affine(x, matrix, "bilinear"), expected, 1e-4)


def test_perspective_matches_torchvision():
    x = make_image("tensor", "float32", 24, 32)
    start = [[0, 0], [31, 0], [31, 23], [0, 23]]
    end = [[3, 2], [28, 1], [30, 20], [1, 22]]
    expected = TF.perspective(x, start, end, IM.BILINEAR)
    assert_close(F.perspective(x, start, end, "bilinear"), expected, 1e-4)


def test_random_perspective_solves_on_the_params_device_and_matches_torchvision(monkeypatch):
    x = make_image("tensor", "float32", 24, 32, batch=4)
    t = augkit.RandomPerspective(0.6, p=1.0)
    params = t.sample_params(x, generator=torch.Generator().manual_seed(3))
    start, end = params.startpoints.tolist(), params.endpoints.tolist()
    for name in ("cpu", "item", "tolist"):  # the apply step must not read the params back
        def host(self, *args, _name=name, **kwargs):
            raise AssertionError(f"Tensor.{_name}() on the apply path")
        monkeypatch.setattr(torch.Tensor, name, host)
    out = t.apply(x, params)
    inv = F.warp._homography(params.startpoints, params.endpoints)
    monkeypatch.undo()
    assert inv.dtype == torch.float64 and inv.shape == (4, 3, 3)
    for i in range(4):
        expected = TF.perspective(x[i], start[i], end[i], IM.BILINEAR)
        assert_close(out[i], expected, 1e-4, f"image {i}")
    with pytest.raises(ValueError, match="degenerate"):
        F.perspective(x[0], [[0, 0], [31, 0], [31, 0], [0, 0]], [[0, 0], [31, 0], [31, 0], [0, 0]])


@pytest.mark.parametrize("kernel, args", [
    (F.rotate, (33.0, "bilinear")),
    (F.affine, (F.affine_matrix(12.0, (2.0, 1.0), 0.9, (5.0, 0.0), (15.5, 11.5)), "bilinear")),
    (F.perspective, ([[0, 0], [31, 0], [31, 23], [0, 23]], [[3, 2], [28, 1], [30, 20], [1, 22]], "bilinear")),
])
def test_warp_numpy_agrees_with_tensor(kernel, args):
    """OpenCV samples at 1/32-pixel positions: the mean difference stays under 1 grey level."""
    x = make_image("tensor", "uint8", 24, 32)
    tensor = _hwc(kernel(x, *args, fill=0.25)).astype(int)
    array = kernel(_hwc(x).copy(), *args, fill=0.25).astype(int)
    diff = np.abs(tensor - array)
    assert diff.mean() < 1.0 and diff.max() <= 40, (diff.mean(), diff.max())


def test_affine_batch_uses_one_matrix_per_image_and_fill():
    x = make_image("tensor", "float32", 16, 16, batch=3)
    matrices = torch.stack([F.affine_matrix(a, center=(7.5, 7.5)) for a in (0.0, 90.0, 180.0)])
    out = F.affine(x, matrices, "nearest", fill=1.0)
    assert torch.equal(out[0], x[0])
    assert_close(out[1], torch.rot90(x[1], 1, (-2, -1)), 1e-6)
    assert_close(out[2], torch.rot90(x[2], 2, (-2, -1)), 1e-6)
    shifted = F.affine(x[:1], F.affine_matrix(translate=(4.0, 0.0)), "nearest", fill=1.0)
    assert bool((shifted[..., :4] == 1.0).all())


# -- transforms ------------------------------------------------------------------------------------

def test_resized_center_crop_equals_resize_then_center_crop_within_a_sub_pixel_shift():
    fused = augkit.ResizedCenterCrop(224, crop_ratio=0.875)
    two_step = augkit.Compose([augkit.Resize(256), augkit.CenterCrop(224)])
    for name in ("astronaut", "coffee", "chelsea"):
        x = make_image("tensor", "uint8", 375, 500, name=name)
        diff = (fused(x).int() - two_step(x).int()).abs().float()
        assert diff.mean() < 5.0, (name, float(diff.mean()))
    assert F.center_crop_box((375, 500), (375, 375)) == (0, 62, 375, 375)


def test_random_resized_crop_boxes_follow_torchvision_rules():
    t = augkit.RandomResizedCrop(32, scale=(0.2, 0.6), ratio=(0.5, 2.0))
    spec = ImageSpec(Kind.TENSOR, 4000, (60, 90), 3, torch.float32, torch.device("cpu"), True)
    params = t.sample_params(spec, generator=torch.Generator().manual_seed(0))
    area = (params.height * params.width).double() / (60 * 90)
    aspect = params.width.double() / params.height
    assert bool(((params.top >= 0) & (params.top + params.height <= 60)).all())
    assert bool(((params.left >= 0) & (params.left + params.width <= 90)).all())
    assert 0.18 < float(area.min()) and float(area.max()) < 0.62
    assert 0.45 < float(aspect.min()) and float(aspect.max()) < 2.2
    assert len(set(params.top.tolist())) > 20, "boxes must be drawn per image"


def test_random_resized_crop_falls_back_to_a_centre_crop_like_torchvision():
    t = augkit.RandomResizedCrop(8, scale=(2.0, 3.0), ratio=(1.0, 1.0))
    params = t.sample_params(torch.zeros(2, 3, 20, 40))
    assert params.top.tolist() == [0, 0] and params.left.tolist() == [10, 10]
    assert params.height.tolist() == [20, 20] and params.width.tolist() == [20, 20]


def test_same_on_batch_shares_parameters():
    for t in (augkit.RandomResizedCrop(16, same_on_batch=True), augkit.RandomCrop(10, same_on_batch=True),
              augkit.RandomAffine(30, same_on_batch=True)):
        x = make_image("tensor", "float32", batch=1).expand(5, -1, -1, -1)
        out = t(x)
        assert all(torch.equal(out[0], o) for o in out), type(t).__name__


def test_random_rotation_expand_canvas_holds_every_angle():
    t = augkit.RandomRotation((0, 90), expand=True)
    assert t.output_size((20, 40), None) == (46, 46)
    out = t(torch.ones(6, 1, 20, 40), generator=torch.Generator().manual_seed(1))
    assert out.shape == (6, 1, 46, 46)
    assert torch.allclose(out.sum((1, 2, 3)), torch.full((6,), 800.0), rtol=0.05)


@pytest.mark.parametrize("h, w", [(1, 9), (9, 1), (1, 1)])
@pytest.mark.parametrize("kind", ["tensor", "batch", "numpy", "numpy_hw"])
def test_random_perspective_leaves_one_pixel_rows_and_columns_unchanged(h, w, kind):
    x = make_image("numpy" if kind.startswith("numpy") else "tensor", "uint8", h, w,
                   batch=3 if kind == "batch" else None)
    if kind == "numpy_hw":
        x = x[..., 0].copy()
    t = augkit.RandomPerspective(1.0, p=1.0)
    out = t(x, generator=torch.Generator().manual_seed(0))
    assert type(out) is type(x) and out.dtype == x.dtype and out.shape == x.shape
    assert same(out, x)
    assert same(t.apply(x, t.sample_params(x)), x)


def test_zoom_out_keeps_size_and_fills_the_border():
    x = torch.zeros(4, 3, 32, 32)
    out = augkit.RandomZoomOut(fill=1.0, side_range=(2.0, 2.0), p=1.0)(x)
    assert out.shape == x.shape
    covered = (out == 0).all(1).float().mean((1, 2))
    assert torch.allclose(covered, torch.full((4,), 0.25), atol=0.05)


@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 30), st.integers(1, 30))
def test_resize_output_size_property(h, w, oh, ow):
    x = torch.rand(1, h, w)
    assert F.resize(x, (oh, ow)).shape == (1, oh, ow)
    out = F.resize(x, (oh, ow), "area")
    assert float(out.min()) >= float(x.min()) - 1e-5 and float(out.max()) <= float(x.max()) + 1e-5


@given(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5), st.integers(0, 5),
       st.sampled_from(["constant", "edge", "reflect", "symmetric"]))
def test_pad_then_crop_is_identity(left, top, right, bottom, mode):
    x = torch.randint(0, 255, (3, 6, 7), dtype=torch.uint8)
    padded = F.pad(x, [left, top, right, bottom], 0.0, mode)
    assert torch.equal(F.crop(padded, top, left, 6, 7), x)
    assert np.array_equal(F.pad(_hwc(x).copy(), [left, top, right, bottom], 0.0, mode), _hwc(padded))


@pytest.mark.parametrize("make, match", [
    (lambda: augkit.Resize(0), "size"),
    (lambda: augkit.Resize(10, interpolation="cubic"), "interpolation"),
    (lambda: augkit.Resize((10, 10), max_size=20), "max_size"),
    (lambda: augkit.RandomCrop(10, padding_mode="wrap"), "padding_mode"),
    (lambda: augkit.Pad(-1), "padding"),
    (lambda: augkit.ResizedCenterCrop(224, crop_ratio=1.5), "crop_ratio"),
    (lambda: augkit.RandomResizedCrop(224, scale=(0.5, 0.1)), "scale"),
    (lambda: augkit.RandomRotation(10, fill=2.0), "fill"),
    (lambda: augkit.RandomRotation(10, interpolation="area"), "interpolation"),
    (lambda: augkit.RandomAffine(0, shear=(1, 2, 3)), "shear"),
    (lambda: augkit.RandomPerspective(1.5), "distortion_scale"),
    (lambda: augkit.RandomZoomOut(side_range=(0.5, 2)), "side_range"),
])
def test_bad_arguments_name_themselves(make, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make()


def test_random_crop_too_large_explains_pad_if_needed():
    with pytest.raises(ValueError, match="pad_if_needed"):
        augkit.RandomCrop(50)(torch.zeros(3, 20, 20))
    assert augkit.RandomCrop(50, pad_if_needed=True)(torch.zeros(3, 20, 20)).shape == (3, 50, 50)


def test_random_resized_crop_draws_the_same_boxes_for_one_image_and_for_a_batch():
    """A few images are drawn in plain Python, batches with tensor ops: the same maths."""
    t = augkit.RandomResizedCrop(32, scale=(0.05, 1.5), ratio=(0.3, 3.0))
    for seed in range(200):
        u = torch.rand(3, t.tries, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        one_by_one = [list(t._first_valid(tries, 60, 90)) for tries in u.tolist()]
        assert torch.stack(t._first_valid_batched(u, 60, 90), 1).tolist() == one_by_one, seed


def test_batched_resampling_of_blocks_equals_one_call():
    # transforms hand large CPU batches to the kernels in blocks (augkit.core.transform)
    x = make_image("tensor", "uint8", 60, 80, batch=5)
    box = [torch.tensor(v) for v in ([0, 5, 10, 30, 2], [3, 0, 20, 60, 1], [50, 30, 40, 8, 58],
                                     [60, 70, 45, 20, 79])]
    whole = F.resized_crop(x, *box, (32, 28))
    blocks = [F.resized_crop(x[part], *(v[part] for v in box), (32, 28)) for part in (slice(0, 2), slice(2, 5))]
    assert torch.equal(torch.cat(blocks), whole)
    assert torch.equal(torch.cat([F.resize(x[:2], (24, 30), "area"), F.resize(x[2:], (24, 30), "area")]),
                       F.resize(x, (24, 30), "area"))
