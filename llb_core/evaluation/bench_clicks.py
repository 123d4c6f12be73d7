"""Latency of the click tool: a frame's features once, then each click, on a frame of any size.

The simulated person of `llb eval clicks` clicks a real DAVIS frame (or, without the shared data, a
synthetic one) resized to the requested size; times are medians over `repeats` sessions.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from llb_core.evaluation.clicks import click_object
from llb_core.interactive.session import ClickSession
from llb_core.model.clicknet import ClickNet

DAVIS_FRAME = Path("../shared/data/davis2016")  # JPEGImages/480p/dog/00030.jpg and its mask


@dataclass(frozen=True)
class ClickLatency:
    """Median milliseconds: `features` (the frame's backbone pass, once per frame), `first` (the first
    click's mask) and `click` (each later click), with the IoU after the last click."""

    features_ms: float
    first_ms: float
    click_ms: float
    iou: float


def bench_frame(height: int, width: int) -> tuple[np.ndarray, np.ndarray, str]:
    """An RGB frame and its object mask at (height, width), and where they came from."""
    image = DAVIS_FRAME / "JPEGImages" / "480p" / "dog" / "00030.jpg"
    mask = DAVIS_FRAME / "Annotations" / "480p" / "dog" / "00030.png"
    if image.is_file() and mask.is_file():
        frame = cv2.cvtColor(cv2.imread(str(image)), cv2.COLOR_BGR2RGB)
        truth = cv2.imread(str(mask), cv2.IMREAD_GRAYSCALE) > 127
        name = "DAVIS dog frame 30"
    else:
        rng = np.random.default_rng(0)
        frame = cv2.resize(rng.integers(0, 256, (48, 80, 3), dtype=np.uint8), (854, 480))
        truth = np.zeros((480, 854), bool)
        truth[150:330, 300:560] = True
        frame[truth] = (frame[truth] // 2 + 100).astype(np.uint8)
        name = "synthetic frame"
    frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)
    truth = cv2.resize(truth.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0
    return frame, truth, f"{name} at {width}x{height}"


def click_latency(
    model: ClickNet, frame: np.ndarray, truth: np.ndarray, *, clicks: int = 5, repeats: int = 3, zoom: bool = True
) -> ClickLatency:
    """Time `repeats` sessions of `clicks` simulated clicks each (see `ClickLatency`)."""
    features, first, later, last_iou = [], [], [], 0.0
    for _ in range(repeats):
        tic = time.perf_counter()
        session = ClickSession(model, frame, zoom=zoom)
        features.append(time.perf_counter() - tic)
        ious, seconds = click_object(session, truth, clicks)
        first += seconds[:1]
        later += seconds[1:]
        last_iou = ious[-1]
    return ClickLatency(
        1000 * statistics.median(features),
        1000 * statistics.median(first),
        1000 * statistics.median(later) if later else float("nan"),
        last_iou,
    )
