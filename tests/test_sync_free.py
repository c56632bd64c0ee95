"""The apply paths never move parameters to the host.

``.cpu()``, ``.item()`` and ``.tolist()`` on a parameter tensor, and ``int(...)``, ``float(...)``
or ``bool(...)`` of an expression on ``params``, wait for the device: a transform applied to a GPU
batch must not call them. This scans, with ``ast``, every ``apply`` / ``_apply*`` method and every
function of the transform modules, of the base class and of the geometry and warp kernels. ``_apply_numpy`` methods
are not scanned: NumPy images have their params on the CPU, where reading them is no sync.
Calls that remain on purpose are listed in ``ALLOWED`` with the reason; an entry that no longer
matches a call fails too, so the list shrinks with the code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import augkit

ROOT = Path(augkit.__file__).parent
FILES = (sorted((ROOT / "transforms").glob("*.py")) + [ROOT / "core" / "transform.py"]
         + [ROOT / "targets" / f"{name}.py" for name in ("boxes", "keypoints", "mask", "packing", "sample")]
         + [ROOT / "functional" / name for name in ("geometry.py", "warp.py", "points.py")])
HOST_CALLS = {"cpu", "item", "tolist"}
HOST_CASTS = {"int", "float", "bool"}

_ONE_CPU_IMAGE = "one CPU image (the branch tests the device): its coin or crop box read as numbers, no sync"

# (file relative to the package, qualified function name, method or cast called): why it stays
ALLOWED: dict[tuple[str, str, str], str] = {
    ("core/transform.py", "Transform._apply_checked", "item"): _ONE_CPU_IMAGE,
    ("core/transform.py", "Transform._apply_masked", "item"): _ONE_CPU_IMAGE,
    ("transforms/geometry.py", "RandomCrop._apply_tensor", "int"): _ONE_CPU_IMAGE,
    ("targets/sample.py", "move_targets", "item"): _ONE_CPU_IMAGE,
    ("targets/sample.py", "_give_back", "tolist"): "targets given as one list per image go back as lists: "
                                                   "splitting packed rows reads the counts (documented)",
    ("transforms/geometry.py", "RandomResizedCrop._apply_tensor", "int"): _ONE_CPU_IMAGE,
    ("transforms/policy_ops.py", "_apply_one", "tolist"): _ONE_CPU_IMAGE,
}


def _scanned(tree: ast.Module):
    """``(qualified name, function node)`` of the module's functions and apply methods."""
    def visit(body, prefix: str, in_class: bool):
        for node in body:
            if isinstance(node, ast.ClassDef):
                yield from visit(node.body, f"{prefix}{node.name}.", True)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.name == "_apply_numpy":
                    continue
                if not in_class or node.name == "apply" or node.name.startswith("_apply"):
                    yield prefix + node.name, node
    yield from visit(tree.body, "", False)


def _reads_params(call: ast.Call) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "params" for arg in call.args for n in ast.walk(arg))


def _host_calls():
    """``(file, qualified name, method, line)`` of every host call in the scanned functions."""
    found = []
    for path in FILES:
        rel = path.relative_to(ROOT).as_posix()
        for name, function in _scanned(ast.parse(path.read_text(), str(path))):
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                if isinstance(node.func, ast.Attribute) and node.func.attr in HOST_CALLS:
                    found.append((rel, name, node.func.attr, node.lineno))
                elif isinstance(node.func, ast.Name) and node.func.id in HOST_CASTS and _reads_params(node):
                    found.append((rel, name, node.func.id, node.lineno))
    return found


def test_the_scan_sees_the_apply_methods():
    names = {name for path in FILES for name, _ in _scanned(ast.parse(path.read_text()))}
    assert {"RandomPerspective._apply_tensor", "_Warp._apply_tensor", "perspective_tensor",
            "_homography"} <= names


def test_apply_paths_make_no_host_calls_on_parameters():
    found = _host_calls()
    offenders = [f"src/augkit/{rel}:{line}: .{attr}() in {name}"
                 for rel, name, attr, line in found if (rel, name, attr) not in ALLOWED]
    assert not offenders, "host syncs on apply paths:\n" + "\n".join(offenders)
    stale = set(ALLOWED) - {(rel, name, attr) for rel, name, attr, _ in found}
    assert not stale, f"ALLOWED entries that match no call any more: {sorted(stale)}"
