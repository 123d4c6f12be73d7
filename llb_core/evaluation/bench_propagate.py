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
from llb_core.inference.stages import StageClock
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
    """One timed run: frames per second, the runtime that ran the network, ms per stage (see `stages.py`)."""

    fps: float
    runtime: str
    stages: dict[str, float]


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


def several(first: np.ndarray, objects: int) -> np.ndarray:
    """`first` (H, W) with object 1 plus `objects` - 1 more: boxes along the top of the frame, away from it."""
    out = first.copy()
    h, w = first.shape
    extra = objects - 1
    for k in range(extra):
        x0 = w // 20 + k * (w - w // 10) // max(extra, 1)
        x1 = x0 + max((w - w // 10) // max(extra, 1) - w // 20, 8)
        out[h // 10 : h // 4, x0:x1] = k + 2
    return out


def speed(
    model: BackboneNet,
    frames: object,
    masks: np.ndarray,
    settings: SessionSettings,
    num_frames: int,
    on_frame: Callable[[object], None] | None = None,
) -> SpeedResult:
    """A forward run over `num_frames` frames (start-up excluded): fps, runtime and ms per stage.

    `on_frame` does the caller's work on each finished frame (e.g. writing it), timed as the "write" stage.
    """
    clip = ClipState.detached(frames.num_frames, frames.size, {0: masks})  # type: ignore[attr-defined]
    session = Session(frames, model, clip, settings)  # type: ignore[arg-type]
    session.clock = StageClock()
    started: list[float] = []

    def done(result: object) -> None:
        if on_frame is not None:
            on_frame(result)
        started.append(time.perf_counter())

    session.propagate(0, "forward", stop_at=num_frames, on_frame=done)
    fps = (len(started) - 1) / (started[-1] - started[0]) if len(started) > 1 else 0.0
    return SpeedResult(fps, session.runtime, session.clock.ms_per_frame())


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
