"""One `augkit compare` training run with or without gradient clipping, printed as JSON with the
largest gradient norm of each epoch and the validation curve (docs/compare/stability.json):

    python scripts/compare_stability.py none cutmix 2    # no clipping
    python scripts/compare_stability.py 2.0 cutmix 2     # --clip-grad-norm 2 (the default)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from augkit.experiments import TaskInfo, TrainSettings, build_recipes, train_run
from augkit.experiments.compare import CompareConfig, load_splits


def main(clip: str, recipe: str, seed: str) -> dict:
    torch.set_num_threads(1)
    splits = load_splits(CompareConfig(out=Path("runs/stability")))
    (built,) = build_recipes([recipe], TaskInfo(splits.size, splits.channels, splits.num_classes))
    limit = None if clip == "none" else float(clip)
    result = train_run(built, splits, TrainSettings(clip_grad_norm=limit), int(seed))
    return {"clip": limit, "recipe": recipe, "seed": int(seed), "val": result.val_accuracy,
            "test": result.test_accuracy, "s": result.seconds,
            "curve": [(h.epoch, round(h.grad_norm_max, 2), h.val_accuracy) for h in result.history]}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
