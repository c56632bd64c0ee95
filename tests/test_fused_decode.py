"""The fused decode (augkit.data.fused): faithful to the unfused pipeline within the stated
tolerance on real photos, bit-equal with the switch off, the same boxes from the same seed, bad
files handled; the datasets and DeviceLoader's decoding of byte batches."""

from __future__ import annotations

import io
import itertools
import os

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

import augkit
from augkit.core.random import make_generator
from augkit.data import AugmentedDataset, DeviceLoader, ImageFolderDataset, bytes_collate, fused, sample_image
from augkit.data.fused import (TOLERANCE_MAX, TOLERANCE_MEAN, crop_plan, crop_transformed, dct_scale,
                               decode_transformed, jpeg_header)
from augkit.io import ImageReadError, decode_image

TRAIN = augkit.Compose([augkit.RandomResizedCrop(224), augkit.HorizontalFlip(), augkit.ColorJitter(0.4, 0.4, 0.4, 0.1)])
PIPELINES = [
    TRAIN,
    augkit.RandomResizedCrop(112),
    augkit.ResizedCenterCrop(224),
    augkit.Compose([augkit.Resize(256), augkit.CenterCrop(224)]),
    augkit.presets.eval_transform(size=224),
]


def _jpeg(rgb: np.ndarray, size_hw=None, **pil_options) -> bytes:
    if size_hw is not None:
        rgb = cv2.resize(rgb, size_hw[::-1], interpolation=cv2.INTER_CUBIC)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=90, **pil_options)
    return out.getvalue()


@pytest.fixture(scope="module")
def large_photos() -> dict[str, bytes]:
    return {name: _jpeg(sample_image(name), (1500, 2000)) for name in ("astronaut", "coffee")}


def _diff(a, b) -> np.ndarray:
    return np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))


@pytest.mark.parametrize("pipeline", PIPELINES, ids=["train", "rrc112", "resized-center-crop", "resize-center-crop", "eval-preset"])
def test_fused_is_within_the_tolerance_and_the_switch_off_is_bit_equal(large_photos, pipeline):
    scales = set()
    for data in large_photos.values():
        full = decode_image(data)
        for seed in range(4):
            unfused = pipeline(full, generator=make_generator(seed))
            off = decode_transformed(data, pipeline, make_generator(seed), fused=False)
            assert np.array_equal(off, unfused)
            fused = decode_transformed(data, pipeline, make_generator(seed))
            assert fused.shape == unfused.shape and fused.dtype == unfused.dtype
            scale = 255.0 if fused.dtype == np.float32 else 1.0  # normalized outputs: levels of the uint8 input
            diff = _diff(fused, unfused) * scale / (4.4 if scale > 1 else 1.0)  # 1 / ImageNet std <= 4.4
            assert diff.mean() <= TOLERANCE_MEAN and diff.max() <= TOLERANCE_MAX
            plan = crop_plan(pipeline, pipeline.sample_params(full, generator=make_generator(seed)), full.shape[:2])
            scales.add(dct_scale(plan.box[2:], plan.size))
    assert scales - {1}, "the 2000x1500 photos were never decoded at a reduced scale"


def test_same_seed_same_params_from_the_header_as_from_the_pixels(large_photos):
    data = large_photos["coffee"]
    full = decode_image(data)
    header = jpeg_header(data)
    assert header.size == full.shape[:2] and not header.grey
    stand_in = np.broadcast_to(np.zeros((), np.uint8), (*header.size, 3))
    for seed in range(5):
        a = TRAIN.sample_params(stand_in, generator=make_generator(seed))
        b = TRAIN.sample_params(full, generator=make_generator(seed))
        assert crop_plan(TRAIN, a, header.size) == crop_plan(TRAIN, b, full.shape[:2])


def test_small_photos_at_scale_one_are_bit_equal():
    data = _jpeg(cv2.resize(sample_image("chelsea"), (500, 375)))
    t = augkit.ResizedCenterCrop(224)  # a 328 px box for 224: scale 1
    assert np.array_equal(decode_transformed(data, t), t(decode_image(data)))


def test_bad_files(tmp_path, large_photos):
    t = augkit.RandomResizedCrop(224)
    with pytest.raises(ImageReadError, match="corrupt or truncated"):
        decode_transformed(large_photos["coffee"][:20000], t, name="cut.jpg")
    png = cv2.imencode(".png", sample_image("rocket"))[1].tobytes()  # a PNG named .jpg: full decode
    assert jpeg_header(png) is None
    assert np.array_equal(decode_transformed(png, t, make_generator(3)), t(decode_image(png), generator=make_generator(3)))
    cmyk = io.BytesIO()
    Image.fromarray(cv2.resize(sample_image("coffee"), (2000, 1500))).convert("CMYK").save(cmyk, "JPEG", quality=90)
    cmyk = cmyk.getvalue()
    assert jpeg_header(cmyk) is None  # CMYK keeps the full decode
    assert np.array_equal(decode_transformed(cmyk, t, make_generator(1)), t(decode_image(cmyk), generator=make_generator(1)))
    progressive = _jpeg(sample_image("coffee"), (1500, 2000), progressive=True)
    full = decode_image(progressive)
    for seed in range(3):
        diff = _diff(decode_transformed(progressive, t, make_generator(seed)), t(full, generator=make_generator(seed)))
        assert diff.mean() <= TOLERANCE_MEAN and diff.max() <= TOLERANCE_MAX


def test_exif_orientation_is_applied_before_the_box_is_drawn():
    rgb = cv2.resize(sample_image("rocket"), (2000, 1500))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: shown rotated by 90 degrees
    data = _jpeg(rgb, exif=exif.tobytes())
    header = jpeg_header(data)
    full = decode_image(data)
    assert header.size == full.shape[:2] == (2000, 1500)
    t = augkit.RandomResizedCrop(224, scale=(0.5, 1.0))
    for seed in range(3):
        diff = _diff(decode_transformed(data, t, make_generator(seed)), t(full, generator=make_generator(seed)))
        assert diff.mean() <= TOLERANCE_MEAN and diff.max() <= TOLERANCE_MAX


@pytest.mark.parametrize("tensor", [False, True])
def test_stored_pixels_copy_only_the_box_bit_for_bit(tensor):
    array = np.frombuffer(sample_image("coffee").tobytes(), np.uint8).reshape(400, 600, 3)  # read-only
    for t in (TRAIN, augkit.ResizedCenterCrop(224), augkit.Compose([augkit.Resize(256), augkit.CenterCrop(224)])):
        image = torch.from_numpy(array.copy()).permute(2, 0, 1) if tensor else array.copy()
        expected = t(image, generator=make_generator(5))
        out = crop_transformed(array, t, make_generator(5), tensor=tensor)
        assert type(out) is type(expected) and bool((out == expected).all())


def _folder(root, photos: dict[str, bytes]) -> str:
    os.makedirs(root / "a", exist_ok=True)
    for name, data in photos.items():
        (root / "a" / f"{name}.jpg").write_bytes(data)
    return str(root)


def test_datasets_take_the_fused_decode_with_per_sample_seeds(tmp_path, large_photos):
    root = _folder(tmp_path, large_photos)
    fused = AugmentedDataset(ImageFolderDataset(root), TRAIN, seed=4)
    plain = AugmentedDataset(ImageFolderDataset(root, fused=False), TRAIN, seed=4)
    for i in range(len(fused)):
        expected = TRAIN(decode_image(large_photos[sorted(large_photos)[i]]), generator=plain.generator(i))
        assert np.array_equal(plain[i][0], expected)
        diff = _diff(fused[i][0], plain[i][0])
        assert diff.mean() <= TOLERANCE_MEAN and diff.max() <= TOLERANCE_MAX and fused[i][1] == 0
    own = ImageFolderDataset(root, transform=augkit.ResizedCenterCrop(224))
    assert own[0][0].shape == (224, 224, 3)


def test_device_loader_decodes_batches_of_bytes_with_fallbacks(tmp_path, large_photos):
    png = cv2.imencode(".png", cv2.resize(sample_image("rocket"), (300, 200)))[1].tobytes()
    root = _folder(tmp_path, {**large_photos, "z_png": png})
    files = ImageFolderDataset(root, decode="bytes")
    assert files[0][0].dtype == torch.uint8 and files[0][0].ndim == 1
    calls = []

    def decode(batch, device):  # stands in for the GPU's batched decoder
        calls.append(len(batch))
        return [torch.from_numpy(decode_image(f.numpy().tobytes())).permute(2, 0, 1).to(device) for f in batch]

    loader = torch.utils.data.DataLoader(files, batch_size=3, collate_fn=bytes_collate)
    out = DeviceLoader(loader, "cpu", augkit.ResizedCenterCrop(64), decode_on_device=True, decode=decode,
                       normalize=((0.0,), (1.0,)))
    images, labels = next(iter(out))
    assert calls == [2] and images.shape == (3, 3, 64, 64) and images.dtype == torch.float32
    expected = augkit.ResizedCenterCrop(64)(torch.from_numpy(decode_image(png)).permute(2, 0, 1))
    assert torch.allclose(images[2], expected.float() / 255, atol=1e-6)

    def broken(batch, device):
        raise RuntimeError("decode failed")

    again = DeviceLoader(loader, "cpu", augkit.ResizedCenterCrop(64), decode_on_device=True, decode=broken)
    assert torch.equal(next(iter(again))[0], (images * 255).round().to(torch.uint8))  # the CPU fallback
    cut = [torch.frombuffer(bytearray(large_photos["coffee"][:5000]), dtype=torch.uint8)]
    with pytest.raises(ImageReadError, match="file 0 of the batch"):
        next(iter(DeviceLoader([cut], "cpu", decode_on_device=True, decode=broken)))
    with pytest.raises(ValueError, match="several sizes"):
        next(iter(DeviceLoader(loader, "cpu", decode_on_device=True)))


needs_region_decoder = pytest.mark.skipif(fused._jpeg is None, reason="augkit._jpeg is not built (no libjpeg headers)")


@pytest.fixture(scope="module")
def layouts() -> dict[str, bytes]:
    """An odd-sized photo in each chroma layout, progressive and grey."""
    rgb = cv2.resize(sample_image("astronaut"), (1001, 757), interpolation=cv2.INTER_AREA)
    files = {name: _jpeg(rgb, subsampling=k) for k, name in enumerate(("4:4:4", "4:2:2", "4:2:0"))}
    files["progressive"] = _jpeg(rgb, progressive=True)
    files["grey"] = _jpeg(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    files["4:1:1"] = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                                                cv2.IMWRITE_JPEG_SAMPLING_FACTOR_411])[1].tobytes()
    return files


def _boxes(size_hw, generator) -> list[tuple[int, int, int, int]]:
    rows, cols = size_hw
    boxes = [(0, 0, rows, cols), (rows - 1, cols - 1, 1, 1), (0, cols - 3, rows, 3)]
    for _ in range(6):
        top, left = (int(torch.randint(0, n, (), generator=generator)) for n in size_hw)
        height = int(torch.randint(1, rows - top + 1, (), generator=generator))
        width = int(torch.randint(1, cols - left + 1, (), generator=generator))
        boxes.append((top, left, height, width))
    return boxes


def _both_ways(monkeypatch, fn):
    """fn() with the region decode, and with the fallback (OpenCV's reduced decode) forced."""
    region = fn()
    with monkeypatch.context() as patch:
        patch.setattr(fused, "_jpeg", None)
        return region, fn()


@needs_region_decoder
@pytest.mark.parametrize("layout", ["4:4:4", "4:2:2", "4:2:0", "progressive", "grey", "4:1:1"])
def test_the_region_decode_gives_the_pixels_of_the_reduced_decode(monkeypatch, layouts, layout):
    data = layouts[layout]
    header = jpeg_header(data)
    for scale in (2, 4, 8):
        size = tuple(-(-n // scale) for n in header.size)
        for channels in (3, 1):
            for box in _boxes(size, make_generator(scale)):
                region, reduced = _both_ways(monkeypatch, lambda: fused._decode_box(data, header, scale, box, size, channels))
                assert region.shape == reduced.shape == (box[2], box[3], 3)[:2 if channels == 1 else 3]
                assert np.array_equal(region, reduced), (scale, channels, box)


@needs_region_decoder
@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_region_decode_maps_the_upright_box_to_the_stored_image(monkeypatch, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _jpeg(sample_image("coffee"), (750, 1003), exif=exif.tobytes())
    header = jpeg_header(data)
    for scale in (2, 8):
        size = tuple(-(-n // scale) for n in header.size)
        for box in _boxes(size, make_generator(orientation)):
            region, reduced = _both_ways(monkeypatch, lambda: fused._decode_box(data, header, scale, box, size, 3))
            assert np.array_equal(region, reduced), (scale, box)


@needs_region_decoder
@pytest.mark.parametrize("pipeline", PIPELINES, ids=["train", "rrc112", "resized-center-crop", "resize-center-crop", "eval-preset"])
def test_the_fused_output_is_the_same_with_either_decoder(monkeypatch, large_photos, pipeline):
    for data in large_photos.values():
        for seed in range(3):
            region, reduced = _both_ways(monkeypatch, lambda: decode_transformed(data, pipeline, make_generator(seed)))
            assert np.array_equal(region, reduced)


@needs_region_decoder
def test_the_region_decoder_rejects_bad_arguments_and_corrupt_data(large_photos):
    data = large_photos["coffee"]
    with pytest.raises(ValueError, match="scale_denom must be 1, 2, 4 or 8, got 3"):
        fused._jpeg.decode(data, 3, 0, 0, 10, 10, False)
    with pytest.raises(ValueError, match="height and width must be >= 1, got 0 and 10"):
        fused._jpeg.decode(data, 2, 0, 0, 0, 10, False)
    with pytest.raises(ValueError, match="outside the image"):
        fused._jpeg.decode(data, 2, 750, 0, 10, 10, False)
    with pytest.raises(ValueError, match="libjpeg: "):
        fused._jpeg.decode(data[:5000], 2, 0, 0, 750, 1000, False)  # truncated
    pixels, top, left, height, width = fused._jpeg.decode(data, 4, 100, 130, 20, 30, False)
    assert top <= 100 and left <= 130 and top + height >= 120 and left + width >= 160
    assert len(pixels) == height * width * 3
    corrupt = bytearray(data)
    start = data.index(b"\xff\xda") + 40  # inside the entropy-coded data of the first rows
    corrupt[start:start + 8] = b"\xff\xd3" * 4  # a restart marker where none belongs: a libjpeg warning
    corrupt = bytes(corrupt)
    with pytest.raises(ValueError, match="libjpeg: "):
        fused._jpeg.decode(corrupt, 2, 0, 0, 10, 10, False)
    t = augkit.ResizedCenterCrop(224)
    assert np.array_equal(decode_transformed(corrupt, t), t(decode_image(corrupt)))  # the full decoder's pixels


@needs_region_decoder
@pytest.mark.parametrize("layout", ["4:4:4", "4:2:2", "4:2:0", "progressive", "grey", "4:1:1"])
def test_the_region_decode_at_scale_one_is_bit_equal_to_the_full_decode(layouts, layout):
    data = layouts[layout]
    side = min(jpeg_header(data).size) // 2 + 1  # every box under 2x the output: scale 1
    for t in (augkit.RandomResizedCrop(side), augkit.Compose([augkit.Resize(side + 8), augkit.CenterCrop(side)])):
        for mode, seed in itertools.product(("RGB", "L", "unchanged"), range(4)):
            fused_out = decode_transformed(data, t, make_generator(seed), mode=mode)
            assert np.array_equal(fused_out, t(decode_image(data, mode), generator=make_generator(seed))), (t, mode, seed)


@needs_region_decoder
@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_region_decode_at_scale_one_follows_the_orientation(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _jpeg(sample_image("coffee"), (500, 375), exif=exif.tobytes())
    for t, seed in itertools.product((augkit.Compose([augkit.RandomResizedCrop(224), augkit.HorizontalFlip()]),
                                      augkit.Compose([augkit.Resize(256), augkit.CenterCrop(224)])), range(3)):
        assert np.array_equal(decode_transformed(data, t, make_generator(seed)),
                              t(decode_image(data), generator=make_generator(seed))), seed
