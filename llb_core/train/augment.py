"""Geometric and photometric augmentation of (frame, mask) pairs, and search-region crops for training.

Frames are (H, W, 3) uint8 RGB, masks (H, W) uint8 0/1. Crops mimic the engine's search regions: a window
of `area` x the object's box area with the network's aspect ratio, jittered in centre and scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

MEAN_COLOUR = (124, 116, 104)  # ImageNet mean in 8-bit RGB


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation ranges (the paper's)."""

    rotation_deg: float = 15.0
    log_scale: float = 0.2  # scale = exp(U(-x, x))
    brightness: tuple[float, float] = (0.8, 1.2)
    grey_probability: float = 0.05
    flip_probability: float = 0.5
    search_area: float = 25.0  # window area / box area
    centre_jitter: float = 0.25  # fraction of the box size; test frames use twice this
    scale_sigma_reference: float = 0.25  # log-normal jitter of the window scale
    scale_sigma_test: float = 0.5


def object_box(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    """(cx, cy, w, h) of the mask's pixels, or None when empty."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    return (x0 + x1) / 2, (y0 + y1) / 2, float(x1 - x0), float(y1 - y0)


def crop_pair(
    frame: np.ndarray,
    mask: np.ndarray,
    box: tuple[float, float, float, float],
    out_size: tuple[int, int],
    rng: np.random.Generator,
    cfg: AugmentConfig,
    *,
    test: bool,
    flip: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """One augmented search-region crop around `box`, resized to `out_size` (h, w) with one affine warp.

    Returns:
        frame (h, w, 3) uint8 and mask (h, w) uint8.
    """
    oh, ow = out_size
    cx, cy, bw, bh = box
    jitter = cfg.centre_jitter * (2 if test else 1)
    sigma = cfg.scale_sigma_test if test else cfg.scale_sigma_reference
    cx += rng.normal(0, jitter) * bw
    cy += rng.normal(0, jitter) * bh
    area = cfg.search_area * max(bw, 8) * max(bh, 8) * math.exp(rng.normal(0, sigma))
    win_h = math.sqrt(area * oh / ow)
    win_w = win_h * ow / oh
    height, width = frame.shape[:2]
    shrink = min(1.0, width / win_w, height / win_h)  # as the engine does: the window fits in the frame
    win_w, win_h = win_w * shrink, win_h * shrink
    cx = min(max(cx, win_w / 2), width - win_w / 2)
    cy = min(max(cy, win_h / 2), height - win_h / 2)
    scale = oh / win_h * math.exp(rng.uniform(-cfg.log_scale, cfg.log_scale))  # pixels out / pixels in
    angle = rng.uniform(-cfg.rotation_deg, cfg.rotation_deg)
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, scale)
    matrix[:, 2] += (ow / 2 - cx, oh / 2 - cy)
    if flip:
        matrix = np.array([[-1, 0, ow - 1], [0, 1, 0]], np.float64) @ np.vstack([matrix, [0, 0, 1]])
    # Outside the frame: the ImageNet mean colour (zero after normalisation). Reflected borders would
    # mirror the target into unlabelled copies of itself.
    image = cv2.warpAffine(
        frame, matrix, (ow, oh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=MEAN_COLOUR
    )
    target = cv2.warpAffine(mask, matrix, (ow, oh), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
    return image, target


def photometric(frames: list[np.ndarray], rng: np.random.Generator, cfg: AugmentConfig) -> list[np.ndarray]:
    """One brightness factor and greyscale choice for the whole mini-sequence."""
    factor = rng.uniform(*cfg.brightness)
    grey = rng.random() < cfg.grey_probability
    out = []
    for f in frames:
        g = np.clip(f.astype(np.float32) * factor, 0, 255)
        if grey:
            g = np.repeat(cv2.cvtColor(g.astype(np.uint8), cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
        out.append(g.astype(np.uint8))
    return out
