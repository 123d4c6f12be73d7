"""Simulated location priors for training: what the engine will hand the decoder as "where the object was".

At inference the prior of frame t is the object's soft mask on frame t-1, cut into frame t's crop: close to
the truth but shifted by the motion, a little too large or too small, soft at the edges, sometimes missing
a part, sometimes holding a leak onto something else, and empty when the object was lost. Training draws
priors of exactly those kinds from the ground truth of frame t, so the network learns to prefer the
location it is given without trusting it blindly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from llb_core.train.augment import object_box


@dataclass(frozen=True)
class PriorNoise:
    """How far a simulated prior strays from the ground truth (fractions are of the object's box size)."""

    empty_probability: float = 0.08  # object lost on the previous frame: no prior at all
    shift: float = 0.2  # motion between frames: translation U(-x, x) per axis
    log_scale: float = 0.15  # size change: exp(U(-x, x))
    rotation_deg: float = 10.0
    max_morph: int = 4  # dilation or erosion radius in pixels, U(0, x)
    ghost_probability: float = 0.15  # a leak: a weaker copy of the object somewhere else in the crop
    cut_probability: float = 0.1  # a lost part: the prior covers the object only on one side of a line
    max_blur: float = 3.0  # Gaussian sigma U(0.3, x): soft edges as a network's output has


def _affine(
    mask: np.ndarray, box: tuple[float, float, float, float], rng: np.random.Generator, n: PriorNoise
) -> np.ndarray:
    cx, cy, bw, bh = box
    angle = rng.uniform(-n.rotation_deg, n.rotation_deg)
    scale = float(np.exp(rng.uniform(-n.log_scale, n.log_scale)))
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, scale)
    matrix[:, 2] += rng.uniform(-n.shift, n.shift, 2) * (bw, bh)
    h, w = mask.shape
    return cv2.warpAffine(mask, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0)


def _morph(mask: np.ndarray, rng: np.random.Generator, radius_max: int) -> np.ndarray:
    radius = int(rng.integers(0, radius_max + 1))
    if radius == 0:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask, kernel) if rng.random() < 0.5 else cv2.erode(mask, kernel)


def simulate_prior(mask: np.ndarray, rng: np.random.Generator, noise: PriorNoise = PriorNoise()) -> np.ndarray:
    """A plausible previous-frame soft mask for ground truth `mask` (H, W) {0, 1} -> (H, W) float32 in [0, 1]."""
    box = object_box(mask)
    if box is None or rng.random() < noise.empty_probability:
        return np.zeros(mask.shape, np.float32)
    prior = _morph(_affine(mask.astype(np.float32), box, rng, noise), rng, noise.max_morph)
    h, w = mask.shape
    if rng.random() < noise.cut_probability:
        cx, cy, bw, bh = box
        theta = rng.uniform(0, 2 * np.pi)
        offset = rng.uniform(-0.3, 0.3) * max(bw, bh)
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        prior = prior * (((xs - cx) * np.cos(theta) + (ys - cy) * np.sin(theta)) < offset)
    if rng.random() < noise.ghost_probability:
        shift = np.float32([[1, 0, rng.uniform(-0.6, 0.6) * w], [0, 1, rng.uniform(-0.6, 0.6) * h]])
        ghost = cv2.warpAffine(mask.astype(np.float32), shift, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0)
        prior = np.maximum(prior, ghost * rng.uniform(0.3, 1.0))
    sigma = rng.uniform(0.3, noise.max_blur)
    prior = cv2.GaussianBlur(prior.astype(np.float32), (0, 0), sigma)
    return np.clip(prior, 0.0, 1.0)


def leak_onto(prior: np.ndarray, mask: np.ndarray, others: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`prior` spread onto the other object nearest the target (as a mask spreads onto a neighbour that
    crossed it): all of it or the part on one side of a line, at strength U(0.5, 1), soft-edged.

    Args:
        prior: (H, W) float32 simulated prior; mask: (H, W) {0, 1} the target; others: (H, W) {0, 1} the
            pixels of other objects.
    """
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(others.astype(np.uint8), connectivity=8)
    parts = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= 20]
    box = object_box(mask)
    if not parts or box is None:
        return prior
    nearest = min(parts, key=lambda i: float(np.hypot(*(centroids[i] - box[:2]))))
    leak = (labels == nearest).astype(np.float32)
    if rng.random() < 0.5:
        h, w = leak.shape
        cx, cy = centroids[nearest]
        theta = rng.uniform(0, 2 * np.pi)
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        leak = leak * (((xs - cx) * np.cos(theta) + (ys - cy) * np.sin(theta)) < 0)
    leak = cv2.GaussianBlur(leak, (0, 0), rng.uniform(0.3, 2.0)) * rng.uniform(0.5, 1.0)
    return np.maximum(prior, leak)


def simulate_priors(
    masks: torch.Tensor,
    rng: np.random.Generator,
    noise: PriorNoise = PriorNoise(),
    others: torch.Tensor | None = None,
    leak: float = 0.0,
) -> torch.Tensor:
    """Priors for the test frames of a batch: masks (B, Q, 1, H, W) {0, 1} -> (B, Q-1, 1, H, W) in [0, 1].

    With `others` (B, Q, 1, H, W), the pixels of other objects, a prior leaks onto the nearest of them with
    probability `leak` (`leak_onto`); the ground truth stays the target alone.
    """
    truth = masks[:, 1:, 0].cpu().numpy()
    rest = None if others is None or not leak else others[:, 1:, 0].cpu().numpy()
    out = []
    for b, seq in enumerate(truth):
        row = []
        for q, m in enumerate(seq):
            prior = simulate_prior(m, rng, noise)
            if rest is not None and rest[b, q].any() and prior.any() and rng.random() < leak:
                prior = leak_onto(prior, m, rest[b, q], rng)
            row.append(prior)
        out.append(row)
    return torch.from_numpy(np.stack(out))[:, :, None].to(masks.device)
