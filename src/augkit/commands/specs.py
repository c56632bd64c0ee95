"""Turning what the user names on the command line into transforms.

``--transform SPEC`` is a config file written from ``to_config()`` (``.json``, or ``.yaml``/``.yml``
when PyYAML is installed), a config given inline as a JSON object, or a policy spec string such
as ``rand-m9-n2`` (resolved by ``augkit.policies.from_spec`` where that module exists).
``--preset NAME`` names an entry of ``augkit.presets.named_presets()``.
"""

from __future__ import annotations

import importlib
import json
import re
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

from ..core.config import from_config, registered_transforms
from ..presets import named_presets
from ..core.transform import Transform
from . import CommandError

__all__ = ["load_transform", "read_config", "policy_from_spec", "preset_transform", "available_presets",
           "first_sentence", "REST_ROLE"]

# a reST role in a docstring, ``:func:`~augkit.x.f``` (group 1: the ``~`` that shortens the
# title to ``f``, group 2: the name); shown as its name here and as a cross-reference in the docs
REST_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj):`(~?)([^`]+)`")

YAML_SUFFIXES = (".yaml", ".yml")
CONFIG_SUFFIXES = (".json", *YAML_SUFFIXES)


def load_transform(spec: str) -> Transform:
    """The transform a ``--transform`` spec names (see the module docstring)."""
    if spec.lstrip().startswith("{"):
        return _build(_parse_json(spec, "inline JSON spec"), "the inline JSON spec")
    path = Path(spec)
    if path.suffix.lower() in CONFIG_SUFFIXES or path.exists():
        return _build(read_config(path), str(path))
    return policy_from_spec(spec)


def read_config(path: Path) -> Any:
    """The data of a JSON or YAML config file."""
    if not path.is_file():
        raise CommandError(f"transform config not found: {path}" if not path.exists()
                           else f"transform config is not a file: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CommandError(f"transform config {path} is not a UTF-8 text file") from None
    if path.suffix.lower() not in YAML_SUFFIXES:
        return _parse_json(text, str(path))
    try:
        import yaml
    except ImportError:
        raise CommandError(f"reading the YAML config {path} needs PyYAML (pip install pyyaml); "
                           f"or write it as JSON") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CommandError(f"transform config {path} is not valid YAML: {error}") from None


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"{where} is not valid JSON: {error}") from None


def _build(config: Any, where: str) -> Transform:
    try:
        return from_config(config)
    except (ValueError, TypeError) as error:
        raise CommandError(f"bad transform config in {where}: {error}") from None


def _optional_module(name: str) -> ModuleType | None:
    """The module ``name``, or None if it does not exist (errors inside it still raise)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name == name:
            return None
        raise


def policy_from_spec(spec: str) -> Transform:
    """The policy a spec string such as ``rand-m9-n2`` names, via ``augkit.policies.from_spec``."""
    policies = _optional_module("augkit.policies")
    if policies is None or not hasattr(policies, "from_spec"):
        raise CommandError(
            f"unknown transform spec {spec!r}: expected a config file (.json, .yaml) or an inline "
            f"JSON config; policy spec strings such as 'rand-m9-n2' are not available in this version"
        )
    try:
        return policies.from_spec(spec)
    except (ValueError, TypeError) as error:
        raise CommandError(f"bad policy spec {spec!r}: {error}{_transform_hint(spec)}") from None


def _transform_hint(spec: str) -> str:
    """If ``spec`` names a transform rather than a policy, how to pass that transform.

    >>> print(_transform_hint("horizontalflip"))
    ; HorizontalFlip is a transform, not a policy: pass its config, e.g. -t '{"transform": "HorizontalFlip"}'
    """
    names = {name.lower(): name for name in registered_transforms()}
    name = names.get(spec.strip().lower())
    if name is None:
        return ""
    return f"; {name} is a transform, not a policy: pass its config, e.g. -t '{{\"transform\": \"{name}\"}}'"


def preset_transform(name: str) -> Transform:
    """The transform of the preset ``name``."""
    presets = named_presets()
    if name not in presets:
        raise CommandError(f"unknown preset {name!r}; available presets: {', '.join(sorted(presets))}")
    return presets[name][1]()


def available_presets() -> dict[str, str]:
    """Preset names with a one-line description each."""
    return {name: description for name, (description, _) in sorted(named_presets().items())}


def first_sentence(obj: Any, width: int = 100) -> str:
    """The first sentence of ``obj``'s docstring on one line of at most ``width`` characters,
    without reST markup (:func:`~augkit.commands.specs.first_sentence` is shown as its name).

    >>> first_sentence(first_sentence, width=200)
    "The first sentence of obj's docstring on one line of at most width characters, without reST markup (first_sentence is shown as its name)."
    """
    paragraph = (obj.__doc__ or "").strip().split("\n\n")[0]
    paragraph = REST_ROLE.sub(lambda m: m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2), paragraph)
    text = " ".join(paragraph.split()).replace("``", "")
    sentence = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text, maxsplit=1)[0]
    return textwrap.shorten(sentence, width, placeholder=" ...")
