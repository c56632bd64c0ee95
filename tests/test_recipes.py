"""Training recipes (augkit.presets.train_transform) and the eval side of every preset."""

from __future__ import annotations

import json

import pytest
import torch

import augkit
from augkit.presets import DATA_SCALES, DOMAINS, PRESETS, Recipe, named_presets, train_transform
from augkit.tta import check_deterministic

RECIPES = [(scale, domain) for scale in DATA_SCALES for domain in DOMAINS]


def _types(transform) -> set[str]:
    """Class names of ``transform`` and of every transform nested in it."""
    found = {type(transform).__name__}
    for _, child in augkit.core.config.child_transforms(transform):
        found |= _types(child)
    return found


def _batch(n: int = 4, h: int = 80, w: int = 96) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def test_eval_presets_and_the_eval_side_of_every_recipe_are_deterministic():
    presets = named_presets()
    eval_names = [name for name in presets if name in PRESETS or name.startswith("eval")]
    assert len(eval_names) == len(PRESETS)
    for name in eval_names:
        check_deterministic(presets[name][1](), name=name)
    for scale, domain in RECIPES:
        check_deterministic(train_transform(96, scale, domain).eval, name=f"{scale}-{domain}.eval")


def test_train_pipelines_are_random_and_give_normalized_batches_of_the_size():
    for scale, domain in RECIPES:
        recipe = train_transform(64, scale, domain)
        assert isinstance(recipe, Recipe)
        with pytest.raises(ValueError, match="must be deterministic"):
            check_deterministic(recipe.train)
        x = _batch()
        out = recipe.train(x, generator=torch.Generator().manual_seed(1))
        assert out.shape == (4, 3, 64, 64) and out.dtype == torch.float32
        assert recipe.eval(x).shape == (4, 3, 64, 64)


def test_every_recipe_is_a_named_preset_and_round_trips_through_its_config():
    presets = named_presets()
    for scale, domain in RECIPES:
        name = f"train-{scale}-{domain}"
        description, make = presets[name]
        assert description.startswith("train 224px: ")
        train = make()
        assert augkit.from_config(json.loads(json.dumps(train.to_config()))) == train


def test_data_scale_picks_the_policy_and_the_mixing():
    small, medium, large = (train_transform(224, s) for s in DATA_SCALES)
    assert "TrivialAugmentWide" in _types(small.train) and "ColorJitter" in _types(small.train)
    ra = [t for t in medium.train.transforms if isinstance(t, augkit.RandAugment)]
    assert len(ra) == 1 and 2 <= ra[0].num_ops <= 3 and 7 <= ra[0].magnitude <= 12
    aa = [t for t in large.train.transforms if isinstance(t, augkit.AutoAugment)]
    assert len(aa) == 1 and aa[0].policy == "imagenet"
    assert small.mixing["mixup_alpha"] == 0.2 and small.mixing["p_mixup"] > 3 * small.mixing["p_cutmix"] > 0
    assert medium.mixing["p_mixup"] == medium.mixing["p_cutmix"] == 0.5
    assert large.mixing["p_mixup"] > 0 and large.mixing["p_cutmix"] > 0


def test_domain_rules():
    for scale in DATA_SCALES:
        document = _types(train_transform(224, scale, "document").train)
        assert not document & {"HorizontalFlip", "VerticalFlip", "RandAugment", "TrivialAugmentWide", "AutoAugment"}
        affine = [t for t in train_transform(224, scale, "document").train.transforms
                  if isinstance(t, augkit.RandomAffine)]
        assert affine and max(abs(d) for d in affine[0].degrees) <= 5
        assert train_transform(224, scale, "document").mixing is None

        medical = train_transform(224, scale, "medical")
        assert not _types(medical.train) & {"HorizontalFlip", "VerticalFlip", "RandAugment",
                                            "TrivialAugmentWide", "AutoAugment"}
        jitter = [t for t in medical.train.transforms if isinstance(t, augkit.ColorJitter)][0]
        assert jitter.brightness[1] <= 1.1 and jitter.contrast[1] <= 1.1 and jitter.hue == (0.0, 0.0)
        assert medical.mixing["p_cutmix"] == 0.0
        assert "HorizontalFlip" in _types(train_transform(224, scale, "medical", flips=True).train)

        aerial = _types(train_transform(224, scale, "aerial").train)
        assert {"HorizontalFlip", "VerticalFlip", "OneOf"} <= aerial

        product = train_transform(224, scale, "product").train
        for t in product.transforms:
            if isinstance(t, augkit.ColorJitter):
                assert t.hue == (0.0, 0.0)
            if isinstance(t, (augkit.RandAugment, augkit.TrivialAugmentWide)):
                assert t.ops is not None and not {"Solarize", "Equalize", "AutoContrast"} & set(t.ops)
        assert "HorizontalFlip" not in _types(train_transform(224, scale, "natural", flips=False).train)


def test_quarter_turns_are_exact_on_square_crops():
    recipe = train_transform(32, "medium", "aerial")
    turns = [t for t in recipe.train.transforms if isinstance(t, augkit.OneOf)][0]
    x = _batch(16, 32, 32)
    out = turns(x, generator=torch.Generator().manual_seed(0))
    for i in range(16):
        assert any(torch.equal(out[i], torch.rot90(x[i], k, dims=(-2, -1))) for k in range(4))


def test_mixer_follows_the_mixing_settings():
    recipe = train_transform(32, "medium")
    mix = recipe.mixer(num_classes=10, label_smoothing=0.1)
    assert isinstance(mix, augkit.mixing.RandomMix) and mix.p_cutmix == 0.5 and mix.label_smoothing == 0.1
    images, labels = mix(recipe.train(_batch(8, 40, 40)), torch.arange(8))
    assert images.shape == (8, 3, 32, 32) and labels.shape == (8, 10)
    assert train_transform(32, "medium", "document").mixer(num_classes=10) is None


def test_to_tensor_takes_pil_images():
    from PIL import Image
    image = Image.fromarray(_batch(1)[0].permute(1, 2, 0).numpy())
    recipe = train_transform(48, "small", to_tensor=True)
    assert recipe.train(image).shape == (3, 48, 48) and recipe.eval(image).shape == (3, 48, 48)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"size": 0}, ValueError, "size must be a positive int; got 0"),
    ({"data_scale": "huge"}, ValueError, "data_scale must be one of small, medium, large; got 'huge'"),
    ({"domain": "space"}, ValueError, "domain must be one of natural, medical, document, aerial, product"),
    ({"domain": "document", "flips": True}, ValueError, "flips=True is refused for documents"),
    ({"flips": "yes"}, TypeError, "flips must be True, False or None"),
])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        train_transform(**kwargs)
