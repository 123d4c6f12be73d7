"""Where a propagated frame's time goes: wall time per named stage of the engine's work.

A `StageClock` is handed to a `Session` (`Session.clock`); the engine wraps each piece of its per-frame work in
`clock("name")`. Time is exclusive: a stage entered inside another is not counted twice. The default clock
is `NO_CLOCK`, which measures nothing. `llb bench propagate --stages` and benchmarks/profile_propagate.py
print the table.

Stages: read (decode the frame), input (frame to tensor, crop and resize), backbone (with its adapters),
target (the few-shot learner's prediction), prior (the location prior cut into the crop), decoder,
merge (paste to full resolution, soft aggregation, index mask, probabilities to numpy), memory (label
encoding and target-model refit), store (compressing the mask into the session's results), write (what the
caller does with a finished frame, e.g. PNG files), other (the rest: Python bookkeeping).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

STAGES = (
    "read",
    "input",
    "backbone",
    "target",
    "prior",
    "decoder",
    "merge",
    "memory",
    "store",
    "write",
    "other",
)


class StageClock:
    """Accumulates exclusive wall time per stage over the frames of one or more runs."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self.frames = 0
        self.total = 0.0
        self._stack: list[list] = []  # [name, start, time spent in nested stages]
        self._frame_start: float | None = None  # stages count only between begin_frame and frame_done

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        if self._frame_start is None:
            yield
            return
        entry = [name, time.perf_counter(), 0.0]
        self._stack.append(entry)
        try:
            yield
        finally:
            self._stack.pop()
            spent = time.perf_counter() - entry[1]
            self.seconds[name] = self.seconds.get(name, 0.0) + spent - entry[2]
            if self._stack:
                self._stack[-1][2] += spent

    def begin_frame(self) -> None:
        """A propagated frame starts: stages count from here (not during a run's start-up)."""
        self._frame_start = time.perf_counter()

    def frame_done(self) -> None:
        """The frame is finished, including the caller's work on it."""
        if self._frame_start is not None:
            self.frames += 1
            self.total += time.perf_counter() - self._frame_start
            self._frame_start = None

    def ms_per_frame(self) -> dict[str, float]:
        """Mean ms per frame of every stage; "other" is the frames' total minus the named stages."""
        if not self.frames:
            return dict.fromkeys(STAGES, 0.0)
        named = {k: v for k, v in self.seconds.items() if k != "other"}
        out = {k: 1000 * v / self.frames for k, v in named.items()}
        out["other"] = max(0.0, 1000 * (self.total - sum(named.values())) / self.frames)
        return out


class _NoClock(StageClock):
    """The default: measures nothing."""

    def __call__(self, name: str) -> contextlib.nullcontext:  # type: ignore[override]
        return contextlib.nullcontext()

    def begin_frame(self) -> None:
        pass

    def frame_done(self) -> None:
        pass


NO_CLOCK = _NoClock()


class TimedRunner:
    """A `runtime.FrameRunner` whose calls count as the "backbone" and "decoder" stages of `clock`."""

    def __init__(self, runner: object, clock: StageClock) -> None:
        self.runner = runner
        self.clock = clock
        self.name: str = runner.name  # type: ignore[attr-defined]

    def encode_frame(self, images: object) -> object:
        with self.clock("backbone"):
            return self.runner.encode_frame(images)  # type: ignore[attr-defined]

    def decode(self, frame: object, target: object, prior: object) -> object:
        with self.clock("decoder"):
            return self.runner.decode(frame, target, prior)  # type: ignore[attr-defined]
