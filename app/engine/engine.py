"""`Engine`: the GUI thread's handle on the engine worker thread (start, commands, cancel, shut down)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEventLoop, QObject, QThread, Signal

from app.engine.worker import EngineWorker, ModelLoader, RunRequest, RunSummary, SourceSpec


def default_model_loader() -> object:
    """The shipped default weights (`llb_core.model.defaults.load_model`)."""
    from llb_core.model.defaults import load_model

    return load_model()


def shipped_model_loader(name: str) -> ModelLoader:
    """A loader of the shipped model `name` ("default" is `default_model_loader`)."""
    if name == "default":
        return default_model_loader  # type: ignore[return-value]

    def load() -> object:
        from llb_core.model.defaults import load_shipped

        return load_shipped(name)

    return load  # type: ignore[return-value]


class Engine(QObject):
    """Starts an `EngineWorker` in a QThread and relays its signals to the GUI thread.

    Signals mirror the worker's (`started`, `status`, `frame_done`, `progress`, `finished`, `write_failed`);
    `busy_changed` tells when a run starts and ends; `model_ready` / `model_failed` when the model has loaded
    (after `preload` or the first run) or could not be.
    """

    started = Signal(int)
    status = Signal(str)
    frame_done = Signal(object)
    progress = Signal(int, int, float)
    finished = Signal(object)
    write_failed = Signal(object, str)
    busy_changed = Signal(bool)
    model_ready = Signal()
    model_failed = Signal(str)
    model_state_changed = Signal(str)  # `model_state`, after each change

    _post_preload = Signal()
    _post_loader = Signal(object)
    _post_project = Signal(object)
    _post_write = Signal(object, object)
    _post_run = Signal(object)
    _post_stop = Signal()
    _post_ping = Signal(int)

    def __init__(self, model_loader: ModelLoader | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cancel = threading.Event()
        self._busy = False
        self._model_state = "not loaded"
        self._thread = QThread()
        self._thread.setObjectName("llb-engine")
        self._worker = EngineWorker(model_loader or default_model_loader, self._cancel)  # type: ignore[arg-type]
        self._worker.moveToThread(self._thread)
        self._thread.finished.connect(self._worker.deleteLater)
        self._post_preload.connect(self._worker.preload)
        self._post_loader.connect(self._worker.set_model_loader)
        self._post_project.connect(self._worker.set_project)
        self._post_write.connect(self._worker.write)
        self._post_run.connect(self._worker.propagate)
        self._post_stop.connect(self._worker.stop)
        self._post_ping.connect(self._worker.ping)
        self._worker.pong.connect(self._on_pong)
        self._waiting: dict[int, Callable[[], None]] = {}
        self._tokens = itertools.count()
        self._worker.started.connect(self.started)
        self._worker.status.connect(self.status)
        self._worker.frame_done.connect(self.frame_done)
        self._worker.progress.connect(self.progress)
        self._worker.write_failed.connect(self.write_failed)
        self._worker.finished.connect(self._on_finished)
        self._worker.model_ready.connect(self._on_model_ready)
        self._worker.model_failed.connect(self._on_model_failed)
        self._thread.start()

    @property
    def model_state(self) -> str:
        """ "not loaded", "loading", "ready" or "failed" (a run retries loading after a failure)."""
        return self._model_state

    def preload(self) -> None:
        """Load the model in the engine thread now, so the first run starts at once."""
        if self._model_state in ("not loaded", "failed"):
            self._set_model_state("loading")
            self._post_preload.emit()

    def loaded_model(self) -> object | None:
        """The model the engine thread holds, None before one loads (read it while no run is going)."""
        return self._worker.model

    def use_model(self, loader: ModelLoader) -> None:
        """Switch to the model `loader` gives (after any run in progress); loads it now if one was loaded."""
        loaded = self._model_state in ("loading", "ready")
        self._post_loader.emit(loader)
        self._set_model_state("not loaded")
        if loaded:
            self.preload()

    def _set_model_state(self, state: str) -> None:
        self._model_state = state
        self.model_state_changed.emit(state)

    def _on_model_ready(self) -> None:
        self._set_model_state("ready")
        self.model_ready.emit()

    def _on_model_failed(self, message: str) -> None:
        self._set_model_state("failed")
        self.model_failed.emit(message)

    @property
    def busy(self) -> bool:
        """True from `propagate` until its `finished` arrives."""
        return self._busy

    def set_project(self, spec: SourceSpec | None) -> None:
        self._post_project.emit(spec)

    def write(self, masks: dict[int, np.ndarray | None], objects: frozenset[int]) -> None:
        """Queue mask-file writes (after everything queued before); `objects`: the ids declared now."""
        if masks:
            self._post_write.emit(masks, objects)

    def propagate(self, request: RunRequest) -> None:
        if self._busy:
            raise RuntimeError("a propagation is already running")
        self._cancel.clear()
        self._busy = True
        self.busy_changed.emit(True)
        self._post_run.emit(request)

    def after_writes(self, callback: Callable[[], None]) -> None:
        """Call `callback` (on the GUI thread) once every write queued so far is on disk."""
        token = next(self._tokens)
        self._waiting[token] = callback
        self._post_ping.emit(token)

    def wait_for_writes(self) -> None:
        """Return once every write queued so far is on disk; the calling (GUI) thread keeps processing events
        meanwhile. Writes queue behind whatever the engine thread is doing (loading a model: seconds)."""
        if not self._thread.isRunning():
            return
        loop = QEventLoop()
        self.after_writes(loop.quit)
        loop.exec()

    def _on_pong(self, token: int) -> None:
        callback = self._waiting.pop(token, None)
        if callback is not None:
            callback()

    def cancel(self) -> None:
        """Stop the running propagation after the frame in progress (finished frames stay)."""
        self._cancel.set()

    def _on_finished(self, summary: RunSummary) -> None:
        self._busy = False
        self.busy_changed.emit(False)
        self.finished.emit(summary)

    def shutdown(self) -> None:
        """Cancel any run, finish queued writes, stop the thread (blocks until it has stopped)."""
        if not self._thread.isRunning():
            return
        self._cancel.set()
        self._post_stop.emit()  # queued behind pending writes, so they all reach the disk
        self._thread.wait()
        if self._busy:  # the run ended with the thread; its last signals will not be delivered
            self._busy = False
            self.busy_changed.emit(False)
