"""The medical preset end to end on 16-bit scans: no silent truncation to 8 bits."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

import augkit
from augkit.io import read_image


def _scan(height: int = 600, width: int = 500) -> np.ndarray:
    """An X-ray-like 16-bit image: a soft body outline, ribs, low contrast and detector noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    body = np.exp(-(((x - width / 2) / (width / 3)) ** 2 + ((y - height / 2) / (height / 2.2)) ** 4))
    ribs = 0.08 * (np.sin(y / 9.0) > 0.6) * body
    noise = np.random.default_rng(0).normal(0, 0.01, (height, width))
    image = 18000 + 9000 * body + 9000 * ribs + 9000 * noise
    image[np.random.default_rng(1).random((height, width)) < 0.001] = 65535  # dead pixels
    return np.clip(image, 0, 65535).astype(np.uint16)


@pytest.fixture
def scan_file(tmp_path):
    path = tmp_path / "chest.png"
    cv2.imwrite(str(path), _scan())
    return path


def test_sixteen_bit_scan_stays_sixteen_bit_end_to_end(scan_file):
    scan = read_image(scan_file, mode="L")
    assert scan.dtype == np.uint16 and scan.ndim == 2
    out = augkit.presets.medical(224)(scan)
    assert out.shape == (224, 224) and out.dtype == np.uint16
    assert len(np.unique(out)) > 2000, "values were squeezed to 8 bits"
    assert out.max() < 65535, "the median filter removes the dead pixels"
    # CLAHE spreads the narrow band of a low-contrast scan over more of the range
    assert np.percentile(out, 95) - np.percentile(out, 5) > 2 * (np.percentile(scan, 95) - np.percentile(scan, 5))


def test_tensor_and_array_paths_agree_on_uint16(scan_file):
    scan = read_image(scan_file, mode="L")
    pipeline = augkit.presets.medical(128)
    array_out = pipeline(scan).astype(np.int64)
    tensor_out = pipeline(torch.from_numpy(scan)[None])
    assert tensor_out.dtype == torch.uint16 and tensor_out.shape == (1, 128, 128)
    diff = np.abs(tensor_out[0].to(torch.int32).numpy() - array_out)
    assert diff.mean() < 0.01 * 65535


def test_preset_is_deterministic_listed_and_checks_arguments():
    assert "medical-224" in augkit.presets.named_presets()
    augkit.tta.check_deterministic(augkit.presets.medical())
    with pytest.raises(ValueError, match="denoise must be"):
        augkit.presets.medical(denoise="wavelet")
