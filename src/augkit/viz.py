"""Pictures of augmentations: sample grids, before/after panels, mixed batches.

Needs matplotlib (``pip install 'augkit[viz]'``), imported only when a function here is called;
figures are drawn with the Agg backend and never touch ``pyplot``'s global state. Every function
returns a ``matplotlib.figure.Figure`` and, given ``path``, also writes it there as a PNG; in a
notebook, a figure that is a cell's value shows as a PNG (no ``plt.show()``).

Images may be any kind augkit takes (PIL, HW/HWC arrays, CHW tensors) in any dtype; float images
outside ``[0, 1]`` (e.g. after ``Normalize``) are shown stretched to their own range.

:func:`grid` and :func:`compare` also take a sample dict (``{"image": ..., "boxes": ...,
"labels": ..., "mask": ..., "masks": ..., "keypoints": ...}``, see :mod:`augkit.targets`) and draw
its targets on each picture: boxes (rotated ones too) with their labels, masks as a coloured
overlay (one colour per instance or class), keypoints where their visibility is above 0, joined by
the sample's ``"skeleton"`` index pairs when it has one.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import math
import os
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import torch
from PIL import Image

from .core.config import child_transforms
from .core.image import ImageLike, inspect_image
from .core.params import Params
from .core.transform import Transform
from .functional.points import box_corners
from .targets.sample import parse_sample

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["grid", "compare", "mixing", "describe_params", "blank_figure"]

_DPI = 100
_FONT = 7  # points
_LINE = _FONT * 1.45 / 72  # inches per caption line
_GRID_CAPTION_LINES = 12  # a grid's captions: every child of a Compose, each field
_CHANNEL_COLOURS = ("tab:red", "tab:green", "tab:blue", "tab:gray")


# -- captions ------------------------------------------------------------------------------------

def _format_value(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        row = value[0] if value.ndim else value
        if row.numel() > 4:
            return "<" + "x".join(map(str, row.shape)) + ">"
        items = [_format_value(v) for v in row.flatten().tolist()]
        return items[0] if row.ndim == 0 else "[" + ", ".join(items) + "]"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def describe_params(transform: Transform, params: Params) -> str:
    """A compact caption of the parameters of the first image of ``params``: its drawn fields as
    ``name=value``; for containers, the children that act on the image, with their fields.

    >>> import torch, augkit
    >>> t = augkit.Compose([augkit.HorizontalFlip(p=0.5), augkit.VerticalFlip(p=0.5)])
    >>> describe_params(t, t.sample_params(torch.rand(3, 8, 8), generator=torch.Generator().manual_seed(1)))
    'VerticalFlip'
    """
    if params.applied is not None and not bool(params.applied[0]):
        return "skipped"
    return _describe_fields(transform, params) or ("applied" if params.applied is not None else "")


def _describe_fields(transform: Transform | None, params: Params) -> str:
    """The drawn fields of the first image, and the children acting on it, for a caption."""
    child_list = [t for _, t in child_transforms(transform)] if transform is not None else []
    parts = []
    for field in dataclasses.fields(params):
        value = getattr(params, field.name)
        if field.name == "applied":
            continue
        if isinstance(value, tuple) and all(isinstance(v, Params) for v in value):
            for k, child_params in enumerate(value):
                if child_params.applied is not None and not bool(child_params.applied[0]):
                    continue
                child = child_list[k] if len(child_list) == len(value) else None
                name = type(child).__name__ if child is not None else f"{field.name}[{k}]"
                inner = _describe_fields(child, child_params)
                parts.append(f"{name}({inner})" if inner else name)
        else:
            parts.append(f"{field.name}={_format_value(value)}")
    return ", ".join(parts)


def _wrap(text: str, width: int, lines: int) -> str:
    """``text`` wrapped at ``width`` characters (its own line breaks kept), cut to ``lines``."""
    wrapped = [part for line in text.split("\n") for part in textwrap.wrap(line, width)] or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][:width - 1] + "…"
    return "\n".join(wrapped)


def _title(transform: Transform, width: int) -> str:
    """``repr(transform)`` on at most two lines."""
    text = "".join(line.strip() + " " for line in repr(transform).splitlines()).strip()
    return _wrap(text.replace("[ ", "[").replace(", ]", "]"), width, 2)


# -- images --------------------------------------------------------------------------------------

def _as_float(image: ImageLike) -> np.ndarray:
    """One image of any kind as an HWC float32 array (values as stored, scaled to ``[0, 1]`` for
    integer dtypes)."""
    if isinstance(image, Image.Image):
        image = np.asarray(image)
    if isinstance(image, torch.Tensor):
        if image.ndim == 4:
            if len(image) != 1:
                raise ValueError(f"image must be one image; got a batch of {len(image)}")
            image = image[0]
        x = image.detach().cpu()
        scale = {torch.uint8: 255.0, torch.uint16: 65535.0}.get(x.dtype, 1.0)
        array = (x.float() / scale).permute(1, 2, 0).numpy()
    else:
        array = np.asarray(image)
        scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(array.dtype, 1.0)
        array = array.astype(np.float32) / scale
    return array[:, :, None] if array.ndim == 2 else array


def _displayable(array: np.ndarray, thumb: int | None) -> np.ndarray:
    """An HWC float array as something ``imshow`` shows faithfully: values in ``[0, 1]``
    (stretched if outside), one or three or four channels, at most ``thumb`` pixels a side."""
    array = np.nan_to_num(array[:, :, :4] if array.shape[2] != 2 else array[:, :, :1])
    if array.shape[2] == 4:
        array = array[:, :, :3] * array[:, :, 3:] + (1 - array[:, :, 3:])  # over white
    height, width = array.shape[:2]
    if thumb and max(height, width) > thumb:
        factor = thumb / max(height, width)
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        array = cv2.resize(array, size, interpolation=cv2.INTER_AREA)
        array = array[:, :, None] if array.ndim == 2 else array
    low, high = float(array.min()), float(array.max())
    if low < 0 or high > 1:
        array = (array - low) / (high - low) if high > low else np.zeros_like(array)
    return np.clip(array, 0, 1)


def _show(ax: Any, array: np.ndarray, caption: str, width: int, lines: int, sample: Any = None) -> None:
    if sample is not None:  # the image's continuous coordinates on the axes, whatever the thumbnail size
        h, w = sample.size
        array = _overlay(array, sample)
        ax.imshow(array, interpolation="nearest", extent=(0, w, h, 0))
        _draw_targets(ax, sample)
    elif array.shape[2] == 1:
        ax.imshow(array[:, :, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(array, interpolation="nearest")
    ax.set_axis_off()
    if caption:
        ax.set_title(_wrap(caption, width, lines), fontsize=_FONT)


# -- targets -------------------------------------------------------------------------------------

_TARGET_ALPHA = 0.35


@dataclasses.dataclass
class _Drawn:
    """One picture's targets, ready to draw: the image size, and the targets on the host."""

    size: tuple[int, int]
    targets: dict[str, Any]
    skeleton: Sequence[tuple[int, int]]
    names: Any


def _drawn(sample: dict[str, Any], names: Any) -> _Drawn:
    """The targets of a sample dict (one image) in canonical form, on the CPU."""
    parsed, spec = parse_sample(sample, {})
    if spec.batched and spec.n != 1:
        raise ValueError(f"image must be one image; got a batch of {spec.n}")
    targets = {key: (value.to("cpu") if hasattr(value, "to") else value) for key, value in parsed.targets.items()}
    return _Drawn(spec.size, targets, parsed.extra.get("skeleton") or (), names)


def _colour(i: int) -> np.ndarray:
    from matplotlib import colormaps

    return np.asarray(colormaps["tab10"](i % 10)[:3], np.float32)


def _overlay(array: np.ndarray, drawn: _Drawn) -> np.ndarray:
    """``array`` (HWC, at thumbnail size) with the masks blended in, one colour per instance or
    class value (the fill, as an ignore index, and 0 stay clear)."""
    rgb = np.repeat(array, 3, 2) if array.shape[2] == 1 else array.copy()
    layers = []
    if "mask" in drawn.targets:
        mask = drawn.targets["mask"]
        data = np.asarray(mask.data.cpu() if isinstance(mask.data, torch.Tensor) else mask.data)
        if data.ndim == 3:  # the first channel (or the one image of a batch)
            data = data[0] if isinstance(mask.data, torch.Tensor) else data[..., 0]
        layers += [(data == value, int(value)) for value in np.unique(data) if value not in (0, mask.fill)]
    if "masks" in drawn.targets:
        masks = drawn.targets["masks"].data
        masks = np.asarray(masks.cpu() if isinstance(masks, torch.Tensor) else masks)
        layers += [(m != 0, key) for m, key in zip(masks, _colour_keys(drawn, len(masks)))]
    h, w = rgb.shape[:2]
    for region, colour in layers:
        small = cv2.resize(region.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
        rgb[small] = (1 - _TARGET_ALPHA) * rgb[small] + _TARGET_ALPHA * _colour(colour)
    return rgb


def _colour_keys(drawn: _Drawn, n: int) -> list[int]:
    """The colour of each of ``n`` objects: by label when they have labels (the same after
    SanitizeBoxes drops some), else by position."""
    labels = drawn.targets.get("labels")
    if labels is not None and len(labels.data) == n and not labels.data.is_floating_point():
        return labels.data.tolist()
    return list(range(n))


def _label_text(label: Any, names: Any) -> str:
    if names is None:
        return str(label)
    try:
        return str(names[label])
    except (KeyError, IndexError, TypeError):
        return str(label)


def _draw_targets(ax: Any, drawn: _Drawn) -> None:
    """Boxes with their labels, and keypoints, as artists over the image (continuous coordinates)."""
    from matplotlib.patches import Polygon

    boxes = drawn.targets.get("boxes")
    labels = drawn.targets.get("labels")
    if boxes is not None:
        pixels = boxes.to_pixels()
        corners = (box_corners(pixels.data.double(), "cxcywhr") if boxes.format == "cxcywhr"
                   else box_corners(pixels.convert("xyxy").data.double())).numpy()
        values = labels.data.tolist() if labels is not None else [None] * len(corners)
        for quad, label, key in zip(corners, values, _colour_keys(drawn, len(corners))):
            colour = _colour(key)
            ax.add_patch(Polygon(quad, closed=True, fill=False, edgecolor=colour, linewidth=1.2))
            if label is not None:
                ax.text(quad[0, 0], quad[0, 1], _label_text(label, drawn.names), fontsize=_FONT - 1, color="white",
                        va="top", ha="left", clip_on=True, bbox=dict(facecolor=colour, edgecolor="none", pad=1))
    points = drawn.targets.get("keypoints")
    if points is not None:
        xy, visible = points.data.double().numpy(), (points.visibility > 0).numpy()
        for group, seen, key in zip(xy, visible, _colour_keys(drawn, len(xy))):
            colour = _colour(key)
            for a, b in drawn.skeleton:
                if a < len(group) and b < len(group) and seen[a] and seen[b]:
                    ax.plot(*group[[a, b]].T, color=colour, linewidth=1.0)
            ax.scatter(group[seen, 0], group[seen, 1], s=10, color=colour, edgecolors="white", linewidths=0.6, zorder=3)
    h, w = drawn.size
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)


# -- figures -------------------------------------------------------------------------------------

def blank_figure(width: float, height: float) -> Figure:
    """An empty ``width`` x ``height`` inch figure drawn with Agg, outside ``pyplot``: a script
    saves it with ``savefig``, a notebook shows it as a PNG when it is a cell's value (whatever
    the backend), and the user's ``pyplot`` state and backend are never touched.

    >>> figure = blank_figure(2, 1)
    >>> figure.subplots(1, 2).shape, figure._repr_png_()[:4]
    ((2,), b'\\x89PNG')
    """
    figure_type, canvas_type = _figure_types()
    figure = figure_type(figsize=(width, height), dpi=_DPI)
    canvas_type(figure)
    return figure


@functools.cache
def _figure_types() -> tuple[type, type]:
    """The figure class of augkit.viz (a Figure that Jupyter displays as a PNG through IPython's
    ``_repr_png_`` protocol) and the Agg canvas that draws it."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("augkit.viz needs matplotlib: pip install 'augkit[viz]'") from error

    class NotebookFigure(Figure):
        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=_DPI)
            return buffer.getvalue()

    NotebookFigure.__module__ = __name__
    return NotebookFigure, FigureCanvasAgg


def _tiles(images: Sequence[np.ndarray], captions: Sequence[str], columns: int | None, thumb: int,
           title: str = "", caption_lines: int = 3, samples: Sequence[_Drawn | None] = ()) -> Figure:
    """Tile displayable images in a grid of ``thumb``-pixel cells, captions above each."""
    n = len(images)
    columns = max(1, min(n, columns or min(n, 4)))
    rows = math.ceil(n / columns)
    aspect = max(a.shape[0] / a.shape[1] for a in images)
    cell_w, cell_h = thumb / _DPI, thumb * min(aspect, 1.5) / _DPI
    lines = max((_wrap(c, _chars(thumb), caption_lines).count("\n") + 1) if c else 0 for c in captions)
    caption_h = lines * _LINE + 0.04
    title_h = (title.count("\n") + 1) * 1.4 * 8 / 72 + 0.05 if title else 0.02
    pad = 0.04
    width = columns * (cell_w + pad) + pad
    height = rows * (cell_h + caption_h + pad) + title_h + pad
    figure = blank_figure(width, height)
    if title:
        figure.suptitle(title, fontsize=8, y=1 - 0.02 / height, va="top")
    for i, (array, caption) in enumerate(zip(images, captions)):
        r, c = divmod(i, columns)
        left = (pad + c * (cell_w + pad)) / width
        bottom = 1 - (title_h + (r + 1) * (cell_h + caption_h + pad) - pad) / height
        ax = figure.add_axes((left, bottom, cell_w / width, cell_h / height))
        _show(ax, array, caption, _chars(thumb), caption_lines, samples[i] if samples else None)
    return figure


def _chars(thumb: int) -> int:
    """Caption characters that fit across a ``thumb``-pixel cell."""
    return max(12, int(thumb / (_FONT * 0.62 * _DPI / 72)))


def _save(figure: Figure, path: str | os.PathLike | None) -> Figure:
    if path is not None:
        figure.savefig(os.fspath(path), format="png", dpi=_DPI)
    return figure


def _image_and_targets(value: Any, names: Any) -> tuple[Any, _Drawn | None]:
    """The image of ``value`` (an image or a sample dict) and its targets to draw (None for an image)."""
    if isinstance(value, dict):
        return value["image"], _drawn(value, names)
    return value, None


def grid(transform: Transform, image: ImageLike | dict[str, Any], n: int = 16, seed: int = 0, *,
         columns: int | None = None, thumb: int = 160, original: bool = False, class_names: Any = None,
         path: str | os.PathLike | None = None) -> Figure:
    """``n`` augmented samples of one ``image``, captioned with the parameters each one drew.

    Sample ``i`` draws its parameters from one generator seeded with ``seed`` (so the figure is
    reproducible) and is shown at most ``thumb`` pixels a side, ``columns`` per row (at most 4
    by default); ``original=True`` shows ``image`` itself first. Given a sample dict instead of
    an image, each picture shows its moved targets, labels named by ``class_names`` (a list or
    a dict from label to name) when given.

    >>> import augkit, augkit.viz
    >>> fig = augkit.viz.grid(augkit.HorizontalFlip(), augkit.data.sample_image("chelsea"), n=4)
    >>> [ax.get_title() for ax in fig.axes]
    ['applied', 'skipped', 'applied', 'applied']
    """
    if not isinstance(transform, Transform):
        raise TypeError(f"transform must be an augkit Transform; got {transform!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int; got {n!r}")
    picture, drawn = _image_and_targets(image, class_names)
    spec = inspect_image(picture)
    if spec.batched and spec.n != 1:
        raise ValueError(f"image must be one image; got a batch of {spec.n}")
    generator = torch.Generator().manual_seed(int(seed))
    images, captions = ([_displayable(_as_float(picture), thumb)], ["original"]) if original else ([], [])
    samples = [drawn] if original else []
    for _ in range(n):
        params = transform.sample_params(spec, generator=generator)
        out, moved = _image_and_targets(transform.apply(image, params), class_names)
        images.append(_displayable(_as_float(out), thumb))
        samples.append(moved)
        captions.append(describe_params(transform, params))
    return _save(_tiles(images, captions, columns, thumb, _title(transform, _chars(thumb) * 4),
                        caption_lines=_GRID_CAPTION_LINES, samples=samples if drawn is not None else ()), path)


def compare(image: ImageLike | dict[str, Any], transform: Transform, seed: int = 0, *, bins: int = 64,
            thumb: int = 320, class_names: Any = None, path: str | os.PathLike | None = None) -> Figure:
    """The image before and after ``transform``, each above its intensity histograms (one line
    per channel): for contrast and tone operations such as CLAHE, equalization or denoising.
    Given a sample dict, both panels show its targets (see :func:`grid`).

    >>> import augkit, augkit.viz
    >>> fig = augkit.viz.compare(augkit.data.sample_image("camera"), augkit.VerticalFlip(p=1.0))
    >>> [ax.get_title() for ax in fig.axes][:2]
    ['before', 'after']
    """
    if not isinstance(transform, Transform):
        raise TypeError(f"transform must be an augkit Transform; got {transform!r}")
    picture, drawn_before = _image_and_targets(image, class_names)
    spec = inspect_image(picture)
    params = transform.sample_params(spec, generator=torch.Generator().manual_seed(int(seed)))
    out, drawn_after = _image_and_targets(transform.apply(image, params), class_names)
    before, after = _as_float(picture), _as_float(out)
    caption = describe_params(transform, params)
    shown = [_displayable(before, thumb), _displayable(after, thumb)]
    aspect = max(a.shape[0] / a.shape[1] for a in shown)
    cell = thumb / _DPI
    hist_h = 0.45 * cell
    figure = blank_figure(2 * cell + 0.6, cell * aspect + hist_h + 1.0)
    axes = figure.subplots(2, 2, height_ratios=[cell * aspect, hist_h])
    figure.subplots_adjust(left=0.04, right=0.98, top=0.9, bottom=0.08, wspace=0.12, hspace=0.3)
    figure.suptitle(_title(transform, 2 * _chars(thumb)), fontsize=8)
    panels = zip(shown, ("before", "after"), (before, after), (drawn_before, drawn_after))
    for column, (array, name, full, drawn) in enumerate(panels):
        _show(axes[0, column], array, name, _chars(thumb), 1, drawn)
        _histogram(axes[1, column], full, bins)
    if caption:
        axes[0, 1].set_xlabel(caption, fontsize=_FONT)
        axes[0, 1].xaxis.set_visible(True)
    return _save(figure, path)


def _histogram(ax: Any, array: np.ndarray, bins: int) -> None:
    low, high = min(0.0, float(array.min())), max(1.0, float(array.max()))
    channels = array.shape[2]
    for k in range(channels):
        counts, edges = np.histogram(array[:, :, k], bins=bins, range=(low, high))
        colour = _CHANNEL_COLOURS[3] if channels == 1 else _CHANNEL_COLOURS[k % 4]
        ax.stairs(counts / counts.sum(), edges, color=colour, linewidth=0.8)
    ax.set_yticks([])
    ax.tick_params(labelsize=_FONT - 1)
    ax.set_xlim(low, high)


def mixing(x: ImageLike, y_soft: torch.Tensor | np.ndarray, class_names: Sequence[str] | None = None,
           *, top: int = 2, columns: int | None = None, thumb: int = 160,
           path: str | os.PathLike | None = None) -> Figure:
    """A mixed batch ``x`` (``(B, C, H, W)``) with the ``top`` classes of each soft label
    ``y_soft`` (``(B, K)``, e.g. from MixUp or CutMix) as captions.

    >>> import torch, augkit.viz
    >>> y = torch.tensor([[0.7, 0.3, 0.0], [0.0, 0.4, 0.6]])
    >>> fig = augkit.viz.mixing(torch.rand(2, 3, 8, 8), y, ["cat", "dog", "owl"])
    >>> [ax.get_title() for ax in fig.axes]
    ['cat 0.70\\ndog 0.30', 'owl 0.60\\ndog 0.40']
    """
    spec = inspect_image(x, "x")
    if not spec.batched:
        raise ValueError(f"x must be a (B, C, H, W) batch; got shape {tuple(x.shape)}")
    y = torch.as_tensor(y_soft).detach().cpu().float()
    if y.ndim != 2 or len(y) != spec.n:
        raise ValueError(f"y_soft must have shape ({spec.n}, K) for a batch of {spec.n}; "
                         f"got {tuple(y.shape)}")
    k = y.shape[1]
    names = list(class_names) if class_names is not None else [f"class {i}" for i in range(k)]
    if len(names) != k:
        raise ValueError(f"class_names must name all {k} classes; got {len(names)}")
    values, indices = y.topk(min(top, k), dim=1)
    captions = ["\n".join(f"{names[i]} {v:.2f}" for v, i in zip(vs.tolist(), ix.tolist()) if v > 5e-3)
                for vs, ix in zip(values, indices)]
    images = [_displayable(_as_float(image), thumb) for image in x]
    return _save(_tiles(images, captions, columns, thumb, caption_lines=top), path)
