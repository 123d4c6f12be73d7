"""Mask edits on (H, W) uint8 index masks (0 = background, k = object id). Qt-free (numpy, OpenCV).

Coordinates are image pixels (x, y) as floats; `protect` holds object ids whose pixels an edit must not
change (locked objects).
"""

from __future__ import annotations

from collections.abc import Set

import cv2
import numpy as np

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)


def _stroke(shape: tuple[int, int], p0: tuple[float, float], p1: tuple[float, float], radius: float) -> tuple:
    """Boolean footprint of a round brush moved from p0 to p1, within its bounding rectangle."""
    h, w = shape
    r = max(0.5, float(radius))
    x0 = int(np.floor(min(p0[0], p1[0]) - r)) - 1
    y0 = int(np.floor(min(p0[1], p1[1]) - r)) - 1
    x1 = int(np.ceil(max(p0[0], p1[0]) + r)) + 2
    y1 = int(np.ceil(max(p0[1], p1[1]) + r)) + 2
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x0 >= x1 or y0 >= y1:
        return None, (0, 0, 0, 0)
    foot = np.zeros((y1 - y0, x1 - x0), np.uint8)
    shift = 4  # sub-pixel precision: coordinates in 1/16 pixel
    scale = 1 << shift
    a = (round((p0[0] - 0.5 - x0) * scale), round((p0[1] - 0.5 - y0) * scale))  # pixel i spans [i, i + 1)
    b = (round((p1[0] - 0.5 - x0) * scale), round((p1[1] - 0.5 - y0) * scale))
    rad = round(r * scale)
    cv2.circle(foot, a, rad, 1, -1, cv2.LINE_8, shift)
    cv2.circle(foot, b, rad, 1, -1, cv2.LINE_8, shift)
    if a != b:  # the swept band between the two discs
        d = np.array([b[0] - a[0], b[1] - a[1]], np.float64)
        n = np.array([-d[1], d[0]]) / np.hypot(*d) * rad
        poly = np.array([a + n, b + n, b - n, a - n], np.int64).reshape(-1, 1, 2)
        cv2.fillPoly(foot, [poly.astype(np.int32)], 1, cv2.LINE_8, shift)
    return foot.astype(bool), (x0, y0, x1, y1)


def paint_segment(
    mask: np.ndarray,
    p0: tuple[float, float],
    p1: tuple[float, float],
    radius: float,
    obj_id: int,
    erase: bool = False,
    protect: Set[int] = frozenset(),
) -> Rect:
    """Paint (or erase) object `obj_id` in place along a round-brush segment; returns the changed rectangle.

    Painting takes background and unprotected objects' pixels; erasing clears only `obj_id`'s pixels.
    """
    foot, (x0, y0, x1, y1) = _stroke(mask.shape, p0, p1, radius)
    if foot is None:
        return (0, 0, 0, 0)
    roi = mask[y0:y1, x0:x1]
    if erase:
        roi[foot & (roi == obj_id)] = 0
    else:
        allowed = ~np.isin(roi, list(protect)) if protect else np.ones_like(foot)
        roi[foot & allowed] = obj_id
    return (x0, y0, x1, y1)


def fill_holes(mask: np.ndarray, obj_id: int) -> np.ndarray:
    """Copy of `mask` where background enclosed by object `obj_id` (not reachable from the image border
    without crossing it) becomes `obj_id`."""
    outside = (mask != obj_id).astype(np.uint8)
    padded = cv2.copyMakeBorder(outside, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=1)
    flood = padded.copy()
    ff_mask = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    cv2.floodFill(flood, ff_mask, (0, 0), 2)  # the outside region, reached from the padding, becomes 2
    enclosed = flood[1:-1, 1:-1] == 1
    out = mask.copy()
    out[enclosed & (mask == 0)] = obj_id
    return out


def clear_object(mask: np.ndarray, obj_id: int) -> np.ndarray:
    """Copy of `mask` without object `obj_id`."""
    return np.where(mask == obj_id, 0, mask).astype(np.uint8)
