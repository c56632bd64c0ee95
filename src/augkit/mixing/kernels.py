"""Mixing kernels: a batch combined with a permuted copy of itself, vectorised over samples.

``box_mask`` turns per-sample boxes into a ``(B, 1, H, W)`` mask by broadcast comparisons, and
``mix_images`` blends or pastes each image with its partner ``images[index]``. Both are pure
(no randomness) and run on any device without host synchronisation.

``mix_images`` is the row ``("mix_images", "tensor")`` of the kernel table, with three backends
(``augkit list --kernels``), all giving the same bits, in place or not:

* ``c`` (dense float32 and uint8 CPU batches, contiguous or channels-last): the C kernel of
  ``csrc/mix.c`` writes each output image in one pass, reading the image and its partner straight
  from the batch, a chunk of rows of every image at a time, in an order where the partner's chunk
  is still in the cache from the image before; in place it writes only what changes (the boxes, when pasting), ordering the images so that every
  partner is read before it is overwritten. Like torch's own CPU kernels it checks the index and
  the boxes first. Blends use ``torch.lerp``'s formula.
* ``torch blocks`` (other CPU batches): the torch ops below in blocks of at least two samples
  (about ``BLOCK_BYTES``, so that a block and its scratch stay in the L2 cache), into an output
  allocated once: a block's partners are gathered into a small reused scratch buffer (in place,
  all partners are gathered first, before any sample is overwritten).
* ``torch`` (every tensor: GPUs, autograd, ``torch.compile``): one vectorised computation that
  writes into the gathered partners (out of place) or into the images (in place).

Pixels taken from the partner are selected with a ``{0, 1}`` weight (``torch.lerp`` on float
images, wrapping integer arithmetic on uint8), never with a boolean ``torch.where``, which is a
slow scalar loop on the CPU; uint8 images are blended in float32 and rounded half to even.
"""

from __future__ import annotations

import torch

from ..core import executor
from ..core.kernels import backend, tensor_kernel, when

try:
    from .. import _native  # the C kernels (see csrc/mix.c)
except ImportError:  # built without a C compiler: the torch code below computes the same
    _native = None

__all__ = ["box_mask", "box_kept_fraction", "mix_images", "mix_images_tensor", "mosaic_tensor"]

BLOCK_BYTES = 1 << 21
"""Bytes of images mixed per block on the CPU path, counted at 4 bytes a value at least (uint8
blends run in float32): 2 MiB, so that a block, its partners and its weights fit in a 4 MiB L2
cache."""


def _box_sides(boxes: torch.Tensor, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Bool ``(B, 1, H, 1)`` and ``(B, 1, 1, W)``: which rows and which columns each box spans."""
    top, bottom, left, right = (boxes[:, i].view(-1, 1, 1, 1) for i in range(4))
    rows = torch.arange(height, device=boxes.device).view(1, 1, -1, 1)
    cols = torch.arange(width, device=boxes.device).view(1, 1, 1, -1)
    return (rows >= top) & (rows < bottom), (cols >= left) & (cols < right)


def box_mask(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """A bool mask ``(B, 1, H, W)``, true inside box ``(top, bottom, left, right)`` (bottom and
    right exclusive) of each sample.

    >>> import torch
    >>> box_mask(torch.tensor([[0, 1, 1, 3]]), 2, 3).int().tolist()
    [[[[0, 1, 1], [0, 0, 0]]]]
    """
    in_rows, in_cols = _box_sides(boxes, height, width)
    return in_rows & in_cols


def box_kept_fraction(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The float32 fraction of pixels outside each (clipped) box: ``1 - area / (H * W)``."""
    area = (boxes[:, 1::2] - boxes[:, ::2]).prod(1)
    return 1.0 - area.to(torch.float32) / float(height * width)


_Factors = tuple[torch.Tensor, torch.Tensor | None]


def _pixel_factors(box: torch.Tensor | None, weight: torch.Tensor | None, height: int, width: int,
                   dtype: torch.dtype) -> _Factors:
    """Per-row and per-column factors of the pixel weights of the batch (see ``_pixel_weights``),
    small tensors ``(B, 1, H, 1)`` and ``(B, 1, 1, W)``, or ``(B, 1, 1, 1)`` and ``None`` without
    boxes. Boxes are pasted when ``weight`` is ``None``."""
    if box is None:
        return weight.to(dtype).view(-1, 1, 1, 1), None
    in_rows, in_cols = _box_sides(box, height, width)
    if weight is None:   # pasted boxes
        return in_rows.to(dtype), in_cols.to(dtype)
    share = weight.to(dtype).view(-1, 1, 1, 1)
    return share * (~in_rows).to(dtype), share * (~in_cols).to(dtype)


def _pixel_weights(factors: _Factors, pasted: bool, part: slice) -> torch.Tensor:
    """The pixel weights of the samples ``part``: when ``pasted`` (no
    blend weight), 1 inside the box (the partner's pixels) and 0 outside; otherwise the share of
    the image itself, ``weight`` outside the box and 0 inside (outside the box is outside its rows
    or its columns: ``max(weight * ~in_rows, weight * ~in_cols)``)."""
    by_rows, by_cols = factors
    if by_cols is None:
        return by_rows[part]
    return (torch.mul if pasted else torch.maximum)(by_rows[part], by_cols[part])


def _mix(target: torch.Tensor, own: torch.Tensor, partner: torch.Tensor, pixel: torch.Tensor,
         pasted: bool) -> None:
    """Write into ``target`` (``own`` itself in place) the mix of ``own`` and ``partner`` (a block of
    samples and their partners) with ``pixel`` weights; ``partner`` may be overwritten."""
    if pasted:
        # Partner pixels where the weight is 1, exactly (lerp at 0 and 1 gives its ends).
        if target.is_floating_point():
            torch.lerp(own, partner, pixel, out=target)
        else:   # uint8: own + 1 * (partner - own) wraps around to partner
            torch.addcmul(own, torch.sub(partner, own, out=partner), pixel, out=target)
    elif target.is_floating_point():
        torch.lerp(partner, own, pixel, out=target)
    else:
        target.copy_(torch.lerp(partner.to(torch.float32), own.to(torch.float32), pixel).round_())


def _empty(shape: tuple[int, ...], like: torch.Tensor, storage: torch.Tensor | None = None) -> torch.Tensor:
    """A tensor of ``shape`` in the layout of ``like`` (channels-last or contiguous), new or at the
    start of the flat ``storage``."""
    channels_last = like.is_contiguous(memory_format=torch.channels_last) and not like.is_contiguous()
    n, c, h, w = shape
    flat = executor.empty((n * c * h * w,), like.dtype, like.device) if storage is None else storage[: n * c * h * w]
    return flat.view(n, h, w, c).permute(0, 3, 1, 2) if channels_last else flat.view(shape)


def _gather(images: torch.Tensor, index: torch.Tensor, storage: torch.Tensor | None = None) -> torch.Tensor:
    """The samples ``images[index]``, new or in ``storage``."""
    return torch.index_select(images, 0, index, out=_empty((index.shape[0], *images.shape[1:]), images, storage))


def _blend_dtype(images: torch.Tensor, pasted: bool) -> torch.Tensor:
    return images.dtype if images.is_floating_point() or pasted else torch.float32


@tensor_kernel("mix_images")
def mix_images_tensor(images: torch.Tensor, index: torch.Tensor, weight: torch.Tensor | None,
                      box: torch.Tensor | None, *, inplace: bool = False) -> torch.Tensor:
    """:func:`mix_images` on checked arguments (``weight`` and ``box`` not both ``None``), by the
    backend that takes ``images`` (module doc); this one, the vectorised torch code, takes all."""
    height, width = images.shape[-2:]
    pasted = weight is None
    factors = _pixel_factors(box, weight, height, width, _blend_dtype(images, pasted))
    partner = _gather(images, index)
    _mix(images if inplace else partner, images, partner, _pixel_weights(factors, pasted, slice(None)), pasted)
    return images if inplace else partner


def _dense(x: torch.Tensor) -> bool:
    return x.is_contiguous() or x.is_contiguous(memory_format=torch.channels_last)


if _native is not None:
    @backend("mix_images", "tensor", "c", when(device="cpu", dtypes=(torch.float32, torch.uint8), plain=True,
                                                 test=_dense, text="contiguous or channels-last"))
    def _mix_c(images: torch.Tensor, index: torch.Tensor, weight: torch.Tensor | None,
               box: torch.Tensor | None, *, inplace: bool = False) -> torch.Tensor:
        """The C kernel (module doc); its condition guarantees CPU tensors, so it reads the params."""
        n, c, h, w = images.shape
        index = index.to("cpu", torch.int64).contiguous()
        weight = None if weight is None else weight.to("cpu", torch.float32).contiguous()
        box = None if box is None else box.to("cpu", torch.int64).contiguous()
        out = images if inplace else _empty(images.shape, images)
        _native.mix(images.data_ptr(), out.data_ptr(), n, c, h, w, images.element_size(),
                    images.dtype == torch.uint8, not images.is_contiguous(), index.data_ptr(),
                    0 if weight is None else weight.data_ptr(), 0 if box is None else box.data_ptr())
        return out


@backend("mix_images", "tensor", "torch blocks", when(device="cpu", plain=True))
def _mix_blocks(images: torch.Tensor, index: torch.Tensor, weight: torch.Tensor | None,
                box: torch.Tensor | None, *, inplace: bool = False) -> torch.Tensor:
    """The torch code in blocks of samples, each mixed by the vectorised ops."""
    n, (height, width), pasted = images.shape[0], images.shape[-2:], weight is None
    factors = _pixel_factors(box, weight, height, width, _blend_dtype(images, pasted))
    bounds = executor.block_bounds(n, images[0].numel() * max(4, images.element_size()), BLOCK_BYTES)
    parts = [slice(start, stop) for start, stop in zip(bounds, bounds[1:])]
    if inplace:   # every partner is read before any sample is overwritten
        partners = [_gather(images, index[part]) for part in parts]
        target = images
    else:         # one block's partners at a time, in a reused scratch buffer
        scratch = torch.empty(max(p.stop - p.start for p in parts) * images[0].numel(), dtype=images.dtype)
        partners = (_gather(images, index[part], scratch) for part in parts)
        target = _empty(images.shape, images)
    for part, partner in zip(parts, partners):
        _mix(target[part], images[part], partner, _pixel_weights(factors, pasted, part), pasted)
    return target


def _check_arguments(images: torch.Tensor, index: torch.Tensor, weight: torch.Tensor | None,
                     box: torch.Tensor | None) -> None:
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"images must be a (B, C, H, W) tensor; got {getattr(images, 'shape', type(images))}")
    n = images.shape[0]
    for name, value, shape in (("index", index, (n,)), ("weight", weight, (n,)), ("box", box, (n, 4))):
        if value is None and name != "index":
            continue
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a tensor; got {type(value).__name__}")
        if tuple(value.shape) != shape:
            raise ValueError(f"{name} must have shape {shape} for a batch of {n} images; got {tuple(value.shape)}")


def mix_images(images: torch.Tensor, index: torch.Tensor, weight: torch.Tensor | None = None,
               box: torch.Tensor | None = None, *, inplace: bool = False) -> torch.Tensor:
    """Mix every image ``images[i]`` with its partner ``images[index[i]]``.

    ``weight`` (shape ``(B,)``) is the share of the image itself, as in MixUp; ``box`` (int64
    ``(B, 4)`` as top, bottom, left, right, see :func:`box_mask`) marks the pixels taken from the
    partner, as in CutMix (there the share is 0); pixels outside the box get ``weight`` (1 when
    ``None``: the partner's box is pasted exactly). Blends use ``torch.lerp``, so shares of 0 and 1
    give exact copies; integer images are blended in float32 and rounded. With ``inplace`` the
    result is written into ``images``, the same bits. See the module docstring for how it is
    computed.

    >>> import torch
    >>> x = torch.tensor([0.0, 1.0]).view(2, 1, 1, 1)
    >>> mix_images(x, torch.tensor([1, 0]), weight=torch.tensor([0.25, 1.0])).flatten().tolist()
    [0.75, 1.0]
    """
    _check_arguments(images, index, weight, box)
    if weight is None and box is None:
        weight = torch.ones(images.shape[0], device=images.device)
    return mix_images_tensor(images, index, weight, box, inplace=inplace)


@tensor_kernel("mosaic")
def mosaic_tensor(x: torch.Tensor, index: torch.Tensor, centre: torch.Tensor, size: tuple[int, int],
                  fill: float | int) -> torch.Tensor:
    """Four images of a batch ``x`` (``(B, ..., H, W)``, any dtype: images or masks) in every
    output canvas of ``size``: output ``b`` shows the bottom-right corner of ``x[index[b, 0]]``
    above and left of its ``centre[b]`` (int64 ``(x, y)``), the bottom-left corner of
    ``x[index[b, 1]]`` above and right of it, then the top-right and top-left corners of
    ``index[b, 2]`` and ``index[b, 3]`` below it, YOLO's mosaic; ``fill`` where no image reaches.
    One gather over the output pixels, on any device, without host synchronisation.

    >>> import torch
    >>> x = torch.arange(4).view(4, 1, 1, 1).expand(4, 1, 2, 2)
    >>> mosaic_tensor(x, torch.tensor([[0, 1, 2, 3]]), torch.tensor([[2, 1]]), (3, 4), -1)[0, 0].tolist()
    [[0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]
    """
    height, width = x.shape[-2:]
    rows = torch.arange(size[0], device=x.device).view(1, -1)
    cols = torch.arange(size[1], device=x.device).view(1, -1)
    below, right = rows >= centre[:, 1:2], cols >= centre[:, 0:1]     # (B, H_out), (B, W_out)
    sy = rows - centre[:, 1:2] + torch.where(below, 0, height)      # source row and column
    sx = cols - centre[:, 0:1] + torch.where(right, 0, width)
    valid = ((sy >= 0) & (sy < height))[:, :, None] & ((sx >= 0) & (sx < width))[:, None, :]
    quadrant = 2 * below.long()[:, :, None] + right.long()[:, None, :]
    source = index.gather(1, quadrant.flatten(1)).view_as(quadrant)
    planes = x.movedim((-2, -1), (1, 2))                               # (B, H, W, ...)
    out = planes[source, sy.clamp(0, height - 1)[:, :, None], sx.clamp(0, width - 1)[:, None, :]]
    valid = valid.view(*valid.shape, *([1] * (out.ndim - 3)))
    out = torch.where(valid, out, torch.tensor(fill, dtype=out.dtype, device=out.device))
    return out.movedim((1, 2), (-2, -1)).contiguous()
