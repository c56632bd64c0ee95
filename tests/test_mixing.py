"""augkit.mixing: semantics, invariants (hypothesis), parity with timm, compile, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import augkit
from augkit.mixing import (CutMix, MixCollate, MixParams, MixUp, RandomMix, box_mask, draw_boxes, kernels,
                           mix_images, sample_beta, soft_labels)
from tests.helpers import make_image

timm_mixup = pytest.importorskip("timm.data.mixup")


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def batch(n: int = 6, dtype: str = "float32", size: int = 16) -> torch.Tensor:
    return make_image("tensor", dtype, size, size, batch=n)


def distinct_batch(n: int, size: int = 12) -> torch.Tensor:
    """Images whose pixels differ from every other image's (each image is a constant i/n)."""
    return (torch.arange(n, dtype=torch.float32) / n).view(n, 1, 1, 1).expand(n, 3, size, size).contiguous()


# -- Beta draws ---------------------------------------------------------------------------------

@pytest.mark.parametrize("a,b", [(0.2, 0.2), (1.0, 1.0), (2.0, 0.5), (5.0, 5.0)])
def test_beta_matches_scipy_ks(a, b):
    stats = pytest.importorskip("scipy.stats")
    # float64 so that the mass within 6e-8 of 1 is resolved (float32 rounds it to 1.0).
    x = sample_beta(a, b, 10000, generator=gen(1), dtype=torch.float64).numpy()
    assert stats.kstest(x, stats.beta(a, b).cdf).pvalue > 1e-3


def test_beta_two_sample_ks_against_torch_distributions():
    stats = pytest.importorskip("scipy.stats")
    ours = sample_beta(0.4, 0.4, 20000, generator=gen(2)).numpy()
    ref = torch.distributions.Beta(0.4, 0.4).sample((20000,)).numpy()
    assert stats.ks_2samp(ours, ref).pvalue > 1e-3


def test_beta_tiny_alpha_moments_and_no_nan():
    x = sample_beta(0.02, 0.02, 20000, generator=gen(3))
    assert torch.isfinite(x).all() and ((x >= 0) & (x <= 1)).all()
    assert abs(float(x.mean()) - 0.5) < 0.02
    assert abs(float(x.var()) - 1 / (4 * (2 * 0.02 + 1))) < 0.01   # Var Beta(a, a) = 1 / (4 (2a + 1))


# -- MixUp ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["batch", "elem", "pair"])
def test_mixup_formula_per_sample(mode):
    x, y = batch(5), torch.tensor([0, 1, 2, 3, 4])
    mix = MixUp(0.4, num_classes=5, mode=mode)
    params = mix.sample_params(x, generator=gen())
    out, soft = mix.apply(x, y, params)
    lam = params.lam.view(-1, 1, 1, 1)
    torch.testing.assert_close(out, lam * x + (1 - lam) * x[params.index], atol=1e-6, rtol=0)
    eye = torch.eye(5)
    torch.testing.assert_close(soft, params.lam[:, None] * eye + (1 - params.lam[:, None]) * eye[params.index])
    if mode == "batch":
        assert (params.lam == params.lam[0]).all()
    if mode == "pair":  # two mutual pairs share their draws; the odd one out mixes with another sample
        mutual = params.index[params.index] == torch.arange(5)
        assert int(mutual.sum()) == 4 and bool((params.index != torch.arange(5)).all())
        assert torch.equal(params.lam[mutual], params.lam[params.index][mutual])


def test_mixup_with_lambda_one_is_identity_and_self_pairing_is_identity():
    x, y = batch(4), torch.tensor([3, 1, 0, 2])
    mix = MixUp(1.0, num_classes=4)
    ones = MixParams(index=torch.tensor([1, 2, 3, 0]), lam=torch.ones(4), weight=torch.ones(4))
    out, soft = mix.apply(x, y, ones)
    assert torch.equal(out, x) and torch.equal(soft, torch.eye(4)[y])
    selfp = MixParams(index=torch.arange(4), lam=torch.full((4,), 0.3), weight=torch.full((4,), 0.3))
    out, soft = mix.apply(x, y, selfp)
    assert torch.equal(out, x) and torch.equal(soft, torch.eye(4)[y])


def test_batch_of_one_and_odd_batches():
    for n in (3, 7):
        x, y = batch(n), torch.zeros(n, dtype=torch.long)
        for mix in (MixUp(num_classes=2, mode="pair"), CutMix(num_classes=2, mode="elem", pairing="flip"),
                    RandomMix(num_classes=2, mode="pair")):
            out, soft = mix(x, y, generator=gen())
            assert out.shape == x.shape and soft.shape == (n, 2)
    with pytest.warns(UserWarning, match="MixUp got a batch of one image"):
        out, soft = MixUp(num_classes=3)(batch(1), torch.tensor([2]), generator=gen())
    assert torch.equal(out, batch(1)) and torch.equal(soft, torch.eye(3)[[2]])


@pytest.mark.parametrize("mode", ["batch", "elem", "pair"])
@pytest.mark.parametrize("pairing", ["permutation", "flip"])
def test_no_sample_of_a_batch_pairs_with_itself(mode, pairing):
    for n in range(2, 10):
        for seed in range(20):
            index = MixUp(num_classes=2, mode=mode, pairing=pairing).sample_params(batch(n), generator=gen(seed)).index
            assert bool((index != torch.arange(n)).all()), (n, seed, index.tolist())
            assert sorted(index.tolist()) == list(range(n)) or mode == "pair" or pairing == "flip"


def test_pair_mode_odd_batch_gives_the_odd_one_a_partner():
    params = MixUp(num_classes=2, mode="pair").sample_params(batch(5), generator=gen(4))
    mutual = params.index[params.index] == torch.arange(5)
    assert int(mutual.sum()) == 4 and int((params.index == torch.arange(5)).sum()) == 0


def test_flip_pairing():
    params = CutMix(num_classes=2, pairing="flip").sample_params(batch(5), generator=gen())
    assert params.index.tolist() == [4, 3, 1, 1, 0]  # the middle sample takes its neighbour


def test_permutation_pairing_covers_all_samples():
    params = MixUp(num_classes=2, mode="elem").sample_params(batch(9), generator=gen())
    assert sorted(params.index.tolist()) == list(range(9))


# -- CutMix ---------------------------------------------------------------------------------------

@given(seed=st.integers(0, 10_000), n=st.integers(1, 9), h=st.integers(1, 20), w=st.integers(1, 20),
       mode=st.sampled_from(["batch", "elem", "pair"]), alpha=st.floats(0.1, 4.0),
       margin=st.sampled_from([0.0, 0.125]))
def test_cutmix_lambda_is_fraction_of_own_pixels(seed, n, h, w, mode, alpha, margin):
    x = (torch.arange(n, dtype=torch.float32) / n).view(n, 1, 1, 1).expand(n, 2, h, w).contiguous()
    mix = CutMix(alpha, num_classes=n, mode=mode, centre_margin=margin)
    params = mix.sample_params(x, generator=gen(seed))
    out, soft = mix.apply(x, torch.arange(n), params)
    own = (out == x).all(1).float().mean((1, 2))
    distinct = params.index != torch.arange(n)
    torch.testing.assert_close(own[distinct], params.lam[distinct], atol=1e-6, rtol=0)
    assert ((out == x) | (out == x[params.index])).all()
    assert torch.allclose(soft.sum(1), torch.ones(n)) and (soft >= 0).all()


def test_cutmix_box_geometry_and_options():
    size = (40, 60)
    lam = torch.full((2000,), 0.75)
    boxes = augkit.mixing.draw_boxes(lam, size, generator=gen())
    assert ((boxes[:, 0] >= 0) & (boxes[:, 1] <= 40) & (boxes[:, 2] >= 0) & (boxes[:, 3] <= 60)).all()
    assert ((boxes[:, 1] - boxes[:, 0]) <= 20).all() and ((boxes[:, 3] - boxes[:, 2]) <= 30).all()
    inside = augkit.mixing.draw_boxes(lam, size, generator=gen(), centre_margin=0.125)
    cy = inside[:, 0] + (inside[:, 1] - inside[:, 0]) // 2
    unclipped = (inside[:, 1] - inside[:, 0]) == 20
    assert ((cy[unclipped] >= 5) & (cy[unclipped] < 35)).all()
    mm = augkit.mixing.draw_boxes(lam, size, generator=gen(), minmax=(0.2, 0.5))
    heights = mm[:, 1] - mm[:, 0]
    assert heights.min() >= 8 and heights.max() < 20 and (mm[:, 1] <= 40).all()


def test_cutmix_without_correction_keeps_drawn_lambda():
    x = batch(6)
    raw = CutMix(1.0, num_classes=6, mode="elem", correct_lam=False).sample_params(x, generator=gen(5))
    perm_then_beta = gen(5)
    torch.randperm(6, generator=perm_then_beta)
    expected = sample_beta(1.0, 1.0, 6, generator=perm_then_beta)
    assert torch.equal(raw.lam, expected)


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_cutmix_uint8_float_and_channels_last(dtype):
    x = batch(6, dtype)
    mix = CutMix(num_classes=6, mode="elem")
    params = mix.sample_params(x, generator=gen())
    out, _ = mix.apply(x, torch.arange(6), params)
    cl = x.contiguous(memory_format=torch.channels_last)
    out_cl, _ = mix.apply(cl, torch.arange(6), params)
    assert out.dtype == x.dtype and torch.equal(out, out_cl)
    assert out_cl.is_contiguous(memory_format=torch.channels_last)


def test_mixup_uint8_is_rounded_float_result():
    x = batch(4, "uint8")
    mix = MixUp(num_classes=4, mode="elem")
    params = mix.sample_params(x, generator=gen())
    out, _ = mix.apply(x, torch.arange(4), params)
    lam = params.lam.view(-1, 1, 1, 1)
    ref = (lam * x.float() + (1 - lam) * x[params.index].float()).round()
    assert out.dtype == torch.uint8 and (out.float() - ref).abs().max() <= 1


# -- the mixing kernel: C kernels, CPU blocks and the one vectorised computation ------------------

MIX_BACKENDS = {"c": {}, "smallest blocks": {"BLOCK_BYTES": 1}, "one block": {"BLOCK_BYTES": 1 << 30}, "torch": {}}
INDEXES = {"cycles": [0, 2, 1, 4, 5, 6, 3],      # a fixed point, a 2-cycle and a 4-cycle
           "repeats": [3, 3, 0, 1, 6, 6, 2]}     # not a permutation: images read by several or none


def _mix_backend(name: str):
    row = kernels.mix_images_tensor.row
    return next(b for b in row.backends if b.name == ("torch blocks" if "block" in name else name))


@pytest.mark.parametrize("path", list(MIX_BACKENDS))
@pytest.mark.parametrize("dtype", ["uint8", "float32", "bfloat16"])
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("pairs", list(INDEXES))
def test_mix_images_equals_the_batch_formulas(monkeypatch, path, dtype, channels_last, pairs):
    """Every backend, out of place and in place, against the formulas on the whole batch."""
    n, size = 7, 12
    x = batch(n, "float32", size).to(getattr(torch, dtype)) if dtype == "bfloat16" else batch(n, dtype, size)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    mixer = _mix_backend(path)
    if mixer.accepts is not None and not mixer.accepts(x):
        assert path == "c" and dtype == "bfloat16"   # the C kernel blends float32 and uint8 only
        return
    for name, value in MIX_BACKENDS[path].items():
        monkeypatch.setattr(kernels, name, value)
    g = gen(11)
    index = torch.tensor(INDEXES[pairs])
    box = draw_boxes(sample_beta(1.0, 1.0, n, generator=g), (size, size), generator=g)
    box[2] = torch.tensor([3, 3, 0, size])                     # an empty box
    box[4] = torch.tensor([0, size, 0, size])                  # the whole image
    weight = torch.rand(n, generator=g).to(x.dtype if x.is_floating_point() else torch.float32).float()
    before, partner, mask = x.clone(), x[index], box_mask(box, size, size)
    wide = torch.float32 if dtype == "uint8" else x.dtype

    def blend(share: torch.Tensor) -> torch.Tensor:
        share = share.to(wide)
        if dtype == "uint8":
            return torch.lerp(partner.to(wide), x.to(wide), share).round_().to(x.dtype)
        return torch.lerp(partner, x, share)

    expected = {"paste": torch.where(mask, partner, x), "neither": x, "blend": blend(weight.view(-1, 1, 1, 1)),
                "both": blend(torch.where(mask, 0.0, weight.view(-1, 1, 1, 1)))}
    for inplace in (False, True):
        for name, kwargs in [("paste", {"box": box}), ("blend", {"weight": weight}),
                             ("both", {"weight": weight, "box": box}), ("neither", {"weight": torch.ones(n)})]:
            target = x.clone() if inplace else x
            out = mixer.fn(target, index, kwargs.get("weight"), kwargs.get("box"), inplace=inplace)
            assert torch.equal(out, expected[name]), (name, inplace)
            assert out.dtype == x.dtype and out.stride() == x.stride()
            assert (out.data_ptr() == target.data_ptr()) == inplace
            assert torch.equal(x, before)


STREAM_MIN_BYTES = 24 << 20   # csrc/mix.c: larger channels-first outputs are streamed through a tile


@pytest.mark.parametrize("dtype, shape", [("float32", (9, 3, 500, 521)), ("uint8", (9, 3, 3200, 301))])
@pytest.mark.parametrize("channels_last", [False, True])
def test_c_kernel_streaming_large_batches_equals_the_torch_code(dtype, shape, channels_last):
    """Above the streaming size, channels-first rows of odd bytes (float32) or several rows per
    tile (uint8), and the plain stores of channels-last: the same bits as the vectorised torch code."""
    g = gen(5)
    x = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8).to(getattr(torch, dtype))
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    assert x.numel() * x.element_size() >= STREAM_MIN_BYTES
    n, size = shape[0], shape[-2:]
    index = torch.tensor([0, 2, 1, 4, 5, 6, 3, 8, 7])
    box = draw_boxes(sample_beta(1.0, 1.0, n, generator=g), size, generator=g)
    weight = torch.rand(n, generator=g)
    c, reference = _mix_backend("c"), _mix_backend("torch")
    for kwargs in ({"box": box}, {"weight": weight}, {"weight": weight, "box": box}):
        args = (index, kwargs.get("weight"), kwargs.get("box"))
        out = c.fn(x, *args)
        assert torch.equal(out, reference.fn(x, *args)) and out.stride() == x.stride()


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_mix_images_runs_the_c_kernel_on_dense_cpu_batches(dtype):
    x = batch(4, dtype)
    row = kernels.mix_images_tensor.row
    assert row.select(x).name == "c" and row.select(x[:, :, ::2]).name == "torch blocks"
    assert row.select(x.requires_grad_() if dtype == "float32" else x[..., ::2]).name != "c"


@pytest.mark.parametrize("kwargs, message", [
    ({"index": torch.tensor([[1, 0]])}, r"index must have shape \(2,\) for a batch of 2 images; got \(1, 2\)"),
    ({"weight": torch.ones(1)}, r"weight must have shape \(2,\) for a batch of 2 images; got \(1,\)"),
    ({"box": torch.zeros(2, 3, dtype=torch.int64)}, r"box must have shape \(2, 4\)"),
])
def test_mix_images_checks_the_shapes_of_its_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mix_images(batch(2), **{"index": torch.tensor([1, 0]), **kwargs})


def test_the_c_mixing_kernel_is_built():
    assert kernels._native is not None, "installing augkit builds augkit._native (needs a C compiler)"


@pytest.mark.parametrize("kwargs", [{"box": torch.tensor([[0, 2, 0, 2]] * 3)}, {"weight": torch.full((3,), 0.5)}])
def test_c_mixing_kernel_refuses_partners_outside_the_batch(kwargs):
    with pytest.raises(ValueError, match="index holds 3, outside a batch of 3"):
        mix_images(batch(3, "float32", 4), torch.tensor([1, 3, 0]), **kwargs)


def test_c_paste_refuses_boxes_outside_the_image():
    with pytest.raises(ValueError, match=r"box \(0, 5, 0, 2\) of image 1 is not inside 4x4"):
        mix_images(batch(2, "uint8", 4), torch.tensor([1, 0]), box=torch.tensor([[0, 2, 0, 2], [0, 5, 0, 2]]))


# -- RandomMix ------------------------------------------------------------------------------------

def test_randommix_choice_frequencies_per_sample():
    x = distinct_batch(4000, size=4)
    mix = RandomMix(mixup_alpha=1.0, cutmix_alpha=1.0, p_mixup=0.3, p_cutmix=0.5, num_classes=2, mode="elem")
    p = mix.sample_params(x, generator=gen())
    is_cut = (p.box[:, 1] > p.box[:, 0]) & (p.box[:, 3] > p.box[:, 2])
    is_mix = p.weight < 1
    assert not (is_cut & is_mix).any()
    assert abs(float(is_mix.float().mean()) - 0.3) < 0.03
    assert abs(float(is_cut.float().mean()) - 0.5) < 0.03   # a few tiny boxes are empty
    untouched = ~is_cut & ~is_mix
    assert (p.lam[untouched] == 1).all()


def test_randommix_batch_mode_is_one_choice_per_call():
    x = distinct_batch(8)
    mix = RandomMix(p_mixup=0.5, p_cutmix=0.5, num_classes=8)
    kinds = set()
    for seed in range(20):
        p = mix.sample_params(x, generator=gen(seed))
        assert (p.weight == p.weight[0]).all() and (p.box == p.box[0]).all()
        kinds.add("mixup" if p.weight[0] < 1 else "cutmix")
    assert kinds == {"mixup", "cutmix"}


def test_randommix_none_probability_gives_identity():
    x, y = batch(4), torch.tensor([0, 1, 2, 3])
    out, soft = RandomMix(p_mixup=0.0, p_cutmix=0.0, num_classes=4, label_smoothing=0.1)(x, y, generator=gen())
    assert torch.equal(out, x)
    torch.testing.assert_close(soft, torch.eye(4) * 0.9 + 0.025)


def test_disabled_returns_images_and_soft_labels():
    x, y = batch(4), torch.tensor([0, 1, 2, 3])
    mix = RandomMix(num_classes=4)
    mix.enabled = False
    out, soft = mix(x, y)
    assert out is x and torch.equal(soft, torch.eye(4))


# -- labels ---------------------------------------------------------------------------------------

@given(seed=st.integers(0, 10_000), n=st.integers(1, 8), k=st.integers(1, 6), s=st.floats(0, 1),
       kind=st.sampled_from(["index", "onehot", "prob"]), mixer=st.sampled_from(["mixup", "cutmix", "random"]),
       mode=st.sampled_from(["batch", "elem", "pair"]))
@pytest.mark.filterwarnings("ignore:.*batch of one")
def test_soft_rows_are_nonnegative_and_sum_to_one(seed, n, k, s, kind, mixer, mode):
    g = gen(seed)
    index = torch.randint(0, k, (n,), generator=g)
    labels = {"index": index, "onehot": torch.eye(k)[index],
              "prob": torch.softmax(torch.randn(n, k, generator=g), 1)}[kind]
    cls = {"mixup": MixUp, "cutmix": CutMix, "random": RandomMix}[mixer]
    _, soft = cls(num_classes=k, mode=mode, label_smoothing=s)(torch.rand(n, 3, 8, 8), labels, generator=g)
    assert soft.dtype == torch.float32 and (soft >= 0).all()
    torch.testing.assert_close(soft.sum(1), torch.ones(n), atol=1e-5, rtol=0)


@given(seed=st.integers(0, 10_000), n=st.integers(1, 8), mode=st.sampled_from(["batch", "elem", "pair"]))
@pytest.mark.filterwarnings("ignore:.*batch of one")
def test_same_class_pairs_stay_one_hot(seed, n, mode):
    y = torch.full((n,), 2)
    for mix in (MixUp(0.5, num_classes=4, mode=mode), RandomMix(num_classes=4, mode=mode)):
        _, soft = mix(torch.rand(n, 3, 8, 8), y, generator=gen(seed))
        assert torch.equal(soft, torch.eye(4)[y])


@given(lam=st.floats(0, 1), s=st.sampled_from([0.0, 0.1, 0.3]), n=st.sampled_from([2, 4, 8]),
       multi=st.booleans(), seed=st.integers(0, 1000))
def test_parity_with_timm_mixup_target(lam, s, n, multi, seed):
    g, k = gen(seed), 5
    y = (torch.rand(n, k, generator=g) < 0.4).float() if multi else torch.randint(0, k, (n,), generator=g)
    expected = timm_mixup.mixup_target(y, k, lam, s, multi_label=multi)
    params = MixParams(index=torch.arange(n - 1, -1, -1), lam=torch.full((n,), lam, dtype=torch.float32))
    rows = soft_labels(y, k, label_smoothing=s, multi_label=multi)
    ours = augkit.mixing.mix_labels(rows, params.index, params.lam)
    torch.testing.assert_close(ours, expected, atol=2e-6, rtol=0)


def test_parity_with_timm_mixup_images_flip_batch_mode():
    x, y = batch(6), torch.arange(6)
    timm_mix = timm_mixup.Mixup(mixup_alpha=1.0, cutmix_alpha=0.0, label_smoothing=0.1, num_classes=6)
    np.random.seed(0)
    tx, ty = timm_mix(x.clone(), y)
    np.random.seed(0)
    lam = float(np.random.beta(1.0, 1.0)) if np.random.rand() < 1.0 else 1.0
    ours = MixUp(num_classes=6, pairing="flip", label_smoothing=0.1)
    params = MixParams(index=torch.arange(5, -1, -1), lam=torch.full((6,), lam), weight=torch.full((6,), lam))
    ox, oy = ours.apply(x, y, params)
    torch.testing.assert_close(ox, tx, atol=1e-6, rtol=0)
    torch.testing.assert_close(oy, ty, atol=2e-6, rtol=0)


def test_multi_label_smoothing_toward_half():
    y = torch.tensor([[1, 0, 1], [0, 0, 1]])
    _, soft = MixUp(multi_label=True, label_smoothing=0.2).apply(
        torch.rand(2, 3, 4, 4), y, MixParams(index=torch.arange(2), lam=torch.ones(2), weight=torch.ones(2)))
    torch.testing.assert_close(soft, torch.tensor([[0.9, 0.1, 0.9], [0.1, 0.1, 0.9]]))


def test_bf16_images_give_float32_labels_consistent_with_pixels():
    x = batch(4).to(torch.bfloat16)
    mix = MixUp(num_classes=4, mode="elem")
    params = mix.sample_params(x, generator=gen())
    out, soft = mix.apply(x, torch.arange(4), params)
    assert out.dtype == torch.bfloat16 and soft.dtype == torch.float32
    share = soft[torch.arange(4), torch.arange(4)]
    fixed = params.index == torch.arange(4)
    assert torch.equal(share[~fixed], share[~fixed].to(torch.bfloat16).float())   # bf16-exact share
    with torch.autocast("cpu", dtype=torch.bfloat16):
        _, soft = mix(batch(4), torch.arange(4))
    assert soft.dtype == torch.float32


# -- protocol: reproducibility, in place, config, compile, collate ------------------------------

@pytest.mark.parametrize("cls", [MixUp, CutMix, RandomMix])
def test_reproducible_and_out_of_place(cls):
    x, y = batch(6), torch.arange(6)
    before = x.clone()
    mix = cls(num_classes=6, mode="elem")
    a = mix(x, y, generator=gen(7))
    b = mix(x, y, generator=gen(7))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and torch.equal(x, before)


@pytest.mark.parametrize("cls", [MixUp, CutMix, RandomMix])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_inplace_matches_out_of_place(cls, dtype):
    x, y = batch(6, dtype), torch.arange(6)
    out, soft = cls(num_classes=6, mode="elem")(x, y, generator=gen(3))
    target = x.clone()
    out2, soft2 = cls(num_classes=6, mode="elem", inplace=True)(target, y, generator=gen(3))
    assert out2.data_ptr() == target.data_ptr()
    assert torch.equal(out2, out)
    assert torch.equal(soft, soft2)


@pytest.mark.parametrize("mix", [
    MixUp(0.2, num_classes=10, mode="pair", pairing="flip"),
    CutMix(1.0, num_classes=3, cutmix_minmax=(0.2, 0.8), correct_lam=False),
    RandomMix(num_classes=120, mixup_alpha=0.2, p_mixup=0.4, p_cutmix=0.4, centre_margin=0.125, multi_label=True),
    MixCollate(MixUp(0.4, num_classes=5), enabled=False),
])
def test_config_round_trip_and_repr(mix):
    config = json.loads(json.dumps(mix.to_config()))
    assert config["mixer"]["mixer"] == type(mix).__name__
    for load in (augkit.mixing.from_config, augkit.from_config):
        again = load(config)
        assert again == mix and repr(again) == repr(mix)
    assert repr(mix).startswith(type(mix).__name__ + "(")


def test_configs_of_earlier_releases_load():
    old = {"mixing": "CutMix", "alpha": 0.5, "cutmix_minmax": [0.2, 0.8], "num_classes": 3}
    again = augkit.mixing.from_config(old)
    assert again == CutMix(0.5, cutmix_minmax=(0.2, 0.8), num_classes=3) and again.cutmix_minmax == (0.2, 0.8)


def test_repr_shows_non_defaults():
    assert repr(MixUp(0.2, num_classes=10)) == "MixUp(alpha=0.2, num_classes=10)"


@pytest.mark.parametrize("cls", [MixUp, CutMix, RandomMix])
def test_compiles_fullgraph_without_graph_breaks(cls, monkeypatch):
    from augkit.core import executor as memory

    monkeypatch.setattr(memory, "HUGE_PAGE_MIN_BYTES", 0)  # outputs as large as a real batch's
    torch._dynamo.reset()
    mix = cls(num_classes=5, mode="elem")
    compiled = torch.compile(mix, fullgraph=True, backend="eager")
    x, y = batch(4), torch.tensor([0, 1, 2, 4])
    out, soft = compiled(x, y)
    assert out.shape == x.shape and torch.allclose(soft.sum(1), torch.ones(4))


def test_compiled_apply_equals_eager_with_generator_params():
    torch._dynamo.reset()
    mix = RandomMix(num_classes=5, mode="elem")
    x, y = batch(4), torch.tensor([0, 1, 2, 4])
    params = mix.sample_params(x, generator=gen())
    compiled = torch.compile(mix.apply, fullgraph=True, backend="aot_eager")
    a, b = compiled(x, y, params), mix.apply(x, y, params)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.slow
def test_compiles_with_inductor():
    torch._dynamo.reset()
    compiled = torch.compile(RandomMix(num_classes=5, mode="elem"), fullgraph=True)
    out, soft = compiled(batch(4), torch.tensor([0, 1, 2, 4]))
    assert torch.isfinite(out).all() and torch.allclose(soft.sum(1), torch.ones(4))


def test_mix_collate_in_dataloader_workers_and_switch():
    samples = [(make_image("tensor", "uint8", 8, 8), i % 3) for i in range(8)]
    collate = MixCollate(CutMix(num_classes=3, mode="elem"))
    loader = torch.utils.data.DataLoader(samples, batch_size=4, collate_fn=collate, num_workers=0)
    x, y = next(iter(loader))
    assert x.dtype == torch.uint8 and y.shape == (4, 3) and torch.allclose(y.sum(1), torch.ones(4))
    collate.enabled = False
    x, y = next(iter(loader))
    assert torch.equal(y, torch.eye(3)[[0, 1, 2, 0]])
    assert torch.equal(x, torch.stack([s[0] for s in samples[:4]]))
    assert "enabled=False" in repr(collate)


# -- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("make,match", [
    (lambda: MixUp(0), r"alpha must be in \(0"),
    (lambda: MixUp(-1.0), "alpha"),
    (lambda: MixUp("1"), "alpha must be a number"),
    (lambda: CutMix(mode="element"), "mode must be one of"),
    (lambda: CutMix(pairing="roll"), "pairing must be one of"),
    (lambda: MixUp(label_smoothing=1.5), "label_smoothing"),
    (lambda: MixUp(num_classes=0), "num_classes"),
    (lambda: CutMix(cutmix_minmax=(0.8, 0.2)), "cutmix_minmax"),
    (lambda: CutMix(centre_margin=0.5), "centre_margin"),
    (lambda: CutMix(cutmix_minmax=(0.2, 0.8), centre_margin=0.1), "centre_margin cannot"),
    (lambda: RandomMix(p_mixup=0.7, p_cutmix=0.7), "p_mixup \\+ p_cutmix"),
    (lambda: MixUp(inplace=1), "inplace must be a bool"),
    (lambda: MixCollate(lambda x: x), "mix must be"),
])
def test_constructor_errors(make, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make()


def test_call_errors():
    mix = MixUp(num_classes=3)
    with pytest.raises(ValueError, match="empty batch"):
        mix(torch.rand(0, 3, 4, 4), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        mix(torch.rand(3, 4, 4), torch.zeros(3, dtype=torch.long))
    with pytest.raises(TypeError, match="dtype torch.int32"):
        mix(torch.zeros(2, 3, 4, 4, dtype=torch.int32), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\); got \[3, -1\]"):
        mix(torch.rand(3, 3, 4, 4), torch.tensor([3, 0, -1]))
    with pytest.raises(ValueError, match="2 row\\(s\\) but images hold 3"):
        mix(torch.rand(3, 3, 4, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="4 columns but num_classes=3"):
        mix(torch.rand(2, 3, 4, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="num_classes is required"):
        MixUp()(torch.rand(2, 3, 4, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="negative"):
        mix(torch.rand(2, 3, 4, 4), torch.tensor([[1.0, 0, 0], [-0.5, 1.5, 0]]))
    with pytest.raises(TypeError, match="params must be MixParams"):
        mix.apply(torch.rand(2, 3, 4, 4), torch.tensor([0, 1]), {"lam": 1})
