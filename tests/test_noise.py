"""Gaussian noise, JPEG compression and random erasing: semantics, parity and errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import augkit
import augkit.functional as F

from .helpers import assert_close, make_image, photo_array


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# -- Gaussian noise ------------------------------------------------------------------------------

def test_gaussian_noise_std_is_per_sample_on_the_unit_scale():
    x = torch.full((64, 1, 32, 32), 0.5)
    t = augkit.GaussianNoise(std=(0.01, 0.2), clip=False)
    params = t.sample_params(x, generator=_gen())
    out = t.apply(x, params)
    measured = (out - 0.5).flatten(1).std(1)
    spread = measured.max() - measured.min()
    assert spread > 0.1  # different images draw different std
    assert torch.allclose(out - x, params.noise, atol=1e-6)


def test_gaussian_noise_uint8_is_rounded_and_clamped_like_float():
    x = make_image("tensor", "uint8", batch=4)
    t = augkit.GaussianNoise(std=0.2)
    params = t.sample_params(x, generator=_gen(1))
    out = t.apply(x, params)
    expected = (x.float() + params.noise * 255).round().clamp(0, 255).to(torch.uint8)
    assert torch.equal(out, expected)
    out16 = t.apply(x.to(torch.int32).mul(257).to(torch.uint16), params)
    assert out16.dtype == torch.uint16


def test_gaussian_noise_shared_over_channels():
    x = torch.full((2, 3, 8, 8), 0.5)
    out = augkit.GaussianNoise(std=0.1, per_channel=False)(x, generator=_gen())
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2])


@settings(max_examples=15)
@given(std=st.floats(0.0, 0.5), mean=st.floats(-0.2, 0.2))
def test_gaussian_noise_clipped_floats_stay_in_range(std, mean):
    out = augkit.GaussianNoise(mean=mean, std=std)(torch.rand(2, 3, 6, 6), generator=_gen())
    assert out.min() >= 0 and out.max() <= 1


# -- JPEG ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("channels", [1, 3])
def test_jpeg_equals_an_opencv_round_trip(channels):
    image = photo_array(48, 64, channels, layout="hw" if channels == 1 else "hwc")
    bgr = image if channels == 1 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    decoded = cv2.imdecode(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 40])[1], cv2.IMREAD_UNCHANGED)
    expected = decoded if channels == 1 else cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    assert_close(F.jpeg_compression(image, 40), expected)
    tensor = torch.from_numpy(image.reshape(48, 64, channels)).permute(2, 0, 1)
    assert_close(F.jpeg_compression(tensor, 40), expected)


def test_jpeg_quality_is_drawn_per_sample_and_lowers_fidelity():
    x = make_image("tensor", "uint8", height=64, width=64, batch=4)
    params = augkit.JPEGCompression(quality=(1, 100)).sample_params(x, generator=_gen())
    assert params.quality.min() >= 1 and params.quality.max() <= 100 and len(set(params.quality.tolist())) > 1
    low = F.jpeg_compression(x, 5).float()
    high = F.jpeg_compression(x, 95).float()
    assert (low - x.float()).abs().mean() > (high - x.float()).abs().mean()
    floats = F.jpeg_compression(x.float() / 255, 95)
    assert floats.dtype == torch.float32 and torch.allclose(floats * 255, high, atol=1e-3)


def test_jpeg_argument_errors():
    with pytest.raises(ValueError, match="quality"):
        augkit.JPEGCompression(quality=(0, 50))
    with pytest.raises(TypeError, match="quality must be ints"):
        augkit.JPEGCompression(quality=(10.5, 50))
    with pytest.raises(ValueError, match="1- or 3-channel"):
        F.jpeg_compression(np.zeros((8, 8, 4), np.uint8), 50)
    # OpenCV's codec runs on the CPU only: tensors elsewhere are refused, naming their device
    with pytest.raises(TypeError, match="uint8 on meta"):
        augkit.JPEGCompression()(torch.zeros(3, 8, 8, dtype=torch.uint8, device="meta"))


# -- random erasing ------------------------------------------------------------------------------

def test_random_erasing_boxes_follow_torchvision_constraints():
    t = augkit.RandomErasing(p=1.0, scale=(0.02, 0.33), ratio=(0.3, 3.3))
    x = torch.ones(2000, 1, 40, 60)
    params = t.sample_params(x, generator=_gen())
    h, w = params.height, params.width
    found = h > 0
    assert found.float().mean() > 0.95
    area = (h * w)[found].float() / (40 * 60)
    assert area.min() >= 0.015 and area.max() <= 0.36
    assert (params.top + h <= 40).all() and (params.left + w <= 60).all() and (params.top >= 0).all()
    out = t.apply(x, params)
    assert torch.equal((out == 0).flatten(1).sum(1), h * w)


def test_random_erasing_falls_back_to_no_erase_when_nothing_fits():
    t = augkit.RandomErasing(p=1.0, scale=(0.9, 1.0), ratio=(5.0, 6.0))
    x = torch.ones(8, 3, 10, 10)
    out = t(x, generator=_gen())
    assert torch.equal(out, x)


def test_random_erasing_values():
    x = make_image("tensor", "uint8", batch=3)
    out = augkit.RandomErasing(p=1.0, value=(1.0, 0.0, 0.5))(x, generator=_gen())
    changed = (out != x).any(1)
    assert torch.equal(out[:, 0][changed], torch.full_like(out[:, 0][changed], 255))
    assert (out[:, 2][changed] == 128).all()
    params = augkit.RandomErasing(p=1.0, value="random").sample_params(x, generator=_gen())
    assert params.fill.shape == (3, 3, 24, 32)
    assert torch.equal(F.erase_tensor(x, 0, 0, 0, 5), x)


@settings(max_examples=15)
@given(top=st.integers(-3, 30), left=st.integers(-3, 40), height=st.integers(0, 30), width=st.integers(0, 40))
def test_erase_kernels_agree(top, left, height, width):
    image = photo_array(24, 32, 3)
    expected = image.copy()
    expected[max(top, 0):max(top + height, 0), max(left, 0):max(left + width, 0)] = 128
    assert_close(F.erase_numpy(image, top, left, height, width, 0.5), expected)
    tensor = torch.from_numpy(image).permute(2, 0, 1)
    assert_close(F.erase_tensor(tensor, top, left, height, width, 0.5), expected)


def test_random_erasing_argument_errors():
    with pytest.raises(ValueError, match="value must be"):
        augkit.RandomErasing(value="noise")
    with pytest.raises(ValueError, match="ratio"):
        augkit.RandomErasing(ratio=(0.0, 1.0))
    with pytest.raises(ValueError, match="scale"):
        augkit.RandomErasing(scale=(0.5, 0.1))
    with pytest.raises(ValueError, match=r"value\[1\]"):
        augkit.RandomErasing(value=(0.5, 2.0))
