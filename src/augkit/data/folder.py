"""An image-folder dataset (``root/<class>/<image>``) with a choice of decoder.

Each item is ``(image, class_index)``. The image has the kind its decoder gives, so that it fits
the transforms of that ecosystem without a conversion:

* ``decode="opencv"`` (default): :func:`augkit.io.read_image`, an RGB (HWC) or grayscale (HW)
  NumPy array; EXIF orientation applied; 16-bit files stay uint16. The fastest on the CPU, and
  augkit transforms run their OpenCV kernels on it.
* ``decode="pil"``: a ``PIL.Image.Image`` (EXIF orientation applied) in mode ``RGB`` or ``L``
  (or as stored with ``mode="unchanged"``). PIL has no 16-bit RGB mode: 16-bit grayscale files
  stay ``I;16`` under ``mode="L"``/``"unchanged"``; asking for them in ``RGB`` raises.
* ``decode="torchvision"``: ``torchvision.io.decode_image``, a CHW tensor (uint8, or uint16 for
  16-bit PNGs), EXIF orientation applied. It reads JPEG, PNG, WebP and GIF only. torchvision
  0.29 deprecates its image decoders in favour of TorchCodec; the dataset silences that notice
  for its own calls and keeps this backend while torchvision ships it.
* ``decode="bytes"``: the file's bytes as a 1-D uint8 tensor, for :class:`DeviceLoader` to
  decode a whole batch on the device (``decode_on_device=True``).

With ``decode="opencv"`` and an augkit ``transform`` (here, or in an :class:`AugmentedDataset`
around this dataset) that starts with a crop and a resize, the decode is fused with them
(``fused=True``, the default): the crop box is drawn from the file's header and only the DCT scale
the output needs is decoded (:mod:`augkit.data.fused`, which states the tolerance);
``fused=False`` gives the unfused pipeline's pixels bit for bit.

:func:`augkit.data.uint8_collate` batches any of these kinds into one BCHW tensor.

Unreadable files (corrupt, truncated, unsupported) raise :class:`augkit.io.ImageReadError` naming
the path with ``on_error="raise"`` (default). With ``on_error="skip"`` the dataset decodes every
file once when it is made (in threads) and leaves the unreadable ones out: ``len()`` counts the
readable images, ``dataset.skipped`` lists the paths left out (one warning names how many), and
every item is an image, so any ``DataLoader`` and collate function take it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch.utils.data import Dataset

from ..core.random import make_generator
from ..core.transform import Transform
from ..core.validation import check_number
from ..io import MODES, ImageReadError, Mode, read_bytes, read_image
from .fused import decode_transformed

__all__ = ["ImageFolderDataset", "IMAGE_EXTENSIONS", "DECODERS"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
DECODERS = ("opencv", "pil", "torchvision", "bytes")
Decoder = Literal["opencv", "pil", "torchvision", "bytes"]
_ON_ERROR = ("raise", "skip")
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L")
_TORCHVISION_DEPRECATION = "The image decoding and encoding capabilities of TorchVision are deprecated"


class ImageFolderDataset(Dataset):
    """Images stored as ``root/<class name>/<file>``, labelled by their folder.

    Args:
        root: the folder holding one sub-folder per class (nested folders below a class are
            searched too). Classes are the sub-folder names, sorted; ``class_to_idx`` maps them
            to the labels.
        transform: a callable applied to each decoded image (an augkit transform is called with
            torch's RNG, which ``seed_worker`` seeds per worker; wrap the dataset in
            :class:`AugmentedDataset` instead for augmentations fixed by (seed, epoch, index)).
        decode: ``"opencv"``, ``"pil"``, ``"torchvision"`` or ``"bytes"``; see the module
            documentation for the kind each returns.
        mode: ``"RGB"``, ``"L"`` (grayscale) or ``"unchanged"``.
        on_error: ``"raise"`` or ``"skip"`` for files that cannot be decoded (``"skip"`` decodes
            every file once here and leaves the unreadable ones out, listed in ``skipped``).
        extensions: the file name endings (case-insensitive) that count as images.
        fused: fuse the decode with a leading crop + resize of an augkit transform
            (``decode="opencv"`` only); False decodes every file in full.

    An empty ``root`` (no class folder, or no image in them) raises ``ValueError``: a silent
    dataset of length 0 usually means a wrong path. Splits may be empty (see :meth:`split`).

    >>> import os, tempfile, cv2, augkit
    >>> root = tempfile.mkdtemp()
    >>> for label in ("cat", "dog"):
    ...     os.makedirs(os.path.join(root, label))
    ...     _ = cv2.imwrite(os.path.join(root, label, "a.png"), augkit.data.sample_image("camera"))
    >>> ds = augkit.data.ImageFolderDataset(root)
    >>> ds.classes, len(ds), ds[1][0].shape, ds[1][1]
    (['cat', 'dog'], 2, (512, 512, 3), 1)
    """

    def __init__(self, root: str | os.PathLike, transform: Callable[[Any], Any] | None = None,
                 decode: Decoder = "opencv", *, mode: Mode = "RGB",
                 on_error: Literal["raise", "skip"] = "raise",
                 extensions: Sequence[str] = IMAGE_EXTENSIONS, fused: bool = True) -> None:
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable or None; got {transform!r}")
        _check_choice(decode, "decode", DECODERS)
        _check_choice(mode, "mode", MODES)
        _check_choice(on_error, "on_error", _ON_ERROR)
        self.root = os.fspath(root)
        self.transform = transform
        self.decode = decode
        self.mode = mode
        self.on_error = on_error
        self.fused = bool(fused)
        self.extensions = tuple(e.lower() for e in extensions)
        self.classes = _class_folders(self.root)
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}
        samples = [
            (path, index) for index, name in enumerate(self.classes)
            for path in _image_files(os.path.join(self.root, name), self.extensions)
        ]
        if not samples:
            raise ValueError(
                f"found no image files with extensions {', '.join(self.extensions)} in the class "
                f"folders of {self.root}"
            )
        self.skipped: list[str] = []
        if on_error == "skip":
            samples, self.skipped = self._readable(samples)
        self._set_samples(samples)

    def _set_samples(self, samples: list[tuple[str, int]]) -> None:
        self.samples = samples
        self.targets = [label for _, label in samples]

    def _readable(self, samples: list[tuple[str, int]]) -> tuple[list[tuple[str, int]], list[str]]:
        """``samples`` split into the readable ones and the paths of the others (warned about)."""
        def reason(sample: tuple[str, int]) -> str | None:
            try:  # bytes are decoded on the device later: check here that they decode
                read_image(sample[0], self.mode) if self.decode == "bytes" else self.load(sample[0])
            except ImageReadError as error:
                return error.reason
            return None

        # the threads' own catch_warnings (the torchvision decoder's) restore this state
        with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            warnings.filterwarnings("ignore", _TORCHVISION_DEPRECATION, DeprecationWarning)
            reasons = list(pool.map(reason, samples))
        bad = [(path, why) for (path, _), why in zip(samples, reasons) if why is not None]
        if bad:
            shown = "; ".join(f"{path} ({why})" for path, why in bad[:3]) + ("; ..." if len(bad) > 3 else "")
            warnings.warn(f"skipped {len(bad)} unreadable image(s) of {len(samples)} in {self.root}: {shown} "
                          f"(dataset.skipped lists them)", RuntimeWarning, stacklevel=3)
        return [s for s, why in zip(samples, reasons) if why is None], [path for path, _ in bad]

    # -- items -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        path, label = self.samples[index]
        if self.transform is None:
            return self.load(path), label
        if isinstance(self.transform, Transform):
            return self._load_transformed(path, self.transform, None), label
        return self.transform(self.load(path)), label

    def transformed_item(self, index: int, transform: Transform,
                         generator: torch.Generator | None) -> tuple[Any, int]:
        """Item ``index`` with ``transform(image, generator=generator)`` applied after this
        dataset's own transform, decoding only what it needs where it can (the hook that
        :class:`AugmentedDataset` calls)."""
        if self.transform is not None:
            image, label = self[index]
            return transform(image, generator=generator), label
        path, label = self.samples[index]
        return self._load_transformed(path, transform, generator), label

    def _load_transformed(self, path: str, transform: Transform, generator: torch.Generator | None) -> Any:
        if self.decode != "opencv" or not self.fused:
            return transform(self.load(path), generator=generator)
        return decode_transformed(read_bytes(path), transform, generator, mode=self.mode, name=path)

    def load(self, path: str) -> Any:
        """Decode the file at ``path`` with this dataset's decoder and mode (no transform)."""
        if self.decode == "opencv":
            return read_image(path, self.mode)
        if self.decode == "bytes":
            return torch.frombuffer(bytearray(read_bytes(path)), dtype=torch.uint8)
        if self.decode == "pil":
            return _read_pil(path, self.mode)
        return _read_torchvision(path, self.mode)

    # -- splits ----------------------------------------------------------------------------------

    def split(self, val_fraction: float, seed: int = 0) -> tuple[ImageFolderDataset, ImageFolderDataset]:
        """A stratified ``(train, val)`` split: ``round(val_fraction * n)`` images of each class
        (of ``n``), chosen at random from ``seed``, go to ``val``.

        Both parts are datasets like this one (same classes, decoder and transform; set
        ``val.transform`` for evaluation) with samples in folder order; files skipped as
        unreadable are in neither (both list them in ``skipped``). The same seed gives the same
        split.

        >>> import os, tempfile, cv2, augkit
        >>> root = tempfile.mkdtemp(); os.makedirs(os.path.join(root, "a"))
        >>> for i in range(10):
        ...     _ = cv2.imwrite(os.path.join(root, "a", f"{i}.png"), augkit.data.sample_image("camera"))
        >>> train, val = augkit.data.ImageFolderDataset(root).split(0.2, seed=1)
        >>> len(train), len(val)
        (8, 2)
        """
        check_number(val_fraction, "val_fraction", low=0.0, high=1.0)
        check_number(seed, "seed", integer=True)
        targets = torch.tensor(self.targets, dtype=torch.int64)
        order = torch.randperm(len(targets), generator=make_generator(seed))
        in_val = torch.zeros(len(targets), dtype=torch.bool)
        for label in range(len(self.classes)):
            members = order[targets[order] == label]
            in_val[members[: round(val_fraction * len(members))]] = True
        return self._subset(~in_val), self._subset(in_val)

    def _subset(self, keep: torch.Tensor) -> ImageFolderDataset:
        part = object.__new__(type(self))
        part.__dict__.update(self.__dict__)
        part._set_samples([self.samples[i] for i in keep.nonzero().flatten().tolist()])
        return part

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(root={self.root!r}, {len(self)} images, "
                f"{len(self.classes)} classes, decode={self.decode!r}, on_error={self.on_error!r}"
                + ("" if self.fused else ", fused=False") + ")")


def _check_choice(value: Any, name: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def _class_folders(root: str) -> list[str]:
    if not os.path.isdir(root):
        raise FileNotFoundError(f"root must be an existing folder of class folders; got {root!r}")
    classes = sorted(entry.name for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith("."))
    if not classes:
        raise ValueError(f"found no class folders in {root}; expected images stored as root/<class>/<file>")
    return classes


def _image_files(folder: str, extensions: tuple[str, ...]) -> list[str]:
    found = []
    for directory, subfolders, files in os.walk(folder, followlinks=True):
        subfolders.sort()
        found += [os.path.join(directory, f) for f in sorted(files) if f.lower().endswith(extensions)]
    return found


def _read_pil(path: str, mode: Mode) -> Image.Image:
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image.load()
    except UnidentifiedImageError:
        raise ImageReadError(path, "not a recognised image format") from None
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ImageReadError(path, f"corrupt or truncated data ({error})") from None
    if image.mode in _SIXTEEN_BIT:
        if mode == "RGB":
            raise TypeError(
                f"decode='pil' cannot return the 16-bit image {path} as RGB (PIL has no 16-bit RGB "
                f"mode); use decode='opencv' or mode='L'"
            )
        return image
    if mode == "unchanged":
        return image
    return image if image.mode == mode else image.convert(mode)


def _read_torchvision(path: str, mode: Mode) -> torch.Tensor:
    from torchvision.io import ImageReadMode, decode_image, read_file

    read_mode = {"RGB": ImageReadMode.RGB, "L": ImageReadMode.GRAY, "unchanged": ImageReadMode.UNCHANGED}[mode]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _TORCHVISION_DEPRECATION, DeprecationWarning)
        data = read_file(path)
        if data.numel() == 0:
            raise ImageReadError(path, "the file is empty")
        try:
            return decode_image(data, mode=read_mode, apply_exif_orientation=True)
        except RuntimeError as error:
            reason = str(error).strip().splitlines()[-1].split(", ")[-1]
            raise ImageReadError(path, reason) from None
