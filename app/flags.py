"""Frames worth a second look: sudden object area changes, vanishing objects and unsure boundaries. Qt-free.

Per frame, `frame_stats` keeps each object's area and one confidence number; `find_flags` compares each frame
with the previous frame that has stats and returns a short reason per flagged frame, for the timeline.

Confidence: for each object, the pixels within `BAND` pixels of its predicted boundary (inside or outside, where
propagation errors show first) are averaged as |2p - 1|, where p is the object's probability: 1 means every
boundary pixel was decided with p near 0 or 1, 0 means coin flips along the whole edge. The frame's confidence is
the lowest over its objects, so one doubtful object flags the frame. An object with no pixels and a probability
below 0.5 everywhere is confidently absent and does not lower the confidence.

Calibration (benchmarks/bench_review.py, its output in benchmarks/bench_review_output.txt): with the shipped
weights and default engine settings, frames 1-40 of DAVIS dog, bmx-trees and motocross-jump propagated from
frame 0, confidence correlates with the IoU against the ground truth at r = 0.83 over 119 frames; good frames
score 0.6-0.75. The default threshold 0.55 flagged 8 frames, all with IoU < 0.5 (8 of the 20 such frames), and
no good frame; 0.6 catches 16 of the 20 but also flags 6 good frames.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np

BAND = 3  # half-width in pixels of the boundary band where confidence is measured


@dataclass(frozen=True)
class FrameStats:
    """What `find_flags` needs of one frame.

    Attributes:
        areas: object id -> pixels of that object in the index mask (0 for an object with probabilities but no
            pixels, so a vanished object is visible as such).
        confidence: 0..1, the lowest over objects of the mean |2p - 1| in the boundary band (1.0 without
            probabilities, e.g. for keyframes painted by hand).
    """

    areas: dict[int, int] = field(default_factory=dict)
    confidence: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must lie in 0..1, got {self.confidence}")


def _band(obj: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels within BAND of the boundary of the (H, W) uint8 0/1 mask `obj`."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * BAND + 1, 2 * BAND + 1))
    return cv2.dilate(obj, kernel) != cv2.erode(obj, kernel)


def object_confidence(obj: np.ndarray, prob: np.ndarray) -> float:
    """Mean |2p - 1| over the boundary band of one object (1.0 when it has no boundary and p < 0.5 everywhere).

    Args:
        obj: (H, W) bool, the object's pixels in the index mask.
        prob: (H, W) float32 probability of the object.
    """
    band = _band(obj.astype(np.uint8))
    if not band.any():
        if obj.any():  # the object covers the whole frame: judge it on all its pixels
            band = obj
        else:  # absent: judge the pixels that nearly made it
            band = prob >= 0.5
            if not band.any():
                return 1.0
    return float(np.abs(2.0 * prob[band].astype(np.float64) - 1.0).mean())


def frame_stats(mask: np.ndarray, probs: Mapping[int, np.ndarray] | None = None) -> FrameStats:
    """Areas and confidence of one frame.

    Args:
        mask: (H, W) uint8 index mask.
        probs: object id -> (H, W) float32 probability (a propagated frame's `FrameResult.probs`); None or
            empty for frames without probabilities (keyframes), whose confidence is 1.

    Returns:
        Stats with an area for every id in the mask and every id in `probs`.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f"mask must be (H, W) uint8, got {mask.shape} {mask.dtype}")
    counts = np.bincount(mask.ravel(), minlength=256)
    areas = {int(i): int(counts[i]) for i in np.flatnonzero(counts) if i != 0}
    confidence = 1.0
    for obj_id, prob in (probs or {}).items():
        if prob.shape != mask.shape:
            raise ValueError(f"probability of object {obj_id} is {prob.shape}, the mask {mask.shape}")
        areas.setdefault(int(obj_id), 0)
        confidence = min(confidence, object_confidence(mask == obj_id, prob))
    return FrameStats(areas=dict(sorted(areas.items())), confidence=float(np.clip(confidence, 0.0, 1.0)))


def _area_reasons(
    frame: int, prev_frame: int, cur: FrameStats, prev: FrameStats, seen: set[int], area_jump: float, min_area: int
) -> list[str]:
    reasons = []
    for obj_id in sorted(set(cur.areas) | set(prev.areas)):
        before, now = prev.areas.get(obj_id, 0), cur.areas.get(obj_id, 0)
        if max(before, now) < min_area:
            continue  # specks: their relative changes mean nothing
        if before == 0:
            if obj_id in seen:  # an object entering for the first time is normal; coming back is not
                reasons.append(f"object {obj_id} reappeared ({now} px; absent on frame {prev_frame})")
        elif now == 0:
            reasons.append(f"object {obj_id} vanished (was {before} px on frame {prev_frame})")
        elif abs(now - before) / before > area_jump:
            reasons.append(f"object {obj_id} area {(now - before) / before:+.0%} vs frame {prev_frame}")
    return reasons


def find_flags(
    stats: Mapping[int, FrameStats],
    *,
    area_jump: float = 0.35,
    min_confidence: float = 0.55,
    min_area: int = 50,
) -> dict[int, str]:
    """Frames to review, each with a short reason.

    A frame is flagged when, compared with the previous frame that has stats, an object's area changes by more
    than `area_jump` (relative, either direction), an object vanishes, or an object that had vanished comes
    back; or when its confidence is below `min_confidence`. Several reasons are joined with "; ".

    Args:
        stats: frame index -> stats (frames without stats are skipped, not treated as empty).
        area_jump: relative area change that flags, e.g. 0.35 = 35%.
        min_confidence: confidence (see module docstring) below which a frame is flagged.
        min_area: area changes where the object is smaller than this many pixels on both frames are ignored.

    Returns:
        frame index -> reason, e.g. {12: "object 2 area -48% vs frame 11"}.
    """
    if area_jump <= 0:
        raise ValueError(f"area_jump must be > 0, got {area_jump}")
    flags: dict[int, str] = {}
    seen: set[int] = set()
    prev_frame: int | None = None
    for frame in sorted(stats):
        cur = stats[frame]
        reasons = []
        if prev_frame is not None:
            reasons = _area_reasons(frame, prev_frame, cur, stats[prev_frame], seen, area_jump, min_area)
        if cur.confidence < min_confidence:
            reasons.append(f"confidence {cur.confidence:.2f} < {min_confidence:.2f}")
        if reasons:
            flags[frame] = "; ".join(reasons)
        seen.update(obj_id for obj_id, area in cur.areas.items() if area > 0)
        prev_frame = frame
    return flags


def next_flag(flags: Mapping[int, str], current: int, direction: int) -> int | None:
    """The nearest flagged frame after (`direction` > 0) or before (< 0) `current`, or None."""
    if direction == 0:
        raise ValueError("direction must be > 0 (next) or < 0 (previous), not 0")
    frames = sorted(flags)
    if direction > 0:
        i = bisect.bisect_right(frames, current)
        return frames[i] if i < len(frames) else None
    i = bisect.bisect_left(frames, current)
    return frames[i - 1] if i > 0 else None
