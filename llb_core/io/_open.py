"""`open_source`: pick the right `FrameSource` for a path; model-resolution helpers."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from llb_core.io._errors import FrameSourceError
from llb_core.io._images import IMAGE_SUFFIXES, ImageFolderSource
from llb_core.io._source import DEFAULT_CACHE_FRAMES, FrameSource
from llb_core.io._video import VideoFileSource


def open_source(path: str | Path, fps: float = 24.0, cache_frames: int = DEFAULT_CACHE_FRAMES) -> FrameSource:
    """Open a video file or an image folder.

    Args:
        path: a video file (anything ffmpeg reads) or a folder of numbered images.
        fps: frame rate reported for image folders (videos carry their own).
        cache_frames: LRU cache capacity in decoded frames.

    Raises:
        FrameSourceError: missing path, unreadable video, empty folder, mixed frame sizes, ...
    """
    p = Path(path)
    if p.is_dir():
        return ImageFolderSource(p, fps=fps, cache_frames=cache_frames)
    if not p.exists():
        raise FrameSourceError(f"{p}: no such file or folder. Check the path.")
    if p.suffix.lower() in IMAGE_SUFFIXES:
        raise FrameSourceError(f"{p}: a single image is not a clip; open the folder that holds the frames.")
    return VideoFileSource(p, cache_frames=cache_frames)


def model_size(size: tuple[int, int], internal: int = 480) -> tuple[int, int]:
    """(H, W) at which the network sees a frame: shorter side `internal` if the frame is larger.

    Args:
        size: source (H, W).
        internal: internal resolution (shorter side) of the model; smaller sources are left as is.
    """
    h, w = size
    short = min(h, w)
    if short <= internal:
        return h, w
    scale = internal / short
    return max(1, round(h * scale)), max(1, round(w * scale))


def to_model_resolution(frame: np.ndarray, internal: int = 480) -> np.ndarray:
    """Downscaled copy of a (H, W, 3) frame for the model (area filter); the frame itself if small enough."""
    h, w = model_size(frame.shape[:2], internal)
    if (h, w) == frame.shape[:2]:
        return frame
    return cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)


def index_mask_to_size(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a (h, w) uint8 index mask to `size` (H, W) with nearest-neighbour sampling."""
    if mask.shape[:2] == tuple(size):
        return mask
    return cv2.resize(mask, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)


def soft_mask_to_size(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a (h, w) float32 soft mask to `size` (H, W) bilinearly, clipped to [0, 1]."""
    if mask.shape[:2] == tuple(size):
        return mask
    out = cv2.resize(mask.astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(out, 0.0, 1.0)
