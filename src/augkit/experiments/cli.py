"""``augkit compare``: which augmentation recipe helps on this data, and by how much?

``configure(subparsers)`` adds the subcommand to the ``augkit`` command (:mod:`augkit.cli`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .compare import DEFAULT_SEEDS, DEFAULT_SHIFT_PER_CLASS, DEFAULT_TRAIN_PER_CLASS, CompareConfig, print_table, run_compare
from .models import BUILTIN
from .recipes import DEFAULT_RECIPES, RECIPES
from .training import TrainSettings

__all__ = ["configure", "run"]

EXIT_INTERRUPTED = 130

_DESCRIPTION = """\
Train the same model with each augmentation recipe (same initialization, optimizer, schedule and
batch order per seed; only the augmentation differs) and report accuracy and macro-F1 on the
validation and test sets (mean ± std over seeds), every recipe's test gain over none paired by seed
with its 95% confidence interval, a verdict (the best recipe chosen on validation only), learning
curves, a picture of each recipe and a Markdown + JSON summary. With --shift, every model is also
evaluated on the test images under 8 corruptions at 5 severities. Validation and test images are
never augmented. Ctrl-C stops and keeps the finished runs.

DATA is an ImageFolder-style directory: train/ and val/ (optionally test/) with one sub-folder per
class, or the class folders themselves with --val-split. Without DATA, the embedded Fashion-MNIST
subset is used (first {k} training images per class; 1000 val and 3000 test images).
"""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text}")
    return value


def _recipe_list(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in RECIPES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"unknown recipe(s) {', '.join(unknown) or '(none given)'}; "
                                         f"choose from {', '.join(RECIPES)}")
    return names


def configure(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``compare`` subcommand to ``subparsers``; it sets ``run`` to :func:`run`."""
    defaults = TrainSettings()
    parser = subparsers.add_parser(
        "compare", help="compare augmentation recipes by training a model with each",
        description=_DESCRIPTION.format(k=DEFAULT_TRAIN_PER_CLASS), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", type=Path, metavar="DATA",
                        help="ImageFolder-style directory (default: the embedded Fashion-MNIST subset)")
    parser.add_argument("--recipes", type=_recipe_list, default=DEFAULT_RECIPES,
                        help=f"comma-separated, from {', '.join(RECIPES)} (default: {','.join(DEFAULT_RECIPES)})")
    parser.add_argument("--model", default=defaults.model,
                        help=f"{', '.join(BUILTIN)} (default: {defaults.model}), or any torchvision or timm "
                             f"classification model name (resnet50, convnext_tiny, efficientnet_b0, ...): its head "
                             f"is replaced for the task's classes, its input size and normalization follow its "
                             f"eval preset")
    parser.add_argument("--weights", type=Path, default=None, metavar="FILE",
                        help="initial weights: a local state_dict or checkpoint of --model (nothing is downloaded)")
    parser.add_argument("--freeze-backbone", action="store_true", help="train the new head only")
    parser.add_argument("--width", type=_positive_int, default=None,
                        help="channels of the small CNN's first stage (default: 32)")
    parser.add_argument("--epochs", type=_positive_int, default=defaults.epochs)
    parser.add_argument("--seeds", type=_positive_int, default=DEFAULT_SEEDS, help="number of seeds (0, 1, ...)")
    parser.add_argument("--batch-size", type=_positive_int, default=defaults.batch_size)
    parser.add_argument("--lr", type=_positive_float, default=defaults.lr, help="peak learning rate")
    parser.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    parser.add_argument("--clip-grad-norm", type=_positive_float, default=defaults.clip_grad_norm,
                        help=f"clip the gradient's global norm (default: {defaults.clip_grad_norm})")
    parser.add_argument("--eval-every", type=_positive_int, default=None,
                        help="validate every N epochs (default: about 25 points per curve) and after the last")
    parser.add_argument("--train-per-class", type=_positive_int, default=None,
                        help=f"keep the first k training images of each class (default: all; "
                             f"{DEFAULT_TRAIN_PER_CLASS} on the embedded data)")
    parser.add_argument("--val-split", type=float, default=None,
                        help="fraction of each class held out for validation when DATA has no val/")
    parser.add_argument("--split-seed", type=int, default=123)
    parser.add_argument("--image-size", type=_positive_int, default=None, help="resize DATA images to this square size")
    parser.add_argument("--shift", action="store_true",
                        help="also evaluate every model on the test set under corruptions (brightness, contrast, "
                             "noise, blur, JPEG, pixelate, rotation, scale/crop shift) at 5 severities")
    parser.add_argument("--shift-per-class", type=_positive_int, default=DEFAULT_SHIFT_PER_CLASS,
                        help=f"test images per class that --shift corrupts (default: {DEFAULT_SHIFT_PER_CLASS})")
    parser.add_argument("--budget-minutes", type=_positive_float, default=None,
                        help="start no run that would end after this many minutes; report what finished")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    parser.add_argument("--threads", type=_positive_int, default=None, help="torch CPU threads")
    parser.add_argument("--jobs", type=_positive_int, default=1,
                        help="runs trained at once, each in its own process with threads/jobs threads")
    parser.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                        help="unreadable image files in DATA: stop (raise, the default) or leave them out "
                             "and list them (skip)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("-o", "--out", type=Path, default=Path("runs/compare"), help="output folder")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the comparison for parsed ``args`` and print the table; return 130 if interrupted, 1 on
    bad input (a missing recipe component, an unusable DATA folder), else 0."""
    config = CompareConfig(
        out=args.out, data=args.data, recipes=args.recipes, seeds=args.seeds,
        train=TrainSettings(model=args.model, width=args.width,
                            weights=None if args.weights is None else str(args.weights),
                            freeze_backbone=args.freeze_backbone, epochs=args.epochs, batch_size=args.batch_size,
                            lr=args.lr, weight_decay=args.weight_decay, clip_grad_norm=args.clip_grad_norm,
                            eval_every=args.eval_every, device=args.device),
        train_per_class=args.train_per_class, val_split=args.val_split, split_seed=args.split_seed,
        image_size=args.image_size, budget_minutes=args.budget_minutes, threads=args.threads, jobs=args.jobs,
        progress=not args.no_progress, on_error=args.on_error, shift=args.shift,
        shift_per_class=args.shift_per_class,
    )
    try:
        summary = run_compare(config)
    except (ValueError, FileNotFoundError) as error:
        print(f"augkit compare: error: {error}", file=sys.stderr)
        return 1
    print_table(summary)
    figures = "curves.png, recipes.png" + (", shift.png" if args.shift else "")
    print(f"\nreports in {args.out}: summary.md, summary.json, {figures}")
    return EXIT_INTERRUPTED if summary["status"] == "interrupted" else 0
