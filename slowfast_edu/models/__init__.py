"""SlowFast networks built step by step: stem, bottleneck, stages, pathways, laterals, head."""

from .config import FAST_INPUTS, FUSIONS, SlowFastConfig
from .measure import count_flops, count_params, example_inputs
from .presets import PRESETS, build_model, get_config, list_models
from .slowfast import SinglePathway, SlowFast, build_network

__all__ = [
    "FAST_INPUTS", "FUSIONS", "PRESETS", "SinglePathway", "SlowFast", "SlowFastConfig",
    "build_model", "build_network", "count_flops", "count_params", "example_inputs",
    "get_config", "list_models",
]
