"""`MaskSequence`: the protocol every exporter reads (masks and frames of a clip, frame by frame)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from llb_core.io._objects import ObjectSpec


@runtime_checkable
class MaskSequence(Protocol):
    """Masks of a clip, frame by frame: what exporters read (a workspace `Project` is one)."""

    @property
    def num_frames(self) -> int:
        """Number of frames."""

    @property
    def fps(self) -> float:
        """Frames per second."""

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of frames and masks."""

    @property
    def objects(self) -> Sequence[ObjectSpec]:
        """The declared objects."""

    def frame_name(self, index: int) -> str:
        """Name of frame `index` without extension ("00000")."""

    def frame(self, index: int) -> np.ndarray:
        """Source frame as (H, W, 3) uint8 RGB."""

    def frame16(self, index: int) -> np.ndarray:
        """Source frame as (H, W, 3) uint16 RGB."""

    def has_mask(self, index: int) -> bool:
        """True if frame `index` has a stored index mask (else `index_mask` is all zero)."""

    def index_mask(self, index: int) -> np.ndarray:
        """(H, W) uint8 index mask (all zero where nothing is annotated)."""

    def soft_mask(self, index: int, obj_id: int) -> np.ndarray | None:
        """(H, W) float32 soft mask in [0, 1] of one object, or None if none is stored."""
