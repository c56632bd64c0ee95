"""The fast input pipeline: integer batches from the workers, float work on the device.

Decoding and per-image augmentation run in DataLoader workers; :func:`uint8_collate` stacks the
images into one BCHW batch that stays uint8 (a quarter of the bytes of float32 through shared
memory, pinned memory and the host-to-device copy); :class:`DeviceLoader` copies each batch to
the device asynchronously and converts, normalizes, augments and mixes it there.

>>> import torch, augkit
>>> from torch.utils.data import DataLoader
>>> images = [(torch.full((3, 4, 4), i, dtype=torch.uint8), i) for i in range(5)]
>>> loader = DataLoader(images, batch_size=2, collate_fn=augkit.data.uint8_collate)
>>> device_loader = augkit.data.DeviceLoader(loader, "cpu", normalize=((0.0,), (1.0,)))
>>> [tuple(x.shape) for x, y in device_loader], next(iter(device_loader))[0].dtype
([(2, 3, 4, 4), (2, 3, 4, 4), (1, 3, 4, 4)], torch.float32)
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import default_collate

from ..core.transform import Transform
from ..io import decode_image
from ..transforms.convert import Normalize

__all__ = ["uint8_collate", "bytes_collate", "DeviceLoader", "recommended_loader_kwargs", "seed_worker"]

_JPEG_START = b"\xff\xd8"
Mix = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
Decode = Callable[[list[torch.Tensor], torch.device], list[torch.Tensor]]


# -- collate ---------------------------------------------------------------------------------------

def uint8_collate(batch: Sequence[Any]) -> Any:
    """Stack samples into a BCHW tensor that keeps the images' dtype (uint8, or uint16 for 16-bit).

    Samples are images (HW/HWC arrays, PIL images or CHW tensors, all of one size and dtype) or
    tuples whose first item is the image; the other items go through ``default_collate``, so
    ``(image, label)`` samples give ``(images, labels)``.

    The batch is pinned by ``DataLoader(pin_memory=True)`` (see :func:`recommended_loader_kwargs`)
    and converted to float on the device by :class:`DeviceLoader`.

    >>> import numpy as np, augkit
    >>> images, labels = augkit.data.uint8_collate([(np.zeros((4, 6, 3), np.uint8), 1)] * 2)
    >>> images.shape, images.dtype, labels.tolist()
    (torch.Size([2, 3, 4, 6]), torch.uint8, [1, 1])
    """
    if isinstance(batch[0], (tuple, list)):
        images = _stack([sample[0] for sample in batch])
        return (images, *default_collate([tuple(sample[1:]) for sample in batch]))
    return _stack(batch)


def bytes_collate(batch: Sequence[Any]) -> Any:
    """Batch encoded files (1-D uint8 tensors, as ``ImageFolderDataset(decode="bytes")`` gives)
    into a list, the other fields of ``(data, label)`` samples through ``default_collate``;
    :class:`DeviceLoader` with ``decode_on_device=True`` decodes the list.

    >>> import torch, augkit
    >>> files, labels = augkit.data.bytes_collate([(torch.zeros(5, dtype=torch.uint8), 1)] * 2)
    >>> len(files), labels.tolist()
    (2, [1, 1])
    """
    if isinstance(batch[0], (tuple, list)):
        return ([sample[0] for sample in batch], *default_collate([tuple(sample[1:]) for sample in batch]))
    return list(batch)


def _chw(image: Any) -> np.ndarray | torch.Tensor:
    """``image`` as a CHW tensor, or an array viewed as CHW (no copy)."""
    if isinstance(image, torch.Tensor):
        if image.ndim != 3:
            raise ValueError(f"uint8_collate needs CHW tensor images; got shape {tuple(image.shape)}")
        return image
    array = np.asarray(image) if isinstance(image, (Image.Image, np.ndarray)) else None
    if array is None or array.ndim not in (2, 3):
        raise TypeError(
            f"uint8_collate needs images as HW/HWC arrays, PIL images or CHW tensors; got "
            f"{type(image).__name__}" + (f" of shape {array.shape}" if array is not None else "")
        )
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def _stack(images: list[Any]) -> torch.Tensor:
    views = [_chw(image) for image in images]
    first = views[0]
    dtype = first.dtype if isinstance(first, torch.Tensor) else torch.from_numpy(first[:0]).dtype
    out = torch.empty((len(views), *first.shape), dtype=dtype)
    out_array = out.numpy()
    for i, view in enumerate(views):
        if tuple(view.shape) != tuple(first.shape) or _dtype_name(view) != _dtype_name(first):
            raise ValueError(
                f"uint8_collate stacks images of one size and dtype; sample {i} is "
                f"{tuple(view.shape)} {_dtype_name(view)} but sample 0 is {tuple(first.shape)} "
                f"{_dtype_name(first)} (crop or resize to one size in the dataset's transform)"
            )
        if isinstance(view, torch.Tensor):
            out[i].copy_(view)
        else:
            out_array[i] = view  # NumPy's strided HWC -> CHW copy beats torch's on uint8
    return out


def _dtype_name(x: np.ndarray | torch.Tensor) -> str:
    return str(x.dtype).removeprefix("torch.")


# -- device loader ---------------------------------------------------------------------------------

class DeviceLoader:
    """Iterate over ``loader`` with every batch moved to ``device`` and finished there.

    Each batch (an image tensor, or a tuple/list whose first item is the BCHW image batch and
    whose second, if any, the targets) is copied with ``non_blocking=True``; on CUDA the copy runs
    on a side stream, one batch ahead, so batch ``i + 1`` travels while batch ``i`` is used. Then,
    on the device, in this order:

    1. ``transform(images, generator=generator)``: an augkit transform on the whole batch, with
       per-image parameters;
    2. ``normalize=(mean, std)``: conversion to float32 and normalization in one pass (as
       :class:`augkit.Normalize`); integer batches are scaled to ``[0, 1]`` first;
    3. ``mix(images, targets) -> (images, soft_targets)``, e.g. MixUp or CutMix;
    4. ``channels_last``: ``images.contiguous(memory_format=torch.channels_last)``.

    Other devices (the CPU included) run the same steps without streams.

    With ``decode_on_device=True`` the batches hold encoded files (a list of 1-D uint8 tensors,
    from ``ImageFolderDataset(decode="bytes")`` and :func:`bytes_collate`): the JPEGs are decoded
    together on the device (``torchvision.io.decode_jpeg(list, device=...)`` on CUDA, or
    ``decode(files, device)`` if given), the other files, the JPEGs the batched call rejects and
    every file on devices without a batched decoder one by one on the CPU
    (:func:`augkit.io.decode_image`, whose :class:`~augkit.io.ImageReadError` names the file's
    place in the batch); ``transform`` then runs on each image (they may differ in size) and the
    results are stacked, before steps 2-4.

    Args:
        loader: any iterable of batches, usually a ``DataLoader`` with ``uint8_collate``.
        device: where the batches go.
        transform: an augkit transform for the batch, or None.
        mix: a callable ``(images, targets) -> (images, targets)``, or None.
        normalize: ``(mean, std)`` for pixels in ``[0, 1]``, or None.
        channels_last: return image batches in channels-last memory format.
        generator: the ``torch.Generator`` for ``transform`` (on the device or the CPU); the
            same generator state gives the same batches.
        decode_on_device: the batches hold encoded files, decoded here (see above).
        decode: the batched decoder ``(files, device) -> images`` (CHW uint8, RGB); default
            torchvision's on CUDA, none elsewhere.

    >>> import torch, augkit
    >>> batches = [torch.zeros(2, 3, 4, 4, dtype=torch.uint8)]
    >>> out = augkit.data.DeviceLoader(batches, "cpu", augkit.ToDtype("float32"), channels_last=True)
    >>> [x.is_contiguous(memory_format=torch.channels_last) for x in out]
    [True]
    """

    def __init__(self, loader: Iterable[Any], device: torch.device | str,
                 transform: Transform | None = None, mix: Mix | None = None,
                 channels_last: bool = False, *,
                 normalize: tuple[float | Sequence[float], float | Sequence[float]] | None = None,
                 generator: torch.Generator | None = None, decode_on_device: bool = False,
                 decode: Decode | None = None) -> None:
        if transform is not None and not isinstance(transform, Transform):
            raise TypeError(
                f"transform must be an augkit Transform (it runs on whole batches with a generator); "
                f"got {transform!r}"
            )
        if mix is not None and not callable(mix):
            raise TypeError(f"mix must be a callable (images, targets) -> (images, targets); got {mix!r}")
        if normalize is not None and (not isinstance(normalize, (tuple, list)) or len(normalize) != 2):
            raise ValueError(f"normalize must be a (mean, std) pair or None; got {normalize!r}")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None; got {generator!r}")
        self.loader = loader
        self.device = torch.device(device)
        self.transform = transform
        self.mix = mix
        self.channels_last = bool(channels_last)
        self.normalize = normalize
        self.generator = generator
        self.decode_on_device = bool(decode_on_device)
        if decode is not None and not callable(decode):
            raise TypeError(f"decode must be a callable (files, device) -> images or None; got {decode!r}")
        self.decode = decode if decode is not None else (_decode_jpegs if self.device.type == "cuda" else None)
        self._normalize = None if normalize is None else Normalize(*normalize)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Any]:
        stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None
        batches = iter(self.loader)
        pending = self._send(next(batches, None), stream)
        while pending is not None:
            batch, ready = pending
            pending = self._send(next(batches, None), stream)  # batch i + 1 travels meanwhile
            if ready is not None:
                current = torch.cuda.current_stream(self.device)
                current.wait_event(ready)
                _map_tensors(batch, lambda t: t.record_stream(current))
            yield self._finish(batch)

    def _send(self, batch: Any, stream: torch.cuda.Stream | None) -> tuple[Any, torch.cuda.Event | None] | None:
        """Start copying ``batch`` to the device (on ``stream`` if given)."""
        if batch is None:
            return None
        with torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext():
            if self.decode_on_device:  # the files stay on the host for the decoder
                if isinstance(batch, list) and batch and isinstance(batch[0], torch.Tensor):
                    batch = (batch,)  # files without labels
                moved = (batch[0], *_map_tensors(tuple(batch[1:]), lambda t: t.to(self.device, non_blocking=True)))
            else:
                moved = _map_tensors(batch, lambda t: t.to(self.device, non_blocking=True))
            if stream is None:
                return moved, None
            ready = torch.cuda.Event()
            ready.record(stream)
        return moved, ready

    def _finish(self, batch: Any) -> Any:
        """Steps 1-4 of the class documentation on a batch already on the device."""
        is_tensor = isinstance(batch, torch.Tensor)
        if not is_tensor and not (isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], (torch.Tensor, list))):
            raise TypeError(
                f"DeviceLoader needs batches that are an image tensor or a tuple/list starting with "
                f"one; got {type(batch).__name__} (use collate_fn=augkit.data.uint8_collate)"
            )
        images = batch if is_tensor else batch[0]
        fields = [] if is_tensor else list(batch[1:])
        if self.decode_on_device:
            images = self._decoded(images)
        elif self.transform is not None:
            images = self.transform(images, generator=self.generator)
        if self._normalize is not None:
            images = self._normalize(images)
        if self.mix is not None:
            if not fields:
                raise ValueError("mix needs (images, targets) batches; the loader gives images only")
            images, fields[0] = self.mix(images, fields[0])
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        if is_tensor:
            return images
        return [images, *fields] if isinstance(batch, list) else (images, *fields)

    def _decoded(self, files: Any) -> torch.Tensor:
        """The encoded ``files`` of a batch decoded (see the class documentation), transformed
        one by one and stacked."""
        if not isinstance(files, list) or not all(isinstance(f, torch.Tensor) and f.ndim == 1 for f in files):
            raise TypeError(f"decode_on_device needs batches of encoded files (a list of 1-D uint8 tensors, "
                            f"from collate_fn=augkit.data.bytes_collate); got {type(files).__name__}")
        images: list[torch.Tensor | None] = [None] * len(files)
        jpegs = [i for i, f in enumerate(files) if bytes(f[:2].numpy()) == _JPEG_START]
        if self.decode is not None and jpegs:
            try:
                for i, image in zip(jpegs, self.decode([files[i] for i in jpegs], self.device)):
                    images[i] = image
            except RuntimeError:  # one bad file fails the batched call: the CPU names it below
                pass
        for i, image in enumerate(images):
            if image is None:
                array = decode_image(files[i].numpy().tobytes(), "RGB", name=f"<file {i} of the batch>")
                images[i] = torch.from_numpy(array).permute(2, 0, 1).to(self.device, non_blocking=True)
        if self.transform is not None:
            images = [self.transform(image, generator=self.generator) for image in images]
        try:
            return torch.stack(images)
        except RuntimeError:
            sizes = sorted({tuple(image.shape) for image in images})
            raise ValueError(f"decoded images of several sizes {sizes} cannot be stacked; give DeviceLoader a "
                             f"transform that crops or resizes to one size") from None

    def __repr__(self) -> str:
        parts = [f"device={str(self.device)!r}"]
        for name in ("transform", "mix", "normalize"):
            if getattr(self, name) is not None:
                parts.append(f"{name}={getattr(self, name)!r}")
        if self.channels_last:
            parts.append("channels_last=True")
        return f"{type(self).__name__}({', '.join(parts)})"


def _decode_jpegs(files: list[torch.Tensor], device: torch.device) -> list[torch.Tensor]:
    """torchvision's batched JPEG decode on ``device`` (CUDA), in RGB."""
    import warnings

    from torchvision.io import ImageReadMode, decode_jpeg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torchvision 0.29's decoder notice
        return decode_jpeg(files, mode=ImageReadMode.RGB, device=device)


def _map_tensors(obj: Any, fn: Callable[[torch.Tensor], Any]) -> Any:
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_map_tensors(item, fn) for item in obj)
    if isinstance(obj, dict):
        return {key: _map_tensors(value, fn) for key, value in obj.items()}
    return obj


# -- DataLoader settings ---------------------------------------------------------------------------

def seed_worker(worker_id: int) -> None:
    """``worker_init_fn`` that seeds Python's ``random`` and NumPy's global RNG in a DataLoader
    worker from torch's per-worker seed, as the PyTorch reproducibility notes recommend.

    torch is already seeded per worker by the DataLoader (from its ``generator``), and augkit
    draws only from torch; this is for third-party code in the worker that uses ``random`` or
    ``np.random``, which would otherwise repeat the same draws in every worker.

    >>> import torch, augkit
    >>> augkit.data.seed_worker(0)
    """
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)  # noqa: NPY002 - seeding third-party users of the global NumPy RNG
    random.seed(seed)


def recommended_loader_kwargs(num_workers: int | None = None, device: torch.device | str | None = None,
                              *, train: bool = True, seed: int = 0) -> dict[str, Any]:
    """``DataLoader`` keyword arguments for the uint8 pipeline, with the reasons below.

    - ``num_workers``: the cores this process may use (``os.sched_getaffinity``) unless given:
      decoding and per-image augmentation are CPU-bound and scale with processes.
    - ``collate_fn=uint8_collate``: batches stay uint8, 4x fewer bytes than float32 to move.
    - ``pin_memory``: True when the device is CUDA (``device``, else CUDA if available): pinned
      batches allow asynchronous copies (``non_blocking=True`` in :class:`DeviceLoader`).
    - ``persistent_workers``: True with workers: no process start-up at every epoch
      (``AugmentedDataset.set_epoch`` still reaches them, through shared memory).
    - ``prefetch_factor``: 4 batches per worker with workers (the PyTorch default is 2): uint8
      batches are small, and a deeper queue absorbs the uneven decode time of JPEGs.
    - ``drop_last``: True for training (``train``): every step sees a full batch (batch-norm
      statistics, per-step learning rates); False for evaluation, which must see every image.
    - ``worker_init_fn=seed_worker`` and ``generator``: a ``torch.Generator`` seeded with
      ``seed``, which fixes the shuffling and the seeds of the workers, so a run can be repeated.

    >>> import augkit
    >>> kwargs = augkit.data.recommended_loader_kwargs(num_workers=2, device="cpu")
    >>> kwargs["pin_memory"], kwargs["persistent_workers"], kwargs["prefetch_factor"]
    (False, True, 4)
    """
    if num_workers is None:
        num_workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError(f"num_workers must be an int >= 0 or None; got {num_workers!r}")
    cuda = torch.device(device).type == "cuda" if device is not None else torch.cuda.is_available()
    workers = num_workers > 0
    return {
        "num_workers": num_workers,
        "collate_fn": uint8_collate,
        "pin_memory": cuda,
        "persistent_workers": workers,
        "prefetch_factor": 4 if workers else None,
        "drop_last": bool(train),
        "worker_init_fn": seed_worker,
        "generator": torch.Generator().manual_seed(int(seed)),
    }
