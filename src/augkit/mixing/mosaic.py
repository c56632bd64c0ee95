"""Mosaic: four images of a batch in one canvas, as YOLO trains detectors, per sample."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from ..core.config import Configurable
from ..core.validation import check_number, check_range_pair, check_size
from ..targets.sample import parse_sample
from .base import Mixer, TARGETS, _check_images
from .cutmix import _uniform_int
from .kernels import mosaic_tensor
from .targets import Regions, move_rows, sample_output

__all__ = ["Mosaic", "MosaicParams"]


@dataclass(frozen=True)
class MosaicParams:
    """One draw of :class:`Mosaic` for a batch of ``B`` images: ``index`` (int64 ``(B, 4)``, the
    images of the top-left, top-right, bottom-left and bottom-right quadrants) and ``centre``
    (int64 ``(B, 2)``, the ``(x, y)`` where the quadrants meet, in output pixels)."""

    index: torch.Tensor
    centre: torch.Tensor


class Mosaic(Configurable):
    """YOLO's mosaic on a batch: every output image is a canvas of ``size`` split at a random
    centre into four quadrants, each filled with the corner of one image of the batch that meets
    the centre (the image itself in a random quadrant, three random other images of the batch in
    the others); ``fill`` where an image is smaller than its quadrant.

    Args:
        size: ``(height, width)`` of the output (an int for a square); twice the input size gives
            YOLO's canvas, which a ``RandomAffine`` or ``RandomResizedCrop`` then crops.
        centre_range: the range of the centre as a fraction of the output height and width.
        fill: the value of the pixels no image reaches, a fraction of white in ``[0, 1]``.

    ``mosaic(images)`` returns the mixed batch; with targets (``mosaic(images, boxes=...,
    labels=..., masks=..., mask=..., keypoints=...)`` or a sample dict), a dict of the same keys:
    boxes, labels, weights, instance masks and keypoints of the four images move with their
    pixels, clipped to the quadrant they show in (boxes with no area left are dropped with their
    labels; points outside get visibility 0); a semantic mask is assembled like the images, with
    its own fill. Draws are tensors from ``generator`` (``sample_params`` / ``apply`` replay them);
    images and masks never synchronise with the host, boxes read their new count once.

    >>> import torch, augkit
    >>> mosaic = augkit.mixing.Mosaic(64)
    >>> out = mosaic(torch.rand(4, 3, 32, 32), boxes=[torch.tensor([[4.0, 4.0, 28.0, 28.0]])] * 4,
    ...              labels=[torch.tensor([1])] * 4, generator=torch.Generator().manual_seed(0))
    >>> out["image"].shape, len(out["boxes"]), bool(all((b[:, 2:] <= 64).all() for b in out["boxes"]))
    (torch.Size([4, 3, 64, 64]), 4, True)
    """

    config_key = Mixer.config_key

    def __init__(self, size: int | tuple[int, int], *, centre_range: tuple[float, float] = (0.25, 0.75),
                 fill: float = 0.0) -> None:
        self.size = check_size(size)
        self.centre_range = check_range_pair(centre_range, "centre_range", low=0.0, high=1.0)
        self.fill = float(check_number(fill, "fill", low=0.0, high=1.0))

    @property
    def output_size(self) -> tuple[int, int]:
        return (self.size, self.size) if isinstance(self.size, int) else tuple(self.size)

    def __call__(self, images: torch.Tensor | dict[str, Any], *, generator: torch.Generator | None = None,
                 **targets: Any) -> Any:
        return self.apply(images, self.sample_params(images, generator=generator), **targets)

    def sample_params(self, images: torch.Tensor | dict[str, Any], *,
                      generator: torch.Generator | None = None) -> MosaicParams:
        """Draw the quadrants' images and the centre of every output image (only the shape and
        device of ``images`` are read), from ``generator`` or torch's global RNG."""
        images = _check_images(images.get("image") if isinstance(images, dict) else images)
        n = images.shape[0]
        device = images.device if generator is None else generator.device
        own = torch.arange(n, device=device)
        others = (own[:, None] + 1 + _uniform_int(0, n - 1, 4 * n, generator, device).view(n, 4)) % n
        slot = _uniform_int(0, 4, n, generator, device)
        index = torch.where(torch.arange(4, device=device) == slot[:, None], own[:, None], others)
        (height, width), (low, high) = self.output_size, self.centre_range
        cx = _uniform_int(int(low * width), int(high * width) + 1, n, generator, device)
        cy = _uniform_int(int(low * height), int(high * height) + 1, n, generator, device)
        params = MosaicParams(index, torch.stack([cx, cy], 1))
        if device == images.device:
            return params
        return MosaicParams(*(t.to(images.device, non_blocking=True) for t in dataclasses.astuple(params)))

    def apply(self, images: torch.Tensor | dict[str, Any], params: MosaicParams, **targets: Any) -> Any:
        """The mosaic of ``params``; deterministic. A tensor in, a tensor out; a sample (a dict, or
        target keywords) in, a dict out."""
        if not isinstance(params, MosaicParams):
            raise TypeError(f"params must be MosaicParams from Mosaic.sample_params; got {type(params).__name__}")
        unknown = set(targets) - set(TARGETS) - {"labels"}
        if unknown:
            raise TypeError(f"unexpected target keyword(s) {sorted(unknown)}; targets are labels, {', '.join(TARGETS)}")
        if not isinstance(images, dict) and all(v is None for v in targets.values()):
            return self._images(_check_images(images), params)
        sample, spec = parse_sample(images, targets)
        if "labels" in sample.extra:
            raise ValueError("labels: Mosaic puts four images in one canvas, so it takes the labels of boxes "
                             "(with boxes=...), not one class label per image")
        batch = self._images(_check_images(sample.image), params)
        moved = move_rows(sample.targets, params.index, self._regions(params, spec.size), self.output_size)
        if "mask" in moved:
            mask = moved["mask"]
            moved["mask"] = mask.with_data(mosaic_tensor(mask.data, params.index, params.centre, self.output_size,
                                                         mask.fill))
        return sample_output(sample, batch, moved, sample.extra)

    def _images(self, images: torch.Tensor, params: MosaicParams) -> torch.Tensor:
        if params.index.shape != (images.shape[0], 4):
            raise ValueError(f"params were drawn for {params.index.shape[0]} image(s) but images hold {images.shape[0]}")
        fill = self.fill if images.is_floating_point() else round(self.fill * 255)
        return mosaic_tensor(images, params.index, params.centre, self.output_size, fill)

    def _regions(self, params: MosaicParams, size: tuple[int, int]) -> Regions:
        """Quadrant ``q`` shows its image shifted by ``(dx, dy)``, inside the quadrant and the
        image's own extent."""
        (height, width), (out_h, out_w) = size, self.output_size
        cx, cy = params.centre[:, 0:1], params.centre[:, 1:2]          # (B, 1)
        right = torch.tensor([0, 1, 0, 1], device=cx.device)
        below = torch.tensor([0, 0, 1, 1], device=cx.device)
        dx = cx - width * (1 - right)                                   # (B, 4)
        dy = cy - height * (1 - below)
        x1 = torch.maximum(torch.where(right == 1, cx, 0), dx)
        y1 = torch.maximum(torch.where(below == 1, cy, 0), dy)
        x2 = torch.minimum(torch.where(right == 1, out_w, cx), dx + width)
        y2 = torch.minimum(torch.where(below == 1, out_h, cy), dy + height)
        rect = torch.stack([x1, y1, torch.maximum(x2, x1), torch.maximum(y2, y1)], -1).to(torch.float32)
        ones = torch.ones_like(dx, dtype=torch.bool)
        return Regions(rect=rect, inside=ones, used=ones, shift=torch.stack([dx, dy], -1))
