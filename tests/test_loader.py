"""uint8_collate, DeviceLoader, recommended_loader_kwargs and seed_worker."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

import augkit
from augkit.data import DeviceLoader, recommended_loader_kwargs, seed_worker, uint8_collate
from augkit.functional import IMAGENET_MEAN, IMAGENET_STD

from .helpers import photo_array

NAMES = ("astronaut", "coffee", "chelsea", "rocket")


class Photos(Dataset):
    """``n`` labelled HWC uint8 photos."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return photo_array(16, 20, name=NAMES[i % 4]), i


def _pipeline() -> augkit.Transform:
    return augkit.Compose([augkit.HorizontalFlip(p=0.5), augkit.VerticalFlip(p=0.3)])


# -- uint8_collate ---------------------------------------------------------------------------------

def test_collate_stacks_every_image_kind_as_chw_and_keeps_the_dtype():
    array = photo_array(16, 20, name="coffee")
    chw = torch.from_numpy(array).permute(2, 0, 1)
    images, labels, names = uint8_collate([(array, 0, "a"), (Image.fromarray(array), 1, "b"), (chw, 2, "c")])
    assert images.dtype == torch.uint8 and images.shape == (3, 3, 16, 20) and images.is_contiguous()
    assert all(torch.equal(image, chw) for image in images)
    assert labels.tolist() == [0, 1, 2] and list(names) == ["a", "b", "c"]
    gray = uint8_collate([photo_array(16, 20, channels=1, dtype="uint16")[:, :, 0]] * 2)
    assert gray.dtype == torch.uint16 and gray.shape == (2, 1, 16, 20)


def test_collate_explains_mismatched_or_unsupported_images():
    with pytest.raises(ValueError, match=r"sample 1 is \(3, 8, 20\) uint8 but sample 0 is \(3, 16, 20\) uint8"):
        uint8_collate([photo_array(16, 20), photo_array(8, 20)])
    with pytest.raises(ValueError, match="sample 1 is .* float32"):
        uint8_collate([photo_array(16, 20), photo_array(16, 20, dtype="float32")])
    with pytest.raises(TypeError, match="HW/HWC arrays, PIL images or CHW tensors; got str"):
        uint8_collate([("cat.jpg", 0)])
    with pytest.raises(ValueError, match="CHW tensor images"):
        uint8_collate([torch.zeros(2, 3, 4, 4, dtype=torch.uint8)])


# -- DeviceLoader ----------------------------------------------------------------------------------

def test_device_loader_equals_plain_loader_then_transform_with_the_same_generator():
    loader = DataLoader(Photos(10), batch_size=4, collate_fn=uint8_collate)
    device_loader = DeviceLoader(loader, "cpu", _pipeline(), normalize=(IMAGENET_MEAN, IMAGENET_STD),
                                 generator=torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)
    expected = [(augkit.Normalize()(_pipeline()(x, generator=g)), y) for x, y in loader]
    for _ in range(2):  # re-iterable; the generator goes on, so the second epoch differs
        got = list(device_loader)
        assert len(got) == len(device_loader) == 3
        assert [tuple(x.shape) for x, _ in got] == [(4, 3, 16, 20), (4, 3, 16, 20), (2, 3, 16, 20)]
        assert all(x.dtype == torch.float32 and torch.equal(x, e) and torch.equal(y, f)
                   for (x, y), (e, f) in zip(got, expected))
        expected = [(augkit.Normalize()(_pipeline()(x, generator=g)), y) for x, y in loader]
    flips = [x for x, _ in DeviceLoader(loader, "cpu", _pipeline(), generator=torch.Generator().manual_seed(5))]
    assert any(not torch.equal(x, y) for x, (y, _) in zip(flips, loader))  # the transform did act


def test_device_loader_mixes_and_returns_channels_last_in_order():
    calls = []

    def mix(images, targets):  # a stand-in for MixUp: blend with the reversed batch
        calls.append(images.dtype)
        soft = torch.nn.functional.one_hot(targets, 10).float()
        return 0.5 * (images + images.flip(0)), 0.5 * (soft + soft.flip(0))

    loader = DataLoader(Photos(5), batch_size=2, collate_fn=uint8_collate)
    out = list(DeviceLoader(loader, "cpu", mix=mix, channels_last=True, normalize=((0.5,), (0.5,))))
    assert calls == [torch.float32] * 3  # mixing sees normalized float batches
    images, targets = out[0]
    assert images.is_contiguous(memory_format=torch.channels_last) and images.shape == (2, 3, 16, 20)
    x = next(iter(loader))[0].float() / 255 * 2 - 1
    assert torch.allclose(images, 0.5 * (x + x.flip(0)), atol=1e-6)
    assert targets.tolist()[0][:2] == [0.5, 0.5] and out[2][1].tolist()[0][4] == 1.0  # last batch of 1


def test_device_loader_handles_empty_loaders_and_bare_batches():
    assert list(DeviceLoader(DataLoader(Photos(0), batch_size=4, collate_fn=uint8_collate), "cpu")) == []
    bare = [torch.zeros(2, 1, 3, 3, dtype=torch.uint8), torch.ones(1, 1, 3, 3, dtype=torch.uint8)]
    out = list(DeviceLoader(bare, "cpu", augkit.ToDtype("float32")))
    assert [x.dtype for x in out] == [torch.float32] * 2 and torch.allclose(out[1], torch.full((1, 1, 3, 3), 1 / 255))
    as_lists = list(DeviceLoader([[bare[0], torch.tensor([1, 2])]], "cpu"))
    assert isinstance(as_lists[0], list) and as_lists[0][1].tolist() == [1, 2]


def test_device_loader_argument_and_batch_errors():
    with pytest.raises(TypeError, match="transform must be an augkit Transform"):
        DeviceLoader([], "cpu", transform=lambda x: x)
    with pytest.raises(TypeError, match="mix must be a callable"):
        DeviceLoader([], "cpu", mix=3)
    with pytest.raises(ValueError, match=r"normalize must be a \(mean, std\) pair"):
        DeviceLoader([], "cpu", normalize=0.5)
    with pytest.raises(ValueError, match=r"std must not contain 0"):
        DeviceLoader([], "cpu", normalize=(0.5, 0))
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        DeviceLoader([], "cpu", generator=0)
    with pytest.raises(ValueError, match="mix needs"):
        list(DeviceLoader([torch.zeros(1, 3, 2, 2)], "cpu", mix=lambda x, y: (x, y)))
    with pytest.raises(TypeError, match="use collate_fn=augkit.data.uint8_collate"):
        list(DeviceLoader([{"image": torch.zeros(1, 3, 2, 2)}], "cpu"))
    assert repr(DeviceLoader([], "cpu", normalize=(0.5, 0.5))) == "DeviceLoader(device='cpu', normalize=(0.5, 0.5))"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_device_loader_on_cuda_matches_the_cpu():
    loader = DataLoader(Photos(10), batch_size=4, collate_fn=uint8_collate, pin_memory=True)
    kwargs = dict(normalize=(IMAGENET_MEAN, IMAGENET_STD), channels_last=True)
    cuda = list(DeviceLoader(loader, "cuda", **kwargs))
    cpu = list(DeviceLoader(loader, "cpu", **kwargs))
    assert all(x.is_cuda and y.is_cuda for x, y in cuda)
    assert all(torch.allclose(a.cpu(), b, atol=1e-5) and torch.equal(s.cpu(), t)
               for (a, s), (b, t) in zip(cuda, cpu))


# -- DataLoader settings ---------------------------------------------------------------------------

def test_recommended_kwargs_make_a_working_reproducible_loader():
    kwargs = recommended_loader_kwargs(num_workers=0, device="cpu", train=True, seed=1)
    assert kwargs["collate_fn"] is uint8_collate and kwargs["worker_init_fn"] is seed_worker
    assert (kwargs["pin_memory"], kwargs["persistent_workers"], kwargs["prefetch_factor"]) == (False, False, None)
    runs = [[y.tolist() for _, y in DataLoader(Photos(7), batch_size=3, shuffle=True,
                                               **recommended_loader_kwargs(0, "cpu", seed=1))]
            for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0]) == 2  # drop_last for training
    assert len(list(DataLoader(Photos(7), batch_size=3, **recommended_loader_kwargs(0, "cpu", train=False)))) == 3
    cuda = recommended_loader_kwargs(num_workers=3, device="cuda:0", train=False)
    assert cuda["pin_memory"] and cuda["persistent_workers"] and cuda["prefetch_factor"] == 4
    assert not cuda["drop_last"] and recommended_loader_kwargs()["num_workers"] >= 1
    with pytest.raises(ValueError, match="num_workers must be an int >= 0"):
        recommended_loader_kwargs(num_workers=-1)


class ThirdPartyDraws(Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int):
        return (np.random.randint(1 << 30), random.randrange(1 << 30), int(torch.randint(1 << 30, ())))  # noqa: NPY002


@pytest.mark.slow
def test_seed_worker_gives_each_worker_its_own_reproducible_third_party_draws():
    def draws():
        loader = DataLoader(ThirdPartyDraws(), batch_size=1, num_workers=2, worker_init_fn=seed_worker,
                            generator=torch.Generator().manual_seed(3))
        return [tuple(int(v) for v in batch) for batch in loader]

    first = draws()
    assert first == draws()
    assert first[0][:2] != first[1][:2]  # items 0 and 1 come from different workers
