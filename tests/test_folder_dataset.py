"""ImageFolderDataset: classes, the three decoders, 16-bit, EXIF, corrupt files and splits."""

from __future__ import annotations

import os
from collections import Counter

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

import augkit
from augkit.data import DeviceLoader, ImageFolderDataset, uint8_collate
from augkit.io import ImageReadError

from .helpers import photo_array

NAMES = ("astronaut", "coffee", "chelsea", "rocket")


def _write(path, array: np.ndarray, **kwargs) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path, **kwargs)
    return str(path)


def _folder(root, counts: dict[str, int], suffix: str = ".png") -> str:
    """``root/<class>/<i><suffix>``: small real photos, ``counts[class]`` per class."""
    for c, (label, n) in enumerate(counts.items()):
        for i in range(n):
            _write(root / label / f"{i:03d}{suffix}", photo_array(24, 32, name=NAMES[(c + i) % 4]))
    return str(root)


def _corrupt(root) -> list[str]:
    """Add a truncated JPEG and a non-image to class ``b``; return their paths."""
    good = root / "tmp.jpg"
    _write(good, photo_array(24, 32, name="coffee"))
    data = good.read_bytes()
    good.unlink()
    truncated, garbage = root / "b" / "truncated.jpg", root / "b" / "zz_garbage.png"
    truncated.write_bytes(data[: len(data) // 2])
    garbage.write_bytes(b"not an image at all")
    return [str(truncated), str(garbage)]


def test_classes_labels_and_samples_in_folder_order(tmp_path):
    root = _folder(tmp_path, {"cat": 2, "dog": 3})
    _write(tmp_path / "dog" / "nested" / "deep.png", photo_array(24, 32))
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    os.makedirs(tmp_path / ".cache")
    ds = ImageFolderDataset(root)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 6 and ds.targets == [0, 0, 1, 1, 1, 1]
    assert [os.path.relpath(p, root) for p, _ in ds.samples][-2:] == ["dog/002.png", os.path.join("dog", "nested", "deep.png")]
    image, label = ds[2]
    assert label == 1 and image.dtype == np.uint8 and image.shape == (24, 32, 3)
    assert np.array_equal(image, photo_array(24, 32, name=NAMES[1]))


def test_decoders_return_their_kind_with_the_same_pixels(tmp_path):
    root = _folder(tmp_path, {"a": 2})
    expected = photo_array(24, 32, name=NAMES[1])
    opencv = ImageFolderDataset(root)[1][0]
    pil = ImageFolderDataset(root, decode="pil")[1][0]
    tv = ImageFolderDataset(root, decode="torchvision")[1][0]
    assert isinstance(opencv, np.ndarray) and np.array_equal(opencv, expected)
    assert isinstance(pil, Image.Image) and pil.mode == "RGB" and np.array_equal(np.asarray(pil), expected)
    assert isinstance(tv, torch.Tensor) and tv.shape == (3, 24, 32)
    assert np.array_equal(tv.permute(1, 2, 0).numpy(), expected)
    gray = cv2.cvtColor(expected, cv2.COLOR_RGB2GRAY)
    assert np.array_equal(ImageFolderDataset(root, mode="L")[1][0], gray)
    pil_gray = np.asarray(ImageFolderDataset(root, decode="pil", mode="L")[1][0]).astype(int)
    assert np.abs(pil_gray - gray).max() <= 1  # PIL and OpenCV round the luma sum differently
    assert ImageFolderDataset(root, decode="torchvision", mode="L")[1][0].shape == (1, 24, 32)


@pytest.mark.parametrize("decode", ["opencv", "pil", "torchvision"])
def test_exif_orientation_is_applied_by_every_decoder(tmp_path, decode):
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise
    _write(tmp_path / "a" / "rot.jpg", photo_array(24, 32), exif=exif, quality=95)
    image = ImageFolderDataset(tmp_path, decode=decode)[0][0]
    shape = image.shape if isinstance(image, torch.Tensor) else np.asarray(image).shape
    assert shape == ((3, 32, 24) if decode == "torchvision" else (32, 24, 3))


def test_sixteen_bit_pngs_stay_uint16_through_dataset_and_collate(tmp_path):
    deep = (np.arange(24 * 32, dtype=np.uint32).reshape(24, 32) * 83).astype(np.uint16)
    os.makedirs(tmp_path / "a")
    cv2.imwrite(str(tmp_path / "a" / "deep.png"), deep)
    array = ImageFolderDataset(tmp_path, mode="unchanged")[0][0]
    assert array.dtype == np.uint16 and np.array_equal(array, deep)
    rgb = ImageFolderDataset(tmp_path)[0][0]
    assert rgb.dtype == np.uint16 and rgb.shape == (24, 32, 3)
    tensor = ImageFolderDataset(tmp_path, decode="torchvision", mode="L")[0][0]
    assert tensor.dtype == torch.uint16 and np.array_equal(tensor[0].numpy(), deep)
    assert np.array_equal(np.asarray(ImageFolderDataset(tmp_path, decode="pil", mode="L")[0][0]), deep)
    with pytest.raises(TypeError, match="16-bit image .*deep.png as RGB"):
        ImageFolderDataset(tmp_path, decode="pil")[0]
    images, labels = uint8_collate([ImageFolderDataset(tmp_path, mode="L")[0]] * 2)
    assert images.dtype == torch.uint16 and images.shape == (2, 1, 24, 32)
    assert np.array_equal(images[1, 0].numpy(), deep) and labels.tolist() == [0, 0]


def test_transform_is_applied_to_the_decoded_image(tmp_path):
    root = _folder(tmp_path, {"a": 1})
    ds = ImageFolderDataset(root, transform=augkit.HorizontalFlip(p=1.0))
    assert np.array_equal(ds[0][0], photo_array(24, 32, name=NAMES[0])[:, ::-1])


def test_empty_or_missing_roots_and_bad_arguments_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="existing folder"):
        ImageFolderDataset(tmp_path / "missing")
    with pytest.raises(ValueError, match="no class folders"):
        ImageFolderDataset(tmp_path)
    os.makedirs(tmp_path / "a")
    (tmp_path / "a" / "x.txt").write_text("")
    with pytest.raises(ValueError, match="found no image files with extensions .jpg"):
        ImageFolderDataset(tmp_path)
    with pytest.raises(ValueError, match="decode must be one of 'opencv', 'pil', 'torchvision', 'bytes'; got 'cv2'"):
        ImageFolderDataset(tmp_path, decode="cv2")
    with pytest.raises(ValueError, match="on_error must be one of 'raise', 'skip'"):
        ImageFolderDataset(tmp_path, on_error="ignore")
    with pytest.raises(ValueError, match="mode must be one of"):
        ImageFolderDataset(tmp_path, mode="BGR")
    with pytest.raises(TypeError, match="transform must be callable"):
        ImageFolderDataset(tmp_path, transform="flip")


@pytest.mark.parametrize("decode", ["opencv", "pil", "torchvision"])
def test_corrupt_files_raise_with_their_path_by_default(tmp_path, decode):
    root = _folder(tmp_path, {"a": 1, "b": 1})
    truncated, garbage = _corrupt(tmp_path)
    ds = ImageFolderDataset(root, decode=decode)
    index = [p for p, _ in ds.samples].index(truncated)
    with pytest.raises(ImageReadError, match="truncated.jpg"):
        ds[index]
    with pytest.raises(ImageReadError, match="zz_garbage.png"):
        ds[len(ds) - 1]
    assert len(ds) == 4 and ds.skipped == []


@pytest.mark.parametrize("decode", ["opencv", "pil", "torchvision"])
def test_skip_policy_leaves_unreadable_files_out_with_an_exact_length_and_list(tmp_path, decode):
    root = _folder(tmp_path, {"a": 2, "b": 2})
    bad = _corrupt(tmp_path)
    with pytest.warns(RuntimeWarning, match=r"skipped 2 unreadable image\(s\) of 6 in .*truncated\.jpg") as record:
        ds = ImageFolderDataset(root, decode=decode, on_error="skip")
    assert len(record) == 1
    assert len(ds) == 4 and ds.skipped == bad and ds.targets == [0, 0, 1, 1]
    assert all(ds[i] is not None and ds[i][1] == ds.targets[i] for i in range(len(ds)))
    train, val = ds.split(0.5, seed=0)
    assert len(train) + len(val) == 4 and train.skipped == val.skipped == bad


@pytest.mark.slow
def test_skip_policy_works_with_a_plain_dataloader_and_two_workers(tmp_path):
    root = _folder(tmp_path, {"a": 5, "b": 5})
    bad = _corrupt(tmp_path)
    with pytest.warns(RuntimeWarning, match="skipped 2 unreadable"):
        ds = ImageFolderDataset(root, on_error="skip", transform=augkit.ToTensor())
    loader = DataLoader(ds, batch_size=3, num_workers=2, persistent_workers=True)   # default collate
    first = [labels.tolist() for _, labels in loader]
    second = [labels.tolist() for _, labels in loader]
    assert sum(first, []) == [0] * 5 + [1] * 5 and first == second and len(loader) == 4
    assert ds.skipped == bad


def test_stratified_split_keeps_class_proportions_and_follows_the_seed(tmp_path):
    root = _folder(tmp_path, {"a": 20, "b": 10, "c": 5})
    ds = ImageFolderDataset(root, on_error="skip")
    train, val = ds.split(0.2, seed=3)
    assert Counter(val.targets) == {0: 4, 1: 2, 2: 1}
    assert Counter(train.targets) == {0: 16, 1: 8, 2: 4}
    assert sorted(train.samples + val.samples) == sorted(ds.samples)
    assert not set(train.samples) & set(val.samples)
    again = ds.split(0.2, seed=3)
    assert again[0].samples == train.samples and again[1].samples == val.samples
    assert ds.split(0.2, seed=4)[1].samples != val.samples
    assert val.classes == ds.classes and val.decode == ds.decode and val[0][1] == val.targets[0]
    assert val.samples == sorted(val.samples)  # folder order kept; shuffling is the sampler's job
    val.transform = augkit.HorizontalFlip(p=1.0)
    assert ds.transform is None and train.transform is None
    with pytest.raises(ValueError, match=r"val_fraction must be in \[0.0, 1.0\]"):
        ds.split(1.5)


def test_empty_split_gives_zero_batches(tmp_path):
    root = _folder(tmp_path, {"a": 3, "b": 2})
    train, val = ImageFolderDataset(root).split(0.0)
    assert len(train) == 5 and len(val) == 0 and val.skipped == []
    loader = DataLoader(val, batch_size=2, collate_fn=uint8_collate)
    assert list(DeviceLoader(loader, "cpu", normalize=((0.5,), (0.5,)))) == []
