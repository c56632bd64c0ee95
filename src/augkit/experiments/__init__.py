"""The augmentation comparison behind ``augkit compare``: data, models, recipes, training, reports.

>>> from augkit.experiments import RECIPES
>>> "none" in RECIPES and "mixup+cutmix" in RECIPES
True
"""

from .compare import CompareConfig, load_splits, run_compare
from .data import ImageSet, Splits, load_default, load_image_folder
from .recipes import DEFAULT_RECIPES, RECIPES, Recipe, RecipeSpec, TaskInfo, build_recipes
from .training import TrainSettings, evaluate, train_run

__all__ = ["DEFAULT_RECIPES", "RECIPES", "CompareConfig", "ImageSet", "Recipe", "RecipeSpec",
           "Splits", "TaskInfo", "TrainSettings", "build_recipes", "evaluate", "load_default", "load_image_folder",
           "load_splits", "run_compare", "train_run"]
