"""`Session`: the single owner of one video's inference state.

It holds the objects, the keyframes (person-given masks), the propagated masks and their provenance,
and runs propagation forward, backward or both ways, frame by frame, cancellable between frames.
See `keyframes.py` for which keyframes a run carries and where it stops.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import torch

from llb_core.inference.keyframes import Keyframe, depends_on, memory_keyframes
from llb_core.inference.results import FrameResult, MaskStore, Provenance
from llb_core.inference.settings import SessionSettings, select_device, select_dtype
from llb_core.inference.tracker import Track, Tracker, initial_box
from llb_core.model import LLBNet

Direction = Literal["forward", "backward", "both"]
MAX_OBJECTS = 255


class Frames(Protocol):
    """What a session needs from a frame source (see `llb_core.io.FrameSource`)."""

    @property
    def num_frames(self) -> int: ...

    @property
    def size(self) -> tuple[int, int]: ...

    def read(self, index: int) -> np.ndarray: ...


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
    """Inference state of one video (see module docstring).

    Args:
        frames: the frame source.
        model: the network (moved to the session's device).
        settings: engine settings.
    """

    def __init__(self, frames: Frames, model: LLBNet, settings: SessionSettings | None = None) -> None:
        self.frames = frames
        self.settings = settings or SessionSettings()
        self.device = select_device(self.settings.device)
        self.dtype = select_dtype(self.device, self.settings.precision)
        fmt = torch.channels_last if self.settings.channels_last else torch.contiguous_format
        self.model = model.to(self.device, memory_format=fmt).eval()
        self.model.fuse_for_inference()
        self.size: tuple[int, int] = tuple(frames.size)  # type: ignore[assignment]
        self.num_frames = frames.num_frames
        self.objects: dict[int, str] = {}
        self._keyframes: dict[int, Keyframe] = {}
        self.store = MaskStore()

    # ------------------------------------------------------------------------------------- objects
    def add_object(self, name: str | None = None, obj_id: int | None = None) -> int:
        """Add an object (id 1..255, the smallest free one unless given); returns its id."""
        if obj_id is None:
            free = [i for i in range(1, MAX_OBJECTS + 1) if i not in self.objects]
            if not free:
                raise ValueError(f"at most {MAX_OBJECTS} objects per video")
            obj_id = free[0]
        if not 1 <= obj_id <= MAX_OBJECTS or obj_id in self.objects:
            raise ValueError(f"object id {obj_id} is taken or outside 1..{MAX_OBJECTS}")
        self.objects[obj_id] = name or f"object {obj_id}"
        return obj_id

    def rename_object(self, obj_id: int, name: str) -> None:
        self._known(obj_id)
        self.objects[obj_id] = name

    def remove_object(self, obj_id: int) -> list[int]:
        """Remove an object from the keyframes and the session; returns the propagated frames discarded."""
        self._known(obj_id)
        del self.objects[obj_id]
        for frame, kf in list(self._keyframes.items()):
            if obj_id in kf.annotated:
                mask = np.where(kf.mask == obj_id, 0, kf.mask).astype(np.uint8)
                annotated = kf.annotated - {obj_id}
                if annotated:
                    self._keyframes[frame] = Keyframe(frame, mask, annotated)
                else:
                    del self._keyframes[frame]
        stale = [f for f in self.store.frames() if obj_id in np.unique(self.store.get(f))]  # type: ignore[arg-type]
        self.store.discard(stale)
        return stale

    def _known(self, obj_id: int) -> None:
        if obj_id not in self.objects:
            raise KeyError(f"no object with id {obj_id}")

    # ----------------------------------------------------------------------------------- keyframes
    @property
    def keyframes(self) -> list[int]:
        return sorted(self._keyframes)

    def keyframe(self, frame: int) -> Keyframe | None:
        return self._keyframes.get(frame)

    def set_keyframe(self, frame: int, mask: np.ndarray, annotated: set[int] | None = None) -> list[int]:
        """Make `frame` a keyframe with the person-given index mask (H, W) uint8.

        Args:
            annotated: the objects this mask speaks for (default: every object of the session, so an
                object missing from the mask is absent on that frame). Objects not annotated keep
                their propagated masks there.

        Returns:
            The propagated frames invalidated by the change (their masks are discarded).
        """
        self._check_frame(frame)
        mask = np.asarray(mask)
        if mask.shape != self.size:
            raise ValueError(f"mask of size {mask.shape} for a video of size {self.size}")
        if mask.dtype != np.uint8:
            raise ValueError(f"index mask must be uint8, got {mask.dtype}")
        ids = {int(v) for v in np.unique(mask) if v}
        unknown = sorted(ids - set(self.objects))
        if unknown:
            raise ValueError(f"mask of frame {frame} holds unknown object ids {unknown}; add them first")
        annotated = set(self.objects) if annotated is None else set(annotated)
        if not ids <= annotated:
            raise ValueError(f"mask of frame {frame} holds objects {sorted(ids - annotated)} it does not annotate")
        before = self.keyframes
        self._keyframes[frame] = Keyframe(frame, mask.copy(), frozenset(annotated))
        return self._invalidate(frame, before)

    def remove_keyframe(self, frame: int) -> list[int]:
        """Turn a keyframe back into an ordinary frame; returns the invalidated frames."""
        if frame not in self._keyframes:
            raise KeyError(f"frame {frame} is not a keyframe")
        before = self.keyframes
        del self._keyframes[frame]
        return self._invalidate(frame, before)

    def _invalidate(self, changed: int, before: list[int]) -> list[int]:
        after = self.keyframes
        count = self.settings.keyframes_in_memory
        stale = [f for f, prov in self.store.items() if depends_on(f, prov, changed, before, after, count)]
        self.store.discard(stale)
        return stale

    def _check_frame(self, frame: int) -> None:
        if not 0 <= frame < self.num_frames:
            raise IndexError(f"frame {frame} outside 0..{self.num_frames - 1}")

    # -------------------------------------------------------------------------------------- results
    def mask(self, frame: int) -> np.ndarray | None:
        """The index mask (H, W) uint8 of `frame`: the propagated one merged with its keyframe's
        annotation, or None when the frame has neither."""
        self._check_frame(frame)
        kf = self._keyframes.get(frame)
        predicted = self.store.get(frame)
        if kf is None:
            return predicted
        if predicted is None:
            return kf.mask.copy()
        merged = np.where(np.isin(predicted, list(kf.annotated)), 0, predicted).astype(np.uint8)
        return np.where(np.isin(kf.mask, list(kf.annotated)), kf.mask, merged).astype(np.uint8)

    def missing_frames(self) -> list[int]:
        """Frames with no mask at all."""
        return [f for f in range(self.num_frames) if f not in self._keyframes and self.store.get(f) is None]

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
            kf = self._keyframes.get(nxt)
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

    def plan_all(self, only_missing: bool = False) -> list[Run]:
        """Runs that fill the whole clip from every keyframe, each frame from its nearer keyframe."""
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
        if only_missing:
            runs = [r for r in runs if any(self.store.get(f) is None for f in r.frames())]
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
        only_missing: bool = False,
        on_frame: Callable[[FrameResult], None] | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancel: CancelCheck = None,
    ) -> RunReport:
        """Fill every frame of the clip from the keyframes (see `plan_all`)."""
        return self.run(self.plan_all(only_missing), on_frame=on_frame, progress=progress, cancel=cancel)

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
        tracker = Tracker(self.model, self.settings, self.device, self.size)
        start_label = self.mask(run.start)
        if start_label is None:
            raise ValueError(f"frame {run.start} has no mask to propagate from")
        origin = self.store.provenance(run.start)
        provenance = Provenance(run.start if origin is None else origin.start, run.direction)
        with self._compute():
            frame = tracker.frame_tensor(self.frames.read(run.start))
            label = torch.from_numpy(start_label).to(self.device)
            tracks = self._start_tracks(tracker, run, frame, label)
        since_update = 0
        for t in run.frames():
            if _cancelled(cancel):
                return
            with self._compute():
                since_update += 1
                update = since_update >= self.settings.memory_interval
                result = self._step(tracker, tracks, t, update, provenance)
            if update:
                since_update = 0
            self.store.put(t, result.mask, provenance)
            yield result

    def _step(self, tracker: Tracker, tracks: list[Track], t: int, update: bool, provenance: Provenance) -> FrameResult:
        """Predict frame `t`, inject its annotations, update memories and boxes."""
        frame = tracker.frame_tensor(self.frames.read(t))
        kf = self._keyframes.get(t)
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
                first = track.tau is None
                iterations = self.settings.init_iterations if first else self.settings.update_iterations
                tracker.add_sample(track, sample, iterations=iterations)
            tracker.follow(track, prob)
        ids = torch.tensor([0] + [tr.obj_id for tr in tracks], dtype=torch.uint8, device=self.device)
        label = probs.max(dim=0).indices  # (K+1, H, W) -> (H, W); much faster than argmax(dim=0) on CPU
        mask = ids[label].cpu().numpy()
        return FrameResult(
            t, mask, {tr.obj_id: probs[i + 1].float().cpu().numpy() for i, tr in enumerate(tracks)}, provenance
        )

    def _start_tracks(self, tracker: Tracker, run: Run, frame: torch.Tensor, label: torch.Tensor) -> list[Track]:
        """Tracks for the run's objects, their memory seeded with the start frame and carried keyframes."""
        carried = [
            k
            for k in memory_keyframes(run.start, run.direction, self.keyframes, self.settings.keyframes_in_memory)
            if k != run.start
        ]
        start_kf = self._keyframes.get(run.start)
        active = self._active_objects(run.start)
        carried_frames = {k: tracker.frame_tensor(self.frames.read(k)) for k in carried}
        for k in carried:
            active |= self._keyframes[k].present() & set(self.objects)
        tracks = []
        for obj in sorted(active):
            prob = (label == obj).float()
            fallback = None
            samples = []
            for k in reversed(carried):  # oldest first, so the start sample is the newest
                kf = self._keyframes[k]
                if obj not in kf.annotated:
                    continue
                kprob = torch.from_numpy(kf.mask == obj).to(self.device).float()
                box = initial_box(kprob, fallback, self.size)
                fallback = box
                samples.append((k, carried_frames[k], kprob, box))
            track = tracker.new_track(obj, initial_box(prob, fallback, self.size))
            pinned_start = start_kf is not None and obj in start_kf.annotated
            samples.append((run.start, frame, prob, track.box))
            for i, (k, image, kprob, box) in enumerate(samples):
                crop = tracker.crop(image, tracker.window_for(box))
                pinned = k != run.start or pinned_start
                last = i == len(samples) - 1
                sample = tracker.make_sample(k, crop, kprob, pinned=pinned)
                track.bank.add(sample)
                if last:
                    x, e2, w, v = track.bank.learner_inputs()
                    track.tau = self.model.fit(x, e2, w, v, iterations=self.settings.init_iterations)
            tracks.append(track)
        return tracks
