"""Video data for SlowFast: decoding with a fallback, sampling, transforms, datasets."""

from .kinetics import KineticsDataset, read_video_list
from .sampling import pack_pathways, sample_indices, window_length
from .transforms import denormalize, test_transform, train_transform
from .video import VideoDecodeError, VideoReader, available_backends

__all__ = [
    "KineticsDataset", "VideoDecodeError", "VideoReader", "available_backends", "denormalize",
    "pack_pathways", "read_video_list", "sample_indices", "test_transform",
    "train_transform", "window_length",
]
