"""Clicks and boxes as the click network sees them, and the simulated person of training and evaluation.

Coordinates are pixels of the image they were given on (x to the right, y down). Masks are (H, W) bool.
No torch here: the app imports `Click` at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

GUIDANCE_CHANNELS = ("previous", "positive", "negative", "box")  # the click network's input maps, in order
CLICK_RADIUS = 5.0  # px at the network's working resolution: the disk a click paints in its guidance map


@dataclass(frozen=True)
class Click:
    """One click: a pixel (x, y) and whether it adds to the object (left click) or removes (right click)."""

    x: float
    y: float
    positive: bool = True

    def scaled(self, factor: float) -> Click:
        return Click(self.x * factor, self.y * factor, self.positive)


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (pixels; x1, y1 exclusive)


def guidance_maps(
    size: tuple[int, int],
    clicks: list[Click],
    box: Box | None = None,
    previous: np.ndarray | None = None,
    radius: float = CLICK_RADIUS,
) -> np.ndarray:
    """The network's guidance (G, H, W) float32 in [0, 1] for an image of `size` (H, W).

    Channels in `GUIDANCE_CHANNELS` order: the previous mask (soft or binary, (H, W); zeros when None),
    disks of `radius` at the positive and at the negative clicks, the filled box.
    """
    h, w = size
    maps = np.zeros((len(GUIDANCE_CHANNELS), h, w), np.float32)
    if previous is not None:
        if previous.shape != (h, w):
            raise ValueError(f"previous mask is {previous.shape}, the image {size}")
        maps[GUIDANCE_CHANNELS.index("previous")] = previous
    r = max(1, int(round(radius)))
    for click in clicks:
        channel = maps[GUIDANCE_CHANNELS.index("positive" if click.positive else "negative")]
        cv2.circle(channel, (int(round(click.x)), int(round(click.y))), r, 1.0, thickness=-1)
    if box is not None:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        x0, x1 = sorted((max(0, min(w, x0)), max(0, min(w, x1))))
        y0, y1 = sorted((max(0, min(h, y0)), max(0, min(h, y1))))
        maps[GUIDANCE_CHANNELS.index("box"), y0:y1, x0:x1] = 1.0
    return maps


def _deepest_point(region: np.ndarray) -> tuple[float, int, int]:
    """(distance, x, y) of the region's pixel farthest from its border and from the image border."""
    padded = np.pad(region.astype(np.uint8), 1)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return float(dist[y, x]), int(x), int(y)


def next_click(prediction: np.ndarray, truth: np.ndarray, ignore: np.ndarray | None = None) -> Click | None:
    """The simulated person's next click: at the centre (the pixel deepest inside) of the largest error
    region, positive where the object was missed, negative where background was taken; None when the
    prediction is already exact. The first click (empty prediction) lands deep inside the object.

    Args:
        prediction, truth: (H, W) bool.
        ignore: (H, W) bool pixels that never count as errors (unlabelled borders), or None.
    """
    missed = truth & ~prediction
    taken = prediction & ~truth
    if ignore is not None:
        missed &= ~ignore
        taken &= ~ignore
    d_missed, xm, ym = _deepest_point(missed) if missed.any() else (0.0, 0, 0)
    d_taken, xt, yt = _deepest_point(taken) if taken.any() else (0.0, 0, 0)
    if d_missed == 0.0 and d_taken == 0.0:
        return None
    if d_missed >= d_taken:
        return Click(xm, ym, True)
    return Click(xt, yt, False)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (H, W) bool masks (1.0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def mask_box(mask: np.ndarray) -> Box | None:
    """The tight box (x0, y0, x1, y1) of a (H, W) bool mask, or None when empty."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)
