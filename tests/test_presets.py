"""Eval presets: the table, name lookup, and the pipelines they build."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import augkit
from augkit.presets import PRESETS, eval_transform, preset

from .helpers import assert_close, make_image


def test_table_follows_the_published_settings():
    assert preset("resnet50") == preset(size=224)
    assert (preset("inception_v3").size, preset("inception_v3").crop_ratio) == (299, 0.875)
    assert preset("inception-v3").mean == (0.5, 0.5, 0.5)
    assert preset("CLIP_VIT_L_336").interpolation == "bicubic"
    assert preset("efficientnet-b7").crop_ratio == 0.949 and preset(size=600).size == 600
    assert all(p.crop_ratio <= 1.0 and len(p.mean) == len(p.std) == 3 for p in PRESETS.values())


def test_timm_default_cfg_agrees_where_available():
    timm = pytest.importorskip("timm")
    from timm.models import get_pretrained_cfg

    for name, model in [("resnet50", "resnet50.tv_in1k"), ("inception_v3", "inception_v3.tf_in1k"),
                        ("efficientnet-b7", "tf_efficientnet_b7.ra_in1k"),
                        ("vit-224", "vit_base_patch16_224.augreg2_in21k_ft_in1k")]:
        cfg = get_pretrained_cfg(model).to_dict()
        p = preset(name)
        assert (p.size, p.crop_ratio, p.interpolation) == (cfg["input_size"][-1], cfg["crop_pct"], cfg["interpolation"])
        assert np.allclose(p.mean, cfg["mean"]) and np.allclose(p.std, cfg["std"]), name
    assert timm


def test_eval_transform_is_resized_center_crop_then_normalize():
    t = eval_transform("resnet50")
    x = make_image("tensor", "uint8", 375, 500)
    expected = augkit.Normalize()(augkit.ResizedCenterCrop(224, 0.875)(x))
    assert torch.equal(t(x), expected)
    assert t(x).dtype == torch.float32 and t(x).shape == (3, 224, 224)
    array = make_image("numpy", "uint8", 375, 500)
    assert_close(t(array), t(x), 1 / 0.224 / 255 + 1e-4)
    assert augkit.from_config(t.to_config()) == t


def test_pil_images_go_through_to_tensor():
    pil = make_image("pil", "uint8", 300, 400)
    out = eval_transform(size=299, to_tensor=True)(pil)
    assert isinstance(out, torch.Tensor) and out.shape == (3, 299, 299)


def test_size_override_and_errors():
    assert eval_transform("vit-384", size=256)[0].size == 256
    with pytest.raises(ValueError, match="model must be one of"):
        preset("resnet5000")
    with pytest.raises(ValueError, match="size must be one of"):
        preset(size=123)
