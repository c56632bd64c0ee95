"""Generic behaviour every registered transform must show (see tests/registry.py)."""

from __future__ import annotations

import copy
import inspect
import json
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

import augkit
from augkit.core.image import inspect_image

from .helpers import assert_close, make_image, same
from .registry import CASES

cases = pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _has_p(transform) -> bool:
    return "p" in inspect.signature(type(transform).__init__).parameters


def _batch(case, n: int):
    """A float tensor batch of n images, or one image for transforms without a tensor backend."""
    if "tensor" not in case.kinds:
        return make_image(case.kinds[-1], case.dtypes[0])
    return make_image("tensor", "float32" if "float32" in case.dtypes else case.dtypes[0], batch=n)


def _inputs(case):
    """(kind, dtype, channels, image) for every combination the case accepts."""
    for kind in case.kinds:
        for dtype in case.dtypes:
            for channels in case.channels:
                if kind == "pil" and dtype != "uint8" and channels != 1:
                    continue  # PIL holds uint16 and float32 only in single-band images
                yield kind, dtype, channels, make_image(kind, dtype, channels=channels)
        if kind == "tensor":
            yield kind, "uint8", 3, make_image("tensor", "uint8", batch=3)


def test_every_public_transform_is_registered_for_the_contract_tests():
    registered = set(augkit.registered_transforms())
    covered = {c.id.split("[")[0] for c in CASES}
    assert registered <= covered, f"add to tests/registry.py: {sorted(registered - covered)}"


@cases
def test_output_kind_dtype_layout_and_size(case):
    t = case.make()
    for kind, dtype, channels, image in _inputs(case):
        out = t(image, generator=_gen())
        spec_in, spec_out = inspect_image(image), inspect_image(out)
        label = f"{case.id} on {kind} {dtype} C={channels}"
        if case.keeps_kind:
            assert type(out) is type(image), label
            if isinstance(image, np.ndarray):
                assert out.ndim == image.ndim, label
            if isinstance(image, Image.Image) and case.keeps_dtype:
                assert out.mode == image.mode, label
        else:
            assert isinstance(out, torch.Tensor), label
        if case.keeps_dtype:
            assert spec_out.dtype == spec_in.dtype, label
        if case.keeps_size:
            assert spec_out.size == spec_in.size, label
        assert spec_out.n == spec_in.n and spec_out.channels == spec_in.channels, label
        assert spec_out.device == spec_in.device, label


@cases
def test_input_is_not_modified(case):
    t = case.make()
    for kind, dtype, channels, image in _inputs(case):
        before = copy.deepcopy(image)
        t(image, generator=_gen())
        assert same(image, before), f"{case.id} modified its {kind} {dtype} input"


@cases
def test_same_generator_seed_gives_same_output(case):
    t = case.make()
    x = _batch(case, 8)
    assert same(t(x, generator=_gen(3)), t(x, generator=_gen(3)))
    torch.manual_seed(5)
    a = t(x)
    torch.manual_seed(5)
    assert same(a, t(x)), "the global RNG must be the only source when no generator is given"


@cases
def test_apply_replays_a_call(case):
    t = case.make()
    for kind, _, _, image in _inputs(case):
        params = t.sample_params(image, generator=_gen(11))
        assert same(t.apply(image, params), t(image, generator=_gen(11))), kind


@cases
def test_a_call_draws_what_sample_params_draws(case):
    """A single-image call (coin first, no params built for an image left alone) consumes the
    generator as sample_params does, whichever way its coin falls."""
    t = case.make()
    if _has_p(t) and t.p < 1.0:
        t.p = 0.5
    for kind, _, _, image in _inputs(case):
        called, drawn = _gen(3), _gen(3)
        for _ in range(6):
            out = t(image, generator=called)
            assert same(out, t.apply(image, t.sample_params(image, generator=drawn))), kind
            assert torch.equal(called.get_state(), drawn.get_state()), kind


@cases
def test_p_zero_is_identity(case):
    t = case.make()
    if not _has_p(t):
        pytest.skip("no probability argument")
    t.p = 0.0
    for kind, _, _, image in _inputs(case):
        out = t(image, generator=_gen())
        if case.keeps_kind and case.keeps_dtype:
            assert same(out, image), kind


def _tensor_batches(case, *, batch: int, seed: int):
    """``(transform, dtype, batch, params)`` for each dtype of ``case``: one transform, a tensor
    batch of ``batch`` images and params drawn with ``seed``."""
    t = case.make()
    for dtype in case.dtypes:
        x = make_image("tensor", dtype, batch=batch)
        yield t, dtype, x, t.sample_params(x, generator=_gen(seed))


@cases
def test_batched_result_equals_per_image_results(case):
    if "tensor" not in case.kinds:
        pytest.skip("no tensor backend")
    for t, dtype, x, params in _tensor_batches(case, batch=12, seed=1):
        out = t.apply(x, params)
        atol = case.batch_atol.get(dtype)
        for i in range(len(x)):
            single = t.apply(x[i], params[i])
            if atol is None:
                assert same(out[i], single), f"{case.id}: image {i} ({dtype})"
            else:
                assert_close(out[i], single, atol, f"{case.id}: image {i} ({dtype})")


@cases
def test_cpu_batches_in_blocks_equal_one_call(case, monkeypatch):
    if "tensor" not in case.kinds:
        pytest.skip("no tensor backend")
    import augkit.core.executor as core

    for t, dtype, x, params in _tensor_batches(case, batch=7, seed=3):
        monkeypatch.setattr(core, "TILE_BYTES", 1 << 40)
        whole = t.apply(x, params)
        monkeypatch.setattr(core, "TILE_BYTES", 1)  # blocks of 2, 2 and 3 images
        assert core._tile_bounds(inspect_image(x), (1, 1)) == [0, 2, 4, 7]
        assert same(t.apply(x, params), whole), f"{case.id} ({dtype})"


@cases
def test_kinds_agree_for_the_same_params(case):
    if "tensor" not in case.kinds:
        pytest.skip("no tensor backend")
    t = case.make()
    for dtype in case.dtypes:
        for channels in case.channels:
            tensor = make_image("tensor", dtype, channels=channels)
            params = t.sample_params(tensor, generator=_gen(2))
            expected = t.apply(tensor, params)
            atol = case.kernel_atol.get(dtype, 0.0)
            for kind in case.kinds:
                if kind == "tensor" or (kind == "pil" and dtype != "uint8" and channels != 1):
                    continue
                image = make_image(kind, dtype, channels=channels)
                out = t.apply(image, params)
                assert_close(out, expected, atol, f"{case.id} {kind} vs tensor ({dtype}, C={channels})")


@cases
def test_bad_batches_are_refused(case):
    t = case.make()
    with pytest.raises(ValueError, match="empty batch"):
        t(torch.zeros(0, 3, 8, 8))
    with pytest.raises(TypeError, match="list"):
        t([make_image("tensor")])
    with pytest.raises(ValueError, match="5-D"):
        t(torch.zeros(1, 1, 3, 8, 8))
    with pytest.raises(TypeError, match="complex"):
        t(torch.zeros(3, 8, 8, dtype=torch.complex64))


@cases
def test_nan_is_refused_in_strict_mode(case):
    if "float32" not in case.dtypes or "tensor" not in case.kinds:
        pytest.skip("no float tensors")
    x = make_image("tensor", "float32")
    x[0, 1, 2] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        case.make()(x)


@cases
def test_pickle_round_trip(case):
    t = case.make()
    clone = pickle.loads(pickle.dumps(t))
    assert clone == t
    x = _batch(case, 4)
    assert same(clone(x, generator=_gen(4)), t(x, generator=_gen(4)))


@cases
def test_config_round_trip_and_repr(case):
    t = case.make()
    config = json.loads(json.dumps(t.to_config()))
    rebuilt = augkit.from_config(config, allowed_callables=case.allowed_callables)
    assert rebuilt == t and repr(rebuilt) == repr(t)
    assert rebuilt.to_config() == config
    assert repr(t).startswith(type(t).__name__ + "(")
    x = _batch(case, 4)
    assert same(rebuilt(x, generator=_gen(4)), t(x, generator=_gen(4)))


@cases
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_batches_apply_without_a_host_sync(case):
    if "tensor" not in case.kinds:
        pytest.skip("no tensor backend")
    t = case.make()
    x = _batch(case, 8).cuda()
    params = t.sample_params(x, generator=torch.Generator("cuda").manual_seed(0))
    torch.cuda.synchronize()
    augkit.set_strict(False)  # strict mode reads the pixels back on purpose
    torch.cuda.set_sync_debug_mode("error")
    try:
        t.apply(x, params)
    finally:
        torch.cuda.set_sync_debug_mode("default")


def _certain(transform):
    """The transform with p = 1, so that every image is transformed (and checked)."""
    t = copy.deepcopy(transform)
    t.p = 1.0
    return t


@cases
def test_float_images_outside_unit_range_or_with_nan_are_refused_by_value_reading_transforms(case):
    if "float32" not in case.dtypes:
        pytest.skip("no float inputs")
    t = _certain(case.make())
    channels = case.channels[-1]
    for kind in [k for k in case.kinds if k != "pil"]:
        image = make_image(kind, "float32", channels=channels)
        scaled = image * 255
        nan = image.copy() if kind == "numpy" else image.clone()
        nan[(0,) * nan.ndim] = float("nan")
        if not type(t).reads_values:
            t(scaled, generator=_gen())  # geometry moves any values: no error
            continue
        with pytest.raises(ValueError, match=r"values in \[[\d.]+, [\d.]+\]; augkit expects float images in \[0, 1\]"):
            t(scaled, generator=_gen())
        with pytest.raises(ValueError, match="NaN"):
            t(nan, generator=_gen())


def test_the_common_mistake_is_named_and_a_large_batch_is_checked_by_a_strided_sample():
    x = torch.rand(3, 64, 64) * 255
    for t in (augkit.ColorJitter(0.4, 0.4, 0.4, 0.1), augkit.Normalize()):
        with pytest.raises(ValueError, match=r"values in \[.*\]; augkit expects float images in \[0, 1\]"):
            t(x)
    big = torch.rand(40, 3, 224, 224)
    assert big.numel() > augkit.core.image.FULL_CHECK_VALUES
    augkit.Normalize()(big)
    with pytest.raises(ValueError, match="255"):
        augkit.Normalize()(big * 255)
    inside = augkit.Compose([augkit.HorizontalFlip(p=1.0), augkit.Normalize()])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        inside(x)  # a container's children check their own inputs
    augkit.Compose([augkit.Normalize(), augkit.HorizontalFlip(p=1.0)])(x / 255)  # normalized values flip
