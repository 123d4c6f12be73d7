"""The one matte rule of exports and the viewer: combine the selected objects first, then grow/feather once.

Names: `index` (H, W) uint8 index mask (0 = background, k = object id); `soft` object id -> (H, W) float32
probability in [0, 1]; `alpha` (H, W) float32 matte in [0, 1] (1 = selected objects, i.e. 1 - the probability
of background and of the objects left out).

Combining before the matte controls keeps the union opaque where two objects touch: taking the maximum of
each object's own feathered matte gave alpha near 0.5 along every shared edge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

import cv2
import numpy as np


@lru_cache(maxsize=16)
def disk(radius: int) -> np.ndarray:
    """(2r+1, 2r+1) uint8 disk structuring element."""
    r = int(radius)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return (xx * xx + yy * yy <= r * r).astype(np.uint8)


def apply_matte(alpha: np.ndarray, grow: int, feather: int) -> np.ndarray:
    """Grow/shrink then feather one (H, W) float32 matte in [0, 1].

    Args:
        alpha: (H, W) float32 matte.
        grow: > 0 dilates, < 0 erodes by that many pixels (disk element).
        feather: Gaussian blur with a (2*feather+1) window and sigma feather/2.
    """
    if grow == 0 and feather == 0:
        return alpha
    out = alpha
    if grow > 0:
        out = cv2.dilate(out, disk(grow))
    elif grow < 0:
        out = cv2.erode(out, disk(-grow))
    if feather > 0:
        k = 2 * feather + 1
        out = cv2.GaussianBlur(out, (k, k), feather / 2.0, borderType=cv2.BORDER_REPLICATE)
    return np.clip(out, 0.0, 1.0)


def union_alpha(
    index: np.ndarray, ids: Iterable[int], soft: Mapping[int, np.ndarray | None] | None = None
) -> np.ndarray:
    """(H, W) float32 union of the objects `ids`, before grow/feather.

    Objects with a soft mask in `soft` add their probability, the others their index-mask pixels; the sum is
    clipped to 1 (alpha = 1 - background probability, for probabilities that sum to 1 over all objects).

    Args:
        index: (H, W) uint8 index mask.
        ids: selected object ids (0 and ids outside 1..255 select nothing).
        soft: object id -> (H, W) float32 soft mask in [0, 1]; None entries use the index mask.
    """
    soft = soft or {}
    lut = np.zeros(256, np.uint8)  # 255 for the ids drawn from the index mask
    probs = []
    for obj_id in {int(i) for i in ids}:
        prob = soft.get(obj_id)
        if prob is not None:
            probs.append(prob)
        elif 0 < obj_id < 256:
            lut[obj_id] = 255
    alpha = cv2.LUT(index, lut).astype(np.float32) / np.float32(255.0)
    for prob in probs:
        alpha += prob.astype(np.float32, copy=False)
    return np.minimum(alpha, 1.0) if probs else alpha


def union_matte(
    index: np.ndarray,
    ids: Iterable[int],
    grow: int = 0,
    feather: int = 0,
    soft: Mapping[int, np.ndarray | None] | None = None,
) -> np.ndarray:
    """(H, W) float32 matte of the objects `ids`: their union (`union_alpha`), then `apply_matte` once.

    Every matte an exporter writes or the viewer shows comes from here, so preview equals export. Inside the
    union alpha stays 1, also where objects touch; feather only softens the union's outer boundary.

    Args:
        index: (H, W) uint8 index mask.
        ids: selected object ids.
        grow: > 0 dilates, < 0 erodes the union by that many pixels.
        feather: blur radius in pixels of the union's edge.
        soft: object id -> (H, W) float32 soft mask, preferred to the index mask where given.
    """
    return apply_matte(union_alpha(index, ids, soft), grow, feather)
