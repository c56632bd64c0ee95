"""Deployable eval preprocessing: torch.export (and ONNX when installed) of EvalPreprocess."""

from __future__ import annotations

import pytest
import torch

from augkit.presets import EvalPreprocess, eval_transform

from .helpers import make_image


def _photos(dtype: str) -> torch.Tensor:
    return make_image("tensor", dtype, 375, 500, batch=2)


@pytest.mark.parametrize("model, atol", [("resnet50", 0.02), ("inception_v3", 0.05)])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_exported_program_matches_eager_and_the_transform(model, atol, dtype):
    """atol: the uint8 transform resamples in fixed point (1 grey level, over std); bicubic's
    uint8 path also rounds between its passes."""
    module = EvalPreprocess.from_preset(model)
    x = _photos(dtype)
    program = torch.export.export(module, (x,))
    eager = module(x)
    assert torch.equal(program.module()(x), eager)
    reference = eval_transform(model)(x)
    assert eager.shape == reference.shape == (2, 3, *(2 * [module.size]))
    assert (eager - reference).abs().max() <= atol
    assert (eager - reference).abs().mean() < 0.005


def test_onnx_export_gives_the_eager_pixels(tmp_path):
    pytest.importorskip("onnxscript")
    runtime = pytest.importorskip("onnxruntime")
    module = EvalPreprocess.from_preset("resnet50").eval()
    x = _photos("float32")
    path = str(tmp_path / "pre.onnx")
    torch.onnx.export(module, (x,), path, dynamo=True)
    session = runtime.InferenceSession(path, providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    assert abs(out - module(x).numpy()).max() < 1e-4


def test_bad_arguments():
    with pytest.raises(ValueError, match="interpolation"):
        EvalPreprocess(224, interpolation="area")
    with pytest.raises(ValueError, match="crop_ratio"):
        EvalPreprocess(224, crop_ratio=0.0)
