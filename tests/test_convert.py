"""ToTensor, ToDtype and Normalize: exact conversions and parity with torchvision."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

import augkit
import augkit.functional as F

from .helpers import make_image


def test_to_tensor_from_every_kind():
    array = make_image("numpy", "uint8")
    expected = torch.from_numpy(array).permute(2, 0, 1).float() / 255
    for image in (array, Image.fromarray(array), torch.from_numpy(array).permute(2, 0, 1)):
        out = augkit.ToTensor()(image)
        assert out.is_contiguous() and torch.allclose(out, expected)
    gray = make_image("numpy", "uint16", channels=1)[:, :, 0]
    assert augkit.ToTensor("uint16")(gray).shape == (1, *gray.shape)


def test_to_tensor_never_aliases_its_input():
    array = make_image("numpy", "uint8")
    out = augkit.ToTensor("uint8")(array)
    out.zero_()
    assert array.any()


@pytest.mark.parametrize("src, dst", [("uint8", "float32"), ("float32", "uint8"), ("uint8", "float16")])
def test_to_dtype_matches_torchvision_within_one_level(src, dst):
    x = make_image("tensor", src, batch=2)
    ours = F.to_dtype(x, dst)
    theirs = TF.to_dtype(x, getattr(torch, dst), scale=True)
    assert ours.dtype == theirs.dtype
    assert (ours.float() - theirs.float()).abs().max() <= (1.0 if dst == "uint8" else 1e-3)


def test_to_dtype_between_integer_depths_is_exact_both_ways():
    values = torch.arange(256, dtype=torch.uint8).view(1, 16, 16)
    wide = F.to_dtype(values, "uint16")
    assert wide.dtype == torch.uint16 and int(wide.int().max()) == 65535
    assert torch.equal(F.to_dtype(wide, "uint8"), values)
    array = values.permute(1, 2, 0).numpy()
    assert np.array_equal(F.to_dtype(F.to_dtype(array, "uint16"), "uint8"), array)


@given(arrays(np.uint8, st.tuples(st.integers(1, 6), st.integers(1, 6), st.sampled_from([1, 3]))))
def test_uint8_float_round_trip_is_exact_on_both_kernels(array):
    assert np.array_equal(F.to_dtype(F.to_dtype(array, "float32"), "uint8"), array)
    x = torch.from_numpy(array).permute(2, 0, 1)
    assert torch.equal(F.to_dtype(F.to_dtype(x, "float32"), "uint8"), x)


def test_to_dtype_without_scaling_clamps_instead_of_wrapping():
    x = torch.tensor([[[-3.0, 2.4, 300.0]]])
    assert F.to_dtype(x, "uint8", scale=False).tolist() == [[[0, 2, 255]]]


def test_to_dtype_refuses_tensor_only_dtypes_for_arrays():
    with pytest.raises(TypeError, match="bfloat16 is for tensors only"):
        augkit.ToDtype("bfloat16")(make_image("numpy"))
    with pytest.raises(ValueError, match="dtype must be one of"):
        augkit.ToDtype("int8")


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_normalize_matches_torchvision(dtype):
    x = make_image("tensor", dtype, batch=3)
    ours = augkit.Normalize()(x)
    theirs = TF.normalize(TF.to_dtype(x, torch.float32, scale=True), list(F.IMAGENET_MEAN), list(F.IMAGENET_STD))
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


def test_normalize_any_channel_count_and_float_dtype_kept():
    x = torch.rand(2, 5, 4, 4, dtype=torch.float64)
    out = augkit.Normalize(mean=[0.1, 0.2, 0.3, 0.4, 0.5], std=[1, 2, 3, 4, 5])(x)
    assert out.dtype == torch.float64
    torch.testing.assert_close(out[:, 4], (x[:, 4] - 0.5) / 5)


def test_normalize_arguments_are_checked():
    with pytest.raises(ValueError, match=r"std must not contain 0 .*\(0.2, 0, 0.2\)"):
        augkit.Normalize(std=(0.2, 0, 0.2))
    with pytest.raises(ValueError, match="mean has 3 values but the image has 1 channel"):
        augkit.Normalize()(make_image("tensor", channels=1))
    with pytest.raises(TypeError, match=r"mean\[1\] must be a number"):
        augkit.Normalize(mean=[0.5, "a", 0.5])
    with pytest.raises(ValueError, match=r"2 means \(0.5, 0.5\) and 3 stds \(0.5, 0.5, 0.5\)"):
        augkit.Normalize(mean=(0.5, 0.5), std=(0.5, 0.5, 0.5))
    assert augkit.Normalize(mean=0.5, std=(0.2, 0.3, 0.4)).std == (0.2, 0.3, 0.4)  # one value: every channel
    with pytest.raises(TypeError, match="cannot return a PIL image"):
        augkit.Normalize()(make_image("pil"))
