"""Training: recipes, data (DAVIS / YouTube-VOS layouts, synthetic clips), losses and the trainer."""

from llb_core.train.recipe import Recipe, load_recipe
from llb_core.train.trainer import Trainer

__all__ = ["Recipe", "Trainer", "load_recipe"]
