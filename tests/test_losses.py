"""augkit.losses: parity with torch.nn.functional and timm, bf16 autocast, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st

import augkit
from augkit.losses import (LabelSmoothingCrossEntropy, SoftTargetBCEWithLogits, SoftTargetCrossEntropy,
                           label_smoothing_cross_entropy, soft_target_bce_with_logits,
                           soft_target_cross_entropy)

timm_loss = pytest.importorskip("timm.loss")


def data(seed: int = 0, n: int = 6, k: int = 5):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, k, generator=g) * 3
    target = torch.softmax(torch.randn(n, k, generator=g), 1)
    return logits, target


@given(seed=st.integers(0, 1000), n=st.integers(1, 8), k=st.integers(1, 7))
def test_soft_ce_matches_torch_and_timm(seed, n, k):
    logits, target = data(seed, n, k)
    ours = soft_target_cross_entropy(logits, target)
    torch.testing.assert_close(ours, F.cross_entropy(logits, target), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(ours, timm_loss.SoftTargetCrossEntropy()(logits, target), atol=1e-5, rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_soft_ce_reductions_and_weight(reduction):
    logits, target = data()
    weight = torch.linspace(0.5, 2.0, 5)
    expected = F.cross_entropy(logits, target, weight=weight, reduction=reduction)
    torch.testing.assert_close(soft_target_cross_entropy(logits, target, reduction=reduction, weight=weight), expected)
    torch.testing.assert_close(SoftTargetCrossEntropy(reduction=reduction, weight=weight)(logits, target), expected)
    manual = -(target * weight * torch.log_softmax(logits, 1)).sum(1)
    reduce = {"mean": torch.mean, "sum": torch.sum, "none": lambda t: t}[reduction]
    torch.testing.assert_close(soft_target_cross_entropy(logits, target, reduction=reduction, weight=weight),
                               reduce(manual), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("s", [0.0, 0.1, 0.4])
def test_label_smoothing_ce_matches_torch_and_timm(s):
    logits, _ = data()
    target = torch.tensor([0, 4, 2, 2, 1, 3])
    ours = label_smoothing_cross_entropy(logits, target, smoothing=s)
    torch.testing.assert_close(ours, F.cross_entropy(logits, target, label_smoothing=s))
    if s > 0:
        torch.testing.assert_close(ours, timm_loss.LabelSmoothingCrossEntropy(s)(logits, target), atol=1e-5, rtol=1e-6)
    torch.testing.assert_close(LabelSmoothingCrossEntropy(smoothing=s)(logits, target), ours)
    # the same as the soft-target loss on the smoothed one-hot rows of augkit.mixing
    rows = augkit.mixing.soft_labels(target, 5, label_smoothing=s)
    torch.testing.assert_close(soft_target_cross_entropy(logits, rows), ours, atol=1e-5, rtol=1e-6)


def test_bce_matches_torch():
    logits, _ = data()
    target = augkit.mixing.soft_labels((torch.rand(6, 5) < 0.3).float(), multi_label=True, label_smoothing=0.1)
    pos = torch.linspace(1, 3, 5)
    for reduction in ("mean", "sum", "none"):
        expected = F.binary_cross_entropy_with_logits(logits, target, reduction=reduction, pos_weight=pos)
        torch.testing.assert_close(soft_target_bce_with_logits(logits, target, reduction=reduction, pos_weight=pos), expected)
        torch.testing.assert_close(SoftTargetBCEWithLogits(reduction=reduction, pos_weight=pos)(logits, target), expected)


def test_finite_under_bf16_autocast_and_backward():
    logits, target = data(n=4, k=1000)
    logits = (logits * 30).requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = torch.nn.Linear(1000, 1000)(logits)
        losses = [soft_target_cross_entropy(out, torch.softmax(target.repeat(1, 1), 1)),
                  label_smoothing_cross_entropy(out, torch.tensor([0, 9, 99, 999])),
                  soft_target_bce_with_logits(out, torch.rand(4, 1000))]
    for loss in losses:
        assert loss.dtype == torch.float32 and torch.isfinite(loss)
    sum(losses).backward()
    assert torch.isfinite(logits.grad).all()
    bf = soft_target_cross_entropy(logits.detach().bfloat16() * 100, target)
    assert bf.dtype == torch.float32 and torch.isfinite(bf)


def test_end_to_end_with_random_mix():
    mix = augkit.mixing.RandomMix(num_classes=10, mixup_alpha=0.2, cutmix_alpha=1.0, p_mixup=0.4, p_cutmix=0.4)
    x, y = mix(torch.rand(8, 3, 16, 16), torch.randint(0, 10, (8,)), generator=torch.Generator().manual_seed(0))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 10))
    loss = soft_target_cross_entropy(model(x), y)
    loss.backward()
    assert torch.isfinite(loss)


def test_errors():
    logits, target = data()
    with pytest.raises(ValueError, match="5 classes but target has 4"):
        soft_target_cross_entropy(logits, target[:, :4])
    with pytest.raises(ValueError, match="batch size: 6 vs 5"):
        soft_target_cross_entropy(logits, target[:5])
    with pytest.raises(ValueError, match="negative values"):
        soft_target_cross_entropy(logits, target - 0.5)
    with pytest.raises(ValueError, match="class indices\\? use label_smoothing_cross_entropy"):
        soft_target_cross_entropy(logits, torch.zeros(6, dtype=torch.long))
    with pytest.raises(ValueError, match="reduction must be one of"):
        soft_target_cross_entropy(logits, target, reduction="avg")
    with pytest.raises(TypeError, match="logits must be a floating-point"):
        soft_target_cross_entropy(logits.long(), target)
    with pytest.raises(ValueError, match=r"class indices in \[0, 5\); got \[5\]"):
        label_smoothing_cross_entropy(logits, torch.tensor([0, 1, 2, 3, 4, 5]))
    with pytest.raises(ValueError, match="batch size: 6 vs 2"):
        label_smoothing_cross_entropy(logits, torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="use soft_target_cross_entropy"):
        label_smoothing_cross_entropy(logits, target)
    with pytest.raises(ValueError, match="smoothing must be in"):
        LabelSmoothingCrossEntropy(smoothing=2.0)
    with pytest.raises(ValueError, match="above 1"):
        soft_target_bce_with_logits(logits, target * 3)


def test_compiles_fullgraph():
    torch._dynamo.reset()
    logits, target = data()
    compiled = torch.compile(soft_target_cross_entropy, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(logits, target), F.cross_entropy(logits, target))
