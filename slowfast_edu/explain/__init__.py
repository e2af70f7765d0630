"""Looking inside a SlowFast: activations per pathway, Grad-CAM, overlays, a notebook explorer.

    from slowfast_edu.explain import grad_cam, pathway_overlays, grid_figure
    cams = grad_cam(model, [slow, fast])          # {"slow": (B,1,T,H,W), "fast": (B,1,aT,H,W)}
    grid_figure(pathway_overlays({"slow": slow, "fast": fast}, cams))

`explore` imports ipywidgets only when called, so the rest works without a notebook.
"""

from .activations import (STAGE_NAMES, capture_activations, change_energy,
                          channel_means_over_time, forward_without, lateral_contributions,
                          summarize, temporal_energy)
from .box_gradcam import box_grad_cam
from .gradcam import MODES, cam_from_gradients, default_layers, grad_cam, mass_inside
from .render import (frame_times, grid_figure, overlay, pathway_overlays, save_gif, save_mp4,
                     side_by_side, slow_positions, to_frames)
from .widgets import explore, explorer_frame, prepare_explorer

__all__ = [
    "MODES", "STAGE_NAMES", "box_grad_cam", "cam_from_gradients", "capture_activations", "change_energy",
    "channel_means_over_time", "default_layers", "explore", "explorer_frame", "forward_without",
    "frame_times", "grad_cam", "grid_figure", "lateral_contributions", "mass_inside", "overlay",
    "pathway_overlays", "prepare_explorer", "save_gif", "save_mp4", "side_by_side",
    "slow_positions", "summarize", "temporal_energy", "to_frames",
]
