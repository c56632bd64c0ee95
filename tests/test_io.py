"""read_image: formats, bit depths, channels, EXIF orientation and clear errors."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from augkit.io import ImageReadError, decode_image, read_image

from .helpers import photo_array


@pytest.fixture
def photo():
    return photo_array(40, 60, 3, "uint8", name="coffee")


def _save_pil(image: Image.Image, path, **kwargs):
    image.save(path, **kwargs)
    return path


def test_png_rgb_gray_and_alpha(tmp_path, photo):
    rgba = np.dstack([photo, np.full(photo.shape[:2], 128, np.uint8)])
    path = _save_pil(Image.fromarray(rgba), tmp_path / "a.png")
    assert np.array_equal(read_image(path), photo)
    assert np.array_equal(read_image(path, "unchanged"), rgba)
    assert np.array_equal(read_image(path, "L"), cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY))
    gray = _save_pil(Image.fromarray(photo[:, :, 0]), tmp_path / "g.png")
    assert read_image(gray).shape == (40, 60, 3) and read_image(gray, "unchanged").shape == (40, 60)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_files_stay_uint16(tmp_path, suffix):
    deep = (np.arange(40 * 60, dtype=np.uint32).reshape(40, 60) * 27).astype(np.uint16)
    path = str(tmp_path / f"deep{suffix}")
    cv2.imwrite(path, deep)
    for mode in ("unchanged", "L"):
        out = read_image(path, mode)
        assert out.dtype == np.uint16 and np.array_equal(out, deep)
    assert read_image(path, "RGB").shape == (40, 60, 3) and read_image(path, "RGB").dtype == np.uint16


def test_exif_orientation_is_applied(tmp_path, photo):
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: show rotated 90 degrees clockwise
    path = _save_pil(Image.fromarray(photo), tmp_path / "rot.jpg", exif=exif, quality=95)
    out = read_image(path)
    assert out.shape == (60, 40, 3)
    expected = cv2.rotate(read_image(_save_pil(Image.fromarray(photo), tmp_path / "up.jpg", quality=95)),
                          cv2.ROTATE_90_CLOCKWISE)
    assert np.abs(out.astype(int) - expected.astype(int)).max() <= 2


def test_palette_and_cmyk_are_converted(tmp_path, photo):
    pal = _save_pil(Image.fromarray(photo).convert("P", palette=Image.Palette.ADAPTIVE), tmp_path / "p.png")
    assert read_image(pal).shape == (40, 60, 3)
    cmyk = _save_pil(Image.fromarray(photo).convert("CMYK"), tmp_path / "c.jpg", quality=95)
    reference = np.asarray(Image.open(cmyk).convert("RGB")).astype(int)
    assert np.abs(read_image(cmyk).astype(int) - reference).mean() < 3


def test_corrupt_missing_and_empty_files_name_the_path(tmp_path, photo):
    good = _save_pil(Image.fromarray(photo), tmp_path / "ok.jpg")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(ImageReadError, match=r"truncated\.jpg: corrupt or truncated"):
        read_image(truncated)
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"this is not an image")
    with pytest.raises(ImageReadError, match=r"garbage\.png: not a recognised image format"):
        read_image(garbage)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty"):
        read_image(empty)
    with pytest.raises(FileNotFoundError, match="missing.png"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="mode must be one of"):
        read_image(good, "BGR")


def test_decode_bytes_matches_reading_the_file(tmp_path, photo):
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="PNG")
    assert np.array_equal(decode_image(buffer.getvalue()), photo)
