"""slowfast-edu: SlowFast video networks (Feichtenhofer et al., ICCV 2019), built to be read."""

from .data.sampling import pack_pathways
from .models import (SlowFastConfig, build_model, convert_state_dict, count_flops, count_params,
                     example_inputs, get_config, list_models, load_default_model,
                     load_pretrained, optimize_for_inference)
from .models.describe import describe
from .diagram import draw  # after .models: it draws what describe measures
from .predict import Prediction, predict

__version__ = "0.1.0"

__all__ = [
    "SlowFastConfig", "build_model", "convert_state_dict", "count_flops", "count_params",
    "describe", "draw", "example_inputs", "get_config", "list_models", "load_default_model",
    "load_pretrained", "optimize_for_inference", "pack_pathways", "Prediction", "predict",
]
