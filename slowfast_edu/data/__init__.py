"""Video data for SlowFast: decoding with a fallback, sampling, transforms, datasets."""

from .ava import AvaBox
from .ava_dataset import AvaDataset, ava_collate
from .ava_eval import frame_map
from .kinetics import KineticsDataset, read_video_list
from .multilabel import MultiLabelDataset, read_multilabel_list
from .sampling import pack_pathways, sample_indices, window_length
from .segments import segment_indices
from .transforms import denormalize, test_transform, train_transform
from .video import VideoDecodeError, VideoReader, available_backends

__all__ = [
    "AvaBox", "AvaDataset", "KineticsDataset", "MultiLabelDataset", "VideoDecodeError",
    "VideoReader", "ava_collate", "available_backends", "denormalize", "frame_map",
    "pack_pathways", "read_multilabel_list", "read_video_list", "sample_indices",
    "segment_indices", "test_transform", "train_transform", "window_length",
]
