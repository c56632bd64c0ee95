"""Flips: per-sample randomness on batches and parity with torchvision."""

from __future__ import annotations

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
