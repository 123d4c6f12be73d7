"""The engine worker: lives in its own QThread, owns the model, the engine `Session` and every mask-file write.

Division of labour (one owner for each thing):
- The project (`llb_core.workspace.Project`, on the GUI thread) owns objects and frame records; the
  document's `ClipState` is the editing model over it.
- This worker owns the model (loaded lazily here, never on the GUI thread), the frame source it reads for
  inference, the `Session` of each run (built from the request's `ClipSnapshot`, the project state's
  engine-facing view) and all writes of mask files, through the project's `MaskStore`, in the order they
  were asked for.

Commands arrive as queued slot calls; results leave as signals. Cancel is a `threading.Event` set directly
by the GUI thread and checked by the engine between frames.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from app.model.flags import FrameStats, areas, frame_stats
from llb_core.errors import LLBError
from llb_core.inference import Provenance, SessionSettings
from llb_core.io import FrameSource, open_source
from llb_core.io.background import BackgroundWriter
from llb_core.workspace import ClipSnapshot, MaskStore

if TYPE_CHECKING:  # torch and the model load in the worker thread (`EngineWorker.preload`), never at import
    from llb_core.inference import Direction, FrameResult, Run, Session
    from llb_core.model import BackboneNet

log = logging.getLogger(__name__)

ModelLoader = Callable[[], "BackboneNet"]


@dataclass(frozen=True)
class SourceSpec:
    """Which project the worker serves: where to write masks and which clip to read."""

    masks: MaskStore  # the project's mask files; only this worker writes them
    source_path: str
    fps: float
    cache_frames: int


@dataclass(frozen=True)
class RunRequest:
    """One propagation, with everything the engine reads.

    Attributes:
        clip: the project state's engine-facing view (objects, keyframes, start masks), copied.
        start: frame to propagate from (None: fill `missing`).
        direction: "forward", "backward" or "both".
        settings: engine settings.
        missing: frames without a mask or with a stale one (a fill runs from every keyframe over just the
            runs that cover them).
    """

    clip: ClipSnapshot
    start: int | None
    direction: Direction
    settings: SessionSettings
    missing: frozenset[int] = frozenset()


@dataclass(frozen=True)
class FrameUpdate:
    """One propagated frame, already written to the project: its merged index mask, stats, and the stored
    mask it replaced (read just before writing; the document's undo record of the run uses it)."""

    frame: int
    mask: np.ndarray
    provenance: Provenance
    stats: FrameStats
    replaced: np.ndarray | None


@dataclass(frozen=True)
class RunSummary:
    """How a run ended."""

    frames: list[int] = field(default_factory=list)
    seconds: float = 0.0
    cancelled: bool = False
    error: str | None = None


def describe_failure(err: BaseException) -> str:
    """A message a person can act on for an exception raised during a run."""
    import torch

    if isinstance(err, torch.OutOfMemoryError | MemoryError):
        return (
            "The device ran out of memory while propagating. Lower the internal resolution or choose the CPU in "
            "Edit > Settings, or close other programs using the GPU. Frames finished so far are kept."
        )
    if isinstance(err, OSError | LLBError):
        return f"{err}"
    return f"Propagation failed: {type(err).__name__}: {err}. Frames finished so far are kept; see the log."


class EngineWorker(QObject):
    """See the module docstring. Create it, move it to a QThread, and drive it through queued signals."""

    started = Signal(int)  # frames planned
    status = Signal(str)  # what it is doing before frames flow ("loading the model")
    frame_done = Signal(object)  # FrameUpdate
    progress = Signal(int, int, float)  # frames done, frames planned, frames per second
    finished = Signal(object)  # RunSummary
    write_failed = Signal(object, str)  # frames not written, message
    pong = Signal(int)  # answers `ping` after every command queued before it
    model_ready = Signal()  # the model is loaded (after `preload` or the first run)
    model_failed = Signal(str)  # loading the model failed: a message naming the file and the remedy

    def __init__(self, model_loader: ModelLoader, cancel: threading.Event) -> None:
        super().__init__()
        self._load_model = model_loader
        self._cancel = cancel
        self._model: BackboneNet | None = None
        self._spec: SourceSpec | None = None
        self._source: FrameSource | None = None

    # -- commands --------------------------------------------------------------------------------
    @Slot()
    def preload(self) -> None:
        """Load the model now (the app asks at start-up, so the first run starts at once)."""
        try:
            self._ensure_model()
        except Exception as err:  # noqa: BLE001 - reported to the GUI; a run retries and shows the dialog
            log.exception("loading the model failed")
            self.model_failed.emit(describe_failure(err))

    @property
    def model(self) -> BackboneNet | None:
        """The loaded model (None before the first load or after a switch)."""
        return self._model

    @Slot(object)
    def set_model_loader(self, loader: ModelLoader) -> None:
        """Use another model from the next run (or `preload`) on; the loaded one is dropped."""
        self._load_model = loader
        self._model = None

    @Slot(object)
    def set_project(self, spec: SourceSpec | None) -> None:
        """Serve another project (None: none)."""
        if self._source is not None:
            self._source.close()
        self._source = None
        self._spec = spec

    @Slot(object, object)
    def write(self, masks: dict[int, np.ndarray | None], objects: frozenset[int]) -> None:
        """Write frames' index masks (None deletes one), in frame order.

        Args:
            objects: the object ids declared when the write was asked for.
        """
        if self._spec is None:
            self.write_failed.emit(sorted(masks), "no project is open")
            return
        for frame in sorted(masks):
            try:
                self._spec.masks.write(frame, masks[frame], objects=objects)
            except (OSError, LLBError) as err:
                log.exception("writing the mask of frame %d failed", frame)
                rest = [f for f in sorted(masks) if f >= frame]
                self.write_failed.emit(rest, str(err))
                return

    @Slot(object)
    def propagate(self, request: RunRequest) -> None:
        """Run one propagation; always ends with `finished`."""
        t0 = time.perf_counter()
        done: list[int] = []
        try:
            if self._spec is None:
                raise RuntimeError("no project is open")
            session = self._session(request)
            if self._cancel.is_set():
                self.finished.emit(RunSummary(done, time.perf_counter() - t0, cancelled=True))
                return
            runs = self._plan(session, request)
            total = sum(len(r.frames()) for r in runs)
            self.started.emit(total)
            began = time.perf_counter()

            def delivered(frame: int) -> None:  # on the writer's thread, once the frame's files are written
                done.append(frame)
                elapsed = time.perf_counter() - began
                self.progress.emit(len(done), total, len(done) / elapsed if elapsed > 0 else 0.0)

            # files are written (and the GUI told) on a background thread while the next frame is computed
            with BackgroundWriter(depth=4) as writer:
                objects = frozenset(request.clip.objects)
                report = session.run(
                    runs, on_frame=lambda r: self._deliver(session, r, objects, writer, delivered), cancel=self._cancel
                )
            self.finished.emit(RunSummary(done, time.perf_counter() - t0, cancelled=report.cancelled))
        except Exception as err:  # noqa: BLE001 - every failure is reported to the GUI, and logged
            log.exception("propagation failed")
            self.finished.emit(RunSummary(done, time.perf_counter() - t0, error=describe_failure(err)))

    @Slot(int)
    def ping(self, token: int) -> None:
        self.pong.emit(token)

    @Slot()
    def stop(self) -> None:
        """Leave the thread's event loop (queued after every earlier command)."""
        self.set_project(None)
        thread = self.thread()
        if thread is not None:
            thread.quit()

    # -- helpers ---------------------------------------------------------------------------------
    def _ensure_model(self) -> BackboneNet:
        if self._model is None:
            self.status.emit("Loading the model…")
            self._model = self._load_model()
            self.model_ready.emit()
        return self._model

    def _session(self, request: RunRequest) -> Session:
        from llb_core.inference import Session

        model = self._ensure_model()
        if self._source is None:
            assert self._spec is not None
            self.status.emit("Opening the clip…")
            self._source = open_source(self._spec.source_path, fps=self._spec.fps, cache_frames=self._spec.cache_frames)
        session = Session(self._source, model, request.clip, request.settings)
        self._prepare_runtime(session)
        return session

    def _prepare_runtime(self, session: Session) -> None:
        """Choose the network's runtime for this clip size now, saying so when that takes a while (the first run
        on a machine times PyTorch against OpenVINO, a few seconds; later runs find it ready)."""
        from llb_core.inference.runtime import is_prepared, runner_for
        from llb_core.inference.tracker import network_size

        size = network_size(session.size, session.settings)
        runtime = session.settings.runtime
        tuned = session.settings.finetune_steps > 0  # runs use tuned copies, always on PyTorch
        if session.device.type == "cpu" and not tuned and not is_prepared(session.model, size, session.dtype, runtime):
            self.status.emit("Choosing the faster runtime for this computer (once)…")
            runner_for(session.model, size, session.device, session.dtype, runtime)

    @staticmethod
    def _plan(session: Session, request: RunRequest) -> list[Run]:
        if request.start is None:
            return session.plan_all(request.missing)
        return session.plan(request.start, request.direction)

    def _deliver(
        self,
        session: Session,
        result: FrameResult,
        objects: frozenset[int],
        writer: BackgroundWriter,
        delivered: Callable[[int], None],
    ) -> None:
        """Queue a finished frame (merged with its keyframe, if any) for writing; the GUI hears of it once written."""
        assert self._spec is not None
        masks = self._spec.masks
        merged = session.mask(result.frame)
        assert merged is not None
        references = self._references(session, result)

        def write() -> None:
            replaced = masks.read(result.frame)
            masks.write(result.frame, merged, result.probs, objects=objects)
            stats = frame_stats(merged, result.probs, *references)
            self.frame_done.emit(FrameUpdate(result.frame, merged, result.provenance, stats, replaced))
            delivered(result.frame)

        writer.submit(write)

    @staticmethod
    def _references(session: Session, result: FrameResult) -> tuple[dict[int, int] | None, dict[int, int] | None]:
        """Object areas of the previous frame of the run and of the keyframe it started from (None: unknown)."""
        previous = session.mask(result.frame - result.provenance.direction)
        keyframe = session.mask(result.provenance.start)
        return (None if previous is None else areas(previous)), (None if keyframe is None else areas(keyframe))
