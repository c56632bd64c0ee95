"""The kernel table: every op has a row for each kind it documents, and every kind and backend of
an op gives the same pixels for the same arguments (within one level: 1 on uint8, 1/255 of
white on uint16 and float), single images and batches alike.

``OP_CASES`` holds the arguments each op is called with; a new op needs an entry here (a test
fails otherwise). ``LEVELS`` lowers the tolerance where backends compute the same formula.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import augkit.functional as F
from augkit.core import kernels

from .helpers import as_numpy, make_image

_M = torch.tensor([[0.9, -0.2, 3.0], [0.25, 1.05, -2.0]])
_START = [[0, 0], [31, 0], [31, 23], [0, 23]]
_END = [[2, 1], [29, 3], [30, 21], [1, 22]]

# op -> (args, kwargs, dtypes, channels)
OP_CASES: dict[str, tuple[tuple, dict, tuple[str, ...], tuple[int, ...]]] = {
    "add_noise": ((), {}, ("uint8", "uint16", "float32"), (1, 3)),  # noise added in _args
    "adjust_brightness": ((1.3,), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "adjust_contrast": ((0.6,), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "adjust_hue": ((0.12,), {}, ("uint8", "uint16", "float32"), (3,)),
    "adjust_saturation": ((1.4,), {}, ("uint8", "uint16", "float32"), (3,)),
    "adjust_sharpness": ((1.8,), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "affine": ((_M,), {"interpolation": "bilinear"}, ("uint8", "uint16", "float32"), (1, 3)),
    "autocontrast": ((), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "bilateral_filter": ((5, 0.2, 3.0), {}, ("uint8", "float32"), (1, 3)),
    "center_crop": (((20, 26),), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "clahe": ((2.0, (4, 4)), {"colour": "lab"}, ("uint8", "uint16", "float32"), (1, 3)),
    "color_jitter": ((1.2, 0.8, 1.3, 0.1), {"order": [3, 1, 0, 2]}, ("uint8", "float32"), (3,)),
    "crop": ((2, 3, 15, 20), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "equalize": ((), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "erase": ((2, 3, 6, 9, 0.5), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "gaussian_blur": ((5, 1.2), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "gray_to_rgb": ((), {}, ("uint8", "uint16", "float32"), (1,)),
    "hflip": ((), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "hsv_to_rgb": ((), {}, ("float32",), (3,)),
    "invert": ((), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "jpeg_compression": ((60,), {}, ("uint8",), (1, 3)),
    "lab_to_rgb": ((), {}, ("float32",), (3,)),
    "median_blur": ((5,), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "non_local_means": ((0.05,), {}, ("uint8",), (1, 3)),
    "normalize": (((0.4,), (0.3,)), {}, ("uint8", "float32"), (1,)),
    "pad": (((1, 2, 3, 4),), {"fill": 0.5}, ("uint8", "uint16", "float32"), (1, 3)),
    "permute_channels": (([2, 0, 1],), {}, ("uint8", "uint16", "float32"), (3,)),
    "perspective": ((_START, _END), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "posterize": ((3,), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "resize": (((15, 21),), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "resized_crop": ((2, 3, 16, 20, (12, 14)), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "rgb_to_gray": ((), {}, ("uint8", "uint16", "float32"), (3,)),
    "rgb_to_hsv": ((), {}, ("float32",), (3,)),
    "rgb_to_lab": ((), {}, ("float32",), (3,)),
    "rotate": ((17.0,), {"interpolation": "bilinear"}, ("uint8", "uint16", "float32"), (1, 3)),
    "solarize": ((0.6,), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "threshold": (("otsu",), {}, ("uint8", "float32"), (1,)),
    "to_dtype": (("float32",), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "unsharp_mask": ((5, 1.0, 1.5), {}, ("uint8", "uint16", "float32"), (1, 3)),
    "vflip": ((), {}, ("uint8", "uint16", "float32"), (1, 3)),
}

def _level(dtype: str) -> float:
    return {"uint8": 1.0, "uint16": 257.0}.get(dtype, 1 / 255)


def _args(name: str, x):
    args, kwargs, _, _ = OP_CASES[name]
    if name == "add_noise":  # the same noise per pixel, in the layout of x
        chw = tuple(x.shape[-3:]) if isinstance(x, torch.Tensor) else (x.shape[2], *x.shape[:2])
        noise = torch.linspace(-0.2, 0.2, int(np.prod(chw))).reshape(chw)
        return (noise if isinstance(x, torch.Tensor) else noise.permute(1, 2, 0).numpy(),), kwargs
    return args, kwargs


def _inputs(name: str):
    _, _, dtypes, channels = OP_CASES[name]
    for dtype in dtypes:
        for c in channels:
            yield dtype, c


def test_every_documented_kind_has_a_kernel():
    table = {(row.op, row.kind) for row in kernels.rows() if row.backends}
    for name, kinds in kernels.ops().items():
        for kind in kinds:
            row_kind = "numpy" if kind == "pil" else kind
            assert (name, row_kind) in table, f"{name} documents {kind} inputs but has no {row_kind} kernel"


def test_every_op_has_a_case_here():
    assert set(kernels.ops()) <= set(OP_CASES), sorted(set(kernels.ops()) - set(OP_CASES))


def test_no_kernel_tests_its_backend_itself():
    import pathlib

    import augkit

    root = pathlib.Path(augkit.__file__).parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if "uses_c_kernel" in p.read_text() or "opencv_twin" in p.read_text()]
    assert not offenders, f"backend tests outside the kernel table: {offenders}"


def _row(name: str, kind: str) -> kernels.Row:
    return next(r for r in kernels.rows() if r.op == name and r.kind == kind)


@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_kinds_and_backends_agree_within_one_level(name):
    for dtype, channels in _inputs(name):
        tensor = make_image("tensor", dtype, channels=channels)
        array = make_image("numpy", dtype, channels=channels)
        args, kwargs = _args(name, tensor)
        reference = _row(name, "tensor").backends[-1].fn(tensor, *args, **kwargs)
        atol = _level(dtype)
        results = {f"tensor/{b.name}": b.fn(tensor, *args, **kwargs)
                   for b in _row(name, "tensor").backends if b.takes(tensor, args, kwargs)}
        args_n, kwargs_n = _args(name, array)
        results |= {f"numpy/{b.name}": b.fn(array, *args_n, **kwargs_n)
                    for b in _row(name, "numpy").backends if b.takes(array, args_n, kwargs_n)}
        results["public/numpy"] = getattr(F, name)(array, *args_n, **kwargs_n)
        for label, out in results.items():
            a, e = as_numpy(out), as_numpy(reference)
            assert a.shape == e.shape, f"{name} {label} ({dtype}, C={channels}): shape {a.shape} != {e.shape}"
            diff = float(np.abs(a - e).max()) if a.size else 0.0
            assert diff <= atol, f"{name} {label} ({dtype}, C={channels}): {diff} > one level ({atol})"


def test_a_backend_can_take_only_some_values_of_an_argument():
    row = _row("affine", "tensor")
    x = make_image("tensor", "uint8")
    assert row.select(x, (_M,), {"interpolation": "bilinear"}).name == "opencv"
    assert row.select(x, (_M, "bilinear")).name == "opencv"
    assert row.select(x, (_M,)).name == "opencv"  # the default, bilinear
    assert row.select(x, (_M, "nearest")).name == ("c" if "c" in [b.name for b in row.backends] else "torch")
    assert row.select(x.float() / 255, (_M, "nearest")).name == "torch"
    assert row.select(x.float() / 255, (_M,)).name == "torch"
    assert any("interpolation bilinear/bicubic" in line[2] for line in kernels.describe() if line[0] == "affine")


@pytest.mark.parametrize("fill", [0.0, 0.3])
def test_nearest_warps_of_uint8_tensors_pick_the_pixels_grid_sample_picks(fill):
    """The C backend against the torch kernel, bit for bit: odd sizes, per-image matrices,
    and positions exactly half-way between pixels (rounded half to even by both)."""
    row = _row("affine", "tensor")
    torch_fn = row.backends[-1].fn
    remap = next((b.fn for b in row.backends if b.name == "c"), None)
    if remap is None:
        pytest.skip("augkit._native is not built")
    g = torch.Generator().manual_seed(3)
    x = torch.randint(0, 256, (2, 3, 37, 50), dtype=torch.uint8, generator=g)
    matrices = [torch.tensor([[0.5, 0.0, 0.25], [0.0, 0.5, 0.25]]).expand(2, 2, 3),  # half-way positions
                torch.tensor([[[1.0, 0.3, -4.0], [0.0, 1.0, 2.0]], [[0.8, -0.6, 20.0], [0.6, 0.8, -9.0]]]),
                torch.tensor([[2.0, 0.0, 0.5], [0.0, 2.0, 0.5]])]
    for matrix in matrices:
        assert torch.equal(remap(x, matrix, "nearest", fill), torch_fn(x, matrix, "nearest", fill))
    assert torch.equal(remap(x[0, :1], matrices[1][0], "nearest", fill, (20, 64)),
                       torch_fn(x[0, :1], matrices[1][0], "nearest", fill, (20, 64)))


@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_a_batch_gives_what_its_images_give_alone(name):
    if "tensor" not in kernels.ops()[name]:
        pytest.skip("no tensor kind")
    for dtype, channels in _inputs(name):
        batch = make_image("tensor", dtype, channels=channels, batch=3)
        args, kwargs = _args(name, batch)
        out = getattr(F, name)(batch, *args, **kwargs)
        for i in range(len(batch)):
            args_i, kwargs_i = _args(name, batch[i])
            single = getattr(F, name)(batch[i], *args_i, **kwargs_i)
            diff = float((out[i].double() - single.double()).abs().max())
            assert diff <= _level(dtype), f"{name} image {i} ({dtype}, C={channels}): {diff}"
