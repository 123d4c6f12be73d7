"""Frame sources (video files, image folders), mask files and exporters. No torch, no Qt.

Frames are (H, W, 3) uint8 RGB arrays; index masks (H, W) uint8 (0 = background, k = object id);
soft masks (H, W) float32 in [0, 1].
"""

from llb_core.io._atomic import atomic_path, atomic_write_bytes, atomic_write_png, atomic_write_text
from llb_core.io._davis_layout import DavisLayoutError, davis_folders, davis_resolution, davis_sequences
from llb_core.io._errors import (
    CancelledError,
    ExportError,
    FrameSourceError,
    LlbIoError,
    MaskFileError,
    WriteError,
)
from llb_core.io._extract import extract_frames
from llb_core.io._images import ImageFolderSource, list_images, natural_key, read_image_file
from llb_core.io._mask_checks import DEFAULT_MAX_OBJECTS, inspect_keyframe_mask
from llb_core.io._masks import (
    DAVIS_PALETTE,
    MaskIssue,
    check_index_mask,
    davis_palette,
    frame_number,
    palette_colour,
    quantize_alpha,
    read_index_mask,
    read_soft_mask,
    write_binary_mask,
    write_index_mask,
    write_soft_mask,
)
from llb_core.io._objects import MAX_OBJECT_ID, ObjectSpec, first_free_id
from llb_core.io._open import (
    index_mask_to_size,
    model_size,
    open_source,
    soft_mask_to_size,
    to_model_resolution,
)
from llb_core.io._progress import CancelFlag, ProgressFn, is_cancelled
from llb_core.io._source import DEFAULT_CACHE_FRAMES, FrameCache, FrameSource
from llb_core.io._video import VideoFileSource

__all__ = [
    "DEFAULT_MAX_OBJECTS",
    "inspect_keyframe_mask",
    "DAVIS_PALETTE",
    "DEFAULT_CACHE_FRAMES",
    "DavisLayoutError",
    "CancelFlag",
    "CancelledError",
    "ExportError",
    "FrameCache",
    "FrameSource",
    "FrameSourceError",
    "ImageFolderSource",
    "LlbIoError",
    "MaskFileError",
    "MaskIssue",
    "MAX_OBJECT_ID",
    "ObjectSpec",
    "first_free_id",
    "ProgressFn",
    "VideoFileSource",
    "WriteError",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_png",
    "atomic_write_text",
    "check_index_mask",
    "davis_folders",
    "davis_palette",
    "davis_resolution",
    "davis_sequences",
    "extract_frames",
    "first_free_id",
    "frame_number",
    "index_mask_to_size",
    "is_cancelled",
    "list_images",
    "model_size",
    "natural_key",
    "open_source",
    "palette_colour",
    "quantize_alpha",
    "read_image_file",
    "read_index_mask",
    "read_soft_mask",
    "soft_mask_to_size",
    "to_model_resolution",
    "write_binary_mask",
    "write_index_mask",
    "write_soft_mask",
]
