"""Visualization: grids captioned with the drawn parameters, before/after panels, mixed batches."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

import augkit
from augkit.core import Params, Transform
from augkit.viz import compare, describe_params, grid, mixing

from .helpers import make_image

pytest.importorskip("matplotlib")


@dataclass(frozen=True, kw_only=True)
class _GainParams(Params):
    gain: torch.Tensor
    offset: torch.Tensor  # (n, 2): shown as a list
    noise: torch.Tensor  # (n, 8): too long to show, summarised by its shape


class _Gain(Transform):
    """Multiply float images by a drawn gain (a test transform with drawn fields)."""

    params_type = _GainParams

    def __init__(self, p: float = 1.0) -> None:
        super().__init__(p)

    def _draw(self, spec, generator) -> dict[str, Any]:
        def rand(*shape):
            return torch.rand(spec.n, *shape, generator=generator, device=spec.device)

        return {"gain": rand() * 0.5 + 0.5, "offset": rand(2), "noise": rand(8)}

    def _apply_tensor(self, x, params):
        return x * params.gain.view(-1, 1, 1, 1).to(x.dtype)

    def _apply_numpy(self, x, params):
        return x * np.float32(params.gain.item())


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _shown(ax) -> np.ndarray:
    return np.asarray(ax.images[0].get_array())


def test_grid_captions_are_the_parameters_each_sample_drew():
    t, image = _Gain(p=0.5), make_image("numpy", "float32", 16, 16)
    figure = grid(t, image, n=6, seed=3)
    generator = torch.Generator().manual_seed(3)
    expected = []
    for _ in range(6):
        params = t.sample_params(image, generator=generator)
        if params.applied[0]:
            g, (a, b) = params.gain.item(), params.offset[0].tolist()
            expected.append(f"gain={g:.3g}, offset=[{a:.3g}, {b:.3g}], noise=<8>")
        else:
            expected.append("skipped")
    titles = [ax.get_title().replace("\n", " ") for ax in figure.axes]
    assert titles == expected
    assert "skipped" in titles and any(t.startswith("gain=") for t in titles)


def test_grid_shows_the_transformed_images():
    image = make_image("numpy", "uint8", 20, 30)
    figure = grid(augkit.VerticalFlip(p=1.0), image, n=2, thumb=64)
    assert len(figure.axes) == 2
    np.testing.assert_allclose(_shown(figure.axes[0]), image[::-1] / 255, atol=1e-6)
    gray = make_image("tensor", "uint16", 20, 30, channels=1)
    shown = _shown(grid(augkit.HorizontalFlip(p=1.0), gray, n=1).axes[0])
    np.testing.assert_allclose(shown, gray[0].flip(-1).numpy() / 65535, atol=1e-6)


def test_grid_thumbnails_are_small_and_normalized_floats_are_stretched():
    figure = grid(augkit.Normalize(), make_image("numpy", "uint8", 300, 200), n=1, thumb=100)
    shown = _shown(figure.axes[0])
    assert shown.shape == (100, 67, 3)
    assert shown.min() == pytest.approx(0) and shown.max() == pytest.approx(1)


def test_grid_is_reproducible_and_depends_on_the_seed(tmp_path):
    t, image = augkit.OneOf([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0)]), make_image("numpy")
    assert _png(grid(t, image, n=8, seed=1)) == _png(grid(t, image, n=8, seed=1))
    titles = {seed: [ax.get_title() for ax in grid(t, image, n=8, seed=seed).axes] for seed in (1, 2)}
    assert set(titles[1]) == {"HorizontalFlip", "VerticalFlip"} and titles[1] != titles[2]
    path = tmp_path / "grid.png"
    grid(t, image, n=8, columns=2, thumb=40, path=path)
    with Image.open(path) as png:
        assert png.format == "PNG" and png.height > png.width  # 2 columns, 4 rows


def test_grid_refuses_bad_arguments():
    with pytest.raises(ValueError, match="image must be one image; got a batch of 2"):
        grid(augkit.Identity(), make_image("tensor", batch=2))
    with pytest.raises(ValueError, match="n must be a positive int; got 0"):
        grid(augkit.Identity(), make_image("numpy"), n=0)
    with pytest.raises(TypeError, match="transform must be an augkit Transform"):
        grid(np.flipud, make_image("numpy"))


def test_container_captions_name_the_children_that_act():
    t = augkit.Compose([augkit.HorizontalFlip(p=1.0), augkit.RandomApply([_Gain()], p=1.0),
                        augkit.VerticalFlip(p=0.0)])
    params = t.sample_params(make_image("tensor", "float32"), generator=torch.Generator().manual_seed(0))
    gain = params.children[1].children[0].gain.item()
    assert describe_params(t, params).startswith(f"HorizontalFlip, RandomApply(_Gain(gain={gain:.3g}, ")
    assert describe_params(augkit.Identity(), augkit.Identity().sample_params(make_image("numpy"))) == ""


def test_compare_shows_before_after_and_one_histogram_line_per_channel():
    image = make_image("numpy", "uint8", 40, 40)
    figure = compare(image, augkit.Lambda("numpy:invert"))
    image_axes, hist_axes = figure.axes[:2], figure.axes[2:]
    assert [ax.get_title() for ax in image_axes] == ["before", "after"]
    np.testing.assert_allclose(_shown(image_axes[1]), (255 - image) / 255, atol=1e-6)
    before, after = ([p.get_data().values for p in ax.patches] for ax in hist_axes)
    assert len(before) == len(after) == 3
    for b, a in zip(before, after):  # inverting mirrors each channel's histogram
        np.testing.assert_allclose(a, b[::-1], atol=1e-12)
    gray = compare(make_image("numpy", "uint8", 40, 40, channels=1), augkit.Identity())
    assert len(gray.axes[2].patches) == 1


def test_compare_captions_the_drawn_parameters():
    figure = compare(make_image("numpy", "float32"), _Gain(), seed=5)
    params = _Gain().sample_params(make_image("numpy", "float32"), generator=torch.Generator().manual_seed(5))
    assert figure.axes[1].get_xlabel().startswith(f"gain={params.gain.item():.3g}")


def test_mixing_captions_the_top_soft_labels():
    x = make_image("tensor", "uint8", 16, 16, batch=3)
    y = torch.tensor([[0.6, 0.4, 0.0, 0.0], [0.0, 0.1, 0.2, 0.7], [0.0, 0.0, 1.0, 0.0]])
    figure = mixing(x, y, ["cat", "dog", "owl", "fox"], top=2)
    assert [ax.get_title() for ax in figure.axes] == ["cat 0.60\ndog 0.40", "fox 0.70\nowl 0.20", "owl 1.00"]
    np.testing.assert_allclose(_shown(figure.axes[1]), x[1].permute(1, 2, 0).numpy() / 255, atol=1e-6)
    titles = [ax.get_title() for ax in mixing(x.float() / 255, y.numpy(), top=1).axes]
    assert titles == ["class 0 0.60", "class 3 0.70", "class 2 1.00"]


def test_mixing_refuses_mismatched_shapes():
    x = torch.rand(2, 3, 8, 8)
    with pytest.raises(ValueError, match=r"y_soft must have shape \(2, K\) for a batch of 2; got \(3, 4\)"):
        mixing(x, torch.rand(3, 4))
    with pytest.raises(ValueError, match="class_names must name all 4 classes; got 2"):
        mixing(x, torch.rand(2, 4), ["a", "b"])
    with pytest.raises(ValueError, match=r"x must be a \(B, C, H, W\) batch"):
        mixing(x[0], torch.rand(1, 4))


@pytest.mark.slow
def test_importing_augkit_does_not_import_matplotlib():
    code = "import sys, augkit, augkit.viz; assert 'matplotlib' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- targets -------------------------------------------------------------------------------------

def _target_sample():
    image = np.zeros((40, 60, 3), np.uint8)
    masks = np.zeros((2, 40, 60), np.uint8)
    masks[0, 5:15, 5:25] = 1
    masks[1, 20:35, 30:55] = 1
    return {"image": image, "boxes": torch.tensor([[5.0, 5.0, 25.0, 15.0], [30.0, 20.0, 55.0, 35.0]]),
            "labels": torch.tensor([3, 4]), "masks": masks,
            "keypoints": torch.tensor([[[10.0, 10.0, 2.0], [20.0, 10.0, 0.0]], [[40.0, 25.0, 1.0], [50.0, 30.0, 2.0]]]),
            "skeleton": [(0, 1)]}


def _pixels(figure) -> np.ndarray:
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3]


def test_grid_of_a_sample_draws_its_moved_targets():
    from matplotlib.patches import Polygon

    sample = _target_sample()
    figure = grid(augkit.HorizontalFlip(p=1.0), sample, n=1, original=True, class_names={3: "cat", 4: "dog"})
    before, after = figure.axes
    assert [t.get_text() for t in before.texts] == ["cat", "dog"] == [t.get_text() for t in after.texts]
    quads = [p.get_xy()[:4] for p in after.patches if isinstance(p, Polygon)]
    assert quads[0][:, 0].min() == pytest.approx(35.0) and quads[0][:, 0].max() == pytest.approx(55.0)
    shown = [c.get_offsets() for c in after.collections]  # visible points only, flipped (x -> 60 - x)
    assert [len(s) for s in shown] == [1, 2] and shown[0][0].tolist() == pytest.approx([50.0, 10.0])
    assert len(before.lines) == 1  # the skeleton edge of the first group joins a hidden point: not drawn
    image = after.images[0].get_array()
    assert image[10, 45].max() > 0 and image[10, 10].max() == 0  # the mask overlay moved with its instance
    assert before.images[0].get_extent() == [0, 60, 40, 0]


def test_compare_of_a_sample_draws_before_and_after_and_images_stay_as_they_were():
    sample = _target_sample()
    sample["mask"] = (sample.pop("masks").sum(0) * 2).astype(np.uint8)  # a semantic mask
    figure = compare(sample, augkit.VerticalFlip(p=1.0))
    assert [len(ax.patches) for ax in figure.axes[:2]] == [2, 2]
    assert figure.axes[1].images[0].get_array()[30, 10].max() > 0  # class 2 overlay, flipped
    plain = compare(sample["image"], augkit.VerticalFlip(p=1.0))
    assert not plain.axes[0].patches and plain.axes[0].images[0].get_extent() == [-0.5, 59.5, 39.5, -0.5]
    assert np.array_equal(_pixels(plain), _pixels(compare(sample["image"], augkit.VerticalFlip(p=1.0))))


def test_grid_of_a_batch_sample_is_refused():
    sample = {"image": torch.zeros(2, 3, 8, 8), "boxes": [torch.zeros(1, 4), torch.zeros(0, 4)]}
    with pytest.raises(ValueError, match="one image"):
        grid(augkit.HorizontalFlip(), sample, n=1)
