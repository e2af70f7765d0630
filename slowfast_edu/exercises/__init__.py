"""The exercises' checks: each tests the student's code on settings the notebook never shows,
refuses the library's own code handed back (or subclassed, wrapped or called), names the mistake
it recognises, and accepts every correct definition.

    from slowfast_edu.exercises import check_slow_frame_indices
    check_slow_frame_indices(slow_frame_indices)

`REGISTRY` maps each check's name to what the tests try it with (`common.Spec`).
"""

from .baselines import check_conv_macs, check_inflate
from .blocks import check_bottleneck, check_bottleneck_params
from .laterals import (check_lateral_params, check_time_strided_conv, check_time_strided_sample,
                       check_time_to_channel)
from .common import REGISTRY, Spec, exercise_check
from .detection import check_average_precision, check_iou, check_roi_align
from .inside import check_grad_cam, check_res4_shapes, check_temporal_energy, check_top5
from .sampling import (check_motion_twin, check_slow_frame_indices, check_slow_positions,
                       check_test_clip_starts)

__all__ = [
    "REGISTRY", "Spec", "check_average_precision", "check_bottleneck", "check_bottleneck_params",
    "check_conv_macs", "check_grad_cam", "check_inflate", "check_iou", "check_lateral_params",
    "check_motion_twin", "check_res4_shapes", "check_roi_align", "check_slow_frame_indices",
    "check_slow_positions", "check_temporal_energy", "check_test_clip_starts",
    "check_time_strided_conv", "check_time_strided_sample", "check_time_to_channel",
    "check_top5", "exercise_check",
]
