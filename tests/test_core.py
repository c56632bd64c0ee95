"""Input kinds, validation messages, params and configs."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

import augkit
from augkit.core import Params, inspect_image
from augkit.core.image import Kind

from .helpers import make_image


def test_inspect_reports_kind_batch_size_and_channels():
    spec = inspect_image(torch.zeros(5, 3, 7, 9, dtype=torch.uint8))
    assert (spec.kind, spec.n, spec.size, spec.channels, spec.batched) == (Kind.TENSOR, 5, (7, 9), 3, True)
    spec = inspect_image(np.zeros((7, 9), np.uint16))
    assert (spec.kind, spec.n, spec.size, spec.channels) == (Kind.NUMPY, 1, (7, 9), 1)
    spec = inspect_image(Image.new("RGBA", (9, 7)))
    assert (spec.kind, spec.size, spec.channels) == (Kind.PIL, (7, 9), 4)


@pytest.mark.parametrize("bad, error, words", [
    ([torch.zeros(3, 4, 4)], TypeError, ["image", "list", "stack"]),
    ("image.png", TypeError, ["image", "str"]),
    (torch.zeros(1, 1, 3, 4, 4), ValueError, ["5-D", "(1, 1, 3, 4, 4)", "CHW or BCHW"]),
    (torch.zeros(4, 4), ValueError, ["2-D", "x[None]"]),
    (torch.zeros(3, 4, 4, dtype=torch.complex64), TypeError, ["complex64", "expected one of"]),
    (torch.zeros(3, 4, 4, dtype=torch.int32), TypeError, ["int32", "uint8"]),
    (torch.zeros(0, 3, 4, 4), ValueError, ["empty batch", "(0, 3, 4, 4)"]),
    (torch.zeros(3, 0, 4), ValueError, ["empty", "(3, 0, 4)"]),
    (torch.zeros(32, 32, 3), ValueError, ["channels-last", "permute"]),
    (np.zeros((4, 4, 3)), TypeError, ["float64", "astype(np.float32)"]),
    (np.zeros((2, 4, 4, 3), np.uint8), ValueError, ["4-D", "BCHW tensors"]),
    (Image.new("P", (4, 4)), TypeError, ["mode 'P'", "convert"]),
])
def test_bad_inputs_name_the_argument_and_the_expectation(bad, error, words):
    with pytest.raises(error) as info:
        augkit.HorizontalFlip()(bad)
    for word in words:
        assert word in str(info.value)


def test_nan_is_found_only_in_strict_mode():
    x = torch.rand(3, 4, 4)
    x[1, 2, 3] = float("nan")
    with pytest.raises(ValueError, match="1 NaN"):
        augkit.HorizontalFlip()(x)
    augkit.set_strict(False)
    augkit.HorizontalFlip()(x)  # not checked: the hot path reads no pixels


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_probability_out_of_range_is_refused(p):
    with pytest.raises(ValueError, match="p must"):
        augkit.HorizontalFlip(p=p)


def test_probability_of_wrong_type_is_refused():
    with pytest.raises(TypeError, match="p must be a number; got '0.5'"):
        augkit.VerticalFlip(p="0.5")


def test_params_index_expand_and_move():
    params = Params(applied=torch.tensor([True, False, True]))
    assert params[1].applied.tolist() == [False]
    assert params[-1].applied.tolist() == [True]
    assert params[torch.tensor([True, False, True])].applied.tolist() == [True, True]
    assert params[0].expand(4).applied.tolist() == [True] * 4
    assert params.to("cpu").applied.device.type == "cpu"
    with pytest.raises(Exception):
        params.applied = None  # frozen


def test_apply_checks_params_type_and_length():
    flip = augkit.HorizontalFlip()
    x = make_image("tensor", batch=4)
    with pytest.raises(TypeError, match="params must be Params"):
        flip.apply(x, {"applied": None})
    params = flip.sample_params(make_image("tensor", batch=3))
    with pytest.raises(ValueError, match="drawn for 3 image"):
        flip.apply(x, params)


def test_sample_params_accepts_a_spec_and_draws_on_the_generator_device():
    flip = augkit.HorizontalFlip()
    spec = inspect_image(make_image("tensor", batch=6))
    params = flip.sample_params(spec, generator=torch.Generator().manual_seed(0))
    assert params.applied.shape == (6,) and params.applied.dtype == torch.bool


def test_global_rng_is_used_without_a_generator():
    x = make_image("tensor", batch=16)
    torch.manual_seed(1)
    a = augkit.HorizontalFlip()(x)
    torch.manual_seed(1)
    assert torch.equal(a, augkit.HorizontalFlip()(x))


def test_from_config_reports_unknown_names_and_bad_arguments():
    with pytest.raises(ValueError, match="unknown transform 'Flipper'"):
        augkit.from_config({"transform": "Flipper"})
    with pytest.raises(ValueError, match="bad arguments"):
        augkit.from_config({"transform": "HorizontalFlip", "q": 1})
    with pytest.raises(ValueError, match="'transform' \\(or 'mixer'\\) key"):
        augkit.from_config({"name": "HorizontalFlip"})


def test_config_of_a_lambda_needs_an_importable_function():
    with pytest.raises(TypeError, match="importable module-level functions"):
        augkit.Lambda(lambda x: x).to_config()
    assert augkit.Lambda(np.negative).to_config()["transform"]["fn"] == "numpy:negative"


def test_repr_shows_non_default_arguments_and_nests():
    assert repr(augkit.HorizontalFlip()) == "HorizontalFlip()"
    assert repr(augkit.HorizontalFlip(p=0.25)) == "HorizontalFlip(p=0.25)"
    text = repr(augkit.Compose([augkit.ToTensor(), augkit.Normalize(mean=0.5, std=0.5)]))
    assert text == "Compose(transforms=[\n    ToTensor(),\n    Normalize(mean=(0.5,), std=(0.5,)),\n])"


def test_a_subclass_must_store_its_arguments():
    class _Forgetful(augkit.Transform):
        def __init__(self, strength: float = 1.0) -> None:
            super().__init__()

    with pytest.raises(AttributeError, match="self.strength"):
        repr(_Forgetful())


def test_tiling_applies_to_multi_pass_transforms_and_chains_of_per_image_transforms(monkeypatch):
    import augkit.core.executor as executor

    x = make_image("tensor", "float32", batch=6)
    monkeypatch.setattr(executor, "TILE_BYTES", 1)
    seen = []
    spy = augkit.Lambda(lambda batch: seen.append(len(batch)) or batch)
    flips = augkit.Compose([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0)])
    assert executor._splits(flips) and executor._splits(augkit.RandomResizedCrop(8))
    assert not executor._splits(augkit.HorizontalFlip()) and not executor._splits(augkit.Compose([flips, spy]))
    assert torch.equal(flips(x), x.flip(-1).flip(-2))
    augkit.Compose([flips, spy])(x)  # a Lambda sees the whole batch, so its container is not tiled
    assert seen == [6]


def _vm_flags(address: int) -> list[str]:
    """The ``VmFlags`` of the mapping of this process that holds ``address``."""
    inside = False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                low, high = (int(v, 16) for v in head.split("-"))
                inside = low <= address < high
            elif inside and head == "VmFlags:":
                return line.split()[1:]
    raise AssertionError(f"no mapping holds {address:#x}")


@pytest.mark.skipif(not os.path.exists("/sys/kernel/mm/transparent_hugepage/enabled"),
                    reason="no transparent huge pages (they are advised on Linux only)")
def test_large_cpu_outputs_are_advised_huge_pages_and_small_ones_are_not():
    from augkit.core import executor as memory

    large = memory.empty((memory.HUGE_PAGE_MIN_BYTES // 4 + 1,), torch.float32)
    assert large.dtype == torch.float32 and large.device.type == "cpu"
    assert "hg" in _vm_flags(large.data_ptr() + large.numel() * 2)  # MADV_HUGEPAGE
    small = memory.empty((4, 1024), torch.uint8)
    assert small.shape == (4, 1024) and "hg" not in _vm_flags(small.data_ptr())


def test_large_outputs_reuse_a_buffer_only_once_no_tensor_holds_it(monkeypatch):
    from augkit.core import executor as memory

    monkeypatch.setattr(memory, "HUGE_PAGE_MIN_BYTES", 1 << 16)
    memory.clear_cache()
    first = memory.empty((64, 256), torch.float32)  # 64 KiB
    address = first.data_ptr()
    view = first[3:5].fill_(7.0)
    del first
    second = memory.empty((64, 256), torch.float32)
    assert second.data_ptr() != address and bool((view == 7.0).all()), "a view still holds the buffer"
    del view
    third = memory.empty((256, 64), torch.float32)
    assert third.data_ptr() == address, "an idle buffer of the same size is reused"
    array = third.numpy()  # an array made from the tensor holds it too
    del third
    fourth = memory.empty((64, 256), torch.float32)
    assert fourth.data_ptr() not in (address, second.data_ptr())
    fresh = fourth.data_ptr()
    del array, fourth
    assert memory.empty((128, 128), torch.int32).data_ptr() in (address, fresh)  # any dtype of that size


def test_the_buffer_cache_keeps_at_most_its_byte_limit_and_clears(monkeypatch):
    from augkit.core import executor as memory

    monkeypatch.setattr(memory, "HUGE_PAGE_MIN_BYTES", 1 << 16)
    monkeypatch.setattr(memory, "CACHE_MAX_BYTES", 3 << 16)
    memory.clear_cache()
    held = [memory.empty((1 << 14,), torch.float32) for _ in range(5)]  # 5 x 64 KiB, all in use
    assert sum(b.nbytes for b in memory._cache._buffers) <= 3 << 16
    assert all(t.shape == (1 << 14,) for t in held) and len({t.data_ptr() for t in held}) == 5
    del held
    first, second, third = (memory.empty((1 << 14,), torch.float32).data_ptr() for _ in range(3))
    assert first == second == third, "one idle buffer serves calls one after the other"
    a, b = memory.empty((1 << 14,), torch.float32), memory.empty((1 << 14,), torch.int32)
    addresses = a.data_ptr(), b.data_ptr()
    del a, b  # idle, b the most recently used
    memory.empty((2 << 14,), torch.float32)  # room for it: the least recently used idle buffer goes
    assert memory.empty((1 << 14,), torch.float32).data_ptr() == addresses[1]
    memory.clear_cache()
    assert memory._cache._buffers == []
