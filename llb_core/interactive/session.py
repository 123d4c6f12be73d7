"""Click sessions: one frame's backbone features computed once, then a mask for every set of clicks.

A frame is worked on at `working_side` pixels on its long side (downscaled, never upscaled); the mask comes
back at the frame's full resolution. With `zoom`, every click after the first also runs on a crop around
the object (its last mask and the clicks, enlarged by half) brought to `working_side`: small objects and
fine borders get the frame's own resolution (never more: upscaled crops measured worse), at the price of a
backbone pass whenever the crop moves. Frames no larger than the working image are always worked whole.

Naming legend: (H, W) the frame, (h, w) the working image.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from llb_core.inference.search_region import Window
from llb_core.interactive.clicks import Box, Click, guidance_maps
from llb_core.model.clicknet import ClickNet
from llb_core.resources import CLICK_WEIGHTS, resource

WORKING_SIDE = 640  # long side of the working image
ZOOM_MARGIN = 0.5  # the zoom crop is the object's box enlarged by this fraction of its size on each axis
ZOOM_MIN_SIDE = 48  # px of the frame: the smallest zoom crop


def load_click_model(weights: str | os.PathLike | None = None) -> ClickNet:
    """The click model for inference (BatchNorm folded): `weights`, default the shipped
    `resources/interactive/clicks.pt`.

    Raises:
        CheckpointError: missing file, or a checkpoint that is not a click model.
    """
    from llb_core.model import CheckpointError, load_checkpoint

    path = weights if weights is not None else resource(CLICK_WEIGHTS)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: click model weights not found; pass the file of one or reinstall LLB Studio")
    model = load_checkpoint(path, variant="clicks")
    assert isinstance(model, ClickNet)
    model.fuse_for_inference()
    return model


@dataclass(frozen=True)
class WorkWindow(Window):
    """A region of the frame and the scale (working px per frame px) it is worked at."""

    scale: float = 1.0

    @property
    def work_size(self) -> tuple[int, int]:
        """(h, w) of the working image."""
        return max(1, round(self.height * self.scale)), max(1, round(self.width * self.scale))


def _window(x0: int, y0: int, x1: int, y1: int, side: int, upscale: float) -> WorkWindow:
    return WorkWindow(x0, y0, x1, y1, min(upscale, side / max(x1 - x0, y1 - y0)))


class ClickSession:
    """Segments one object on one frame from clicks; each call refines the previous result.

    Args:
        model: the click model (`load_click_model()`).
        frame: (H, W, 3) uint8 RGB.
        working_side: long side of the working image (px).
        zoom: refine clicks after the first on a crop around the object (see the module docstring).
        keep_clicked_parts: drop the parts of a mask that nothing the person gave points at (see `predict`).
    """

    def __init__(
        self,
        model: ClickNet,
        frame: np.ndarray,
        *,
        working_side: int = WORKING_SIDE,
        zoom: bool = True,
        keep_clicked_parts: bool = True,
    ) -> None:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"frame must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
        self.model = model
        self.frame = frame
        self.size: tuple[int, int] = frame.shape[:2]
        self.working_side = working_side
        self.zoom = zoom
        self.keep_clicked_parts = keep_clicked_parts
        h, w = self.size
        self.full = _window(0, 0, w, h, working_side, 1.0)
        self._levels: dict[WorkWindow, dict[str, torch.Tensor]] = {}
        self.features(self.full)  # the whole frame's features: computed once
        self.last: np.ndarray | None = None  # (H, W) float32 probability of the last prediction

    def reset(self) -> None:
        """Forget the last prediction (the next click starts a new mask)."""
        self.last = None

    def features(self, window: WorkWindow) -> dict[str, torch.Tensor]:
        """Backbone levels of `window` of the frame (cached: the whole frame's and the last crop's)."""
        if window not in self._levels:
            crop = self.frame[window.y0 : window.y1, window.x0 : window.x1]
            h, w = window.work_size
            interp = cv2.INTER_AREA if window.scale < 1 else cv2.INTER_LINEAR
            image = cv2.resize(crop, (w, h), interpolation=interp) if (h, w) != crop.shape[:2] else crop
            tensor = torch.from_numpy(np.require(image, requirements=["C", "W"])).permute(2, 0, 1)[None].float() / 255
            with torch.inference_mode():
                levels = self.model.backbone_levels(tensor)
            for key in [k for k in self._levels if k != self.full]:
                del self._levels[key]
            self._levels[window] = levels
        return self._levels[window]

    def _zoom_window(self, clicks: list[Click], previous: np.ndarray | None) -> WorkWindow:
        """The crop for the next click: the object's box (its mask and positive clicks) enlarged by
        `ZOOM_MARGIN`; the last crop again while it still holds that box with room to spare (its features
        are cached), the whole frame when the object fills most of it."""
        h, w = self.size
        xs = [c.x for c in clicks if c.positive]
        ys = [c.y for c in clicks if c.positive]
        if previous is not None and (previous > 0.5).any():
            py, px = np.nonzero(previous > 0.5)
            xs += [float(px.min()), float(px.max() + 1)]
            ys += [float(py.min()), float(py.max() + 1)]
        if not xs:
            return self.full
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        last = next((k for k in self._levels if k != self.full), None)
        if last is not None:
            sx, sy = (x1 - x0) * ZOOM_MARGIN / 4, (y1 - y0) * ZOOM_MARGIN / 4  # the room to spare
            if (
                last.x0 <= max(0, x0 - sx)
                and last.y0 <= max(0, y0 - sy)
                and last.x1 >= min(w, x1 + sx)
                and last.y1 >= min(h, y1 + sy)
            ):
                return last
        mx = max((x1 - x0) * ZOOM_MARGIN, (ZOOM_MIN_SIDE - (x1 - x0)) / 2)
        my = max((y1 - y0) * ZOOM_MARGIN, (ZOOM_MIN_SIDE - (y1 - y0)) / 2)
        box = int(max(0, x0 - mx)), int(max(0, y0 - my)), int(min(w, x1 + mx + 1)), int(min(h, y1 + my + 1))
        if (box[2] - box[0]) * (box[3] - box[1]) > 0.6 * w * h:
            return self.full  # the object fills the frame: nothing to gain
        return _window(*box, self.working_side, 1.0)

    def probability(
        self, clicks: list[Click], box: Box | None = None, previous: np.ndarray | None = None
    ) -> np.ndarray:
        """The object's probability (H, W) float32 for `clicks` (frame pixels) and an optional `box`.

        Args:
            previous: the object's current mask (H, W) (bool or probability) to refine; default: this
                session's last prediction (none at first).
        """
        if previous is None:
            previous = self.last
        elif previous.shape != self.size:
            raise ValueError(f"previous mask is {previous.shape}, the frame {self.size}")
        window = self.full
        if self.zoom and self.full.scale < 1 and clicks and previous is not None and (previous > 0.5).any():
            window = self._zoom_window(clicks, previous)
        levels = self.features(window)
        h, w = window.work_size
        shift = (window.x0, window.y0)
        local = [Click((c.x - shift[0]) * window.scale, (c.y - shift[1]) * window.scale, c.positive) for c in clicks]
        local_box = None
        if box is not None:
            local_box = tuple((v - shift[i % 2]) * window.scale for i, v in enumerate(box))  # type: ignore[assignment]
        prior = None
        if previous is not None:
            crop = previous[window.y0 : window.y1, window.x0 : window.x1].astype(np.float32)
            prior = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if window.scale < 1 else cv2.INTER_LINEAR)
        maps = torch.from_numpy(guidance_maps((h, w), local, local_box, prior))[None]
        with torch.inference_mode():
            logits = self.model.segment(levels, maps, (h, w))
            logits = F.interpolate(
                logits, size=(window.y1 - window.y0, window.x1 - window.x0), mode="bilinear", align_corners=False
            )
            prob = torch.sigmoid(logits)[0, 0].numpy()
        # Outside a zoom crop the mask stays as it was.
        out = np.zeros(self.size, np.float32) if window == self.full else previous.astype(np.float32)
        out[window.y0 : window.y1, window.x0 : window.x1] = prob
        self.last = out
        return out

    def predict(self, clicks: list[Click], box: Box | None = None, previous: np.ndarray | None = None) -> np.ndarray:
        """The object's mask (H, W) bool (see `probability`). With `keep_clicked_parts`, a connected part of
        it is kept only if it holds a positive click, lies in the box or overlaps the `previous` mask given:
        blobs the network adds far from anything the person pointed at are dropped."""
        mask = self.probability(clicks, box, previous) > 0.5
        if not self.keep_clicked_parts or not mask.any():
            return mask
        count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
        keep = np.zeros(count, bool)
        h, w = self.size
        for c in clicks:
            if c.positive:
                keep[labels[min(h - 1, max(0, int(c.y))), min(w - 1, max(0, int(c.x)))]] = True
        if box is not None:
            x0, y0, x1, y1 = (int(round(v)) for v in box)
            keep[np.unique(labels[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)])] = True
        if previous is not None:
            keep[np.unique(labels[previous > 0.5])] = True
        keep[0] = False
        return keep[labels]
