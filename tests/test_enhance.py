"""Parity of the enhancement kernels with OpenCV and torchvision, properties and errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torchvision.transforms.v2 import functional as TF

import augkit
import augkit.functional as F
from augkit.core import kernels
from augkit.functional import median

from .helpers import assert_close, photo_array

ENHANCE_OPS = ("gaussian_blur", "median_blur", "bilateral_filter", "clahe", "unsharp_mask", "threshold")


def _backend(name: str, backend: str):
    row = next(r for r in kernels.rows() if r.op == name and r.kind == "tensor")
    return next(b for b in row.backends if b.name == backend)


@pytest.fixture(params=["opencv", "torch"])
def both_paths(request, monkeypatch):
    """Run a test on both backends of the CPU tensor kernels: OpenCV and the batched torch
    kernel that other devices take (the table keeps only its last backend for "torch")."""
    if request.param == "torch":
        for row in kernels.rows():
            if row.op in ENHANCE_OPS and row.kind == "tensor":
                monkeypatch.setattr(row, "backends", row.backends[-1:])
    return request.param


def _tensor(array: np.ndarray) -> torch.Tensor:
    hwc = array if array.ndim == 3 else array[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(hwc)).permute(2, 0, 1).contiguous()


def _gray(height, width, name="coffee", dtype="uint8"):
    return photo_array(height, width, 1, dtype, name, layout="hw")


def _gray16(height, width, name="coffee"):
    """A 16-bit grayscale photo using all 16 bits (low byte from a fixed pattern)."""
    low = np.random.default_rng(0).integers(0, 257, (height, width))
    return (_gray(height, width, name).astype(np.uint16) * 257 + low).clip(0, 65535).astype(np.uint16)


# -- Gaussian blur -------------------------------------------------------------------------------

@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("kernel_size,sigma", [(3, 0.8), (5, 1.5), (7, 2.0), ((9, 5), 0.3)])
def test_gaussian_blur_matches_torchvision_and_opencv(kernel_size, sigma):
    image = photo_array(64, 80, 3)
    ky, kx = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    ours = F.gaussian_blur_tensor(_tensor(image), kernel_size, sigma)
    # torchvision: same taps and reflect border; float rounding may differ at exact halves
    assert_close(ours, TF.gaussian_blur(_tensor(image), [kx, ky], [sigma, sigma]), atol=1)
    # OpenCV's uint8 path is fixed-point: within 1 grey level, reflect-101 border
    assert_close(ours, cv2.GaussianBlur(image, (kx, ky), sigma, borderType=cv2.BORDER_REFLECT_101), atol=1)
    assert_close(F.gaussian_blur_numpy(image, kernel_size, sigma), TF.gaussian_blur(_tensor(image), [kx, ky],
                                                                                  [sigma, sigma]), atol=1)
    floats = image.astype(np.float32) / 255
    assert_close(F.gaussian_blur_tensor(_tensor(floats), kernel_size, sigma),
                 TF.gaussian_blur(_tensor(floats), [kx, ky], [sigma, sigma]), atol=1e-6)


@pytest.mark.usefixtures("both_paths")
def test_gaussian_blur_uses_one_sigma_per_image():
    batch = torch.stack([_tensor(photo_array(32, 32, 3, name=n)) for n in ("astronaut", "coffee")])
    out = F.gaussian_blur_tensor(batch, 7, torch.tensor([0.5, 2.5]))
    for i, s in enumerate((0.5, 2.5)):
        assert torch.equal(out[i], F.gaussian_blur_tensor(batch[i], 7, s))


# -- median --------------------------------------------------------------------------------------

@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("k", [3, 5, 7, 9])
@pytest.mark.parametrize("channels", [1, 3])
def test_median_blur_equals_opencv_including_borders(k, channels):
    image = photo_array(41, 57, channels, name="chelsea")
    assert_close(F.median_blur_tensor(_tensor(image), k), cv2.medianBlur(image, k))
    assert_close(F.median_blur_numpy(image, k), cv2.medianBlur(image, k))


@pytest.mark.usefixtures("both_paths")
def test_median_blur_uint16_and_float():
    image16 = _gray16(33, 47)
    for k in (3, 5, 7):  # 7: OpenCV takes uint16 only up to 5x5, both paths use the network
        out = F.median_blur_tensor(_tensor(image16), k)
        assert out.dtype == torch.uint16
        assert_close(out, F.median_blur_numpy(image16, k))
    assert_close(F.median_blur_numpy(image16, 5), cv2.medianBlur(image16, 5))
    floats = photo_array(29, 31, 3, "float32", name="chelsea")
    for k in (3, 5):
        assert_close(F.median_blur_tensor(_tensor(floats), k), cv2.medianBlur(floats, k))


def test_median_networks_select_the_median_of_any_window():
    # ties and few distinct values stress the pruned comparators; 9x9 is not pruned by the 0-1 check
    values = torch.randint(0, 4, (2, 3, 19, 23), dtype=torch.uint8)
    for k in (3, 5, 7, 9):
        windows = torch.nn.functional.pad(values.float(), (k // 2,) * 4, mode="replicate").unfold(-2, k, 1).unfold(-2, k, 1)
        expected = windows.reshape(2, 3, 19, 23, k * k).sort(-1).values[..., k * k // 2]
        assert torch.equal(median._median_network(values, k).float(), expected), k


def test_opencv_backends_equal_the_torch_backends_on_a_batch():
    batch = torch.stack([_tensor(photo_array(70, 90, 3, name=n)) for n in ("astronaut", "coffee", "rocket")])
    clips = torch.tensor([1.0, 3.0, 0.0], dtype=torch.float64)
    sigmas = torch.tensor([0.5, 1.2, 2.0])
    for name, args, atol in [("median_blur", (5,), 0), ("clahe", (clips, (4, 4), "per_channel"), 0),
                             ("clahe", (clips, (4, 4), "lab"), 0), ("gaussian_blur", (5, sigmas), 1),
                             ("bilateral_filter", (5, 0.2, 3.0), 1)]:
        opencv, torch_backend = _backend(name, "opencv"), _backend(name, "torch")
        assert opencv.accepts(batch)
        difference = opencv.fn(batch, *args).double() - torch_backend.fn(batch, *args).double()
        assert difference.abs().max() <= atol, name
    # tensors that need a gradient keep the differentiable torch kernel
    floats = batch.float().requires_grad_()
    assert not _backend("gaussian_blur", "opencv").accepts(floats)
    assert F.gaussian_blur_tensor(floats, 5, sigmas).requires_grad


# -- bilateral -----------------------------------------------------------------------------------

@pytest.mark.parametrize("diameter,sigma_color,sigma_space", [(5, 0.2, 3.0), (9, 0.3, 75.0), (0, 0.1, 2.0)])
@pytest.mark.parametrize("channels", [1, 3])
def test_bilateral_filter_matches_opencv(diameter, sigma_color, sigma_space, channels):
    image = photo_array(48, 61, channels)
    reference = cv2.bilateralFilter(image, diameter, sigma_color * 255, sigma_space, borderType=cv2.BORDER_REFLECT_101)
    # within 1 grey level: OpenCV truncates instead of rounding for 1-channel windows up to 5x5
    assert_close(F.bilateral_filter_tensor(_tensor(image), diameter, sigma_color, sigma_space), reference, atol=1)
    floats = image.astype(np.float32) / 255
    reference = cv2.bilateralFilter(floats, diameter, sigma_color, sigma_space, borderType=cv2.BORDER_REFLECT_101)
    assert_close(F.bilateral_filter_tensor(_tensor(floats), diameter, sigma_color, sigma_space), reference, atol=1e-5)


def test_bilateral_filter_keeps_a_step_edge():
    step = torch.zeros(1, 16, 16)
    step[:, :, 8:] = 1.0
    assert torch.allclose(F.bilateral_filter_tensor(step, 7, 0.1, 5.0), step, atol=1e-6)


# -- non-local means ------------------------------------------------------------------------------

def test_non_local_means_is_opencv_and_runs_on_cpu_tensors_only():
    noisy = np.clip(photo_array(32, 40, 3).astype(int) + np.random.default_rng(0).integers(-20, 20, (32, 40, 3)),
                    0, 255).astype(np.uint8)
    expected = cv2.cvtColor(cv2.fastNlMeansDenoisingColored(cv2.cvtColor(noisy, cv2.COLOR_RGB2BGR), None, 10.2,
                                                            10.2, 7, 21), cv2.COLOR_BGR2RGB)
    assert_close(augkit.NonLocalMeans(h=0.04)(noisy), expected)
    gray = noisy[:, :, 0].copy()
    assert_close(F.non_local_means(gray, 0.04), cv2.fastNlMeansDenoising(gray, None, 10.2, 7, 21))
    assert_close(augkit.NonLocalMeans(h=0.04)(_tensor(noisy)), expected)
    with pytest.raises(TypeError, match="uint8 on meta"):
        augkit.NonLocalMeans()(torch.zeros(3, 8, 8, dtype=torch.uint8, device="meta"))
    with pytest.raises(TypeError, match="uint8"):
        augkit.NonLocalMeans()(np.zeros((8, 8), np.float32))


# -- CLAHE ---------------------------------------------------------------------------------------

def _cv_clahe(plane, clip, grid):
    return cv2.createCLAHE(clipLimit=clip, tileGridSize=(grid[1], grid[0])).apply(plane)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("size", [(512, 512), (375, 500), (511, 513), (24, 32), (7, 9)])
@pytest.mark.parametrize("clip", [2.0, 4.0, 0.0])
def test_clahe_uint8_grayscale_equals_opencv(size, clip):
    image = _gray(*size)
    assert_close(F.clahe_tensor(_tensor(image), clip, (8, 8)), _cv_clahe(image, clip, (8, 8)))
    assert_close(F.clahe_numpy(image, clip, (8, 8)), _cv_clahe(image, clip, (8, 8)))


@pytest.mark.usefixtures("both_paths")
def test_clahe_non_square_grid_and_per_channel_colour():
    image = photo_array(375, 500, 3, name="chelsea")
    expected = np.dstack([_cv_clahe(np.ascontiguousarray(image[:, :, i]), 3.0, (4, 6)) for i in range(3)])
    assert_close(F.clahe_tensor(_tensor(image), 3.0, (4, 6), "per_channel"), expected)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("size,grid", [((375, 500), (8, 8)), ((257, 300), (4, 6))])
def test_clahe_uint16_equals_opencv(size, grid):
    image = _gray16(*size, name="rocket")
    out = F.clahe_tensor(_tensor(image), 2.0, grid)
    assert out.dtype == torch.uint16
    assert_close(out, _cv_clahe(image, 2.0, grid))


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("name", ["coffee", "astronaut", "chelsea"])
def test_clahe_lab_equalizes_lightness_like_opencv(name):
    image = photo_array(200, 260, 3, name=name)
    lightness, a, b = cv2.split(cv2.cvtColor(image, cv2.COLOR_RGB2Lab))
    expected = cv2.cvtColor(cv2.merge([_cv_clahe(lightness, 2.0, (8, 8)), a, b]), cv2.COLOR_Lab2RGB)
    assert_close(F.clahe_tensor(_tensor(image), 2.0), expected)
    assert_close(F.clahe_numpy(image, 2.0), expected)
    floats = image.astype(np.float32) / 255
    assert_close(F.clahe_tensor(_tensor(floats), 2.0) * 255, expected, atol=1e-3)


@pytest.mark.usefixtures("both_paths")
def test_clahe_per_sample_clip_limits_in_one_call():
    batch = torch.stack([_tensor(_gray(64, 64, name)) for name in ("astronaut", "coffee", "rocket")])
    clips = torch.tensor([1.0, 3.0, 0.0], dtype=torch.float64)
    out = F.clahe_tensor(batch, clips)
    for i in range(3):
        assert_close(out[i], _cv_clahe(batch[i, 0].numpy(), float(clips[i]), (8, 8)))
        # one equalizer per thread, reset on every call
        assert_close(F.clahe_numpy(batch[i, 0].numpy(), float(clips[i]), (4, 8)),
                     _cv_clahe(batch[i, 0].numpy(), float(clips[i]), (4, 8)))


def test_clahe_float_goes_through_uint8():
    image = _gray(64, 80)
    out = augkit.CLAHE()(image.astype(np.float32) / 255)
    assert out.dtype == np.float32
    assert_close(out * 255, _cv_clahe(image, 2.0, (8, 8)), atol=1e-3)


# -- thresholding --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["astronaut", "coffee", "rocket", "chelsea"])
def test_threshold_fixed_and_otsu_equal_opencv(name):
    image = _gray(120, 151, name)
    assert_close(F.threshold_tensor(_tensor(image), "fixed", 0.5), cv2.threshold(image, 127.5, 255, cv2.THRESH_BINARY)[1])
    otsu = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
    assert_close(F.threshold_tensor(_tensor(image), "otsu"), otsu)
    image16 = image.astype(np.uint16) * 257 + 3
    otsu16 = cv2.threshold(image16, 0, 65535, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
    assert_close(F.threshold_tensor(_tensor(image16), "otsu"), otsu16)


@pytest.mark.parametrize("method,cv_method", [("adaptive_mean", cv2.ADAPTIVE_THRESH_MEAN_C),
                                              ("adaptive_gaussian", cv2.ADAPTIVE_THRESH_GAUSSIAN_C)])
@pytest.mark.parametrize("block_size,c", [(3, -1 / 255), (5, 0.0), (11, 2 / 255), (25, 5 / 255)])
def test_adaptive_threshold_matches_opencv(method, cv_method, block_size, c):
    for name in ("astronaut", "coffee"):
        image = _gray(120, 151, name)
        out = F.threshold_tensor(_tensor(image), method, block_size=block_size, c=c)
        reference = cv2.adaptiveThreshold(image, 255, cv_method, cv2.THRESH_BINARY, block_size, c * 255)
        # OpenCV's fixed-point Gaussian can flip a pixel lying exactly on the threshold
        mismatch = (out[0].numpy() != reference).mean()
        assert mismatch <= (1e-4 if method == "adaptive_gaussian" else 0.0), mismatch


def test_threshold_output_is_binary_in_every_dtype():
    for dtype in ("uint8", "uint16", "float32"):
        image = photo_array(40, 50, 3, dtype)
        out = augkit.Threshold("otsu", max_value=0.8)(image)
        white = {"uint8": 204, "uint16": 52428, "float32": np.float32(0.8)}[dtype]
        assert out.dtype == image.dtype and set(np.unique(out)) <= {0, white}


# -- unsharp mask --------------------------------------------------------------------------------

def test_unsharp_mask_formula():
    x = photo_array(32, 40, 3, "float32")
    blurred = cv2.GaussianBlur(x, (7, 7), 1.0, borderType=cv2.BORDER_REFLECT_101)
    expected = np.clip(x + 1.5 * (x - blurred), 0, 1)
    assert_close(F.unsharp_mask(x, 7, 1.0, 1.5), expected, atol=1e-6)
    assert_close(F.unsharp_mask_tensor(_tensor(x), 7, 1.0, 1.5), expected, atol=1e-5)
    kept = F.unsharp_mask(x, 7, 1.0, 1.5, threshold=0.05)
    small = np.abs(x - blurred) < 0.05
    assert np.array_equal(kept[small], x[small])


@settings(max_examples=10)
@given(amount=st.floats(0.0, 3.0), sigma=st.floats(0.3, 2.0))
def test_unsharp_mask_keeps_flat_images_and_range(amount, sigma):
    flat = torch.full((3, 12, 12), 77, dtype=torch.uint8)
    assert torch.equal(F.unsharp_mask_tensor(flat, 5, sigma, amount), flat)
    noisy = torch.randint(0, 256, (3, 12, 12), dtype=torch.uint8)
    out = F.unsharp_mask_tensor(noisy, 5, sigma, amount)
    assert out.dtype == torch.uint8


@settings(max_examples=10)
@given(sigma=st.floats(0.1, 3.0), k=st.sampled_from([3, 5, 7]))
def test_gaussian_blur_preserves_constants_and_mean_range(sigma, k):
    flat = torch.full((2, 1, 9, 11), 0.25)
    assert torch.allclose(F.gaussian_blur_tensor(flat, k, sigma), flat, atol=1e-6)
    x = torch.rand(1, 3, 9, 11)
    out = F.gaussian_blur_tensor(x, k, sigma)
    assert out.min() >= x.min() - 1e-6 and out.max() <= x.max() + 1e-6


# -- medical pipeline: uint16 grayscale end to end -------------------------------------------------

@pytest.mark.parametrize("layout", ["hw", "hw1", "chw"])
def test_denoise_then_clahe_on_uint16_grayscale(layout):
    xray = _gray16(96, 80, name="rocket")
    image = {"hw": xray, "hw1": xray[:, :, None], "chw": torch.from_numpy(xray)[None]}[layout]
    pipeline = augkit.Compose([augkit.MedianBlur(5), augkit.GaussianBlur(3, sigma=0.8), augkit.CLAHE(clip_limit=2.0)])
    out = pipeline(image)
    assert type(out) is type(image) and out.shape == image.shape and out.dtype == image.dtype
    expected = _cv_clahe(cv2.GaussianBlur(cv2.medianBlur(xray, 5), (3, 3), 0.8, borderType=cv2.BORDER_REFLECT_101),
                         2.0, (8, 8))
    # the blurs agree within 1 level; CLAHE maps that to a few levels of 65535 at most
    diff = np.abs(np.asarray(out, dtype=np.int64).reshape(xray.shape) - expected.astype(np.int64))
    assert np.median(diff) == 0 and diff.max() < 2000
    bilateral = augkit.BilateralFilter(5, 0.1, 3.0)(image)
    assert bilateral.dtype == image.dtype and bilateral.shape == image.shape


# -- argument errors -----------------------------------------------------------------------------

def test_argument_errors_name_the_argument():
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        augkit.GaussianBlur(4)
    with pytest.raises(ValueError, match="sigma"):
        augkit.GaussianBlur(3, sigma=(0.0, 1.0))
    with pytest.raises(TypeError, match="kernel_size must be an int"):
        augkit.MedianBlur((3, 5))
    with pytest.raises(ValueError, match="colour must be one of"):
        augkit.CLAHE(colour="hsv")
    with pytest.raises(ValueError, match="tile_grid_size"):
        augkit.CLAHE(tile_grid_size=(0, 8))
    with pytest.raises(ValueError, match="method must be one of"):
        augkit.Threshold("triangle")
    with pytest.raises(ValueError, match="block_size must be odd"):
        augkit.Threshold("adaptive_mean", block_size=4)
    with pytest.raises(ValueError, match="sigma_color"):
        augkit.BilateralFilter(sigma_color=0)
    with pytest.raises(ValueError, match="amount"):
        augkit.UnsharpMask(amount=-1.0)
    with pytest.raises(ValueError, match="colour='lab' takes 1- or 3-channel"):
        augkit.CLAHE()(torch.zeros(4, 8, 8, dtype=torch.uint8))
