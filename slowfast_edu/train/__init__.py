"""Training and evaluation: the paper's recipe, resumable, single process or torchrun."""

from .config import DEFAULTS, load_config
from .engine import NonFiniteLossError, Trainer, evaluate

__all__ = ["DEFAULTS", "NonFiniteLossError", "Trainer", "evaluate", "load_config"]
