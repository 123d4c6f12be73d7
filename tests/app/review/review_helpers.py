"""Helpers shared by the review-tools tests (a uniquely named module: `conftest` names clash across folders)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests.conftest import DAVIS


def davis_mask(sequence: str, index: int) -> np.ndarray:
    """(H, W) uint8 index mask (object 1) of a DAVIS-2016 annotation."""
    path = DAVIS / "Annotations" / "480p" / sequence / f"{index:05d}.png"
    return (np.asarray(Image.open(path).convert("L")) > 127).astype(np.uint8)


def split_in_two(mask: np.ndarray) -> np.ndarray:
    """(H, W) uint8: object 1's pixels right of its centroid column become object 2 (touching objects)."""
    out = mask.copy()
    cx = int(np.nonzero(out)[1].mean())
    out[:, cx:] *= 2
    return out
