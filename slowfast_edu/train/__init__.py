"""Training and evaluation: the paper's recipe, resumable, single process or torchrun."""

from .checkpoint_eval import evaluate_checkpoint
from .config import DEFAULTS, ConfigError, find_config, load_config, resolve_config
from .datasets import MissingDataError
from .engine import NonFiniteLossError, RunFolderError, Trainer, evaluate

__all__ = ["DEFAULTS", "ConfigError", "MissingDataError", "NonFiniteLossError", "RunFolderError",
           "Trainer", "evaluate", "evaluate_checkpoint", "find_config", "load_config",
           "resolve_config"]
