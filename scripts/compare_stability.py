import sys, dataclasses, json, torch
torch.set_num_threads(1)
from augkit.experiments import build_recipes, TaskInfo, TrainSettings, train_run
from augkit.experiments.compare import CompareConfig, load_splits
clip = None if sys.argv[1] == "none" else float(sys.argv[1])
recipe = sys.argv[2]; seed = int(sys.argv[3])
splits = load_splits(CompareConfig(out=None))
(r,) = build_recipes([recipe], TaskInfo(splits.size, splits.channels, splits.num_classes))
res = train_run(r, splits, TrainSettings(clip_grad_norm=clip), seed)
print(json.dumps({"clip": clip, "recipe": recipe, "seed": seed, "val": res.val_accuracy, "test": res.test_accuracy, "s": res.seconds,
  "curve": [(h.epoch, round(h.grad_norm_max, 2), h.val_accuracy) for h in res.history]}))
