"""GrabCut inside a box (OpenCV): the box tool's proposal and the reference row of `llb eval clicks`."""

from __future__ import annotations

import cv2
import numpy as np

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)
GRABCUT_MAX_SIDE = 240  # GrabCut runs on the box region downscaled to at most this many pixels a side
GRABCUT_ITERATIONS = 4


def grabcut_box(
    image: np.ndarray, rect: Rect, fg: np.ndarray | None = None, bg: np.ndarray | None = None
) -> np.ndarray:
    """The object inside a box, by OpenCV GrabCut: (H, W) bool, False outside the box.

    Args:
        image: (H, W, 3) uint8 RGB frame.
        rect: the box (x0, y0, x1, y1) in pixels.
        fg / bg: optional (H, W) bool hints (pixels known to be object / background), e.g. brush strokes.

    Raises:
        ValueError: a box smaller than 4 pixels a side.
    """
    h, w = image.shape[:2]
    x0, y0, x1, y1 = max(0, rect[0]), max(0, rect[1]), min(w, rect[2]), min(h, rect[3])
    if x1 - x0 < 4 or y1 - y0 < 4:
        raise ValueError("the box is too small: drag a box around the whole object")
    margin = max(8, (x1 - x0 + y1 - y0) // 8)  # some background around the box for the colour models
    cx0, cy0, cx1, cy1 = max(0, x0 - margin), max(0, y0 - margin), min(w, x1 + margin), min(h, y1 + margin)
    crop = image[cy0:cy1, cx0:cx1]
    scale = min(1.0, GRABCUT_MAX_SIDE / max(crop.shape[:2]))
    small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else crop
    sh, sw = small.shape[:2]
    labels = np.full((sh, sw), cv2.GC_BGD, np.uint8)
    bx0, by0 = int((x0 - cx0) * scale), int((y0 - cy0) * scale)
    bx1, by1 = max(bx0 + 2, int((x1 - cx0) * scale)), max(by0 + 2, int((y1 - cy0) * scale))
    labels[by0:by1, bx0:bx1] = cv2.GC_PR_FGD
    for hint, value in ((fg, cv2.GC_FGD), (bg, cv2.GC_BGD)):
        if hint is not None:
            part = hint[cy0:cy1, cx0:cx1].astype(np.uint8)
            part = cv2.resize(part, (sw, sh), interpolation=cv2.INTER_NEAREST) if scale < 1 else part
            labels[part > 0] = value
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = np.ascontiguousarray(small[..., ::-1])
    cv2.grabCut(bgr, labels, None, bgd, fgd, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    fg_small = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.uint8)
    fg_crop = cv2.resize(fg_small, (cx1 - cx0, cy1 - cy0), interpolation=cv2.INTER_LINEAR) if scale < 1 else fg_small
    out = np.zeros((h, w), bool)
    out[cy0:cy1, cx0:cx1] = fg_crop > 0
    inside = np.zeros((h, w), bool)
    inside[y0:y1, x0:x1] = True
    return out & inside
