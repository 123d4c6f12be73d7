"""`llb bench propagate`: engine speed on a real clip, and resident memory over a long synthetic clip."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from llb_core.inference import Session, SessionSettings
from llb_core.model import BackboneNet
from llb_core.workspace import ClipState


def rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc; peak RSS elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, IndexError, ValueError):
        return peak_rss_mb()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_gflops(dtype: torch.dtype, size: int = 2048, repeats: int = 5) -> float:
    """The machine's dense matmul rate in GFLOP/s: median of `repeats` (size x size) @ (size x size) products in
    `dtype` on the CPU after one warm-up, with torch's current thread count. Lets fps from different machines be
    compared (bf16 is emulated, and slow, on CPUs without native bf16)."""
    a = torch.rand(size, size).to(dtype)
    b = torch.rand(size, size).to(dtype)
    times = []
    with torch.inference_mode():
        a @ b
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - start)
    return 2 * size**3 / sorted(times)[len(times) // 2] / 1e9


@dataclass
class SpeedResult:
    objects: int
    precision: str
    frames: int
    fps: float
    peak_rss_mb: float


class MovingShapes:
    """A synthetic clip of any length: textured background, `objects` shapes drifting and bouncing.

    Frames are generated on demand, so the clip itself takes no memory.
    """

    def __init__(self, num_frames: int, size: tuple[int, int] = (480, 854), objects: int = 1, seed: int = 0) -> None:
        self.num_frames = num_frames
        self.size = size
        rng = np.random.default_rng(seed)
        h, w = size
        cells = rng.integers(0, 256, (-(-h // 8), -(-w // 8), 3), dtype=np.uint8)
        self.background = cells.repeat(8, 0).repeat(8, 1)[:h, :w]
        self.starts = rng.uniform(0.2, 0.8, (objects, 2)) * (h, w)
        self.speeds = rng.uniform(-3, 3, (objects, 2))
        self.colours = rng.integers(0, 256, (objects, 3))
        self.radius = min(h, w) // 10

    def centres(self, index: int) -> np.ndarray:
        h, w = self.size
        raw = self.starts + index * self.speeds
        span = np.array([h - 2 * self.radius, w - 2 * self.radius])
        folded = np.abs((raw - self.radius) % (2 * span) - span)  # bounce between the borders
        return span - folded + self.radius

    def mask(self, index: int) -> np.ndarray:
        h, w = self.size
        yy, xx = np.mgrid[0:h, 0:w]
        out = np.zeros(self.size, np.uint8)
        for k, (cy, cx) in enumerate(self.centres(index)):
            out[(yy - cy) ** 2 + (xx - cx) ** 2 < self.radius**2] = k + 1
        return out

    def read(self, index: int) -> np.ndarray:
        frame = self.background.copy()
        mask = self.mask(index)
        for k, colour in enumerate(self.colours):
            frame[mask == k + 1] = colour
        return frame


def speed(model: BackboneNet, frames: object, masks: np.ndarray, settings: SessionSettings, num_frames: int) -> float:
    """Frames per second of a forward run over `num_frames` frames (start-up excluded)."""
    clip = ClipState.detached(frames.num_frames, frames.size, {0: masks})  # type: ignore[attr-defined]
    session = Session(frames, model, clip, settings)  # type: ignore[arg-type]
    started: list[float] = []
    session.propagate(0, "forward", stop_at=num_frames, on_frame=lambda r: started.append(time.perf_counter()))
    if len(started) < 2:
        return 0.0
    return (len(started) - 1) / (started[-1] - started[0])


def memory_over_long_clip(
    model: BackboneNet,
    settings: SessionSettings,
    num_frames: int,
    checkpoints: tuple[int, ...],
    report: Callable[[int, float], None],
) -> dict[int, float]:
    """Resident memory (MiB) after each frame in `checkpoints` of a forward run over a synthetic clip."""
    shapes = MovingShapes(num_frames)
    state = ClipState.detached(num_frames, shapes.size, {0: shapes.mask(0)})
    session = Session(shapes, model, state, settings)
    seen: dict[int, float] = {}

    def on_frame(result: object) -> None:
        frame = result.frame  # type: ignore[attr-defined]
        if frame in checkpoints:
            seen[frame] = rss_mb()
            report(frame, seen[frame])

    session.propagate(0, "forward", on_frame=on_frame)
    return seen
