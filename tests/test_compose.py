"""Containers: per-image choices, probabilities, sizes and replay."""

from __future__ import annotations

import pytest
import torch

import augkit

from .helpers import make_image

H, V, I = (lambda: augkit.HorizontalFlip(p=1.0)), (lambda: augkit.VerticalFlip(p=1.0)), augkit.Identity


def _which(out: torch.Tensor, image: torch.Tensor) -> list[str]:
    names = {"h": image.flip(-1), "v": image.flip(-2), "hv": image.flip(-1).flip(-2), "-": image}
    return [next(k for k, ref in names.items() if torch.equal(o, ref)) for o in out]


def _batch(n: int = 400) -> tuple[torch.Tensor, torch.Tensor]:
    image = make_image("tensor", "uint8", height=6, width=8)
    return image.expand(n, -1, -1, -1).contiguous(), image


def test_one_of_follows_its_weights_per_image():
    batch, image = _batch()
    out = augkit.OneOf([H(), V(), I()], weights=[2, 1, 1])(batch, generator=torch.Generator().manual_seed(0))
    counts = {k: _which(out, image).count(k) for k in ("h", "v", "-")}
    assert sum(counts.values()) == 400
    assert 160 < counts["h"] < 240 and 70 < counts["v"] < 130 and 70 < counts["-"] < 130


def test_one_of_with_p_skips_some_images():
    batch, image = _batch()
    out = augkit.OneOf([H()], p=0.25)(batch, generator=torch.Generator().manual_seed(1))
    assert 60 < _which(out, image).count("h") < 140


def test_some_of_applies_exactly_n_in_listed_order():
    batch, image = _batch()
    out = augkit.SomeOf([H(), V()], n=1)(batch, generator=torch.Generator().manual_seed(2))
    kinds = _which(out, image)
    assert set(kinds) == {"h", "v"}
    out = augkit.SomeOf([H(), V()], n=2)(batch, generator=torch.Generator().manual_seed(2))
    assert set(_which(out, image)) == {"hv"}


def test_random_apply_is_all_or_nothing_per_image():
    batch, image = _batch()
    out = augkit.RandomApply([H(), V()], p=0.5)(batch, generator=torch.Generator().manual_seed(3))
    kinds = _which(out, image)
    assert set(kinds) == {"hv", "-"} and 150 < kinds.count("hv") < 250


def test_nested_containers_replay_exactly():
    t = augkit.Compose([augkit.OneOf([H(), augkit.RandomApply([V()], p=0.5)]),
                        augkit.SomeOf([H(), V(), I()], n=2, p=0.8)])
    x = make_image("tensor", "float32", batch=16)
    params = t.sample_params(x, generator=torch.Generator().manual_seed(4))
    out = t.apply(x, params)
    assert torch.equal(out, t(x, generator=torch.Generator().manual_seed(4)))
    for i in range(16):
        assert torch.equal(out[i], t.apply(x[i], params[i]))


def test_containers_check_their_arguments():
    with pytest.raises(TypeError, match=r"transforms\[1\] must be an augkit Transform.*Lambda"):
        augkit.Compose([H(), print])
    with pytest.raises(TypeError, match="transforms must be a list or tuple"):
        augkit.Compose(H())
    with pytest.raises(ValueError, match=r"n must be in \[0, 2\]; got 3"):
        augkit.SomeOf([H(), V()], n=3)
    with pytest.raises(ValueError, match="weights must have 2 items"):
        augkit.OneOf([H(), V()], weights=[1])
    with pytest.raises(ValueError, match="weights must not all be 0"):
        augkit.OneOf([H(), V()], weights=[0, 0])
    with pytest.raises(ValueError, match="at least one transform"):
        augkit.OneOf([])


def test_size_changing_child_on_part_of_a_batch_is_refused_clearly():
    halve = augkit.Lambda("tests.test_compose:_halve")
    x = make_image("tensor", "float32", batch=8)
    with pytest.raises(ValueError, match="cannot act on only some images of a batch"):
        augkit.RandomApply([halve], p=0.5)(x, generator=torch.Generator().manual_seed(0))
    assert augkit.RandomApply([halve], p=1.0)(x).shape == (8, 3, 12, 16)


def _halve(x):
    return x[..., ::2, ::2]


def test_compose_indexing_and_length():
    t = augkit.Compose([H(), V()])
    assert len(t) == 2 and isinstance(t[1], augkit.VerticalFlip)
