"""Search regions: where in the frame each object is looked for, and how its box follows it.

Boxes and windows are in full-frame pixel coordinates. Windows are integer (x0, y0, x1, y1), end
exclusive, and always inside the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Box:
    """A target box: centre (cx, cy) and size (w, h) in pixels."""

    cx: float
    cy: float
    w: float
    h: float


@dataclass(frozen=True)
class Window:
    """An integer crop window (x0, y0, x1, y1), end exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


def box_from_mask(prob: torch.Tensor, *, min_pixels: int = 100) -> Box | None:
    """Centre of mass and 4 x std per axis of a probability map (H, W); None under `min_pixels` pixels."""
    if (prob > 0.5).sum().item() < min_pixels:
        return None
    total = prob.sum()
    ys = torch.arange(prob.shape[0], dtype=prob.dtype, device=prob.device)
    xs = torch.arange(prob.shape[1], dtype=prob.dtype, device=prob.device)
    py, px = prob.sum(dim=1) / total, prob.sum(dim=0) / total
    cy, cx = (py * ys).sum(), (px * xs).sum()
    sy = torch.sqrt((py * (ys - cy) ** 2).sum())
    sx = torch.sqrt((px * (xs - cx) ** 2).sum())
    return Box(cx.item(), cy.item(), max(4 * sx.item(), 1.0), max(4 * sy.item(), 1.0))


def update_box(
    old: Box, prob: torch.Tensor, *, min_pixels: int = 100, scale_range: tuple[float, float] = (0.95, 1.1)
) -> Box:
    """The next box: measured from `prob` (H, W), size change per frame clipped to `scale_range`;
    the old box when the mask has under `min_pixels` pixels."""
    new = box_from_mask(prob, min_pixels=min_pixels)
    if new is None:
        return old
    lo, hi = scale_range
    scale = math.sqrt((new.w * new.h) / max(old.w * old.h, 1e-6))
    clipped = min(max(scale, lo), hi)
    ratio = clipped / scale
    return Box(new.cx, new.cy, new.w * ratio, new.h * ratio)


def search_window(
    box: Box,
    image_size: tuple[int, int],
    net_size: tuple[int, int],
    *,
    area_factor: float = 25.0,
    max_zoom: float = 2.0,
) -> Window:
    """The crop window for `box`: `area_factor` x the box area, the network's aspect ratio, at most
    `max_zoom` x upsampling, shrunk to fit the image and shifted inside it.

    Args:
        image_size: (H, W) of the frame.
        net_size: (h, w) of the network input.
    """
    height, width = image_size
    aspect = net_size[1] / net_size[0]
    area = max(area_factor * box.w * box.h, (net_size[0] / max_zoom) * (net_size[1] / max_zoom))
    wh = math.sqrt(area / aspect)
    ww = aspect * wh
    shrink = min(1.0, width / ww, height / wh)
    ww, wh = ww * shrink, wh * shrink
    x0 = min(max(box.cx - ww / 2, 0.0), width - ww)
    y0 = min(max(box.cy - wh / 2, 0.0), height - wh)
    x0i, y0i = int(round(x0)), int(round(y0))
    return Window(x0i, y0i, min(x0i + max(int(round(ww)), 1), width), min(y0i + max(int(round(wh)), 1), height))


def full_window(image_size: tuple[int, int]) -> Window:
    """The whole frame."""
    return Window(0, 0, image_size[1], image_size[0])
