"""Two weight-free propagators that give every evaluation its floor.

- `propagate_copy`: the first frame's mask, unchanged, on every frame.
- `propagate_flow`: the previous predicted mask warped to the current frame with OpenCV's DIS optical flow
  (backward warping with nearest-neighbour sampling, so the object ids of an index mask are preserved).

Both take a frame reader (anything with `read(i) -> (H, W, 3) uint8 RGB`) and yield (H, W) uint8 index masks
for frames 0..num_frames-1, the first being the given mask.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import cv2
import numpy as np


class FrameReader(Protocol):
    """Anything that reads frame `i` as (H, W, 3) uint8 RGB."""

    def read(self, index: int) -> np.ndarray: ...


def propagate_copy(frames: FrameReader, first_mask: np.ndarray, num_frames: int) -> Iterator[np.ndarray]:
    """Yield the first mask for every frame.

    Args:
        frames: the clip (unused: the copy ignores the images).
        first_mask: (H, W) uint8 index mask of frame 0.
        num_frames: frames to yield.

    Yields:
        (H, W) uint8 index mask per frame, frame 0 first.
    """
    mask = np.asarray(first_mask, dtype=np.uint8)
    for _ in range(num_frames):
        yield mask.copy()


def _grey(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)


def warp_mask(mask: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Backward-warp an index mask: out(x) = mask(x + flow(x)), nearest neighbour, outside -> background.

    Args:
        mask: (H, W) uint8 index mask of the previous frame.
        flow: (H, W, 2) float32 flow from the current frame to the previous one (dx, dy).

    Returns:
        (H, W) uint8 index mask of the current frame.
    """
    height, width = mask.shape
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    map_x = xs + flow[..., 0]
    map_y = ys + flow[..., 1]
    return cv2.remap(
        np.ascontiguousarray(mask, dtype=np.uint8),
        map_x,
        map_y,
        interpolation=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


def propagate_flow(frames: FrameReader, first_mask: np.ndarray, num_frames: int) -> Iterator[np.ndarray]:
    """Warp the previous predicted mask to each frame with DIS optical flow (preset MEDIUM).

    The flow runs from frame t to frame t-1 on greyscale images, so every pixel of frame t fetches its id
    from where it came from in frame t-1.

    Args:
        frames: the clip, read in order.
        first_mask: (H, W) uint8 index mask of frame 0.
        num_frames: frames to yield.

    Yields:
        (H, W) uint8 index mask per frame, frame 0 first.
    """
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    mask = np.asarray(first_mask, dtype=np.uint8).copy()
    if num_frames <= 0:
        return
    yield mask.copy()
    previous = _grey(frames.read(0)) if num_frames > 1 else None
    for t in range(1, num_frames):
        current = _grey(frames.read(t))
        flow = dis.calc(current, previous, None)
        mask = warp_mask(mask, flow)
        yield mask.copy()
        previous = current
