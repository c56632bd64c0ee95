"""Mixing kernels: a batch combined with a permuted copy of itself, vectorised over samples.

``box_mask`` turns per-sample boxes into a ``(B, 1, H, W)`` mask by broadcast comparisons, and
``mix_images`` blends or pastes each image with its partner ``images[index]``. Both are pure
(no randomness) and run on any device without host synchronisation.
"""

from __future__ import annotations

import torch

__all__ = ["box_mask", "box_kept_fraction", "mix_images"]


def box_mask(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """A bool mask ``(B, 1, H, W)``, true inside box ``(top, bottom, left, right)`` (bottom and
    right exclusive) of each sample.

    >>> import torch
    >>> box_mask(torch.tensor([[0, 1, 1, 3]]), 2, 3).int().tolist()
    [[[[0, 1, 1], [0, 0, 0]]]]
    """
    rows = torch.arange(height, device=boxes.device).view(1, 1, height, 1)
    cols = torch.arange(width, device=boxes.device).view(1, 1, 1, width)
    top, bottom, left, right = (boxes[:, i].view(-1, 1, 1, 1) for i in range(4))
    return (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)


def box_kept_fraction(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The float32 fraction of pixels outside each (clipped) box: ``1 - area / (H * W)``."""
    area = (boxes[:, 1] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 2])
    return 1.0 - area.to(torch.float32) / float(height * width)


def _partner(images: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    # index_select is the faster gather on contiguous batches; advanced indexing keeps a
    # channels-last layout.
    return images.index_select(0, index) if images.is_contiguous() else images[index]


def mix_images(images: torch.Tensor, index: torch.Tensor, weight: torch.Tensor | None = None,
               mask: torch.Tensor | None = None, *, inplace: bool = False) -> torch.Tensor:
    """Mix every image ``images[i]`` with its partner ``images[index[i]]``.

    ``weight`` (shape ``(B,)``) is the share of the image itself, as in MixUp; ``mask``
    (``(B, 1, H, W)`` bool) marks the pixels taken from the partner, as in CutMix (there the
    share is 0); pixels outside the mask get ``weight`` (1 when ``None``). Blends use
    ``torch.lerp``, so shares of 0 and 1 give exact copies; integer images are blended in float32
    and rounded. With ``inplace`` the result is written into ``images``.

    >>> import torch
    >>> x = torch.tensor([0.0, 1.0]).view(2, 1, 1, 1)
    >>> mix_images(x, torch.tensor([1, 0]), weight=torch.tensor([0.25, 1.0])).flatten().tolist()
    [0.75, 1.0]
    """
    partner = _partner(images, index)
    if weight is None and mask is not None:
        return torch.where(mask, partner, images, out=images if inplace else partner)
    share = torch.ones(1, dtype=torch.float32, device=images.device) if weight is None else weight
    share = share.to(torch.float32).view(-1, 1, 1, 1)
    if mask is not None:
        share = torch.where(mask, 0.0, share)
    if not images.is_floating_point():
        mixed = torch.lerp(partner.to(torch.float32), images.to(torch.float32), share)
        mixed = mixed.round_().to(images.dtype)
        return images.copy_(mixed) if inplace else mixed
    share = share.to(images.dtype)
    if inplace:
        return images.lerp_(partner, 1.0 - share)
    return partner.lerp_(images, share)
