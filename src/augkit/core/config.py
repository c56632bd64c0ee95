"""The registry of configurable classes (transforms and mixers) and their JSON-compatible configs.

Format
------
:func:`to_config` writes a versioned envelope around a flat config::

    {"augkit": "0.1", "transform": {"transform": "Compose", "transforms": [
        {"transform": "HorizontalFlip", "p": 0.5}], "p": 1.0}}

* ``"augkit"`` is the ``major.minor`` version of the augkit that wrote the config;
  :func:`from_config` refuses a config whose major version is newer than the running augkit.
* The other key names the kind of object, and holds its flat config: ``"transform"`` for
  transforms, ``"mixer"`` for the mixers of :mod:`augkit.mixing` (and ``MixCollate``).
* A flat config is ``{<kind>: <class name>, <constructor argument>: <value>, ...}``. Objects
  nested in the arguments (the children of a ``Compose``, the mixer of a ``MixCollate``) are
  flat configs too: only the outermost dict carries a version.

:func:`from_config` also reads a bare flat config (the format of earlier releases, e.g.
``{"transform": "HorizontalFlip", "p": 0.5}``; mixers formerly used the key ``"mixing"``).

Names
-----
Classes defined in augkit's own modules are registered under their short class name
(``"Resize"``). Any other subclass (a user's own ``Resize``, say) is registered under its
qualified name ``"module:QualName"``, which :func:`to_config` writes; it never takes a built-in's
short name, so ``{"transform": "Resize"}`` always means augkit's ``Resize``.

Trust
-----
A config is data, so it may only make augkit build its own classes. A config naming anything
else, a class outside augkit or a function (``Lambda``'s ``fn``, written as
``"module:qualname"``), loads only if the caller of :func:`from_config` allows that name with
``allowed_callables``; otherwise :func:`from_config` raises a ``ValueError`` naming it.

Constructors resolve ``"module:qualname"`` strings with :func:`resolve_function`. Called from
code, it imports the name (the code's author wrote it); while :func:`from_config` runs, it
consults the allow-list of that call, which :func:`from_config` keeps in a context variable for
the duration. So the check sits at the single place where names become objects, constructors
keep accepting names, and nothing on the class needs to know which arguments hold callables.

Classes store each constructor argument under an attribute of the same name, so
:func:`to_config` reads the current values.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch

if TYPE_CHECKING:
    from .transform import Transform

__all__ = [
    "Configurable", "child_transforms", "config_version", "from_config", "init_arguments", "qualified_name",
    "register", "registered_classes", "registered_transforms", "resolve_function", "to_config",
]

VERSION_KEY = "augkit"
KEY = "transform"
MIXER_KEY = "mixer"
KEYS = (KEY, MIXER_KEY)
#: keys of earlier releases, read as the key they map to
LEGACY_KEYS = {"mixing": MIXER_KEY}
BUILTIN_PACKAGE = "augkit"

_BUILTINS: dict[str, type] = {}     # short name -> built-in class
_QUALIFIED: dict[str, type] = {}    # "module:QualName" -> any registered class
_KINDS: dict[type, str] = {}        # registered class -> its config key


def qualified_name(obj: Any) -> str:
    """``"module:QualName"`` of a class or function, the form configs use to name it."""
    return f"{obj.__module__}:{obj.__qualname__}"


def _is_builtin(cls: type) -> bool:
    module = cls.__module__
    return module == BUILTIN_PACKAGE or module.startswith(BUILTIN_PACKAGE + ".")


def register(cls: type, key: str | None = None) -> None:
    """Make ``cls`` known to :func:`from_config`, as a ``key`` (``"transform"`` or ``"mixer"``;
    by default ``cls.config_key``, else ``"transform"``).

    Built-in classes (defined in augkit's modules) are registered under their class name, other
    classes under their qualified name only (see the module doc). Two built-ins with one name
    are a bug in augkit and raise ``RuntimeError``.
    """
    key = key or getattr(cls, "config_key", KEY)
    if key not in KEYS:
        raise ValueError(f"config key must be one of {', '.join(map(repr, KEYS))}; got {key!r}")
    if _is_builtin(cls):
        name = cls.__name__
        other = _BUILTINS.get(name)
        if other is not None and qualified_name(other) != qualified_name(cls):
            raise RuntimeError(f"two augkit classes are named {name}: {other.__module__} and {cls.__module__}")
        _BUILTINS[name] = cls
    _QUALIFIED[qualified_name(cls)] = cls
    _KINDS[cls] = key


def registered_classes(key: str | None = None) -> dict[str, type]:
    """All built-in configurable classes by name: transforms and mixers, or those of one config
    ``key`` (``"transform"`` or ``"mixer"``)."""
    return {name: cls for name, cls in sorted(_BUILTINS.items()) if key is None or _KINDS[cls] == key}


def registered_transforms() -> dict[str, type[Transform]]:
    """All public transform classes by name."""
    return registered_classes(KEY)


def _config_name(cls: type) -> str | None:
    """The name configs give ``cls``, or None if it is not registered."""
    if _KINDS.get(cls) is None:
        return None
    return cls.__name__ if _BUILTINS.get(cls.__name__) is cls else qualified_name(cls)


@functools.lru_cache(maxsize=None)
def _init_names(cls: type) -> tuple[str, ...]:
    """The names of the constructor arguments of ``cls`` (read once per class: the batch executor
    asks for a transform's children on every call)."""
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return tuple(p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))


def init_arguments(obj: Any) -> dict[str, Any]:
    """The constructor arguments of ``obj`` with their current values."""
    args = {}
    for name in _init_names(type(obj)):
        if not hasattr(obj, name):
            raise AttributeError(
                f"{type(obj).__name__} must store its constructor argument {name!r} as "
                f"self.{name} for to_config() and repr()"
            )
        args[name] = getattr(obj, name)
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


class Configurable:
    """Mixin for configurable classes other than transforms (which get the same from
    :class:`~augkit.Transform`): subclasses are registered, and ``to_config``, ``==`` and
    ``repr`` follow the constructor arguments.

    Subclasses set ``config_key`` (``"mixer"`` for the mixers) and store every constructor
    argument under an attribute of the same name. Classes whose name starts with ``_``, and base
    classes declared with ``class Base(Configurable, abstract=True)``, are not registered.
    """

    config_key: ClassVar[str] = KEY

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not abstract and not cls.__name__.startswith("_"):
            register(cls)

    def to_config(self) -> dict[str, Any]:
        """A JSON-compatible dict; ``augkit.from_config`` rebuilds an equal object from it."""
        return to_config(self)

    def __repr__(self) -> str:
        signature = inspect.signature(type(self).__init__)
        shown = [f"{name}={value!r}" for name, value in init_arguments(self).items()
                 if signature.parameters[name].default is inspect.Parameter.empty
                 or value != signature.parameters[name].default]
        return f"{type(self).__name__}({', '.join(shown)})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return init_arguments(self) == init_arguments(other)

    __hash__ = object.__hash__


# -- writing -------------------------------------------------------------------------------------

def config_version() -> str:
    """The ``major.minor`` version of the running augkit, as configs record it."""
    try:
        from .. import __version__
    except ImportError:  # while augkit itself is being imported
        from importlib.metadata import version

        __version__ = version(BUILTIN_PACKAGE)
    return ".".join(__version__.split(".")[:2])


def _flat(obj: Any) -> dict[str, Any]:
    cls = type(obj)
    name = _config_name(cls)
    if name is None:
        raise TypeError(f"{cls.__name__} is not a registered transform or mixer and cannot be written to a config")
    config: dict[str, Any] = {_KINDS[cls]: name}
    for arg, value in init_arguments(obj).items():
        config[arg] = _encode(value, f"{cls.__name__}.{arg}")
    return config


def _encode(value: Any, where: str) -> Any:
    from .transform import Transform

    if _config_name(type(value)) is not None or isinstance(value, (Transform, Configurable)):
        return _flat(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_encode(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v, where) for k, v in value.items()}
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    if callable(value) and "<" not in getattr(value, "__qualname__", "<"):
        return qualified_name(value)
    raise TypeError(
        f"{where}: cannot write {value!r} to a config; expected JSON values, dtypes, transforms, "
        f"mixers or importable module-level functions"
    )


def to_config(obj: Any) -> dict[str, Any]:
    """A JSON-compatible dict that :func:`from_config` turns back into an equal transform or mixer:
    the flat config of ``obj`` in an envelope with the augkit version (see the module doc).

    >>> import augkit
    >>> augkit.to_config(augkit.HorizontalFlip(p=0.5))
    {'augkit': '0.1', 'transform': {'transform': 'HorizontalFlip', 'p': 0.5}}
    >>> sorted(augkit.to_config(augkit.mixing.MixUp(alpha=0.2)))
    ['augkit', 'mixer']
    """
    flat = _flat(obj)
    return {VERSION_KEY: config_version(), _KINDS[type(obj)]: flat}


# -- reading -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Allowed:
    """The ``allowed_callables`` of one :func:`from_config` call."""

    objects: dict[str, Any]    # qualified name -> the object given
    names: frozenset[str]      # names given as strings

    def __contains__(self, name: str) -> bool:
        return name in self.objects or name in self.names


_LOADING: contextvars.ContextVar[_Allowed | None] = contextvars.ContextVar("augkit_config_loading", default=None)


def _allowed(allowed_callables: Iterable[Any] | None) -> _Allowed:
    if allowed_callables is None:
        return _Allowed({}, frozenset())
    if isinstance(allowed_callables, (str, bytes)) or not isinstance(allowed_callables, Iterable):
        raise TypeError("allowed_callables must be a list of callables or 'module:qualname' strings; "
                        f"got {allowed_callables!r}")
    objects, names = {}, set()
    for item in allowed_callables:
        if isinstance(item, str):
            if ":" not in item:
                raise ValueError(f"allowed_callables entries are callables or 'module:qualname' strings; got {item!r}")
            names.add(item)
        elif callable(item) and hasattr(item, "__qualname__") and hasattr(item, "__module__"):
            objects[qualified_name(item)] = item
        else:
            raise TypeError(f"allowed_callables entries are callables or 'module:qualname' strings; got {item!r}")
    return _Allowed(objects, frozenset(names))


def _refuse(what: str, name: str, where: str) -> ValueError:
    return ValueError(
        f"{where} names the {what} {name!r}; a config may name only augkit's own transforms and "
        f"mixers unless its reader allows more: from_config(config, allowed_callables=[{name!r}]) "
        f"(or pass the object itself)"
    )


def _import(name: str) -> Any:
    module, _, qualname = name.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot import {name!r}: {error}") from error
    return obj


def _lookup(allowed: _Allowed, name: str, where: str) -> Any:
    """The object named ``"module:qualname"`` by a config, if ``allowed`` lets it load."""
    if name not in allowed:
        raise _refuse("callable", name, where)
    if name in allowed.objects:
        return allowed.objects[name]
    return _import(name)


def resolve_function(value: Any, name: str) -> Any:
    """A callable, or one named ``"module:qualname"``, imported.

    Inside :func:`from_config` a name resolves only if that call's ``allowed_callables`` allows
    it; from code it is imported directly.
    """
    if callable(value):
        return value
    if isinstance(value, str) and ":" in value:
        allowed = _LOADING.get()
        if allowed is None:
            return _import(value)
        return _lookup(allowed, value, f"config argument {name}")
    raise TypeError(f"{name} must be a callable or a 'module:function' string; got {value!r}")


def _kind_key(config: dict[str, Any]) -> str | None:
    """The key of ``config`` that names its class, if it is a flat config."""
    for key in (*KEYS, *LEGACY_KEYS):
        if isinstance(config.get(key), str):
            return key
    return None


def _class(key: str, name: str, allowed: _Allowed) -> type:
    kind = LEGACY_KEYS.get(key, key)
    if ":" in name:
        cls = _QUALIFIED.get(name)
        if cls is None or _BUILTINS.get(cls.__name__) is not cls:  # not a built-in by its full name
            if name not in allowed:
                raise _refuse(f"{kind} class", name, "config")
            cls = allowed.objects.get(name) or cls or _import(name)
    else:
        cls = _BUILTINS.get(name)
        if cls is None:
            known = ", ".join(registered_classes(kind))
            hint = [q for q, c in _QUALIFIED.items() if c.__name__ == name and _KINDS[c] == kind]
            also = f"; a class outside augkit is named {hint[0]!r}: write that name" if hint else ""
            raise ValueError(f"config names an unknown {kind} {name!r}{also}; known: {known}")
    actual = _KINDS.get(cls) if isinstance(cls, type) else None
    if actual != kind:
        what = f"a {actual}" if actual else "not a registered transform or mixer"
        raise ValueError(f"config names {name!r} as a {kind}, but it is {what}")
    return cls


def _build(config: dict[str, Any], key: str, allowed: _Allowed) -> Any:
    name = config[key]
    cls = _class(key, name, allowed)
    kwargs = {k: _decode(v, allowed) for k, v in config.items() if k != key}
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise ValueError(f"config for {name} has bad arguments: {error}") from error


def _unwrap(config: dict[str, Any]) -> dict[str, Any]:
    """The flat config inside a versioned envelope, after checking its version."""
    written = config[VERSION_KEY]
    try:
        major = int(str(written).split(".")[0])
    except ValueError:
        raise ValueError(f"config has a bad {VERSION_KEY!r} version {written!r}; expected 'major.minor'") from None
    running = config_version()
    if major > int(running.split(".")[0]):
        raise ValueError(f"config was written by augkit {written}, a newer major version than this "
                         f"augkit ({running}); upgrade augkit to load it")
    inner = [config[k] for k in KEYS if isinstance(config.get(k), dict)]
    if len(inner) != 1:
        raise ValueError(f"config with an {VERSION_KEY!r} version must hold one of the keys "
                         f"{', '.join(map(repr, KEYS))} with a flat config; got keys {sorted(config)}")
    return inner[0]


def _decode(value: Any, allowed: _Allowed) -> Any:
    if isinstance(value, dict):
        if VERSION_KEY in value:
            value = _unwrap(value)
        key = _kind_key(value)
        if key is not None:
            return _build(value, key, allowed)
        return {k: _decode(v, allowed) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, allowed) for v in value]
    return value


def from_config(config: dict[str, Any], *, allowed_callables: Iterable[Any] | None = None) -> Any:
    """Rebuild a transform or mixer from :func:`to_config` output (or the same dict read from JSON,
    or a flat config of an earlier release).

    ``allowed_callables`` lists what the config may name beyond augkit's own classes: functions
    (``Lambda(fn=...)``) and classes defined outside augkit, each as the object itself or as its
    ``"module:qualname"`` string (an object allows the name :func:`qualified_name` gives it,
    the name configs are written with; a re-exported function such as ``operator.neg``, whose
    ``__module__`` is ``_operator``, is allowed under another name by its string). Without it
    such a config raises ``ValueError``.

    >>> import augkit
    >>> augkit.from_config({"augkit": "0.1", "transform": {"transform": "VerticalFlip", "p": 0.25}})
    VerticalFlip(p=0.25)
    >>> augkit.from_config({"transform": "Lambda", "fn": "operator:neg"}, allowed_callables=["operator:neg"])
    Lambda(fn=<built-in function neg>)
    """
    if not isinstance(config, dict) or (VERSION_KEY not in config and _kind_key(config) is None):
        raise ValueError(f"config must be a dict with a {KEY!r} (or {MIXER_KEY!r}) key, as written by "
                         f"to_config(); got {config!r}")
    allowed = _allowed(allowed_callables)
    token = _LOADING.set(allowed)
    try:
        flat = _unwrap(config) if VERSION_KEY in config else config
        key = _kind_key(flat)
        if key is None:
            raise ValueError(f"config must name its class under {KEY!r} or {MIXER_KEY!r}; got {flat!r}")
        return _build(flat, key, allowed)
    finally:
        _LOADING.reset(token)
