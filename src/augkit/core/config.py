"""Transform registry and JSON-compatible configs.

A config is a dict ``{"transform": "<class name>", <constructor argument>: <value>, ...}``;
nested transforms (``Compose([...])``) nest as configs. Transforms store each constructor
argument under an attribute of the same name, so ``to_config`` reads the current values.
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from .transform import Transform

__all__ = ["register", "registered_transforms", "to_config", "from_config", "init_arguments",
           "child_transforms"]

_REGISTRY: dict[str, type[Transform]] = {}
KEY = "transform"


def register(cls: type[Transform]) -> None:
    """Make ``cls`` known to :func:`from_config` under its class name."""
    name = cls.__name__
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        other = _REGISTRY[name]
        raise RuntimeError(f"two transforms are named {name}: {other.__module__} and {cls.__module__}")
    _REGISTRY[name] = cls


def registered_transforms() -> dict[str, type[Transform]]:
    """All public transform classes by name."""
    return dict(sorted(_REGISTRY.items()))


def init_arguments(transform: Transform) -> dict[str, Any]:
    """The constructor arguments of ``transform`` with their current values."""
    signature = inspect.signature(type(transform).__init__)
    args = {}
    for name, param in list(signature.parameters.items())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if not hasattr(transform, name):
            raise AttributeError(
                f"{type(transform).__name__} must store its constructor argument {name!r} as "
                f"self.{name} for to_config() and repr()"
            )
        args[name] = getattr(transform, name)
    return args


def child_transforms(transform: Transform) -> list[tuple[str, Transform]]:
    """The transforms among the constructor arguments of ``transform`` (alone or in lists), named
    like ``"transforms[0]"``; for containers these are the children, in order."""
    from .transform import Transform

    children = []
    for name, value in init_arguments(transform).items():
        if isinstance(value, Transform):
            children.append((name, value))
        elif isinstance(value, (list, tuple)):
            children += [(f"{name}[{i}]", v) for i, v in enumerate(value) if isinstance(v, Transform)]
    return children


def _encode(value: Any, where: str) -> Any:
    from .transform import Transform

    if isinstance(value, Transform):
        return to_config(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_encode(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v, where) for k, v in value.items()}
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    if callable(value) and "<" not in getattr(value, "__qualname__", "<"):
        return f"{value.__module__}:{value.__qualname__}"
    raise TypeError(
        f"{where}: cannot write {value!r} to a config; expected JSON values, dtypes, transforms or "
        f"importable module-level functions"
    )


def to_config(transform: Transform) -> dict[str, Any]:
    """A JSON-compatible dict that :func:`from_config` turns back into an equal transform.

    >>> import augkit
    >>> augkit.to_config(augkit.HorizontalFlip(p=0.5))
    {'transform': 'HorizontalFlip', 'p': 0.5}
    """
    name = type(transform).__name__
    if _REGISTRY.get(name) is not type(transform):
        raise TypeError(f"{name} is not a registered transform and cannot be written to a config")
    config: dict[str, Any] = {KEY: name}
    for arg, value in init_arguments(transform).items():
        config[arg] = _encode(value, f"{name}.{arg}")
    return config


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and KEY in value:
        return from_config(value)
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def from_config(config: dict[str, Any]) -> Transform:
    """Rebuild a transform from :func:`to_config` output (or the same dict read from JSON).

    >>> import augkit
    >>> augkit.from_config({"transform": "VerticalFlip", "p": 0.25})
    VerticalFlip(p=0.25)
    """
    if not isinstance(config, dict) or KEY not in config:
        raise ValueError(f"config must be a dict with a {KEY!r} key; got {config!r}")
    name = config[KEY]
    cls = _REGISTRY.get(name)
    if cls is None:
        raise ValueError(f"config names an unknown transform {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    kwargs = {k: _decode(v) for k, v in config.items() if k != KEY}
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise ValueError(f"config for {name} has bad arguments: {error}") from error


def resolve_function(value: Any, name: str) -> Any:
    """A callable, or one named ``"module:qualname"`` in a config, imported."""
    if callable(value):
        return value
    if isinstance(value, str) and ":" in value:
        module, _, qualname = value.partition(":")
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        return obj
    raise TypeError(f"{name} must be a callable or a 'module:function' string; got {value!r}")
