"""`Document`: one open project on the GUI thread: the edit buffer, undo history, objects, runs and saving.

One owner for each piece of state:
- objects and the frames' records (keyframes with the objects each annotates, provenance, stale frames):
  the project (`llb_core.workspace.Project`, journaled on every change), edited through `self.clip`
  (`ClipState`) in `apply_states` alone (every undo step uses it) and by the frames a run delivers;
- mask files: the project's `MaskStore`, written by the engine thread (`Engine.write`);
- the current frame, active / hidden / locked objects and the view state: `self.view` (`ViewModel`);
- review stats and flags: `self.review` (`FlagBook`); a run's undo record: `RunRecorder`.
The view state and the flags are stored in the project's settings (`app.view`, `app.model.flags`) on save.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from app.engine.engine import Engine
from app.engine.worker import FrameUpdate, RunRequest, RunSummary, SourceSpec
from app.model.flag_book import FlagBook
from app.model.flags import FrameStats
from app.model.run_recorder import RunRecorder
from app.model.undo import FrameStatesCommand, ObjectCommand
from app.model.view_model import ViewModel
from app.model.view_record import parse_view_record
from llb_core.inference import SessionSettings
from llb_core.io import ObjectSpec, first_free_id
from llb_core.workspace import ClipState, Project, States

log = logging.getLogger(__name__)

KEY_FLAGS = "app.model.flags"
KEY_VIEW = "app.view"
UNDO_LIMIT = 100


class Document(QObject):
    """One open project (see the module docstring).

    Args:
        project: the open project folder.
        engine: the engine thread (writes mask files, propagates).
        settings: engine settings for runs (its `keyframes_in_memory` also decides what a change invalidates).
        cache_frames: decoded frames the engine keeps for inference.
    """

    mask_changed = Signal(int)  # that frame's displayed mask changed (edit, run, undo, visibility)
    mask_region_changed = Signal(int, object)  # frame, (x0, y0, x1, y1): a stroke changed only those pixels
    objects_changed = Signal()  # declared, renamed, recoloured, removed, hidden, shown, locked
    timeline_changed = Signal()  # keyframes, propagated or stale frames, or flags
    run_recorded = Signal(object)  # RunSummary, after the run's undo step exists
    write_failed = Signal(str)  # message

    def __init__(
        self, project: Project, engine: Engine, settings: SessionSettings | None = None, cache_frames: int = 32
    ) -> None:
        super().__init__()
        self.project = project
        self.engine = engine
        self.settings = settings or SessionSettings()
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self.clip = ClipState(project)
        st = project.settings
        ids = {o.id for o in project.objects}
        self.review = FlagBook(st.get(KEY_FLAGS), self.clip.keyframes)
        self.view = ViewModel(
            project.num_frames, parse_view_record(st.get(KEY_VIEW), project.num_frames, ids, str(project.folder))
        )
        self.view.frame_changed.connect(self._on_frame_changed)
        self.view.visibility_changed.connect(self._on_visibility_changed)
        self._editing: tuple[int, np.ndarray] | None = None  # (frame, working mask) of the stroke in progress
        self._unwritten: set[int] = set()
        self._run = RunRecorder()
        self.follow_run = True  # during a run, a view showing its newest frame moves on with it
        self._run_last: int | None = None
        engine.frame_done.connect(self._on_frame_done)
        engine.finished.connect(self._on_run_finished)
        engine.write_failed.connect(self._on_write_failed)
        self._cache_frames = cache_frames
        self.reattach()

    def reattach(self) -> None:
        """(Re)tell the engine which project and clip it serves (after a relink, too)."""
        project = self.project
        self.engine.set_project(SourceSpec(project.masks, str(project.source_path), project.fps, self._cache_frames))
        self.view.frame_changed.emit(self.view.current_frame)

    # -- reading ---------------------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return self.project.num_frames

    @property
    def objects(self) -> list[ObjectSpec]:
        return list(self.project.objects)

    @property
    def flags(self) -> dict:
        """Frame -> review `Flag` (see `FlagBook`)."""
        return self.review.flags

    def colours(self) -> dict[int, tuple[int, int, int]]:
        return {o.id: o.colour for o in self.project.objects}

    def frame_image(self, frame: int) -> np.ndarray:
        """Source frame (H, W, 3) uint8 RGB (raises FrameSourceError / SourceMismatchError)."""
        return self.project.frame(frame)

    def mask(self, frame: int) -> np.ndarray | None:
        """What to show for `frame`: the stroke in progress on it, else its mask."""
        if self._editing is not None and frame == self._editing[0]:
            return self._editing[1]
        return self.clip.mask(frame)

    @property
    def running(self) -> bool:
        return self.engine.busy

    def _on_frame_changed(self, frame: int) -> None:
        if self._editing is not None and self._editing[0] != frame:
            self.cancel_edit()

    def _on_visibility_changed(self) -> None:
        self.objects_changed.emit()
        self.mask_changed.emit(self.view.current_frame)

    # -- editing the current frame ---------------------------------------------------------------
    def begin_edit(self) -> np.ndarray:
        """Start a stroke on the current frame; returns the working mask to change in place."""
        frame = self.view.current_frame
        current = self.clip.mask(frame)
        self._editing = (frame, np.zeros(self.project.size, np.uint8) if current is None else current)
        return self._editing[1]

    @property
    def editing(self) -> bool:
        return self._editing is not None

    def edit_changed(self, rect: tuple[int, int, int, int] | None = None) -> None:
        """The working mask was changed in place: repaint.

        Args:
            rect: (x0, y0, x1, y1) holding every changed pixel (`mask_region_changed`); None: anywhere
                (`mask_changed`).
        """
        frame = self.view.current_frame
        if rect is None:
            self.mask_changed.emit(frame)
        elif rect[0] < rect[2] and rect[1] < rect[3]:
            self.mask_region_changed.emit(frame, tuple(rect))

    def end_edit(self, text: str) -> bool:
        """Finish the stroke: one undo step, the frame becomes a keyframe. False if nothing changed."""
        if self._editing is None:
            return False
        (frame, mask), self._editing = self._editing, None
        return self.commit_mask(frame, mask, text)

    def cancel_edit(self) -> None:
        if self._editing is not None:
            frame, self._editing = self._editing[0], None
            self.mask_changed.emit(frame)

    def _idle(self) -> None:
        if self.running:
            raise RuntimeError("masks cannot be edited while propagation runs; cancel it or wait for it")

    def commit_mask(self, frame: int, mask: np.ndarray, text: str) -> bool:
        """Set `frame`'s mask as a person's annotation of every object (one undo step)."""
        self._idle()
        old = self.clip.mask(frame)
        if old is not None and np.array_equal(old, mask) and frame in self.clip.keyframes:
            return False
        after = self.clip.edit(frame, mask, list(self.clip.objects), self.settings.keyframes_in_memory)
        self.undo_stack.push(FrameStatesCommand(self, text, self.clip.states(after), after))
        return True

    def remove_keyframe(self, frame: int) -> None:
        """Turn a keyframe back into an ordinary frame (one undo step)."""
        self._idle()
        after = self.clip.unkeyframe(frame, self.settings.keyframes_in_memory)
        self.undo_stack.push(FrameStatesCommand(self, f"Remove keyframe {frame}", self.clip.states(after), after))

    # -- the one way masks change ----------------------------------------------------------------
    def apply_states(self, states: States, stats: dict[int, FrameStats] | None = None) -> None:
        """Set frames' states: records (journaled), memory, mask files (through the engine), signals. A frame
        whose state changes only in being stale keeps its mask file and stats."""
        if not states:
            return
        changed = [f for f, st in states.items() if replace(self.clip.state(f), stale=st.stale) != st]
        writes = self.clip.apply(states)
        self.review.forget(changed)
        for frame in changed:
            st = states[frame]
            if st.is_keyframe and st.mask is not None and frame not in (stats or {}):
                self.review.painted(frame, st.array())  # type: ignore[arg-type]
        self.review.update(stats or {})
        if writes:
            self.engine.write({f: states[f].array() for f in writes}, self._declared())
        self.review.refresh(self.clip.keyframes, self.clip.has_mask, changed)
        for frame in states:
            self.mask_changed.emit(frame)
        self.timeline_changed.emit()

    def _declared(self) -> frozenset[int]:
        return frozenset(o.id for o in self.project.objects)

    # -- objects ---------------------------------------------------------------------------------
    def add_object(self, name: str | None = None) -> int:
        """Declare a new object (one undo step) and make it active; returns its id."""
        spec = ObjectSpec.default(first_free_id(o.id for o in self.project.objects), name)
        self.undo_stack.push(ObjectCommand(self, f"Add {spec.name}", None, spec))
        self.view.set_active_object(spec.id)
        return spec.id

    def update_object(self, obj_id: int, name: str | None = None, colour: tuple[int, int, int] | None = None) -> None:
        """Rename or recolour (one undo step)."""
        old = self.project.object(obj_id)
        new = ObjectSpec(obj_id, name or old.name, colour or old.colour)
        if new != old:
            what = "Rename" if new.name != old.name else "Recolour"
            self.undo_stack.push(ObjectCommand(self, f"{what} {old.name}", old, new))

    def remove_object(self, obj_id: int) -> None:
        """Remove an object and its pixels from every frame (one undo step)."""
        self._idle()
        old = self.project.object(obj_id)
        after = self.clip.without_object(obj_id)
        before = self.clip.states(after)
        self.undo_stack.push(ObjectCommand(self, f"Remove {old.name}", old, None, before, after))

    def set_object_spec(self, spec: ObjectSpec) -> None:
        """Declare or change an object (undo steps call this)."""
        if spec.id in self._declared():
            self.project.update_object(spec.id, spec.name, spec.colour)
        else:
            self.project.add_object(spec.name, spec.colour, spec.id)
        self.objects_changed.emit()
        self.mask_changed.emit(self.view.current_frame)

    def drop_object_spec(self, obj_id: int) -> None:
        """Undeclare an object (undo steps call this, after its pixels are gone)."""
        self.project.remove_object(obj_id)
        self.view.forget_object(obj_id, [o.id for o in self.project.objects])
        self.objects_changed.emit()

    # -- propagation -----------------------------------------------------------------------------
    def run_request(self, start: int | None, direction: str = "forward", fill_missing: bool = False) -> RunRequest:
        """What the engine needs to propagate (raises ValueError with the remedy when it cannot)."""
        if not self.project.objects:
            raise ValueError("There is no object yet: add one and paint it on a frame first.")
        if not self.clip.keyframes:
            raise ValueError("No frame is annotated yet: paint an object on a frame, then propagate from there.")
        if fill_missing:
            return RunRequest(self.clip.snapshot(), None, "both", self.settings, frozenset(self.clip.missing()))
        assert start is not None
        state = self.clip.state(start)
        if state.mask is None:
            raise ValueError(f"Frame {start} has no mask to propagate from: paint the object on it first.")
        if state.stale and not state.is_keyframe:
            raise ValueError(
                f"Frame {start} is stale (a correction changed what it was propagated from): propagate from the "
                "keyframe before it, or use Propagate ▸ Fill missing frames, which re-runs every stale frame."
            )
        return RunRequest(self.clip.snapshot([start]), start, direction, self.settings)  # type: ignore[arg-type]

    def propagate(self, direction: str = "forward", fill_missing: bool = False) -> None:
        """Start a run from the current frame (or fill every frame without a mask or with a stale one)."""
        self.cancel_edit()
        frame = self.view.current_frame
        request = self.run_request(None if fill_missing else frame, direction, fill_missing)
        self._run.take()
        self._run_last = frame
        self.engine.propagate(request)

    def _on_frame_done(self, update: FrameUpdate) -> None:
        f = update.frame
        after = self._run.frame(self.clip, update, self.review.stats)
        self.clip.apply({f: after})  # the worker wrote its file
        self.review.update({f: update.stats})
        self.review.refresh(self.clip.keyframes, self.clip.has_mask)
        self.mask_changed.emit(f)
        self.timeline_changed.emit()
        current = self.view.current_frame
        if self.follow_run and self._run_last == current and abs(f - current) == 1:
            self.view.set_frame(f)
        self._run_last = f

    def _on_run_finished(self, summary: RunSummary) -> None:
        run = self._run.take()
        if run.after:
            label = f"Propagate {len(run.after)} frames"
            self.undo_stack.push(
                FrameStatesCommand(self, label, run.before, run.after, True, run.stats_before, run.stats_after)
            )
            self._persist_flags()
            self.timeline_changed.emit()
        self.run_recorded.emit(summary)

    # -- persistence -----------------------------------------------------------------------------
    def _persist_flags(self) -> None:
        record = self.review.record()
        if record != self.project.settings.get(KEY_FLAGS, {}):
            self.project.set_setting(KEY_FLAGS, record)

    def _on_write_failed(self, frames: list[int], message: str) -> None:
        self._unwritten.update(frames)
        self.write_failed.emit(message)

    def save(self) -> None:
        """Fold the journal into the manifest, store the view state, retry mask writes that failed."""
        if self._unwritten:
            frames, self._unwritten = sorted(self._unwritten), set()
            self.engine.write({f: self.clip.mask(f) for f in frames}, self._declared())
        view = self.view.record().to_json()
        if view != self.project.settings.get(KEY_VIEW):
            self.project.set_setting(KEY_VIEW, view)
        self._persist_flags()
        self.project.save()

    def close(self) -> None:
        """Save and release the project; queued mask writes still reach the disk. Not during a run."""
        if self.running:
            raise RuntimeError("cancel the propagation and wait for it to stop before closing")
        self.cancel_edit()
        self.save()
        self.project.close()
        for signal, slot in (
            (self.engine.frame_done, self._on_frame_done),
            (self.engine.finished, self._on_run_finished),
            (self.engine.write_failed, self._on_write_failed),
        ):
            signal.disconnect(slot)
        self.engine.set_project(None)
