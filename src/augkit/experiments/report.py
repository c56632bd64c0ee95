"""Reports of a comparison: the Markdown table with the paired gains over ``none`` and their 95%
confidence intervals, the verdict, the shift table, ``summary.md``, ``summary.json``, the learning
curves (``curves.png``), what each recipe does to a few training images (``recipes.png``) and the
accuracy per corruption and severity (``shift.png``, with ``--shift``).

Matplotlib (the ``compare`` extra) is imported only to draw the figures, outside ``pyplot``
(``augkit.viz.blank_figure``), so a notebook's plotting backend is left as it is.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from ..viz import blank_figure
from .data import Splits
from .recipes import Recipe

__all__ = ["markdown_table", "summary_markdown", "verdict", "shift_table", "write_summary", "plot_curves", "plot_recipes", "plot_shift"]

_COLUMNS = (("val_accuracy", "val acc %"), ("val_macro_f1", "val macro-F1 %"),
            ("test_accuracy", "test acc %"), ("test_macro_f1", "test macro-F1 %"))


def _cell(stat: dict | None) -> str:
    if not stat or stat["n"] == 0 or stat["mean"] is None or math.isnan(stat["mean"]):
        return "-"
    return f"{100 * stat['mean']:.2f} ± {100 * stat['std']:.2f}"


def _points(value: float) -> str:
    return f"{100 * value:+.1f}"


def _gain(difference: dict | None) -> str:
    if difference is None:
        return "-"
    if difference["low"] is None:
        return f"{_points(difference['mean'])} (1 seed)"
    return f"{_points(difference['mean'])} [{_points(difference['low'])}, {_points(difference['high'])}]"


def markdown_table(summary: dict[str, Any]) -> str:
    """The results as a Markdown table: mean ± std over seeds, in percent, and the paired test
    gain over ``none`` with its 95% CI, in points."""
    lines = ["| recipe | seeds | " + " | ".join(title for _, title in _COLUMNS)
             + " | test gain over none, 95% CI | s/run |",
             "|---|---:|" + "---:|" * len(_COLUMNS) + "---:|---:|"]
    for entry in summary["recipes"]:
        cells = [_cell(entry.get(key)) for key, _ in _COLUMNS]
        seconds = entry["seconds_per_run"]
        gain = _gain((entry.get("gain_over_none") or {}).get("test"))
        lines.append(f"| {entry['name']} | {len(entry['runs'])} | " + " | ".join(cells)
                     + f" | {gain} | {'-' if seconds is None else f'{seconds:.0f}'} |")
    return "\n".join(lines)


def verdict(summary: dict[str, Any]) -> list[str]:
    """The plain verdict: the best recipe (chosen on validation), its paired test gain over
    ``none`` with its 95% CI, the recipes it cannot be told apart from, and the target."""
    best = summary.get("best")
    if not best:
        return []
    entry = next(e for e in summary["recipes"] if e["name"] == best["recipe"])
    gain = (entry.get("gain_over_none") or {}).get("test")
    name = best["recipe"]
    if gain is None:
        line = (f"{name} has the best validation accuracy" if name != "none"
                else "none (no augmentation) has the best validation accuracy: no recipe helps")
    elif gain["low"] is None:
        line = f"{name} beats none by {100 * gain['mean']:.1f} test points (1 seed, no CI)"
    else:
        ci = f"95% CI [{100 * gain['low']:.1f}, {100 * gain['high']:.1f}]"
        if gain["low"] > 0:
            line = f"{name} beats none by {100 * gain['mean']:.1f} test points, {ci}"
        elif gain["high"] < 0:
            line = f"{name} loses to none by {-100 * gain['mean']:.1f} test points, {ci}"
        else:
            line = f"{name} and none are not distinguishable on test ({_points(gain['mean'])} points, {ci})"
    tied = best.get("not_distinguishable") or []
    if tied:
        line += f"; {', '.join(tied)} and {name} are not distinguishable"
    seeds = len(entry["runs"])
    planned = len(summary["settings"]["seeds"])
    lines = [f"Verdict (best recipe chosen on validation accuracy, {seeds} seed{'s' * (seeds != 1)}"
             f"{f' of {planned} planned' if seeds < planned else ''}, paired by seed): {line}."]
    target = best.get("target")
    if target and gain is not None:
        outcome = ("not tested (a confidence interval needs 2 or more seeds)" if gain["low"] is None
                   else "met" if target["met"] else "NOT met")
        lines.append(f"Target (best recipe >= {100 * target['gain']:.0f} test points over none, lower end of "
                     f"the 95% CI above {100 * target['low']:.0f}): {outcome}.")
    return lines


def shift_table(summary: dict[str, Any]) -> str:
    """Per recipe: clean accuracy, mean corruption accuracy and relative robustness on the shift
    set (mean ± std over seeds), the mean accuracy per corruption over the five severities, and
    the corruption families the recipe trains on (marked ``*`` in their column)."""
    entries = [e for e in summary["recipes"] if e.get("shift") and e["shift"]["per_corruption"]]
    if not entries:
        return ""
    names = list(entries[0]["shift"]["per_corruption"])
    lines = ["| recipe | clean % | mean corruption % | relative % | " + " | ".join(names) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(names)]
    for entry in entries:
        shift = entry["shift"]
        cells = [f"{100 * sum(levels) / len(levels):.1f}{'*' if name in shift['trained_families'] else ''}"
                 for name, levels in shift["per_corruption"].items()]
        lines.append(f"| {entry['name']} | {_cell(shift['clean'])} | {_cell(shift['mean_corruption'])} | "
                     f"{_cell(shift['relative'])} | " + " | ".join(cells) + " |")
    per_class = summary["settings"].get("shift_per_class")
    subset = (f"the first {per_class} test images of every class" if per_class else "the whole test set")
    return "\n".join(lines) + ("\n\n`*`: the recipe's training applies this family of transforms (it trained on "
                               "the shift it is tested on). Corruption columns: accuracy % averaged over the "
                               f"five severities and the seeds. The shift set is {subset}; its clean accuracy "
                               "is measured on those images, so it can differ from the test accuracy above.")


def summary_markdown(summary: dict[str, Any], *, title: str | None = "# Augmentation comparison") -> str:
    """The text of ``summary.md``: data, model, machine, status, the table, the verdict, the
    shift table and the recipes (also what the docs include from a committed ``summary.json``)."""
    data, settings = summary["dataset"], summary["settings"]
    sizes = ", ".join(f"{data[k]} {k}" for k in ("train", "val", "test") if k in data)
    clip = settings.get("clip_grad_norm")
    lines = [
        *([title, ""] if title else []),
        f"Data: {data['name']} ({sizes} images, {len(data['classes'])} classes, "
        f"{data['image_size'][0]}x{data['image_size'][1]}x{data['channels']}). "
        f"Model: {settings['model']}, {settings['epochs']} epochs, batch {settings['batch_size']}, "
        f"SGD lr {settings['lr']} one-cycle, weight decay {settings['weight_decay']}"
        f"{f', gradient norm clipped to {clip}' if clip else ''}; "
        f"seeds {', '.join(map(str, settings['seeds']))}.", "",
        f"Machine: {summary['machine']}.", "",
        f"Status: {summary['status']} after {summary['elapsed_seconds']:.0f} s.", "",
        markdown_table(summary), "",
        *(line for v in verdict(summary) for line in (v, "")),
        *([f"Shift ({settings['shift_per_class']} test images per class under every corruption; "
           f"`shift.png` has every severity):", "", shift_table(summary), ""] if shift_table(summary) else []),
        "Recipes:", "",
        *(f"- `{entry['name']}`: {entry['description']}" for entry in summary["recipes"]), "",
    ]
    if data.get("skipped_files"):
        lines += [f"Unreadable files left out ({len(data['skipped_files'])}): "
                  + ", ".join(f"`{path}`" for path in data["skipped_files"]) + ".", ""]
    if summary["skipped"]:
        skipped = ", ".join(f"{s['recipe']} (seed {s['seed']})" for s in summary["skipped"])
        lines += [f"Not run ({summary['status']}): {skipped}.", ""]
    return "\n".join(lines)


def write_summary(summary: dict[str, Any], out: Path) -> None:
    """Write ``summary.json`` and ``summary.md`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False, default=_json_default) + "\n")
    (out / "summary.md").write_text(summary_markdown(summary))


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def plot_curves(summary: dict[str, Any], path: Path) -> None:
    """Train/val loss and accuracy per epoch, one line per recipe (mean over seeds, band = min..max)."""
    panels = (("train_loss", "train loss (augmented batches)"), ("val_loss", "val loss"),
              ("train_accuracy", "train accuracy (augmented batches)"), ("val_accuracy", "val accuracy"))
    fig = blank_figure(11, 7.5)
    axes = fig.subplots(2, 2, sharex=True)
    for entry in summary["recipes"]:
        runs = [run["history"] for run in entry["runs"] if run["history"]]
        if not runs:
            continue
        epochs = min(len(h) for h in runs)
        for ax, (key, title) in zip(axes.flat, panels):
            x = [e + 1 for e in range(epochs) if runs[0][e][key] is not None]
            values = torch.tensor([[h[e - 1][key] for e in x] for h in runs])
            line, = ax.plot(x, values.mean(0).tolist(), label=entry["name"], marker="." if len(x) < epochs else None)
            if len(runs) > 1:
                ax.fill_between(x, values.amin(0).tolist(), values.amax(0).tolist(), color=line.get_color(), alpha=0.15)
            ax.set_title(title)
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{summary['dataset']['name']}: {summary['settings']['model']}, mean over seeds (band: min..max)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_recipes(recipes: list[Recipe], splits: Splits, path: Path, *, per_row: int = 8, seed: int = 0) -> None:
    """One row per recipe: what it makes of the same ``per_row`` training images (one per class
    where possible), mixing included; the title of each image is its (dominant) label."""
    labels = splits.train.labels
    firsts = [int(torch.nonzero(labels == c)[0]) for c in labels.unique()[:per_row]]
    index = torch.tensor((firsts + [i for i in range(len(labels)) if i not in firsts])[:per_row])
    images, targets = splits.train.images[index], labels[index]
    fig = blank_figure(1.2 * len(index), 1.5 * len(recipes))
    axes = fig.subplots(len(recipes), len(index), squeeze=False)
    for row, recipe in zip(axes, recipes):
        generator = torch.Generator().manual_seed(seed)
        x = images if recipe.transform is None else recipe.transform(images, generator=generator)
        x, y = x.float().div(255), targets
        if recipe.mix is not None:
            x, y = recipe.mix(x, targets, generator=generator)
        for k, ax in enumerate(row):
            picture = x[k].permute(1, 2, 0).clamp(0, 1).numpy()
            ax.imshow(picture[..., 0] if picture.shape[2] == 1 else picture, cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if y.ndim == 1:
                ax.set_title(splits.classes[int(y[k])][:12], fontsize=10)
            else:
                top = y[k].topk(2)
                ax.set_title("\n".join(f"{splits.classes[int(c)][:9]} {float(w):.2f}"
                                        for w, c in zip(top.values, top.indices) if w > 0.005), fontsize=9)
        row[0].set_ylabel(recipe.name, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_shift(summary: dict[str, Any], path: Path) -> None:
    """One panel per corruption: test accuracy against severity (0 = clean), one line per recipe
    (mean over seeds); a dashed line where the recipe trains on that corruption's family."""
    entries = [e for e in summary["recipes"] if e.get("shift") and e["shift"]["per_corruption"]]
    if not entries:
        return
    names = list(entries[0]["shift"]["per_corruption"])
    fig = blank_figure(13, 6.5)
    axes = fig.subplots(2, math.ceil(len(names) / 2), sharex=True, sharey=True, squeeze=False)
    for ax, name in zip(axes.flat, names):
        for k, entry in enumerate(entries):
            shift = entry["shift"]
            values = [shift["clean"]["mean"], *shift["per_corruption"][name]]
            trained = name in shift["trained_families"]
            ax.plot(range(len(values)), [100 * v for v in values], marker="o", markersize=3, color=f"C{k}",
                    linestyle="--" if trained else "-", label=entry["name"])
        ax.set_title(name)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("severity (0 = clean)")
    for ax in axes[:, 0]:
        ax.set_ylabel("test accuracy %")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{summary['dataset']['name']}: accuracy under corruption, mean over seeds "
                 f"(dashed: the recipe trains on that family)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
