"""Keyframes (person-given masks) and which of them a run carries in memory and where it stops.

A keyframe annotates a set of objects on one frame. A run starting at a keyframe carries that
keyframe and the nearest `keyframes_in_memory - 1` keyframes behind it (in the direction it comes
from) as pinned memory. It runs until the next keyframe that annotates every object it tracks (a
"covering" keyframe) or the clip end; keyframes that annotate only some objects (for instance one that
introduces a new object) are passed through, their annotations joining the run on the way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Keyframe:
    """A person-given index mask (H, W) uint8 on `frame`, annotating the object ids in `annotated`."""

    frame: int
    mask: np.ndarray
    annotated: frozenset[int]

    def present(self) -> set[int]:
        """Annotated objects with at least one pixel."""
        return {int(v) for v in np.unique(self.mask) if v and int(v) in self.annotated}


def memory_keyframes(start: int, direction: int, frames: list[int], count: int) -> list[int]:
    """The keyframes a run from `start` carries: `start` (if a keyframe) and the nearest behind it."""
    behind = sorted((f for f in frames if (f < start if direction > 0 else f > start)), key=lambda f: abs(f - start))
    own = [start] if start in frames else []
    return own + behind[: count - len(own)]
