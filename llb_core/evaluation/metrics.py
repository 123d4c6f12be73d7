"""DAVIS segmentation measures: region similarity J and boundary F-measure F (numpy and OpenCV only).

J is the intersection over union of a predicted and a ground-truth binary mask. F compares the one-pixel
boundaries of both masks: a boundary pixel counts as matched when the other mask's boundary lies within a
tolerance of ceil(0.008 x image diagonal) pixels (a disk), precision and recall of the matches give F.
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

BOUNDARY_TOLERANCE_RATIO = 0.008  # fraction of the image diagonal (the DAVIS protocol)


def boundary_tolerance(size: tuple[int, int], ratio: float = BOUNDARY_TOLERANCE_RATIO) -> int:
    """The boundary matching radius in pixels: ceil(ratio x sqrt(H^2 + W^2)).

    Args:
        size: (H, W) of the masks.
        ratio: fraction of the diagonal (0.008 for DAVIS).

    Returns:
        The radius, >= 1 for any non-empty image (8 for 854x480).
    """
    height, width = size
    return max(1, math.ceil(ratio * math.hypot(height, width)))


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """The one-pixel boundary of a binary mask.

    A pixel is a boundary pixel when it differs from its right, bottom or bottom-right neighbour; pixels on
    the last row or column compare only with the neighbours that exist (so an object touching the right or
    bottom border gets no boundary along that border, as with an edge-replicating pad).

    Args:
        mask: (H, W) bool or 0/1 array.

    Returns:
        (H, W) bool boundary map.
    """
    m = np.asarray(mask).astype(bool)
    if m.ndim != 2:
        raise ValueError(f"a mask must be (H, W), got shape {m.shape}")
    padded = np.pad(m, ((0, 1), (0, 1)), mode="edge")
    right = padded[:-1, 1:]
    below = padded[1:, :-1]
    below_right = padded[1:, 1:]
    return (m != right) | (m != below) | (m != below_right)


@lru_cache(maxsize=16)
def _disk(radius: int) -> np.ndarray:
    """(2r+1, 2r+1) uint8 elliptical structuring element."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _dilate(boundary: np.ndarray, radius: int) -> np.ndarray:
    return cv2.dilate(boundary.astype(np.uint8), _disk(radius)) > 0


def _check_pair(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred).astype(bool)
    g = np.asarray(gt).astype(bool)
    if p.shape != g.shape or p.ndim != 2:
        raise ValueError(f"prediction and ground truth must be (H, W) masks of one shape, got {p.shape} and {g.shape}")
    return p, g


def jaccard(pred: np.ndarray, gt: np.ndarray) -> float:
    """Region similarity J = |pred AND gt| / |pred OR gt|; two empty masks score 1.

    Args:
        pred: (H, W) bool or 0/1 predicted mask of one object.
        gt: (H, W) bool or 0/1 ground-truth mask of that object.

    Returns:
        J in [0, 1].
    """
    p, g = _check_pair(pred, gt)
    union = np.count_nonzero(p | g)
    if union == 0:
        return 1.0
    return np.count_nonzero(p & g) / union


def f_measure(pred: np.ndarray, gt: np.ndarray, tolerance: int | None = None) -> float:
    """Boundary F-measure F = 2PR / (P + R) of two binary masks.

    Precision P: share of predicted boundary pixels within `tolerance` of the ground-truth boundary;
    recall R: share of ground-truth boundary pixels within `tolerance` of the predicted boundary. Both
    boundaries empty: 1; exactly one empty: 0.

    Args:
        pred: (H, W) bool or 0/1 predicted mask of one object.
        gt: (H, W) bool or 0/1 ground-truth mask of that object.
        tolerance: matching radius in pixels (a disk); default `boundary_tolerance` of the mask size.

    Returns:
        F in [0, 1].
    """
    p, g = _check_pair(pred, gt)
    radius = boundary_tolerance(p.shape) if tolerance is None else int(tolerance)
    pb, gb = boundary_map(p), boundary_map(g)
    n_pred, n_gt = np.count_nonzero(pb), np.count_nonzero(gb)
    if n_pred == 0 and n_gt == 0:
        return 1.0
    if n_pred == 0 or n_gt == 0:
        return 0.0
    if radius > 0:
        precision = np.count_nonzero(pb & _dilate(gb, radius)) / n_pred
        recall = np.count_nonzero(gb & _dilate(pb, radius)) / n_gt
    else:
        precision = np.count_nonzero(pb & gb) / n_pred
        recall = np.count_nonzero(gb & pb) / n_gt
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def frame_scores(
    pred: np.ndarray, gt: np.ndarray, obj_ids: list[int], tolerance: int | None = None
) -> dict[int, tuple[float, float]]:
    """J and F of every object on one frame of index masks.

    Args:
        pred: (H, W) uint8 predicted index mask (0 = background, k = object k).
        gt: (H, W) uint8 ground-truth index mask.
        obj_ids: the objects to score.
        tolerance: boundary radius in pixels (default: from the mask size).

    Returns:
        object id -> (J, F).
    """
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    return {obj: (jaccard(pred == obj, gt == obj), f_measure(pred == obj, gt == obj, tolerance)) for obj in obj_ids}
