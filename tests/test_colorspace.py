"""Colour-space kernels: tensor vs OpenCV, round trips, and channel checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF

import augkit.functional as F

from .helpers import make_image

PAIRS = [(F.rgb_to_hsv, F.hsv_to_rgb), (F.rgb_to_lab, F.lab_to_rgb)]


def _chw(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array).permute(2, 0, 1)


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
@pytest.mark.parametrize("forward", [F.rgb_to_gray, F.rgb_to_hsv, F.rgb_to_lab])
def test_tensor_kernels_match_opencv_on_uint8_photos(forward, name):
    array = make_image("numpy", "uint8", 48, 64, name=name)
    ours = forward(_chw(array)).permute(1, 2, 0).numpy().astype(int)
    theirs = forward(array).astype(int)
    diff = np.abs(ours - theirs)
    if forward is F.rgb_to_hsv:  # hue wraps around
        diff[:, :, 0] = np.minimum(diff[:, :, 0], 256 - diff[:, :, 0])
    # OpenCV's 8-bit Lab runs on fixed-point tables: allow 2 levels there, 1 elsewhere
    assert diff.max() <= (2 if forward is F.rgb_to_lab else 1), f"max difference {diff.max()} levels"
    assert diff.mean() < 0.25


@pytest.mark.parametrize("forward", [F.rgb_to_gray, F.rgb_to_hsv, F.rgb_to_lab])
def test_float_kernels_agree(forward):
    array = make_image("numpy", "float32", 32, 40)
    ours = forward(_chw(array)).permute(1, 2, 0).numpy()
    theirs = forward(array)
    assert np.abs(ours - theirs).max() < 2e-3


@pytest.mark.parametrize("forward, inverse", PAIRS)
@pytest.mark.parametrize("kind", ["tensor", "numpy"])
def test_round_trip_returns_the_image(forward, inverse, kind):
    image = make_image(kind, "float32", 32, 40, name="coffee")
    back = inverse(forward(image))
    diff = (back - image).abs().max() if kind == "tensor" else np.abs(back - image).max()
    assert diff < 2e-3


def test_uint8_round_trip_within_a_few_levels():
    x = make_image("tensor", "uint8", 32, 40, name="chelsea")
    for forward, inverse in PAIRS:
        assert (inverse(forward(x)).int() - x.int()).abs().max() <= 3


def test_grayscale_matches_torchvision_and_repeats_channels():
    x = make_image("tensor", "float32", batch=2)
    torch.testing.assert_close(F.rgb_to_gray(x), TF.rgb_to_grayscale(x), atol=1e-3, rtol=0)
    three = F.rgb_to_gray(x, channels=3)
    assert three.shape == x.shape and torch.equal(three[:, 0], three[:, 2])
    assert F.rgb_to_gray(make_image("numpy", "uint16")).dtype == np.uint16
    assert F.gray_to_rgb(F.rgb_to_gray(make_image("numpy"))).shape == make_image("numpy").shape


def test_hsv_of_pure_colours():
    rgb = torch.tensor([[[1.0, 0.0, 0.0, 0.5]], [[0.0, 1.0, 0.0, 0.5]], [[0.0, 0.0, 1.0, 0.5]]])
    hsv = F.rgb_to_hsv(rgb)
    torch.testing.assert_close(hsv[0, 0], torch.tensor([0.0, 1 / 3, 2 / 3, 0.0]))
    torch.testing.assert_close(hsv[1, 0], torch.tensor([1.0, 1.0, 1.0, 0.0]))
    torch.testing.assert_close(hsv[2, 0], torch.tensor([1.0, 1.0, 1.0, 0.5]))


def test_wrong_channel_counts_and_dtypes_are_refused():
    with pytest.raises(ValueError, match="rgb_to_hsv expects 3-channel images; got 1"):
        F.rgb_to_hsv(make_image("tensor", channels=1))
    with pytest.raises(ValueError, match="gray_to_rgb expects 1-channel images; got 3"):
        F.gray_to_rgb(make_image("numpy"))
    with pytest.raises(TypeError, match="uint16"):
        F.rgb_to_lab(make_image("numpy", "uint16"))
