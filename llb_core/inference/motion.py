"""Motion between consecutive frames of a run, to move the location prior to where the object went.

DIS optical flow (OpenCV) from the current frame back to the previous one, on greyscale frames scaled to a
short side of `short_side` pixels; a previous-frame probability map is then backward-warped to the current
frame: out(x) = prob(x + flow(x)). One flow per frame, shared by every object.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch


class PriorWarp:
    """Flow from each frame of a run to the one before it, and warping of probability maps along it.

    Args:
        image_size: (H, W) of the video.
        short_side: the flow's working resolution (short side, pixels); the flow is upsampled for warping.
    """

    def __init__(self, image_size: tuple[int, int], short_side: int = 240) -> None:
        self.image_size = image_size
        height, width = image_size
        scale = min(1.0, short_side / min(height, width))
        self.small = (max(round(width * scale), 8), max(round(height * scale), 8))  # cv2 order (w, h)
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self.previous: np.ndarray | None = None
        self.map: tuple[np.ndarray, np.ndarray] | None = None  # full-resolution sampling maps, x and y

    def _grey(self, image: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        return cv2.resize(grey, self.small, interpolation=cv2.INTER_AREA)

    def step(self, image: np.ndarray) -> None:
        """Enter the run's next frame (H, W, 3) uint8 RGB; the first call only remembers it."""
        current = self._grey(image)
        if self.previous is None:
            self.map = None
        else:
            flow = self.dis.calc(current, self.previous, None)  # (h, w, 2): current -> previous
            height, width = self.image_size
            full = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
            full[..., 0] *= width / self.small[0]
            full[..., 1] *= height / self.small[1]
            xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
            self.map = (xs + full[..., 0], ys + full[..., 1])
        self.previous = current

    def warp(self, prob: torch.Tensor) -> torch.Tensor:
        """A previous-frame probability (H, W) moved to the current frame (same shape, device and dtype);
        unchanged before the second `step`."""
        if self.map is None:
            return prob
        moved = cv2.remap(
            prob.detach().float().cpu().numpy(),
            *self.map,
            interpolation=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0.0,
        )
        return torch.from_numpy(moved).to(device=prob.device, dtype=prob.dtype)
