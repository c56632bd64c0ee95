"""Augmentation policies: torchvision parity per op, per-sample draws and their distribution,
one numerics for an image alone or in a batch, no host reads, timm-style spec strings, errors,
dtypes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torchvision.transforms.v2 as v2
from torchvision.transforms.v2 import AutoAugmentPolicy

import augkit
from augkit.policies import from_spec
from augkit.transforms.augmix import AugMixParams
from augkit.transforms.policies import (AUGMIX_PARTIAL_OPS, AUGMIX_SPACE, AUTOAUGMENT_POLICIES, AUTOAUGMENT_SPACE,
                                        RAND_AUGMENT_SPACE, TRIVIAL_AUGMENT_SPACE, PolicyParams, magnitudes, op_names)
from augkit.transforms.policy_ops import apply_ops

from .helpers import make_image

H, W = 48, 64
GEOMETRIC = ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate")


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _names(space) -> list[str]:
    return list(op_names(space))


# -- magnitude tables ------------------------------------------------------------------------------

@pytest.mark.parametrize("space, reference, bins", [
    (RAND_AUGMENT_SPACE, v2.RandAugment, 31), (RAND_AUGMENT_SPACE, v2.RandAugment, 11),
    (TRIVIAL_AUGMENT_SPACE, v2.TrivialAugmentWide, 31), (TRIVIAL_AUGMENT_SPACE, v2.TrivialAugmentWide, 7),
    (AUTOAUGMENT_SPACE, v2.AutoAugment, 10), (AUGMIX_SPACE, v2.AugMix, 10),
])
def test_magnitude_tables_are_torchvisions(space, reference, bins):
    table = reference._AUGMENTATION_SPACE
    assert set(_names(space)) == set(table)
    for size in ((H, W), (224, 224), (37, 91)):
        for k, name in enumerate(_names(space)):
            fn, signed = table[name]
            expected = fn(bins, *size)
            ops = torch.full((bins,), k)
            levels = torch.arange(bins, dtype=torch.float32)
            for negate in (False, True):
                got = magnitudes(space, size, ops, levels, bins, torch.full((bins,), negate))
                if expected is None:
                    assert torch.equal(got, torch.zeros(bins)), name
                else:
                    sign = -1.0 if signed and negate else 1.0
                    assert torch.equal(got, expected.float() * sign), (name, size, negate)


def test_augmix_partial_ops_and_autoaugment_policies_are_torchvisions():
    assert _names(AUGMIX_SPACE)[:AUGMIX_PARTIAL_OPS] == list(v2.AugMix._PARTIAL_AUGMENTATION_SPACE)
    for policy in AutoAugmentPolicy:
        expected = [tuple((op, p, 0 if m is None else m) for op, p, m in sub)
                    for sub in v2.AutoAugment(policy)._get_policies(policy)]
        assert list(AUTOAUGMENT_POLICIES[policy.value]) == expected


# -- parity per op ---------------------------------------------------------------------------------

def _tv_apply(x: torch.Tensor, name: str, magnitude: float, interpolation: str) -> torch.Tensor:
    """torchvision's op on each image of ``x`` (its auto-augment dispatch: the reference)."""
    tv = v2.RandAugment(interpolation=getattr(v2.InterpolationMode, interpolation.upper()))
    return torch.stack([tv._apply_image_or_video_transform(image, name, magnitude, interpolation=tv.interpolation,
                                                            fill=tv._fill) for image in x])


def _ours(space, name: str, bin_: int, negate: bool, bins: int, n: int, interpolation: str):
    policy = augkit.RandAugment(num_ops=1, num_magnitude_bins=bins, interpolation=interpolation)
    ops = torch.full((n, 1), _names(space).index(name))
    m = magnitudes(space, (H, W), ops, torch.full((n, 1), float(bin_)), bins, torch.full((n, 1), negate))
    return policy, PolicyParams(ops=ops, magnitudes=m), float(m[0, 0])


@pytest.mark.parametrize("name", _names(RAND_AUGMENT_SPACE))
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_each_op_matches_torchvision_at_several_magnitudes(name, dtype):
    """Tensors (a batch, or one image: the same kernel calls, the same pixels): bilinear warps
    within 1 level, pixel ops within 2 levels on uint8 (augkit rounds where torchvision
    truncates) and 1e-4 on floats (augkit's luma weighs red 0.299, torchvision's 0.2989); arrays
    (OpenCV kernels): within 2 levels for pixel ops, and within the OpenCV warp tolerance
    (1/32-pixel positions) for warps."""
    x = make_image("tensor", dtype, H, W, batch=4)
    level = 1.0 if dtype == "uint8" else 1 / 255
    for bin_ in (0, 4, 9, 17, 30):
        for negate in (False, True):
            policy, params, m = _ours(RAND_AUGMENT_SPACE, name, bin_, negate, 31, 4, "bilinear")
            expected = _tv_apply(x, name, m, "bilinear").double()
            batch = policy.apply(x, params)
            label = f"{name} bin {bin_} {'-' if negate else '+'} {dtype}"
            assert torch.equal(policy.apply(x[0], params[0]), batch[0]), label
            array = torch.from_numpy(policy.apply(x[0].permute(1, 2, 0).numpy(), params[0])).permute(2, 0, 1).double()
            tolerance = level if name in GEOMETRIC else 2 * level if dtype == "uint8" else 1e-4
            assert (batch.double() - expected).abs().max() <= tolerance, label
            if name in GEOMETRIC:
                assert (array - expected[0]).abs().max() <= 40 * level, label
                assert (array - expected[0]).abs().mean() <= 0.5 * level, label
            else:
                assert (array - expected[0]).abs().max() <= 2 * level, label


@pytest.mark.parametrize("name", GEOMETRIC)
def test_nearest_warps_match_torchvision_but_for_rounding_ties(name):
    x = make_image("tensor", "uint8", H, W, batch=4)
    for bin_ in (3, 9, 20, 30):
        policy, params, m = _ours(RAND_AUGMENT_SPACE, name, bin_, True, 31, 4, "nearest")
        expected = _tv_apply(x, name, m, "nearest")
        differs = policy.apply(x, params) != expected
        assert differs.float().mean() <= 0.05, f"{name} bin {bin_}"  # pixels half-way between two


def test_trivial_augment_wide_ops_match_torchvision():
    x = make_image("tensor", "uint8", H, W, batch=2)
    for name in ("ShearX", "TranslateY", "Rotate", "Posterize", "Solarize", "Brightness"):
        for bin_ in (5, 30):
            _, params, m = _ours(TRIVIAL_AUGMENT_SPACE, name, bin_, True, 31, 2, "bilinear")
            policy = augkit.TrivialAugmentWide(interpolation="bilinear")
            assert (policy.apply(x, params).double() - _tv_apply(x, name, m, "bilinear").double()).abs().max() <= 1


def test_gray_images_and_color():
    x = make_image("tensor", "uint8", H, W, channels=1, batch=3)
    policy, params, _ = _ours(RAND_AUGMENT_SPACE, "Color", 20, False, 31, 3, "nearest")
    assert torch.equal(policy.apply(x, params), x)  # torchvision leaves gray images alone too
    assert torch.equal(policy.apply(x[0], params[0]), x[0])


# -- draws per sample --------------------------------------------------------------------------------

def test_identical_images_in_a_batch_come_out_different_and_ops_follow_the_uniform_law():
    x = make_image("tensor", "uint8", H, W).expand(64, 3, H, W).contiguous()
    policy = augkit.RandAugment(num_ops=2, magnitude=9)
    params = policy.sample_params(x, generator=_gen(3))
    out = policy.apply(x, params)
    distinct = {out[i].numpy().tobytes() for i in range(64)}
    assert len(distinct) >= 50
    counts = torch.bincount(params.ops.flatten(), minlength=14).double()  # 128 draws, with replacement
    expected = 128 / 14
    chi2 = ((counts - expected) ** 2 / expected).sum().item()
    assert chi2 < 34.5, counts.tolist()  # 13 degrees of freedom, p = 0.001
    assert (params.ops[:, 0] == params.ops[:, 1]).any()  # drawn with replacement


def test_draw_distributions_on_many_samples():
    spec = make_image("tensor", "float32", H, W, batch=2)
    n = 20000
    spec = augkit.inspect_image(spec)._replace(n=n)
    ra = augkit.RandAugment(num_ops=2, magnitude=9, op_p=0.7).sample_params(spec, generator=_gen(1))
    drawn = ra.ops[ra.ops >= 0]
    assert abs((ra.ops >= 0).float().mean().item() - 0.7) < 0.01
    share = torch.bincount(drawn, minlength=14).double() / len(drawn)
    assert (share - 1 / 14).abs().max() < 0.01
    rotate = ra.magnitudes[ra.ops == _names(RAND_AUGMENT_SPACE).index("Rotate")]
    assert set(rotate.abs().round(decimals=4).tolist()) == {9.0} and abs((rotate < 0).float().mean() - 0.5) < 0.03

    ta = augkit.TrivialAugmentWide().sample_params(spec, generator=_gen(2))
    posterize = ta.magnitudes[ta.ops == _names(TRIVIAL_AUGMENT_SPACE).index("Posterize")]
    expected_bits = (8 - torch.arange(31) / 5).round()
    share = torch.tensor([(posterize == b).float().mean().item() for b in range(2, 9)])
    expected = torch.tensor([(expected_bits == b).float().mean().item() for b in range(2, 9)])
    assert (share - expected).abs().max() < 0.02

    aa = augkit.AutoAugment("imagenet").sample_params(spec, generator=_gen(3))
    # sub-policy 13 of 25 is "Invert 0.6, Equalize 1": Invert is the only op at 0.6 at position 0
    invert = (aa.ops[:, 0] == _names(AUTOAUGMENT_SPACE).index("Invert")).float().mean().item()
    assert abs(invert - 2 * 0.6 / 25) < 0.006  # two sub-policies start with Invert 0.6

    mix = augkit.AugMix(width=3, depth=-1).sample_params(spec, generator=_gen(4))
    depth = (mix.ops >= 0).sum(-1)
    assert depth.min() == 1 and depth.max() == 3 and abs(depth.double().mean().item() - 2.0) < 0.03
    assert torch.allclose(mix.weights.sum(1) + mix.original, torch.ones(n), atol=1e-5)
    assert abs(mix.original.mean().item() - 0.5) < 0.01  # Beta(1, 1)
    assert (mix.weights.mean(0) / (1 - mix.original).mean() - 1 / 3).abs().max() < 0.01


def test_magnitude_noise():
    spec = augkit.inspect_image(torch.zeros(3, H, W))._replace(n=20000)
    ops = ["Rotate"]
    noisy = augkit.RandAugment(num_ops=1, magnitude=5, num_magnitude_bins=11, magnitude_std=1.0, ops=ops)
    rotate = noisy.sample_params(spec, generator=_gen(0)).magnitudes.abs() / 3.0  # 30 degrees over 10 bins
    assert abs(rotate.mean().item() - 5) < 0.05 and abs(rotate.std().item() - 1.0) < 0.05
    uniform = augkit.RandAugment(num_ops=1, magnitude=8, num_magnitude_bins=11, magnitude_std=math.inf, ops=ops)
    rotate = uniform.sample_params(spec, generator=_gen(0)).magnitudes.abs() / 3.0
    assert rotate.min() >= 0 and rotate.max() <= 8 and abs(rotate.mean().item() - 4) < 0.1
    clipped = augkit.RandAugment(num_ops=1, magnitude=9, num_magnitude_bins=11, magnitude_std=3.0,
                                 magnitude_max=10, ops=ops)
    assert clipped.sample_params(spec, generator=_gen(0)).magnitudes.abs().max() <= 30.0 + 1e-4


def test_an_image_gives_the_same_pixels_alone_and_in_a_batch():
    """Tensors of any batch size take the same kernel calls; arrays the array kernels (OpenCV
    warps place samples on a 1/32-pixel grid, which a threshold after them can turn into jumps)."""
    x = make_image("tensor", "uint8", H, W, batch=16)
    for policy in (augkit.RandAugment(num_ops=3, magnitude=15), augkit.AutoAugment("imagenet"),
                   augkit.TrivialAugmentWide(), augkit.AugMix()):
        params = policy.sample_params(x, generator=_gen(5))
        batch = policy.apply(x, params)
        for i in range(16):
            assert torch.equal(policy.apply(x[i], params[i]), batch[i]), (type(policy).__name__, i)
            assert torch.equal(policy.apply(x[i:i + 1], params[i:i + 1])[0], batch[i]), (type(policy).__name__, i)
        arrays = torch.from_numpy(np.stack([policy.apply(x[i].permute(1, 2, 0).numpy(), params[i]) for i in range(16)]))
        far = (batch.permute(0, 2, 3, 1).int() - arrays.int()).abs() > 2
        assert far.float().mean() < 0.02, type(policy).__name__


def test_augmix_mixes_chains_with_the_drawn_weights():
    x = make_image("tensor", "float32", H, W, batch=3)
    augmix = augkit.AugMix(width=2, depth=1)
    equalize = _names(AUGMIX_SPACE).index("Equalize")
    ops = torch.tensor([[[-1], [-1]], [[equalize], [-1]], [[equalize], [equalize]]])
    params = AugMixParams(ops=ops, magnitudes=torch.zeros(3, 2, 1), weights=torch.tensor([[0.3, 0.2]] * 3),
                          original=torch.full((3,), 0.5))
    out = augmix.apply(x, params)
    eq = augkit.functional.equalize(x)
    assert torch.allclose(out[0], x[0], atol=1e-6)
    assert torch.allclose(out[1], 0.7 * x[1] + 0.3 * eq[1], atol=1e-6)
    assert torch.allclose(out[2], 0.5 * x[2] + 0.5 * eq[2], atol=1e-6)
    u8 = (x * 255).round().to(torch.uint8)
    assert (augmix.apply(u8, params).double() - out.double() * 255).abs().max() <= 1.0


def test_dtypes_are_kept_and_inputs_untouched():
    for dtype in ("uint8", "float32"):
        x = make_image("tensor", dtype, H, W, batch=5)
        before = x.clone()
        for policy in (augkit.RandAugment(), augkit.TrivialAugmentWide(), augkit.AutoAugment("cifar10"),
                       augkit.AugMix()):
            out = policy(x, generator=_gen())
            assert out.dtype == x.dtype and out.shape == x.shape and torch.equal(x, before)
            if dtype == "float32":
                assert out.min() >= 0 and out.max() <= 1


def test_the_blending_path_of_other_devices_equals_the_subset_path():
    x = make_image("tensor", "uint8", 24, 32, batch=8)
    for policy in (augkit.RandAugment(num_ops=2, magnitude=15), augkit.AutoAugment("svhn")):
        params = policy.sample_params(x, generator=_gen(7))
        names, args = op_names(policy.space), (policy.interpolation, policy.fill)
        subsets = apply_ops(x, params.ops, params.magnitudes, names, *args, blend=False)
        assert torch.equal(apply_ops(x, params.ops, params.magnitudes, names, *args, blend=True), subsets)
        assert torch.equal(policy.apply(x, params), subsets)


def _every_policy():
    return (augkit.RandAugment(num_ops=3, magnitude=15, interpolation="bilinear", fill=0.5),
            augkit.TrivialAugmentWide(), augkit.AutoAugment("svhn", p=0.7), augkit.AugMix(severity=5))


def test_batched_cpu_apply_reads_no_params_back(monkeypatch):
    """No ``.tolist()`` or ``.item()`` on a batch: the images are grouped by op with torch ops."""
    x = make_image("tensor", "float32", H, W, batch=8)
    expected = {}
    for policy in _every_policy():
        params = policy.sample_params(x, generator=_gen(3))
        expected[type(policy).__name__] = params, policy.apply(x[:1], params[:1])

    def refuse(self, *args, **kwargs):
        raise AssertionError("a parameter tensor was read back to Python")

    monkeypatch.setattr(torch.Tensor, "tolist", refuse)
    monkeypatch.setattr(torch.Tensor, "item", refuse)
    for policy in _every_policy():
        params, first = expected[type(policy).__name__]
        out = policy.apply(x, params)
        assert out.shape == x.shape and torch.equal(out[:1], first), type(policy).__name__


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_batches_apply_without_a_host_sync_and_match_the_cpu():
    x = make_image("tensor", "uint8", H, W, batch=16)
    for policy in _every_policy():
        params = policy.sample_params(x, generator=_gen(7))
        cpu = policy.apply(x, params)
        xs, ps = x.cuda(), params.to("cuda")
        policy.apply(xs, ps)  # the tables cached per device are made once
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            gpu = policy.apply(xs, ps)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        assert ((cpu.int() - gpu.cpu().int()).abs() > 1).float().mean() < 0.01, type(policy).__name__


# -- spec strings --------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, cls, expected", [
    ("rand-m9-n2-mstd0.5", augkit.RandAugment,
     dict(magnitude=9, num_ops=2, magnitude_std=0.5, num_magnitude_bins=11, op_p=0.5)),
    ("rand-m7-n3-mstd101-mmax12-p1.0-inc1", augkit.RandAugment,
     dict(magnitude=7, num_ops=3, magnitude_std=math.inf, magnitude_max=12.0, op_p=1.0)),
    ("rand-m9-b31-p1", augkit.RandAugment, dict(magnitude=9, num_magnitude_bins=31, op_p=1.0, num_ops=2)),
    ("rand", augkit.RandAugment, dict(magnitude=10, num_ops=2)),
    ("augmix-m5-w4-d-1", augkit.AugMix, dict(severity=5, width=4, depth=-1)),
    ("augmix-m3-w3-d2-a0.5", augkit.AugMix, dict(severity=3, width=3, depth=2, alpha=0.5)),
    ("trivial", augkit.TrivialAugmentWide, dict(num_magnitude_bins=31)),
    ("ta_wide", augkit.TrivialAugmentWide, {}),
    ("autoaug", augkit.AutoAugment, dict(policy="imagenet")),
    ("original", augkit.AutoAugment, dict(policy="imagenet")),
    ("autoaug-svhn", augkit.AutoAugment, dict(policy="svhn")),
    ("AutoAug-CIFAR10", augkit.AutoAugment, dict(policy="cifar10")),
])
def test_from_spec(spec, cls, expected):
    policy = from_spec(spec)
    assert type(policy) is cls
    for name, value in expected.items():
        assert getattr(policy, name) == value, name


def test_from_spec_passes_keyword_arguments_and_the_timm_scale():
    policy = from_spec("rand-m9-n2-p1.0", fill=0.5, interpolation="bilinear")
    assert policy.fill == 0.5 and policy.interpolation == "bilinear"
    spec = augkit.inspect_image(torch.zeros(3, 224, 224))
    params = augkit.RandAugment(num_ops=1, num_magnitude_bins=11, ops=["Rotate"]).sample_params(spec)
    assert params.magnitudes.abs().item() == pytest.approx(27.0)  # m9 of 10: 0.9 of 30 degrees, like timm


@pytest.mark.parametrize("spec, message", [
    ("rand-m9-x3", "unknown option 'x3' in spec 'rand-m9-x3'; rand takes: m, n, mstd, mmax, p, inc, b"),
    ("rand-m9-tweights", "unknown option 'tweights'"),
    ("rand-n2.5", "expected a whole number; got 2.5"),
    ("rand-inc2", "inc must be 0 or 1; got 2"),
    ("v0", "unknown policy in spec 'v0'"),
    ("randaugment", "unknown policy in spec 'randaugment'"),
    ("trivial-m9", "trivial takes: b"),
    ("autoaug-imagenet-m3", "autoaug-imagenet takes: none"),
    ("rand-m40-b31", "magnitude must be in [0, 30]; got 40"),
])
def test_from_spec_errors(spec, message):
    with pytest.raises(ValueError, match=re_escape(message)):
        from_spec(spec)


def re_escape(text: str) -> str:
    import re
    return re.escape(text)


def test_cli_previews_a_policy_spec(tmp_path, capsys):
    from PIL import Image
    from augkit.cli import main

    from .helpers import photo_array
    photo = tmp_path / "photo.png"
    Image.fromarray(photo_array(48, 64)).save(photo)
    assert main(["preview", str(photo), "--transform", "rand-m9-n2", "-n", "2", "-o", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").is_file()


# -- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, message", [
    (lambda: augkit.RandAugment(num_ops=-1), ValueError, "num_ops must be in [0, inf]; got -1"),
    (lambda: augkit.RandAugment(magnitude=31), ValueError, "magnitude must be in [0, 30]; got 31"),
    (lambda: augkit.RandAugment(num_magnitude_bins=1), ValueError, "num_magnitude_bins must be in [2, inf]"),
    (lambda: augkit.RandAugment(magnitude_std=-1.0), ValueError, "magnitude_std must be in [0.0, inf]"),
    (lambda: augkit.RandAugment(op_p=1.5), ValueError, "op_p must be in [0.0, 1.0]; got 1.5"),
    (lambda: augkit.RandAugment(ops=["Invert"]), ValueError, "ops[0] must be one of Identity, ShearX"),
    (lambda: augkit.RandAugment(ops=[]), ValueError, "ops must name at least one op; got []"),
    (lambda: augkit.RandAugment(ops="Rotate"), TypeError, "ops must be a list or tuple; got 'Rotate'"),
    (lambda: augkit.RandAugment(interpolation="area"), ValueError, "interpolation must be one of 'nearest'"),
    (lambda: augkit.TrivialAugmentWide(fill=2.0), ValueError, "fill must be in [0.0, 1.0]; got 2.0"),
    (lambda: augkit.AutoAugment("coco"), ValueError, "policy must be one of 'imagenet', 'cifar10', 'svhn'; got 'coco'"),
    (lambda: augkit.AugMix(severity=11), ValueError, "severity must be in [1, 10]; got 11"),
    (lambda: augkit.AugMix(depth=0), ValueError, "depth must be -1 (1 to 3 ops, drawn per chain) or positive"),
    (lambda: augkit.AugMix(alpha=0.0), ValueError, "alpha must be in (0.0, inf]; got 0.0"),
    (lambda: augkit.AugMix(width=0), ValueError, "width must be in [1, inf]; got 0"),
])
def test_constructor_errors(make, error, message):
    with pytest.raises(error, match=re_escape(message)):
        make()


# -- dtypes and values ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", _names(AUTOAUGMENT_SPACE))
def test_every_op_takes_uint16_like_float(name):
    """Each op on a uint16 image (a batch, one image, an array) gives the float image's result
    within one 8-bit level (the kernels round once, on their own grid); Equalize counts the
    16-bit image on its own 65,536 levels, so it gives the kernel's result."""
    x = make_image("tensor", "float32", H, W, batch=3)
    x16 = (x * 65535).round().to(torch.uint16)
    k = _names(AUTOAUGMENT_SPACE).index(name)
    ops = torch.full((3, 1), k)
    m = magnitudes(AUTOAUGMENT_SPACE, (H, W), ops, torch.full((3, 1), 6.0), 10, torch.tensor([[False], [True], [False]]))
    policy, params = augkit.AutoAugment(interpolation="bilinear"), PolicyParams(ops=ops, magnitudes=m)
    if name == "Equalize":
        reference = augkit.functional.equalize(x16).double()
    else:
        reference = policy.apply(x, params).double() * 65535
    batch = policy.apply(x16, params)
    assert batch.dtype == torch.uint16
    assert (batch.double() - reference).abs().max() <= 257, name
    assert torch.equal(policy.apply(x16[1], params[1]).int(), batch[1].int()), name
    array = policy.apply(x16[1].permute(1, 2, 0).numpy(), params[1])
    assert array.dtype == np.uint16
    far = (torch.from_numpy(array.astype(np.float64)).permute(2, 0, 1) - reference[1]).abs() > 257
    assert far.double().mean() <= (0.02 if name in GEOMETRIC else 0.0), name


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
@pytest.mark.parametrize("kind", ["batch", "tensor", "numpy"])
def test_equalize_in_a_policy_refuses_nan_and_inf(kind, value):
    """Out of strict mode nothing checks the pixels at the door: equalize itself must refuse them."""
    augkit.set_strict(False)
    x = make_image("tensor", "float32", H, W, batch=2)
    x[1, 0, 3, 4] = value
    equalize = _names(RAND_AUGMENT_SPACE).index("Equalize")
    params = PolicyParams(ops=torch.full((2, 1), equalize), magnitudes=torch.zeros(2, 1))
    policy = augkit.RandAugment(num_ops=1)
    image, params = {"batch": (x, params), "tensor": (x[1], params[1]),
                     "numpy": (x[1].permute(1, 2, 0).numpy(), params[1])}[kind]
    with pytest.raises(ValueError, match="(?i)nan|inf"):
        policy.apply(image, params)
