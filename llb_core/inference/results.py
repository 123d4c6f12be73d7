"""Per-frame results of a session: compressed index masks and where each came from."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Provenance:
    """Which run produced a propagated frame: it started at keyframe `start` going `direction` (+1/-1)."""

    start: int
    direction: int


@dataclass
class FrameResult:
    """One propagated frame.

    Attributes:
        frame: frame index.
        mask: (H, W) uint8 index mask (0 = background, k = object id), full frame resolution.
        probs: object id -> (H, W) float32 merged probability of that object.
        provenance: the run that produced it.
    """

    frame: int
    mask: np.ndarray
    probs: dict[int, np.ndarray]
    provenance: Provenance


class RunResults:
    """Index masks of the frames a session propagated, PNG-compressed in memory (a few KB each), with provenance."""

    def __init__(self) -> None:
        self._png: dict[int, bytes] = {}
        self._provenance: dict[int, Provenance] = {}

    def put(self, frame: int, mask: np.ndarray, provenance: Provenance) -> None:
        """Store (H, W) uint8 `mask` for `frame`."""
        ok, data = cv2.imencode(".png", np.ascontiguousarray(mask, dtype=np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            raise RuntimeError(f"could not compress the mask of frame {frame}")
        self._png[frame] = data.tobytes()
        self._provenance[frame] = provenance

    def get(self, frame: int) -> np.ndarray | None:
        """(H, W) uint8 mask of `frame`, or None when it has no valid result."""
        data = self._png.get(frame)
        if data is None:
            return None
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)

    def provenance(self, frame: int) -> Provenance | None:
        return self._provenance.get(frame)

    def discard(self, frames: list[int]) -> None:
        for frame in frames:
            self._png.pop(frame, None)
            self._provenance.pop(frame, None)

    def frames(self) -> list[int]:
        return sorted(self._png)

    def items(self) -> list[tuple[int, Provenance]]:
        return sorted(self._provenance.items())
