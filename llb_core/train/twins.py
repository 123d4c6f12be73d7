"""Distractors for training: another object pasted beside the target in a mini-sequence.

A twin is a copy of the target itself, with its appearance and pose on every frame (cut from that frame), so
nothing but where the object was can tell the two apart: the network must learn to use the location prior
(the accuracy issue's collapse: a small object beside a larger look-alike of the same kind). A stranger is an
object cut from another clip: its appearance differs, so when the location prior leaks onto it (as a mask
spreads onto a neighbour after an occlusion) the appearance must win (`prior.simulate_priors` leaks).

Frames are (H, W, 3) uint8 RGB, masks (H, W) uint8 0/1, in full-frame coordinates (before cropping).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from llb_core.train.augment import object_box


@dataclass(frozen=True)
class TwinConfig:
    """How the copy is placed.

    Attributes:
        log_scale: the copy's size relative to the object, exp(U(lo, hi)) (biased larger: the measured
            collapse was a small object beside a larger look-alike).
        distance: centre-to-centre distance in units of the two objects' mean half-size, U(lo, hi): below 2
            they overlap.
        drift: per-frame random walk of the copy's offset, fraction of the object's size.
        on_reference: probability that the copy is on the reference frame too (the look-alike was there
            from the start) rather than appearing on the later frames only.
        in_front: probability that the copy occludes the object where they overlap (else it is behind).
    """

    log_scale: tuple[float, float] = (-0.4, 0.7)
    distance: tuple[float, float] = (1.2, 2.6)
    drift: float = 0.08
    on_reference: float = 0.5
    in_front: float = 0.5


def _copy_matrix(centre: tuple[float, float], scale: float, mirror: bool, offset: np.ndarray) -> np.ndarray:
    """2x3 affine taking a pixel of the object to its copy: scale (and mirror) about `centre`, then shift."""
    cx, cy = centre
    sx = -scale if mirror else scale
    return np.array([[sx, 0.0, cx - sx * cx + offset[0]], [0.0, scale, cy - scale * cy + offset[1]]], np.float64)


def add_twin(
    pairs: list[tuple[np.ndarray, np.ndarray]],
    rng: np.random.Generator,
    cfg: TwinConfig = TwinConfig(),
    source: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[np.ndarray]]:
    """The mini-sequence with a copy of the object (or of `source`'s) beside it on every frame where it is visible.

    Args:
        pairs: (frame, binary mask of the target) per frame, the reference first; the reference mask is not empty.
        source: a stranger, (frame, binary mask) of another object, pasted instead of the target's own copy
            (sized as the target times the config's scale).

    Returns:
        new (frame, mask) pairs, a mask losing the pixels the copy covers when the copy is in front (the copy
        itself is background), and per frame the copy's visible pixels (H, W) uint8 0/1.
    """
    nothing = [np.zeros_like(m) for _, m in pairs]
    ref_box = object_box(pairs[0][1])
    src_box = None if source is None else object_box(source[1])
    if ref_box is None or (source is not None and src_box is None):
        return pairs, nothing
    _, _, bw, bh = ref_box
    scale = float(np.exp(rng.uniform(*cfg.log_scale)))
    if src_box is not None:  # the stranger's pixels -> the target's size x scale
        scale_src = scale * float(np.sqrt(bw * bh / max(src_box[2] * src_box[3], 1.0)))
    half = (bw + bh) / 4 * (1 + scale) / 2  # mean half-size of object and copy
    angle = rng.uniform(0, 2 * np.pi)
    offset = rng.uniform(*cfg.distance) * half * np.array([np.cos(angle), np.sin(angle)])
    mirror = bool(rng.random() < 0.5)
    front = bool(rng.random() < cfg.in_front)
    first = 0 if rng.random() < cfg.on_reference else 1
    out = list(pairs[:first])
    copies = nothing[:first]
    for frame, mask in pairs[first:]:
        offset = offset + rng.normal(0, cfg.drift, 2) * (bw, bh)
        box = object_box(mask)
        if box is None:  # the object is hidden: so is its copy
            out.append((frame, mask))
            copies.append(np.zeros_like(mask))
            continue
        h, w = mask.shape
        if source is None:
            matrix = _copy_matrix(box[:2], scale, mirror, offset)
            image, shape = frame, mask
        else:  # move the stranger's centre onto the target's, then as a twin
            assert src_box is not None
            matrix = _copy_matrix(src_box[:2], scale_src, mirror, offset + np.subtract(box[:2], src_box[:2]))
            image, shape = source
        copy = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        copy_mask = cv2.warpAffine(shape, matrix, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
        alpha = cv2.GaussianBlur(copy_mask.astype(np.float32), (3, 3), 0)
        if front:
            mask = (mask & (copy_mask == 0)).astype(np.uint8)
        else:
            alpha = alpha * (mask == 0)
            copy_mask = (copy_mask & (mask == 0)).astype(np.uint8)
        alpha = alpha[..., None]
        frame = (alpha * copy + (1 - alpha) * frame).round().astype(np.uint8)
        out.append((frame, mask))
        copies.append(copy_mask)
    if out[0][1].sum() < 0.5 * pairs[0][1].sum():  # the copy hides most of the reference object
        return pairs, nothing
    return out, copies
