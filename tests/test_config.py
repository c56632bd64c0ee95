"""Configs: one object model for transforms and mixers, the version envelope, old flat configs,
user classes named like built-ins, and the allow-list for names outside augkit."""

from __future__ import annotations

import json
import operator

import numpy as np
import pytest
import torch

import augkit
from augkit.core import config as cfg
from augkit.mixing import CutMix, MixCollate, MixUp, RandomMix

from .registry import CASES

VERSION = ".".join(augkit.__version__.split(".")[:2])
MAJOR = int(VERSION.split(".")[0])

# Every configurable mixer, with non-default arguments.
MIXERS = {
    "MixUp": lambda: MixUp(0.2, num_classes=10, mode="pair", pairing="flip", label_smoothing=0.1),
    "CutMix": lambda: CutMix(0.5, num_classes=3, cutmix_minmax=(0.2, 0.8), correct_lam=False, inplace=True),
    "RandomMix": lambda: RandomMix(num_classes=120, mixup_alpha=0.2, p_mixup=0.4, p_cutmix=0.4,
                                   centre_margin=0.125, multi_label=True, mode="elem"),
    "MixCollate": lambda: MixCollate(CutMix(num_classes=4, mode="elem"), enabled=False),
    "Mosaic": lambda: augkit.mixing.Mosaic((96, 128), centre_range=(0.3, 0.7), fill=0.5),
}


def json_round_trip(config):
    return json.loads(json.dumps(config))


class Resize(augkit.Transform):
    """A user transform named like augkit's Resize."""

    def __init__(self, strength: float = 1.0, p: float = 1.0) -> None:
        super().__init__(p)
        self.strength = strength

    def _apply_tensor(self, x, params):
        return x


def _double(x):
    return x * 2


def _collate(samples):
    return torch.utils.data.default_collate(samples)


# -- round trips -----------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_registered_transform_round_trips_through_json(case):
    t = case.make()
    config = json_round_trip(augkit.to_config(t))
    assert set(config) == {"augkit", "transform"} and config["augkit"] == VERSION
    assert config["transform"]["transform"] == type(t).__name__
    rebuilt = augkit.from_config(config, allowed_callables=case.allowed_callables)
    assert type(rebuilt) is type(t) and rebuilt == t and repr(rebuilt) == repr(t)
    assert augkit.to_config(rebuilt) == config


def test_the_registry_table_covers_every_registered_transform():
    assert {type(c.make()).__name__ for c in CASES} == set(augkit.registered_transforms())


def test_every_registered_mixer_is_in_the_table():
    mixers = set(cfg.registered_classes("mixer"))
    assert mixers == set(MIXERS)
    assert set(cfg.registered_classes()) == mixers | set(augkit.registered_transforms())
    assert not mixers & set(augkit.registered_transforms())


@pytest.mark.parametrize("name", sorted(MIXERS))
def test_every_mixer_round_trips_through_json(name):
    mix = MIXERS[name]()
    config = json_round_trip(mix.to_config())
    assert config == augkit.to_config(mix)
    assert set(config) == {"augkit", "mixer"} and config["mixer"]["mixer"] == name
    for load in (augkit.from_config, augkit.mixing.from_config):
        rebuilt = load(config)
        assert type(rebuilt) is type(mix) and rebuilt == mix and repr(rebuilt) == repr(mix)
        assert rebuilt.to_config() == config


def test_a_rebuilt_mixer_mixes_like_the_original():
    mix = MIXERS["RandomMix"]()
    rebuilt = augkit.from_config(json_round_trip(mix.to_config()))
    x, y = torch.rand(6, 3, 8, 8), torch.eye(120)[:6]
    a = mix(x, y, generator=torch.Generator().manual_seed(3))
    b = rebuilt(x, y, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_nested_objects_are_plain_flat_configs():
    t = augkit.Compose([augkit.HorizontalFlip(p=0.5), augkit.OneOf([augkit.VerticalFlip()])])
    inner = augkit.to_config(t)["transform"]
    assert inner["transforms"][0] == {"transform": "HorizontalFlip", "p": 0.5}
    assert "augkit" not in json.dumps(inner)
    collate = augkit.to_config(MIXERS["MixCollate"]())["mixer"]
    assert collate["mix"]["mixer"] == "CutMix" and "augkit" not in collate["mix"]
    assert collate["collate_fn"] is None


def test_mixers_are_not_transforms_and_the_key_says_which():
    with pytest.raises(ValueError, match="'MixUp' as a transform, but it is a mixer"):
        augkit.from_config({"transform": "MixUp"})
    with pytest.raises(ValueError, match="'HorizontalFlip' as a mixer, but it is a transform"):
        augkit.from_config({"mixer": "HorizontalFlip"})
    with pytest.raises(ValueError, match="not a mixer"):
        augkit.mixing.from_config(augkit.HorizontalFlip().to_config())


def test_the_mixer_base_class_is_not_registered():
    with pytest.raises(ValueError, match="unknown mixer 'Mixer'"):
        augkit.from_config({"mixer": "Mixer"})


# -- old flat configs ------------------------------------------------------------------------------

@pytest.mark.parametrize("config,expected", [
    ({"transform": "HorizontalFlip", "p": 0.5}, augkit.HorizontalFlip(p=0.5)),
    ({"transform": "Compose", "transforms": [{"transform": "VerticalFlip", "p": 0.25}]},
     augkit.Compose([augkit.VerticalFlip(p=0.25)])),
    ({"mixing": "CutMix", "alpha": 0.5, "cutmix_minmax": [0.2, 0.8], "num_classes": 3},
     CutMix(0.5, cutmix_minmax=(0.2, 0.8), num_classes=3)),
    ({"mixer": "MixUp", "alpha": 0.2}, MixUp(0.2)),
])
def test_old_flat_configs_still_load(config, expected):
    rebuilt = augkit.from_config(json_round_trip(config))
    assert rebuilt == expected and repr(rebuilt) == repr(expected)


def test_old_mixing_configs_load_through_augkit_mixing_from_config():
    assert augkit.mixing.from_config({"mixing": "MixUp", "alpha": 0.2, "num_classes": 10}) == MixUp(0.2, num_classes=10)


# -- versions --------------------------------------------------------------------------------------

def test_a_config_from_a_newer_major_version_is_refused():
    config = augkit.to_config(augkit.HorizontalFlip())
    config["augkit"] = f"{MAJOR + 1}.0"
    with pytest.raises(ValueError, match=rf"written by augkit {MAJOR + 1}\.0, a newer major version .*upgrade augkit"):
        augkit.from_config(config)


def test_older_and_newer_minor_versions_load():
    for written in (f"{MAJOR}.0", f"{MAJOR}.999", f"{MAJOR}.1.5"):
        config = {"augkit": written, "transform": {"transform": "VerticalFlip", "p": 0.5}}
        assert augkit.from_config(config) == augkit.VerticalFlip(p=0.5)


@pytest.mark.parametrize("config,match", [
    ({"augkit": "latest", "transform": {"transform": "VerticalFlip"}}, "bad 'augkit' version 'latest'"),
    ({"augkit": VERSION}, "must hold one of the keys"),
    ({"augkit": VERSION, "transform": "VerticalFlip"}, "must hold one of the keys"),
    ({"augkit": VERSION, "transform": {"p": 0.5}}, "must name its class"),
    ({"name": "HorizontalFlip"}, "'transform' \\(or 'mixer'\\) key"),
    ("HorizontalFlip", "must be a dict"),
])
def test_malformed_configs_are_refused_clearly(config, match):
    with pytest.raises(ValueError, match=match):
        augkit.from_config(config)


# -- user classes named like built-ins --------------------------------------------------------------

def test_a_user_class_named_like_a_built_in_keeps_the_built_in_name_free():
    class Resize(augkit.Transform):   # defining it does not raise
        def __init__(self, p: float = 1.0) -> None:
            super().__init__(p)

    assert augkit.registered_transforms()["Resize"] is augkit.Resize
    rebuilt = augkit.from_config({"transform": "Resize", "size": 8})
    assert type(rebuilt) is augkit.Resize and rebuilt == augkit.Resize(8)
    assert augkit.from_config(augkit.Resize(8).to_config()) == augkit.Resize(8)


def test_a_user_class_is_written_under_its_qualified_name_and_loads_only_when_allowed():
    config = json_round_trip(Resize(strength=2.0).to_config())
    assert config["transform"]["transform"] == f"{__name__}:Resize"
    with pytest.raises(ValueError, match=rf"'{__name__}:Resize'.*allowed_callables=\['{__name__}:Resize'\]"):
        augkit.from_config(config)
    for allowed in ([Resize], [f"{__name__}:Resize"]):
        rebuilt = augkit.from_config(config, allowed_callables=allowed)
        assert type(rebuilt) is Resize and rebuilt == Resize(strength=2.0)


def test_a_user_class_short_name_is_not_guessed():
    class Sharpen3(augkit.Transform):
        def __init__(self, p: float = 1.0) -> None:
            super().__init__(p)

    with pytest.raises(ValueError, match="unknown transform 'Sharpen3'; a class outside augkit is named"):
        augkit.from_config({"transform": "Sharpen3"})


def test_a_built_in_also_loads_by_its_qualified_name():
    name = cfg.qualified_name(augkit.Resize)
    assert name.startswith("augkit.")
    assert augkit.from_config({"transform": name, "size": 8}) == augkit.Resize(8)


def test_a_qualified_name_that_is_not_a_transform_is_refused():
    with pytest.raises(ValueError, match="not a registered transform or mixer"):
        augkit.from_config({"transform": f"{__name__}:_double"}, allowed_callables=[_double])


# -- callables and the allow-list ------------------------------------------------------------------

def test_a_config_naming_a_function_loads_only_when_allowed():
    config = json_round_trip(augkit.Lambda(np.negative).to_config())
    assert config["transform"]["fn"] == "numpy:negative"
    with pytest.raises(ValueError, match=r"'numpy:negative'.*allowed_callables=\['numpy:negative'\]"):
        augkit.from_config(config)
    with pytest.raises(ValueError, match="'numpy:negative'"):
        augkit.from_config(config, allowed_callables=[np.positive, "numpy:abs"])
    for allowed in ([np.negative], ["numpy:negative"], ("numpy:negative",)):
        assert augkit.from_config(config, allowed_callables=allowed) == augkit.Lambda(np.negative)


def test_an_allowed_function_object_is_used_as_given():
    config = augkit.Lambda(_double).to_config()
    rebuilt = augkit.from_config(config, allowed_callables=[_double])
    assert rebuilt.fn is _double
    assert torch.equal(rebuilt(torch.ones(1, 3, 2, 2)), torch.full((1, 3, 2, 2), 2.0))


def test_functions_nested_anywhere_need_the_allow_list():
    t = augkit.Compose([augkit.HorizontalFlip(), augkit.Lambda(_double)])
    config = json_round_trip(t.to_config())
    with pytest.raises(ValueError, match=f"'{__name__}:_double'"):
        augkit.from_config(config)
    assert augkit.from_config(config, allowed_callables=[_double]) == t


def test_a_mix_collate_function_needs_the_allow_list():
    collate = MixCollate(MixUp(num_classes=3), collate_fn=_collate)
    config = json_round_trip(collate.to_config())
    assert config["mixer"]["collate_fn"] == f"{__name__}:_collate"
    with pytest.raises(ValueError, match=f"'{__name__}:_collate'"):
        augkit.from_config(config)
    assert augkit.from_config(config, allowed_callables=[_collate]) == collate
    assert MixCollate(MixUp(), collate_fn=torch.utils.data.default_collate).collate_fn is None


def test_the_allow_list_applies_only_while_loading():
    assert augkit.Lambda("operator:neg").fn is operator.neg   # a name written in code is imported
    with pytest.raises(ValueError, match="allowed_callables"):
        augkit.from_config({"transform": "Lambda", "fn": "operator:neg"})
    assert augkit.Lambda("operator:neg").fn is operator.neg   # and the refusal does not linger


@pytest.mark.parametrize("allowed,error", [
    ("numpy:negative", TypeError),
    ([42], TypeError),
    (["negative"], ValueError),
])
def test_a_bad_allow_list_is_refused(allowed, error):
    with pytest.raises(error, match="allowed_callables"):
        augkit.from_config({"transform": "Identity"}, allowed_callables=allowed)


def test_an_allowed_name_that_does_not_import_is_reported():
    with pytest.raises(ValueError, match="cannot import 'no_such_module_xyz:fn'"):
        augkit.from_config({"transform": "Lambda", "fn": "no_such_module_xyz:fn"},
                           allowed_callables=["no_such_module_xyz:fn"])
