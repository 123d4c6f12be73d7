"""`Session`: the per-run propagator of one video.

It reads the clip's objects, keyframes and start masks from a `ClipView` (the project state's engine-facing
view: `llb_core.workspace.ClipState` or its snapshot) and runs propagation forward, backward or both ways,
frame by frame, cancellable between frames, keeping the frames it produced (`results`) so later runs of the
same plan and `mask()` see them. It holds no keyframes or objects of its own and decides nothing about what a
change invalidates (`llb_core.workspace.FrameRecords.invalidated_by` does): build a new session for each
run. See `keyframes.py` for which keyframes a run carries and where it stops.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import torch

from llb_core.inference.keyframes import Keyframe, memory_keyframes
from llb_core.inference.read_ahead import ReadAhead
from llb_core.inference.results import FrameResult, Provenance, RunResults
from llb_core.inference.settings import SessionSettings, select_device, select_dtype
from llb_core.inference.stages import NO_CLOCK, StageClock
from llb_core.inference.tracker import Track, Tracker, initial_box
from llb_core.model import BackboneNet

Direction = Literal["forward", "backward", "both"]


class Frames(Protocol):
    """What a session needs from a frame source (see `llb_core.io.FrameSource`)."""

    @property
    def num_frames(self) -> int: ...

    @property
    def size(self) -> tuple[int, int]: ...

    def read(self, index: int) -> np.ndarray: ...


class ClipView(Protocol):
    """What a run reads from the project state (`llb_core.workspace.ClipState` and `ClipSnapshot`)."""

    @property
    def objects(self) -> Mapping[int, str]: ...

    @property
    def keyframes(self) -> Mapping[int, frozenset[int]]: ...

    def keyframe(self, frame: int) -> Keyframe | None: ...

    def run_mask(self, frame: int) -> np.ndarray | None: ...

    def run_provenance(self, frame: int) -> Provenance | None: ...


@dataclass(frozen=True)
class Run:
    """One planned run: from `start` in `direction` (+1 / -1) to `end` inclusive."""

    start: int
    direction: int
    end: int

    def frames(self) -> range:
        return range(self.start + self.direction, self.end + self.direction, self.direction)


@dataclass
class RunReport:
    """What a propagation call did."""

    frames: int
    seconds: float
    cancelled: bool

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


CancelCheck = Callable[[], bool] | threading.Event | None


def _cancelled(cancel: CancelCheck) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


class Session:
    """One propagation over a video (see module docstring).

    Args:
        frames: the frame source.
        model: the network (moved to the session's device).
        clip: what the run reads: objects, keyframes, start masks.
        settings: engine settings.
    """

    def __init__(
        self, frames: Frames, model: BackboneNet, clip: ClipView, settings: SessionSettings | None = None
    ) -> None:
        self.frames = frames
        self.clip = clip
        self.settings = settings or SessionSettings()
        self.device = select_device(self.settings.device)
        self.dtype = select_dtype(self.device, self.settings.precision)
        fmt = torch.channels_last if self.settings.channels_last else torch.contiguous_format
        self.model = model.to(self.device, memory_format=fmt).eval()
        self.model.fuse_for_inference()
        self.size: tuple[int, int] = tuple(frames.size)  # type: ignore[assignment]
        self.num_frames = frames.num_frames
        self.clock: StageClock = NO_CLOCK
        """Set a `StageClock` to measure where each frame's time goes (see `stages.py`)."""
        self.runtime = ""
        """The runtime of the per-frame network parts in the last run ("torch", "openvino"; see `runtime.py`)."""
        self.results = RunResults()
        """Frames this session produced (index masks before merging with keyframes) and their provenance."""

    @property
    def objects(self) -> Mapping[int, str]:
        return self.clip.objects

    @property
    def keyframes(self) -> list[int]:
        return sorted(self.clip.keyframes)

    def keyframe(self, frame: int) -> Keyframe | None:
        return self.clip.keyframe(frame)

    def _check_frame(self, frame: int) -> None:
        if not 0 <= frame < self.num_frames:
            raise IndexError(f"frame {frame} outside 0..{self.num_frames - 1}")

    # -------------------------------------------------------------------------------------- results
    def mask(self, frame: int) -> np.ndarray | None:
        """The index mask (H, W) uint8 of `frame`: the one this session produced merged with its keyframe's
        annotation, else the clip's run mask, or None."""
        self._check_frame(frame)
        predicted = self.results.get(frame)
        if predicted is None:
            return self.clip.run_mask(frame)
        kf = self.clip.keyframe(frame)
        if kf is None:
            return predicted
        merged = np.where(np.isin(predicted, list(kf.annotated)), 0, predicted).astype(np.uint8)
        return np.where(np.isin(kf.mask, list(kf.annotated)), kf.mask, merged).astype(np.uint8)

    def provenance(self, frame: int) -> Provenance | None:
        """The run that produced `frame`'s propagated part (this session's, else the clip's)."""
        return self.results.provenance(frame) or self.clip.run_provenance(frame)

    # ------------------------------------------------------------------------------------- planning
    def _active_objects(self, start: int) -> set[int]:
        """Objects a run from `start` tracks: those with pixels in its start mask or carried keyframes."""
        active: set[int] = set()
        label = self.mask(start)
        if label is not None:
            active |= {int(v) for v in np.unique(label) if v}
        return active & set(self.objects)

    def _run_end(self, start: int, direction: int, stop_at: int | None) -> tuple[int, int | None]:
        """Last frame of a run and the covering keyframe that stopped it (None: clip end or `stop_at`)."""
        active = self._active_objects(start)
        limit = (self.num_frames - 1) if direction > 0 else 0
        if stop_at is not None:
            limit = min(limit, stop_at) if direction > 0 else max(limit, stop_at)
        frame = start
        while frame != limit:
            nxt = frame + direction
            kf = self.clip.keyframe(nxt)
            if kf is not None:
                if active <= kf.annotated:
                    return frame, nxt
                active |= kf.present()
            frame = nxt
        return frame, None

    def plan(self, start: int, direction: Direction = "forward", stop_at: int | None = None) -> list[Run]:
        """The runs `propagate` would make (see `propagate`)."""
        self._check_frame(start)
        if self.mask(start) is None:
            raise ValueError(f"frame {start} has no mask to propagate from; paint it or propagate to it first")
        runs: list[Run] = []
        for d in (1,) if direction == "forward" else (-1,) if direction == "backward" else (1, -1):
            end, stopper = self._run_end(start, d, stop_at)
            if direction == "both" and stopper is not None:
                mid = (start + stopper) // 2 if d > 0 else (start + stopper + 1) // 2
                near = Run(start, d, mid)
                far = Run(stopper, -d, mid + d)
                runs += [r for r in (near, far) if r.frames()]
            elif end != start:
                runs.append(Run(start, d, end))
        return runs

    def plan_all(self, only: Collection[int] | None = None) -> list[Run]:
        """Runs that fill the whole clip from every keyframe, each frame from its nearer keyframe.

        Args:
            only: keep just the runs that cover at least one of these frames (a fill of missing or stale
                frames); None keeps every run.
        """
        runs: list[Run] = []
        keyframes = self.keyframes
        if not keyframes:
            return runs
        first = keyframes[0]
        if first > 0:
            runs.append(Run(first, -1, 0))
        covered = first
        for kf in keyframes:
            if kf < covered:
                continue  # passed through by an earlier run
            for run in self.plan(kf, "both"):
                if run.direction > 0 or run.start != kf:
                    runs.append(run)
                covered = max(covered, run.end, run.start)
        runs = list(dict.fromkeys(runs))
        if only is not None:
            wanted = set(only)
            runs = [r for r in runs if any(f in wanted for f in r.frames())]
        return runs

    # ------------------------------------------------------------------------------------ propagate
    def propagate(
        self,
        start: int,
        direction: Direction = "forward",
        stop_at: int | None = None,
        *,
        on_frame: Callable[[FrameResult], None] | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancel: CancelCheck = None,
    ) -> RunReport:
        """Propagate from `start` (a keyframe or a frame with a mask).

        forward / backward: until the next keyframe that annotates every tracked object, the clip end or
        `stop_at` (inclusive). both: fills the gaps on both sides of `start`; where a gap ends at another
        keyframe, each frame takes the prediction from the nearer keyframe.

        Args:
            on_frame: called with each finished frame (an exception there stops the run and propagates).
            progress: called with (frames done, frames planned).
            cancel: checked between frames; a cancelled run keeps every finished frame.
        """
        return self.run(self.plan(start, direction, stop_at), on_frame=on_frame, progress=progress, cancel=cancel)

    def propagate_all(
        self,
        *,
        only: Collection[int] | None = None,
        on_frame: Callable[[FrameResult], None] | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancel: CancelCheck = None,
    ) -> RunReport:
        """Fill the clip from the keyframes (see `plan_all`)."""
        return self.run(self.plan_all(only), on_frame=on_frame, progress=progress, cancel=cancel)

    def run(
        self,
        runs: list[Run],
        *,
        on_frame: Callable[[FrameResult], None] | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancel: CancelCheck = None,
    ) -> RunReport:
        """Execute planned runs in order."""
        total = sum(len(r.frames()) for r in runs)
        done = 0
        started = time.perf_counter()
        for run in runs:
            for result in self.iter_run(run, cancel=cancel):
                done += 1
                if on_frame is not None:
                    with self.clock("write"):
                        on_frame(result)
                if progress is not None:
                    progress(done, total)
            if _cancelled(cancel):
                break
        return RunReport(done, time.perf_counter() - started, _cancelled(cancel) and done < total)

    def _compute(self) -> contextlib.ExitStack:
        """Inference mode plus autocast, entered around each step (never held across a `yield`:
        generator wrappers reset autocast state when they resume)."""
        stack = contextlib.ExitStack()
        stack.enter_context(torch.inference_mode())
        enabled = self.dtype != torch.float32
        stack.enter_context(torch.autocast(self.device.type, dtype=self.dtype, enabled=enabled))
        return stack

    def iter_run(self, run: Run, *, cancel: CancelCheck = None) -> Iterator[FrameResult]:
        """Yield each frame of `run` as it is finished; stops between frames when `cancel` fires."""
        model = self._model_for(run)
        settings = self.settings if model is self.model else self.settings.replace(runtime="torch")  # tuned copy
        tracker = Tracker(model, settings, self.device, self.size, self.dtype, self.clock)
        self.runtime = tracker.runner.name
        start_label = self.mask(run.start)
        if start_label is None:
            raise ValueError(f"frame {run.start} has no mask to propagate from")
        origin = self.provenance(run.start)
        provenance = Provenance(run.start if origin is None else origin.start, run.direction)
        reader = ReadAhead(self.frames, run.frames())  # decodes while the run starts and between frames
        try:
            with self._compute():
                frame = tracker.enter(self.frames.read(run.start))
                label = torch.from_numpy(start_label).to(self.device)
                tracks = self._start_tracks(tracker, run, frame, label)
            since_update = 0
            clock = tracker.clock
            for t in run.frames():
                if _cancelled(cancel):
                    return
                clock.begin_frame()
                with clock("read"):
                    image = reader.read(t)
                with self._compute():
                    since_update += 1
                    update = since_update >= self.settings.memory_interval
                    result = self._step(tracker, tracks, t, image, update, provenance)
                if update:
                    since_update = 0
                with clock("store"):
                    self.results.put(t, result.mask, provenance)
                yield result
                clock.frame_done()  # after the caller's work on the frame
        finally:
            reader.close()

    def _model_for(self, run: Run) -> BackboneNet:
        """The session's model, or with test-time fine-tuning on, a copy tuned on the run's keyframes."""
        if self.settings.finetune_steps <= 0:
            return self.model
        from llb_core.inference.finetune import FinetuneSettings, finetuned

        frames = [
            run.start,
            *memory_keyframes(run.start, run.direction, self.keyframes, self.settings.keyframes_in_memory),
        ]
        examples = []
        for k in dict.fromkeys(frames):
            kf = self.clip.keyframe(k)
            if kf is not None:
                mask = np.where(np.isin(kf.mask, list(kf.annotated)), kf.mask, 0).astype(np.uint8)
                examples.append((self.frames.read(k), mask))
        tuning = FinetuneSettings(steps=self.settings.finetune_steps, lr=self.settings.finetune_lr)
        return finetuned(self.model, examples, tuning, self.dtype)

    def _step(
        self, tracker: Tracker, tracks: list[Track], t: int, image: np.ndarray, update: bool, provenance: Provenance
    ) -> FrameResult:
        """Predict frame `t` (its (H, W, 3) uint8 `image`), inject its annotations, update memories and boxes."""
        frame = tracker.enter(image)
        kf = self.clip.keyframe(t)
        annotations: dict[int, torch.Tensor] = {}
        if kf is not None:
            kmask = torch.from_numpy(kf.mask).to(self.device)
            annotations = {o: kmask == o for o in kf.annotated if o in self.objects}
            for o in sorted(kf.present() - {tr.obj_id for tr in tracks}):
                tracks.append(tracker.new_track(o, initial_box(annotations[o].float(), None, self.size)))
        crops: dict = {}
        probs = tracker.predict(frame, tracks, annotations, crops)
        for i, track in enumerate(tracks):
            prob = probs[i + 1]
            annotated = track.obj_id in annotations
            if annotated or update:
                assert track.window is not None
                sample = tracker.make_sample(t, crops[track.window], prob, pinned=annotated)
                first = track.state is None
                iterations = self.settings.init_iterations if first else self.settings.update_iterations
                tracker.add_sample(track, sample, iterations=iterations)
            tracker.follow(track, prob)
        with tracker.clock("merge"):
            ids = torch.tensor([0] + [tr.obj_id for tr in tracks], dtype=torch.uint8, device=self.device)
            label = probs.max(dim=0).indices  # (K+1, H, W) -> (H, W); much faster than argmax(dim=0) on CPU
            mask = ids[label].cpu().numpy()
            soft = {tr.obj_id: probs[i + 1].float().cpu().numpy() for i, tr in enumerate(tracks)}
        return FrameResult(t, mask, soft, provenance)

    def _start_tracks(self, tracker: Tracker, run: Run, frame: torch.Tensor, label: torch.Tensor) -> list[Track]:
        """Tracks for the run's objects, their memory seeded with the start frame and carried keyframes."""
        carried = [
            k
            for k in memory_keyframes(run.start, run.direction, self.keyframes, self.settings.keyframes_in_memory)
            if k != run.start
        ]
        start_kf = self.clip.keyframe(run.start)
        keyframes = {k: self.clip.keyframe(k) for k in carried}
        active = self._active_objects(run.start)
        carried_frames = {k: tracker.frame_tensor(self.frames.read(k)) for k in carried}
        for k in carried:
            active |= keyframes[k].present() & set(self.objects)  # type: ignore[union-attr]
        tracks = []
        for obj in sorted(active):
            prob = (label == obj).float()
            fallback = None
            samples = []
            for k in reversed(carried):  # oldest first, so the start sample is the newest
                kf = keyframes[k]
                assert kf is not None
                if obj not in kf.annotated:
                    continue
                kprob = torch.from_numpy(kf.mask == obj).to(self.device).float()
                box = initial_box(kprob, fallback, self.size)
                fallback = box
                samples.append((k, carried_frames[k], kprob, box))
            track = tracker.new_track(obj, initial_box(prob, fallback, self.size))
            track.prob = prob
            pinned_start = start_kf is not None and obj in start_kf.annotated
            samples.append((run.start, frame, prob, track.box))
            for i, (k, image, kprob, box) in enumerate(samples):
                crop = tracker.crop(image, tracker.window_for(box))
                pinned = k != run.start or pinned_start
                last = i == len(samples) - 1
                sample = tracker.make_sample(k, crop, kprob, pinned=pinned)
                track.bank.add(sample)
                if last:
                    tracker.refresh(track, iterations=self.settings.init_iterations)
            tracks.append(track)
        return tracks
