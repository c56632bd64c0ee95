"""Test-time augmentation: merging, batching, crops and resizes, and refusing random views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import torch
import torchvision.transforms.v2.functional as TF

import augkit
from augkit.core import Params, Transform
from augkit.tta import TTA, CropView, ResizeView, UndecidedError, five_crop, multi_scale, predict, ten_crop

FLIPS = [augkit.Identity(), augkit.HorizontalFlip(p=1.0)]


class Linear(torch.nn.Module):
    """A classifier that is not flip-invariant: a linear map of the pixels (any size, pooled to
    4x4), counting its forwards and the images it saw."""

    def __init__(self, classes: int = 5, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3 * 16, classes, dtype=dtype)
        self.batches: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.batches.append(len(x))
        return self.linear(torch.nn.functional.adaptive_avg_pool2d(x, 4).flatten(1)) * 10


def _softmax(model, x):
    with torch.no_grad():
        return model(x).softmax(-1)


def test_the_result_is_the_mean_of_the_probabilities_of_both_views():
    model, x = Linear(), torch.rand(4, 3, 16, 16)
    expected = (_softmax(model, x) + _softmax(model, x.flip(-1))) / 2
    assert not torch.allclose(_softmax(model, x), _softmax(model, x.flip(-1)), atol=1e-3)
    torch.testing.assert_close(TTA(model, FLIPS)(x), expected)
    torch.testing.assert_close(TTA(model)(x), expected)  # the default views
    torch.testing.assert_close(predict(model, x, views=FLIPS), expected)


@pytest.mark.parametrize("merge", ["logits", "max", "gmean"])
def test_the_other_merges(merge):
    model, x = Linear(), torch.rand(3, 3, 16, 16)
    with torch.no_grad():
        logits = torch.stack([model(x), model(x.flip(-1))])
    probs = logits.softmax(-1)
    if merge == "logits":
        expected = logits.mean(0).softmax(-1)
    elif merge == "max":
        expected = probs.amax(0) / probs.amax(0).sum(-1, keepdim=True)
    else:
        geometric = probs.prod(0).sqrt()
        expected = geometric / geometric.sum(-1, keepdim=True)
    out = TTA(model, FLIPS, merge=merge)(x)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(out.sum(-1), torch.ones(3))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_shape_and_dtype_follow_the_model_and_no_gradient_is_kept(dtype):
    model = Linear(classes=7, dtype=dtype)
    out = TTA(model, [*FLIPS, augkit.VerticalFlip(p=1.0)])(torch.rand(2, 3, 16, 16, dtype=dtype))
    assert out.shape == (2, 7) and out.dtype == dtype and not out.requires_grad
    assert out.device == torch.device("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_device_is_kept():
    model, x = Linear().cuda(), torch.rand(2, 3, 16, 16, device="cuda")
    out = TTA(model, [*FLIPS, *five_crop(8), *multi_scale([12])])(x)
    assert out.device == x.device
    expected = TTA(model.cpu(), [*FLIPS, *five_crop(8), *multi_scale([12])])(x.cpu())
    torch.testing.assert_close(out.cpu(), expected, atol=1e-5, rtol=1e-4)


def test_views_of_one_size_share_one_forward_and_sizes_are_grouped():
    model, x = Linear(), torch.rand(3, 3, 16, 16)
    TTA(model, [*FLIPS, augkit.VerticalFlip(p=1.0)])(x)
    assert model.batches == [9]
    model.batches.clear()
    out = TTA(model, [augkit.Identity(), *five_crop(8), ResizeView(12)])(x)
    assert sorted(model.batches) == [3, 3, 15]
    expected = sum(_softmax(model, v(x)) for v in [lambda t: t, *five_crop(8), ResizeView(12)]) / 7
    torch.testing.assert_close(out, expected)


def test_max_batch_splits_the_forwards_without_changing_the_result():
    model, x = Linear(), torch.rand(3, 3, 16, 16)
    whole = TTA(model, FLIPS)(x)
    model.batches.clear()
    torch.testing.assert_close(TTA(model, FLIPS, max_batch=4)(x), whole)
    assert model.batches == [4, 2]


def test_out_of_memory_halves_the_forwards():
    inner = Linear()

    def model(x):
        if len(x) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return inner(x)

    x = torch.rand(3, 3, 16, 16)
    torch.testing.assert_close(TTA(model, FLIPS)(x), TTA(inner, FLIPS)(x))
    assert inner.batches[:3] == [2, 2, 2]

    def always(x):
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    with pytest.raises(torch.OutOfMemoryError):
        TTA(always, FLIPS)(x)


def test_crops_match_torchvision():
    x = torch.randint(0, 256, (2, 3, 15, 20), dtype=torch.uint8)
    ours = [v(x) for v in five_crop((7, 9))]
    for a, b in zip(ours, TF.five_crop(x, [7, 9])):
        assert torch.equal(a, b)
    for vertical in (False, True):
        ours = [v(x) for v in ten_crop(6, vertical_flip=vertical)]
        for a, b in zip(ours, TF.ten_crop(x, [6, 6], vertical_flip=vertical)):
            assert torch.equal(a, b)


def test_crop_larger_than_the_image_is_refused():
    with pytest.raises(ValueError, match=r"crop size \(32, 32\) is larger than the images \(16, 16\)"):
        TTA(Linear(), five_crop(32))(torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match="position must be one of"):
        CropView(4, "middle")


@pytest.mark.parametrize("size", [12, (10, 14), 24])
def test_resize_views_match_torchvision_antialiased_bilinear(size):
    x = torch.rand(2, 3, 16, 20)
    expected = TF.resize(x, [size] if isinstance(size, int) else list(size), antialias=True)
    torch.testing.assert_close(ResizeView(size)(x), expected, atol=1e-5, rtol=0)
    x8 = (x * 255).round().to(torch.uint8)
    out8 = ResizeView(size)(x8)
    assert out8.dtype == torch.uint8
    # torchvision's uint8 kernel rounds in fixed point: off by at most 1
    assert (out8.int() - TF.resize(x8, [size] if isinstance(size, int) else list(size)).int()).abs().max() <= 1
    assert multi_scale([size]) == [ResizeView(size)]


@dataclass(frozen=True, kw_only=True)
class _ShiftParams(Params):
    shift: torch.Tensor


class _RandomShift(Transform):
    """Draws a random field but has p=1 (only the parameter draws show it is random)."""

    params_type = _ShiftParams

    def __init__(self, largest: int = 3, max_size: int = 1000) -> None:
        super().__init__()
        self.largest = largest
        self.max_size = max_size

    def _draw(self, spec, generator) -> dict[str, Any]:
        if max(spec.size) > self.max_size:
            raise ValueError(f"images larger than {self.max_size} pixels")
        high = self.largest + 1
        return {"shift": torch.randint(0, high, (spec.n,), generator=generator, device=spec.device)}

    def _apply_tensor(self, x, params):
        return x


@pytest.mark.parametrize("view, where", [
    (augkit.HorizontalFlip(), r"views\[1\] \(HorizontalFlip\) applies with probability p=0.5"),
    (augkit.Compose([augkit.Identity(), augkit.VerticalFlip(p=0.3)]),
     r"views\[1\].transforms\[1\] \(VerticalFlip\) applies with probability p=0.3"),
    (augkit.OneOf([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0)]),
     r"views\[1\] \(OneOf\) draws random parameters"),
    (augkit.RandomApply([augkit.HorizontalFlip(p=1.0)]), r"views\[1\] \(RandomApply\) applies with"),
    (_RandomShift(largest=20), r"views\[1\] \(_RandomShift\) draws random parameters"),
])
def test_random_views_are_refused(view, where):
    with pytest.raises(ValueError, match="^test-time views must be deterministic, but " + where):
        TTA(Linear(), [augkit.Identity(), [view]])


def test_deterministic_transforms_and_containers_are_accepted():
    views = [augkit.Compose([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0)]),
             augkit.OneOf([augkit.HorizontalFlip(p=1.0)]), _RandomShift(largest=0),
             augkit.Normalize(mean=0.5, std=0.5)]
    assert TTA(Linear(), views)(torch.rand(2, 3, 16, 16)).shape == (2, 5)


def test_a_view_that_cannot_draw_on_the_probe_is_checked_on_the_first_batch():
    tta = TTA(Linear(), [_RandomShift(max_size=64)])  # cannot draw for the 256x256 probe images
    with pytest.raises(ValueError, match="draws random parameters"):
        tta(torch.rand(2, 3, 16, 16))
    with pytest.raises(UndecidedError, match="cannot draw the parameters"):
        augkit.tta.check_deterministic(_RandomShift(max_size=64))


def test_views_do_not_touch_the_global_random_state():
    tta, x = TTA(Linear(), [_RandomShift(largest=0), *FLIPS]), torch.rand(2, 3, 16, 16)
    state = torch.get_rng_state()
    tta(x)
    assert torch.equal(torch.get_rng_state(), state)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="merge must be one of 'mean', 'logits', 'max', 'gmean'; got 'median'"):
        TTA(Linear(), FLIPS, merge="median")
    with pytest.raises(TypeError, match=r"views\[1\] must be an augkit Transform or a tta View"):
        TTA(Linear(), [augkit.Identity(), torch.flip])
    with pytest.raises(ValueError, match="views must hold at least one view"):
        TTA(Linear(), [])
    with pytest.raises(ValueError, match="max_batch must be in"):
        TTA(Linear(), FLIPS, max_batch=0)
    with pytest.raises(TypeError, match="model must be callable"):
        TTA("resnet", FLIPS)
    with pytest.raises(TypeError, match=r"x must be a \(B, C, H, W\) tensor; got \(3, 16, 16\)"):
        TTA(Linear(), FLIPS)(torch.rand(3, 16, 16))
