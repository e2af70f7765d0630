"""SlowFast networks built step by step: stem, bottleneck, stages, pathways, laterals, head."""

from .baselines import inflate_from, inflate_kernel
from .caffe2 import load_caffe2_checkpoint
from .config import ConfigError, SlowFastConfig
from .convert import convert_state_dict
from .default import load_default_model
from .detection import RoIHead
from .fast_input import FAST_INPUTS
from .fusion import FUSIONS, LATERAL_POSITIONS
from .geometry import ClipGeometry, clip_geometry
from .head import HEADS
from .inference import fold_bn, optimize_for_inference
from .measure import count_flops, count_params, example_inputs
from .presets import PRESETS, build_model, get_config, list_models
from .slowfast import SinglePathway, SlowFast, build_network
from .weights import CheckpointError, load_checkpoint, load_pretrained, load_weights
from .domain import DomainCheck
from .loading import LoadedModel, load_model
from .weights import download_weights, find_weights, load_label_map

__all__ = [
    "FAST_INPUTS", "FUSIONS", "HEADS", "LATERAL_POSITIONS", "PRESETS", "CheckpointError",
    "RoIHead",
    "ClipGeometry", "ConfigError", "SinglePathway", "SlowFast", "SlowFastConfig", "build_model",
    "build_network", "clip_geometry", "convert_state_dict", "count_flops", "count_params",
    "example_inputs", "fold_bn", "get_config", "inflate_from", "inflate_kernel", "list_models",
    "load_caffe2_checkpoint", "load_checkpoint",
    "load_default_model", "load_pretrained", "load_weights", "optimize_for_inference",
    "DomainCheck", "LoadedModel", "download_weights", "find_weights", "load_label_map",
    "load_model",
]
