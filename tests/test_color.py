"""Colour kernels and transforms: parity with torchvision v2, per-sample jitter, properties, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF
from hypothesis import given
from hypothesis import strategies as st

import augkit
import augkit.functional as F

from .helpers import make_image


def _chw(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array).permute(2, 0, 1)


FACTOR_OPS = [
    (F.adjust_brightness, TF.adjust_brightness),
    (F.adjust_contrast, TF.adjust_contrast),
    (F.adjust_saturation, TF.adjust_saturation),
    (F.adjust_sharpness, TF.adjust_sharpness),
]


@pytest.mark.parametrize("ours, theirs", FACTOR_OPS)
@pytest.mark.parametrize("factor", [0.5, 0.9, 1.4, 2.0])
def test_factor_kernels_match_torchvision(ours, theirs, factor):
    x = make_image("tensor", "uint8", 32, 40, batch=3)
    xf = x.float() / 255
    # float: same formula; grayscale weighs red 0.299 (torchvision 0.2989): within 1e-4
    torch.testing.assert_close(ours(xf, factor), theirs(xf, factor), atol=1e-4, rtol=0)
    # uint8: we round where torchvision truncates: within 1 level
    assert (ours(x, factor).int() - theirs(x, factor).int()).abs().max() <= 1
    # the NumPy kernel agrees with the tensor kernel within 1 level (OpenCV's rounded luma)
    array = x[0].permute(1, 2, 0).numpy()
    assert np.abs(ours(array, factor).astype(int) - ours(x[0], factor).permute(1, 2, 0).numpy()).max() <= 1


@pytest.mark.parametrize("factor", [-0.5, -0.1, 0.05, 0.3])
def test_hue_matches_torchvision(factor):
    x = make_image("tensor", "uint8", 32, 40, batch=3, name="coffee")
    xf = x.float() / 255
    expected = TF.adjust_hue(xf, factor)
    # float tensors rotate the hue straight in RGB: within 1e-6 of torchvision's HSV round trip
    torch.testing.assert_close(F.adjust_hue(xf, factor), expected, atol=1e-6, rtol=0)
    array = xf[0].permute(1, 2, 0).numpy().copy()
    assert np.abs(F.adjust_hue(array, factor) - expected[0].permute(1, 2, 0).numpy()).max() < 1e-5
    # uint8 rotates the same float hue and rounds once; arrays give the tensors' pixels
    ours = F.adjust_hue(x, factor)
    assert (ours.float() - (expected * 255).round()).abs().max() <= 1
    np.testing.assert_array_equal(F.adjust_hue(x[0].permute(1, 2, 0).numpy(), factor), ours[0].permute(1, 2, 0).numpy())


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_pil_ops_match_torchvision(dtype):
    x = make_image("tensor", dtype, 32, 40, batch=2, name="rocket")
    white = 255 if dtype == "uint8" else 1.0
    assert torch.equal(F.posterize(x, 3), TF.posterize(x, 3))
    assert torch.equal(F.invert(x), TF.invert(x))
    assert torch.equal(F.solarize(x, 0.5), TF.solarize(x, 0.5 * white))
    torch.testing.assert_close(F.equalize(x), TF.equalize(x), atol=1e-6, rtol=0)
    assert (F.autocontrast(x).double() - TF.autocontrast(x).double()).abs().max() <= (1 if dtype == "uint8" else 1e-6)
    assert torch.equal(F.permute_channels(x, [2, 0, 1]), TF.permute_channels(x, [2, 0, 1]))


@pytest.mark.parametrize("kernel", [F.posterize, F.solarize, F.equalize, F.autocontrast, F.invert])
def test_pil_op_numpy_kernels_agree_with_tensor_kernels(kernel):
    args = {F.posterize: (3,), F.solarize: (0.4,)}.get(kernel, ())
    for dtype in ("uint8", "float32"):
        array = make_image("numpy", dtype, 32, 40, name="chelsea")
        ours = kernel(_chw(array), *args).permute(1, 2, 0).numpy()
        assert np.abs(kernel(array, *args).astype(float) - ours.astype(float)).max() <= 1e-6


def test_per_sample_factors_equal_separate_calls():
    x = make_image("tensor", "float32", batch=4)
    factors = torch.tensor([0.5, 1.0, 1.5, 2.0])
    for kernel in (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_sharpness):
        out = kernel(x, factors)
        for i in range(4):
            torch.testing.assert_close(out[i], kernel(x[i], float(factors[i])), atol=1e-6, rtol=0)
    out = F.adjust_hue(x, torch.tensor([-0.2, 0.0, 0.1, 0.4]))
    torch.testing.assert_close(out[3], F.adjust_hue(x[3], 0.4), atol=1e-6, rtol=0)


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_color_jitter_applies_each_images_factors_in_its_order(dtype):
    jitter = augkit.ColorJitter(0.4, 0.4, 0.4, 0.1)
    x = make_image("tensor", dtype, batch=6)
    params = jitter.sample_params(x, generator=torch.Generator().manual_seed(3))
    assert len({tuple(o) for o in params.order.tolist()}) > 1, "orders are drawn per image"
    out = jitter.apply(x, params)
    kernels = [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue]
    for i in range(6):
        y = x[i]
        for op in params.order[i].tolist():
            y = kernels[op](y, float(getattr(params, ("brightness", "contrast", "saturation", "hue")[op])[i]))
        assert torch.equal(out[i], y), i


@pytest.mark.parametrize("order", [[1, 0, 2, 3], [0, 1, 3, 2], [3, 2, 1, 0], [2, 1, 0, 3]])
def test_color_jitter_kernel_equals_the_four_kernels_in_order(order):
    kernels = [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue]
    factors = (1.3, 0.7, 1.5, 0.08)
    # uint8 arrays compose consecutive brightness and contrast tables: still exactly equal
    for image in (make_image("numpy", "uint8", 32, 40, name="coffee"), make_image("tensor", "float32", batch=3)):
        expected = image
        for op in order:
            expected = kernels[op](expected, factors[op])
        assert np.array_equal(np.asarray(F.color_jitter(image, *factors, order=order)), np.asarray(expected))
    gray = make_image("tensor", "uint8", channels=1)  # saturation and hue leave gray images alone
    assert torch.equal(F.color_jitter(gray, 1.0, 1.0, 0.2, 0.3), gray)


def test_color_jitter_ranges_follow_torchvision():
    jitter = augkit.ColorJitter(brightness=0.4, contrast=(0.2, 0.5), saturation=2.0, hue=0.1)
    assert jitter.brightness == (0.6, 1.4) and jitter.contrast == (0.2, 0.5)
    assert jitter.saturation == (0.0, 3.0) and jitter.hue == (-0.1, 0.1)
    params = jitter.sample_params(torch.zeros(500, 3, 2, 2), generator=torch.Generator().manual_seed(0))
    assert 0.6 <= params.brightness.min() and params.brightness.max() <= 1.4
    assert -0.1 <= params.hue.min() and params.hue.max() <= 0.1
    same = augkit.ColorJitter(0.4, same_on_batch=True).sample_params(torch.zeros(5, 3, 2, 2))
    assert len(set(same.brightness.tolist())) == 1


def test_color_jitter_with_only_brightness_works_on_gray_images():
    x = make_image("tensor", "uint8", channels=1, batch=3)
    out = augkit.ColorJitter(brightness=0.5, contrast=0.5)(x, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape


def test_channel_shuffle_draws_a_permutation_per_image():
    x = make_image("tensor", "uint8", batch=32)
    params = augkit.ChannelShuffle(p=1.0).sample_params(x, generator=torch.Generator().manual_seed(0))
    assert len({tuple(p) for p in params.permutation.tolist()}) > 1
    out = augkit.ChannelShuffle(p=1.0).apply(x, params)
    for i in (0, 7):
        assert torch.equal(out[i], x[i][params.permutation[i]])


def test_grayscale_and_convert_color():
    x = make_image("tensor", "float32")
    assert augkit.Grayscale()(x).shape == (1, 24, 32)
    assert torch.equal(augkit.Grayscale(channels=3)(augkit.Grayscale()(x)), augkit.Grayscale(channels=3)(x))
    back = augkit.ConvertColor("hsv2rgb")(augkit.ConvertColor("rgb2hsv")(x))
    assert (back - x).abs().max() < 1e-5
    assert augkit.ConvertColor("rgb2gray")(make_image("numpy")).shape == (24, 32, 1)
    assert torch.equal(augkit.SelectChannels([2, 1, 0])(x), x.flip(0))


images = st.sampled_from([("tensor", "uint8"), ("tensor", "float32"), ("numpy", "uint8"),
                          ("numpy", "float32"), ("tensor", "uint16"), ("numpy", "uint16")])


@given(image=images, op=st.sampled_from([F.adjust_brightness, F.adjust_contrast,
                                          F.adjust_saturation, F.adjust_sharpness]))
def test_factor_one_is_identity(image, op):
    x = make_image(*image)
    out = op(x, 1.0)
    assert out.dtype == x.dtype and out.shape == x.shape
    assert np.abs(np.asarray(out, dtype=float) - np.asarray(x, dtype=float)).max() <= (1e-6 if "float" in image[1] else 0)


@given(image=images, factor=st.floats(0.0, 3.0), op=st.sampled_from(
    [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_sharpness]))
def test_dtype_shape_and_range_are_kept(image, factor, op):
    x = make_image(*image)
    out = op(x, factor)
    values = np.asarray(out, dtype=float)
    white = {"uint8": 255, "uint16": 65535, "float32": 1.0}[image[1]]
    assert out.dtype == x.dtype and out.shape == x.shape and values.min() >= 0 and values.max() <= white


@given(kind=st.sampled_from(["tensor", "numpy"]), dtype=st.sampled_from(["uint8", "float32"]))
def test_hue_zero_is_identity_and_invert_twice_is_identity(kind, dtype):
    x = make_image(kind, dtype)
    tol = 1e-5 if dtype == "float32" else 0
    assert np.abs(np.asarray(F.adjust_hue(x, 0.0), float) - np.asarray(x, float)).max() <= tol
    twice = np.asarray(F.invert(F.invert(x)), float)
    assert np.abs(twice - np.asarray(x, float)).max() <= tol / 10  # exact on integers


@given(seed=st.integers(0, 2**31))
def test_same_seed_same_output(seed):
    x = make_image("tensor", "uint8", batch=3)
    jitter = augkit.ColorJitter(0.4, 0.4, 0.4, 0.1)
    a = jitter(x, generator=torch.Generator().manual_seed(seed))
    assert torch.equal(a, jitter(x, generator=torch.Generator().manual_seed(seed)))


def test_errors_name_the_argument_and_value():
    with pytest.raises(ValueError, match="hue"):
        augkit.ColorJitter(hue=0.6)
    with pytest.raises(ValueError, match="brightness"):
        augkit.ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match="bits"):
        augkit.Posterize(bits=9)
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        augkit.Grayscale(channels=2)
    with pytest.raises(ValueError, match="space"):
        augkit.ConvertColor("rgb2xyz")
    with pytest.raises(ValueError, match="3-channel"):
        F.adjust_saturation(make_image("tensor", channels=1), 0.5)
    with pytest.raises(ValueError, match="3-channel"):
        augkit.Hue(0.1)(make_image("numpy", channels=1))
    with pytest.raises(ValueError, match="factor"):
        F.adjust_hue(make_image("tensor"), 0.7)
    with pytest.raises(ValueError, match="permutation"):
        F.permute_channels(make_image("tensor"), [0, 0, 1])


# -- the C kernel of colour jitter on CPU tensors (float32 and uint8) -----------------------------

from augkit.core import kernels  # noqa: E402
from augkit.functional import jitter as jitter_module  # noqa: E402


def test_the_c_jitter_kernel_is_built():
    assert jitter_module._native is not None, "installing augkit builds augkit._native (needs a C compiler)"


def _tensor_row(kernel) -> kernels.Row:
    return next(r for r in kernels.rows() if r.op == kernel.__name__ and r.kind == "tensor")


def _torch_path(kernel, x, *args, **kwargs):
    """The row's torch backend, where the public op picks the C one (or, for brightness and
    contrast of uint8 images, the lookup tables)."""
    row = _tensor_row(kernel)
    assert row.select(x).name in ("c", "lut"), kernel.__name__
    return row.backends[-1].fn(x, *args, **kwargs)


def _random_jitter(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    factors = [torch.empty(n).uniform_(0.2, 1.8, generator=g) for _ in range(3)]
    hue = torch.empty(n).uniform_(-0.5, 0.5, generator=g)
    order = torch.stack([torch.randperm(4, generator=g) for _ in range(n)])
    return (*factors, hue), order


@pytest.mark.parametrize("dtype", ["float32", "uint8"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("height, width", [(24, 32), (37, 61)])  # 61 x 37 pixels: chunks and lanes left over
def test_c_kernel_computes_what_the_torch_operations_compute(dtype, channels, height, width):
    x = make_image("tensor", dtype, height, width, channels=channels, batch=8)
    x[0, :, :3] = x[0, :, :3].max()  # grey pixels: no chroma
    factors, order = _random_jitter(8, seed=channels + height)
    out = F.color_jitter(x, *factors, order=order)
    expected = _torch_path(F.color_jitter, x, *factors, order=order)
    if dtype == "uint8":  # integer sums are exact: the same bits everywhere
        assert torch.equal(out, expected)
    # float contrast means are summed in another order: at most a few units in the last place
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)
    singles = [F.adjust_brightness, F.adjust_saturation, F.adjust_hue] if channels == 3 else [F.adjust_brightness]
    for kernel, factor in zip(singles, (factors[0], factors[2], factors[3])):
        assert torch.equal(kernel(x, factor), _torch_path(kernel, x, factor)), kernel.__name__
    contrast = F.adjust_contrast(x, factors[1])
    torch.testing.assert_close(contrast, _torch_path(F.adjust_contrast, x, factors[1]), atol=1e-6, rtol=0)


def test_c_kernel_results_do_not_depend_on_the_batch_or_the_thread_count():
    x = make_image("tensor", "float32", batch=10)
    factors, order = _random_jitter(10, seed=3)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = F.color_jitter(x, *factors, order=order)
        torch.set_num_threads(3)
        three = F.color_jitter(x, *factors, order=order)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one, three) and one.shape == x.shape
    for i in range(10):
        assert torch.equal(one[i], F.color_jitter(x[i], *(f[i] for f in factors), order=order[i]))


@pytest.mark.parametrize("height, width", [(37, 61), (64, 80)])  # one chunk and a bit; several chunks
def test_c_kernel_reads_and_writes_hwc_arrays_interleaved_with_the_bits_of_their_planes(height, width):
    x = make_image("tensor", "uint8", height, width, batch=6)
    x[0, :, :3] = x[0, :, :3].max()  # grey pixels: no chroma
    factors, order = _random_jitter(6, seed=height)
    array_row = next(r for r in kernels.rows() if r.op == "color_jitter" and r.kind == "numpy")
    for i in range(6):
        array = x[i].permute(1, 2, 0).contiguous().numpy()
        assert array_row.select(array).name == "c"
        values = [float(f[i]) for f in factors]
        planes = F.color_jitter(x[i], *values, order=order[i])
        out = F.color_jitter(array, *values, order=order[i].tolist())
        assert out.shape == array.shape and out.dtype == np.uint8
        np.testing.assert_array_equal(out, planes.permute(1, 2, 0).numpy())
        np.testing.assert_array_equal(array, x[i].permute(1, 2, 0).numpy())  # the input is left alone
        for kernel, factor in ((F.adjust_saturation, values[2]), (F.adjust_hue, values[3])):
            np.testing.assert_array_equal(kernel(array, factor), kernel(x[i], factor).permute(1, 2, 0).numpy())


def test_c_kernel_interleaves_only_three_channels():
    with pytest.raises(ValueError, match="interleaves 3 channels; got 1"):
        jitter_module._native.color_jitter(0, 0, 1, 1, 4, 0, 0, True, True)


def test_colour_transforms_give_a_cpu_batch_to_the_c_kernel_in_one_call(monkeypatch):
    from augkit.core import executor

    monkeypatch.setattr(executor, "TILE_BYTES", 1)  # a batch of several passes would be split
    calls = []
    native = jitter_module._native

    class Counting:
        def color_jitter(self, *args):
            calls.append(args[2])
            return native.color_jitter(*args)

    monkeypatch.setattr(jitter_module, "_native", Counting())
    x = make_image("tensor", "float32", batch=6)
    augkit.ColorJitter(0.4, 0.4, 0.4, 0.1)(x)
    augkit.Hue(0.1)(x)
    assert calls == [6, 6]


def test_c_kernel_refuses_orders_outside_the_four_ops():
    with pytest.raises(ValueError, match="order"):
        F.color_jitter(make_image("tensor", "float32"), 1.2, order=[0, 1, 2, 4])



def test_equalize_bins_off_grid_floats_like_torchvision():
    """Floats between the 1/255 steps fall in torchvision's bins (floor of x * (256 - 1e-3))."""
    x = torch.rand(2, 3, 40, 50, generator=torch.Generator().manual_seed(0)) ** 2
    torch.testing.assert_close(F.equalize(x), TF.equalize(x), atol=1e-6, rtol=0)
    array = F.equalize(x[0].permute(1, 2, 0).numpy())
    np.testing.assert_array_equal(array, F.equalize(x[0]).permute(1, 2, 0).numpy())


def test_equalize_counts_uint16_on_65536_levels():
    """A 16-bit image holding an 8-bit one (v * 257) equalizes like torchvision's 8-bit result:
    the same tables up to the 8-bit rounding of PIL's step (at most 1.5 levels)."""
    u8 = make_image("tensor", "uint8", 48, 64)
    u16 = u8.to(torch.int32).mul(257).to(torch.uint16)
    ours = F.equalize(u16)
    assert ours.dtype == torch.uint16
    diff = (ours.double() / 257 - TF.equalize(u8).double()).abs()
    assert diff.max() <= 1.5 and diff.mean() <= 0.6
    np.testing.assert_array_equal(F.equalize(u16.permute(1, 2, 0).numpy()), ours.permute(1, 2, 0).numpy())
    two_levels = torch.full((1, 8, 64), 6000, dtype=torch.uint16)
    two_levels[:, 4:] = 30000
    assert F.equalize(two_levels).int().unique().tolist() == [0, 65535]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("kind", ["tensor", "numpy"])
def test_equalize_refuses_nan_and_inf(kind, value, strict):
    """At the door in strict mode, in the kernel itself out of it."""
    augkit.set_strict(strict)
    x = make_image(kind, "float32")
    x[(0,) * x.ndim] = value
    with pytest.raises(ValueError, match="NaN or infinit"):
        F.equalize(x)
