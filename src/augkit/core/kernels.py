"""The kernel table: every functional op, per input kind, with the backends that compute it.

A row of the table is an ``(op, kind)`` pair, where a kind is an image kind (``"tensor"`` for
CHW/BCHW tensors on any device, ``"numpy"`` for HW/HWC arrays; PIL images are read as arrays at
the door) or a target kind. A row holds one or more backends (the torch code, OpenCV, the C
extension), each registered with the condition it accepts (device, dtype, layout, size, and the
values of an argument, such as the interpolations it implements). The backend is chosen once per
call, here, by the first condition the call meets, the unconditional backend coming last;
kernels never test ``x.is_cuda`` themselves.

Every backend of a row computes the same numerics: the same pixels within one level (1 on
uint8, 1/255 of white on uint16 and float), bit-equal where they compute the same formula
(``tests/test_kernels.py`` compares them). A backend that cannot is not registered.

Kernels are registered with decorators; the first one, :func:`tensor_kernel` or
:func:`numpy_kernel`, returns the function that dispatches over the row's backends, named and
documented like the decorated one:

    @tensor_kernel("hflip")
    def hflip_tensor(x, flip=True): ...          # the torch code, for every tensor

    @backend("hflip", "tensor", "c", when(device="cpu", dtypes=(torch.uint8,)))
    def _hflip_c(x, flip=True): ...              # tried first, on the inputs it accepts

and :func:`op` joins the rows of an op into the public function that takes any input kind.
``augkit list --kernels`` prints the table.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import torch

from .image import ImageLike, Kind, array_to_pil, inspect_image, pil_to_array

__all__ = [
    "Backend", "Condition", "Row", "backend", "describe", "numpy_kernel", "op", "ops", "rows", "run_numpy",
    "run_numpy_per_image", "target_kernel", "tensor_kernel", "when",
]

TENSOR, NUMPY = "tensor", "numpy"
IMAGE_KINDS = (TENSOR, NUMPY, "pil")


class Condition:
    """A test of an input that a backend accepts, with the words that describe it, and the
    values of the kernel's arguments it takes (``options``: argument name -> accepted values)."""

    __slots__ = ("test", "text", "options")

    def __init__(self, test: Callable[[Any], bool], text: str,
                 options: dict[str, tuple[Any, ...]] | None = None) -> None:
        self.test = test
        self.text = text
        self.options = options or {}

    def __call__(self, x: Any) -> bool:
        return self.test(x)

    def __and__(self, other: Condition) -> Condition:
        return Condition(lambda x: self.test(x) and other.test(x), f"{self.text}, {other.text}",
                         {**self.options, **other.options})

    def __repr__(self) -> str:
        return self.text


def _dtype_name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


def when(*, device: str | None = None, dtypes: Sequence[Any] | None = None,
         channels: Sequence[int] | None = None, contiguous: bool = False, plain: bool = False,
         test: Callable[[Any], bool] | None = None, text: str = "",
         options: dict[str, Sequence[Any]] | None = None) -> Condition:
    """A :class:`Condition` on a tensor or array: its device type, dtypes, number of channels,
    C-contiguity; ``plain`` excludes tensors that need autograd or are traced by
    ``torch.compile`` (C and OpenCV backends see raw memory); ``test`` adds any other check,
    described by ``text``; ``options`` limits arguments of the call to the values listed
    (``{"interpolation": ("bilinear",)}``)."""
    checks: list[Callable[[Any], bool]] = []
    words: list[str] = []
    if device is not None:
        checks.append(lambda x: x.device.type == device)
        words.append(device)
    if dtypes is not None:
        allowed = tuple(dtypes)
        checks.append(lambda x: x.dtype in allowed)
        words.append("/".join(_dtype_name(d) for d in allowed))
    if channels is not None:
        counts = tuple(channels)
        checks.append(lambda x: _channels(x) in counts)
        words.append("/".join(map(str, counts)) + " channels")
    if contiguous:
        checks.append(lambda x: x.is_contiguous() if isinstance(x, torch.Tensor) else x.flags.c_contiguous)
        words.append("contiguous")
    if plain:
        checks.append(lambda x: not (x.requires_grad and torch.is_grad_enabled())
                      and not torch.compiler.is_compiling())
        words.append("no autograd, not compiled")
    if test is not None:
        checks.append(test)
        words.append(text or getattr(test, "__name__", "custom test"))

    options = {name: tuple(values) for name, values in (options or {}).items()}
    words += [f"{name} {'/'.join(map(str, values))}" for name, values in options.items()]

    def accepts(x: Any) -> bool:
        return all(check(x) for check in checks)

    return Condition(accepts, ", ".join(words) or "any", options)


@functools.lru_cache(maxsize=None)
def _parameter(fn: Callable[..., Any], name: str) -> tuple[int, Any]:
    """Where argument ``name`` of ``fn`` comes in its positional arguments after the image, and its default."""
    parameters = list(inspect.signature(fn).parameters.values())
    index = [p.name for p in parameters].index(name)
    return index - 1, parameters[index].default


def _argument(fn: Callable[..., Any], name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
    if name in kwargs:
        return kwargs[name]
    position, default = _parameter(fn, name)
    return args[position] if position < len(args) else default


def _channels(x: Any) -> int:
    if isinstance(x, torch.Tensor):
        return x.shape[-3]
    return 1 if x.ndim == 2 else x.shape[2]


@dataclass(frozen=True)
class Backend:
    """One implementation of a row: ``fn`` computes the op on the inputs ``accepts`` lets in."""

    name: str
    fn: Callable[..., Any]
    accepts: Condition | None = None

    def takes(self, x: Any, args: tuple = (), kwargs: dict[str, Any] | None = None) -> bool:
        """Whether this backend computes the op on ``x`` with these arguments."""
        accepts = self.accepts
        if accepts is None:
            return True
        if not accepts(x):
            return False
        return all(_argument(self.fn, name, args, kwargs or {}) in values for name, values in accepts.options.items())


@dataclass
class Row:
    """The backends of one ``(op, kind)``, tried in order; the unconditional one comes last."""

    op: str
    kind: str
    backends: list[Backend] = field(default_factory=list)

    def add(self, new: Backend) -> None:
        if any(b.name == new.name for b in self.backends):
            raise ValueError(f"kernel {self.op!r} for {self.kind} already has a {new.name!r} backend")
        if new.accepts is None and any(b.accepts is None for b in self.backends):
            raise ValueError(f"kernel {self.op!r} for {self.kind} has two backends for every input")
        self.backends.append(new)
        self.backends.sort(key=lambda b: b.accepts is None)  # stable: conditional ones first, in order

    def select(self, x: Any, args: tuple = (), kwargs: dict[str, Any] | None = None) -> Backend:
        """The backend that computes the op on ``x`` with these arguments."""
        for candidate in self.backends:
            if candidate.takes(x, args, kwargs):
                return candidate
        accepted = "; ".join(f"{b.name}: {b.accepts}" for b in self.backends)
        about = f"{x.dtype} on {x.device}" if isinstance(x, torch.Tensor) else f"{x.dtype}"
        raise TypeError(f"no backend of {self.op} takes this {self.kind} input, {about} ({accepted})")


_TABLE: dict[tuple[str, str], Row] = {}
_OPS: dict[str, tuple[str, ...]] = {}  # public op -> the kinds its docs promise


def _row(op_name: str, kind: str) -> Row:
    return _TABLE.setdefault((op_name, kind), Row(op_name, kind))


def backend(op_name: str, kind: str, name: str, accepts: Condition | None = None):
    """Register the decorated function as the ``name`` backend of ``(op_name, kind)``, for the
    inputs ``accepts`` lets in (every input of the kind if ``None``)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _row(op_name, kind).add(Backend(name, fn, accepts))
        return fn

    return register


def _dispatching(op_name: str, kind: str, name: str, accepts: Condition | None):
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        row = _row(op_name, kind)
        row.add(Backend(name, fn, accepts))
        backends = row.backends

        @functools.wraps(fn)
        def kernel(x: Any, *args: Any, **kwargs: Any) -> Any:
            if len(backends) == 1 and backends[0].accepts is None:
                return fn(x, *args, **kwargs)
            return row.select(x, args, kwargs).fn(x, *args, **kwargs)

        kernel.row = row  # type: ignore[attr-defined]
        return kernel

    return register


def tensor_kernel(op_name: str, name: str = "torch", accepts: Condition | None = None):
    """Register the decorated function as a tensor backend of ``op_name`` and return the
    function that dispatches over all the tensor backends of the op."""
    return _dispatching(op_name, TENSOR, name, accepts)


def target_kernel(op_name: str, kind: str, name: str = "torch", accepts: Condition | None = None):
    """Register the decorated function as a backend of ``op_name`` for the target kind ``kind``
    (``"boxes"``, ``"keypoints"``) and return the function that dispatches over its backends."""
    return _dispatching(op_name, kind, name, accepts)


def numpy_kernel(op_name: str, name: str = "opencv", accepts: Condition | None = None):
    """Register the decorated function as an array backend of ``op_name`` and return the
    function that dispatches over all the array backends of the op. An HWC input with one
    channel stays HWC (OpenCV drops the axis)."""

    def register(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        @functools.wraps(fn)
        def keeps_layout(x: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
            out = fn(x, *args, **kwargs)
            return out[:, :, None] if x.ndim == 3 and out.ndim == 2 else out

        return _dispatching(op_name, NUMPY, name, accepts)(keeps_layout)

    return register


def run_numpy_per_image(x: torch.Tensor, kernel: Callable[..., np.ndarray],
                        *per_image: Sequence[Any]) -> torch.Tensor:
    """Run the array ``kernel(image, *args)`` on each image of a CPU tensor ``(..., C, H, W)``,
    with the i-th entry of each sequence of ``per_image`` arguments; the results (HW/HWC arrays
    of one shape) come back as a tensor ``(..., C', H', W')``.

    This is the one layout change of an OpenCV backend of a tensor row: the kernel gets HWC
    images (HW for one channel), interleaved and split by OpenCV, several times faster than a
    strided copy of torch or NumPy.
    """
    images = x.reshape(-1, *x.shape[-3:]).numpy()
    out = None
    for i, (image, *args) in enumerate(zip(images, *per_image)):
        result = kernel(image[0] if len(image) == 1 else cv2.merge(list(image)), *args)
        if out is None:
            out = np.empty((len(images), 1 if result.ndim == 2 else result.shape[2], *result.shape[:2]),
                           result.dtype)
        if result.ndim == 2 or result.shape[2] == 1:
            out[i, 0] = result.reshape(result.shape[:2])
        else:
            cv2.split(result, list(out[i]))
    return torch.from_numpy(out).reshape(*x.shape[:-3], *out.shape[1:])


def run_numpy(kernel: Callable[..., np.ndarray], image: ImageLike, kind: Kind, *args: Any,
              **kwargs: Any) -> ImageLike:
    """Run an array kernel on a NumPy or PIL image and give back the same kind."""
    if kind is Kind.PIL:
        return array_to_pil(kernel(pil_to_array(image), *args, **kwargs))
    return kernel(image, *args, **kwargs)


def op(op_name: str, kinds: Sequence[str] = IMAGE_KINDS) -> Callable[..., Any]:
    """The public function of ``op_name``: it takes any of ``kinds`` and runs the row of the
    input's kind (PIL images through the array row); named and documented like the tensor
    kernel."""
    _OPS[op_name] = tuple(kinds)
    tensor_row, numpy_row = _row(op_name, TENSOR), _row(op_name, NUMPY)

    def call(image: ImageLike, *args: Any, **kwargs: Any) -> ImageLike:
        kind = inspect_image(image).kind
        if kind is Kind.TENSOR:
            return tensor_row.select(image, args, kwargs).fn(image, *args, **kwargs)
        return run_numpy(lambda a, *r, **k: numpy_row.select(a, r, k).fn(a, *r, **k), image, kind, *args, **kwargs)

    first = tensor_row.backends[-1].fn if tensor_row.backends else None
    if first is not None:
        functools.update_wrapper(call, first)
        del call.__wrapped__  # type: ignore[attr-defined]
    call.__name__ = call.__qualname__ = op_name
    return call


def rows() -> list[Row]:
    """Every row of the table, sorted by op and kind."""
    return [_TABLE[key] for key in sorted(_TABLE)]


def ops() -> dict[str, tuple[str, ...]]:
    """Every public op with the kinds its docs promise."""
    return dict(sorted(_OPS.items()))


def describe() -> list[tuple[str, str, str]]:
    """The table as ``(op, kind, backends)`` lines, backends in the order they are tried, each
    with the inputs it takes; PIL images run the array row.

    >>> ("hflip", "tensor", "torch") in describe()
    True
    """
    lines = []
    for row in rows():
        backends = "; ".join(b.name if b.accepts is None else f"{b.name} ({b.accepts})" for b in row.backends)
        lines.append((row.op, row.kind, backends))
        if row.kind == NUMPY and "pil" in _OPS.get(row.op, ()):
            lines.append((row.op, "pil", "as numpy"))
    return lines
