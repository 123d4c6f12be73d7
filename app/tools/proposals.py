"""Mask proposals computed on a worker thread: GrabCut in a box (`BoxProposer`) and the click model
(`ClickProposer`).

The GUI thread keeps painting while a proposal is computed (OpenCV and torch release the GIL). Jobs run one
at a time, in order; each carries a ticket chosen by the caller, and `ready` hands it back with the result
on the GUI thread, so the caller decides whether the result still applies.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QThreadPool, Signal

from app.tools.mask_ops import Rect
from llb_core.errors import LLBError
from llb_core.interactive.grabcut import grabcut_box

log = logging.getLogger(__name__)


class Proposer(QObject):
    """Runs jobs on one worker thread; `ready(ticket, result)` follows each on the GUI thread. A job's
    ValueError or LLBError (bad input, missing weights: their message says what to do) or any other error
    (logged with its traceback) becomes the result, so nothing is lost on the worker thread."""

    ready = Signal(object, object)  # ticket, the job's result or the exception that stopped it
    _done = Signal(object, object)  # emitted on the worker thread, delivered on the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)  # destroyed with this object, after waiting for a running job
        self._pool.setMaxThreadCount(1)
        self._queued = 0
        self._done.connect(self._finish, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        """True while a job runs or waits, or its result is not delivered yet."""
        return self._queued > 0

    def submit(self, job: Callable[[], Any], ticket: object) -> None:
        """Run `job()` on the worker thread; `ready(ticket, result)` follows."""
        self._queued += 1
        self._pool.start(lambda: self._run(job, ticket))

    def wait(self, msecs: int = -1) -> bool:
        """Block until no job runs (tests, shut-down); False on time-out. Results still arrive as events."""
        return self._pool.waitForDone(msecs)

    def _run(self, job: Callable[[], Any], ticket: object) -> None:
        """On the worker thread."""
        result: object
        try:
            result = job()
        except (ValueError, LLBError) as err:
            result = err
        except Exception as err:  # noqa: BLE001 - reported to the person, never lost on a worker thread
            log.exception("%s failed", type(self).__name__)
            result = err
        with contextlib.suppress(RuntimeError):  # this object was deleted while the job ran (window closed)
            self._done.emit(ticket, result)

    def _finish(self, ticket: object, result: object) -> None:
        self._queued -= 1
        self.ready.emit(ticket, result)


class BoxProposer(Proposer):
    """GrabCut inside a box."""

    def propose(self, image: np.ndarray, rect: Rect, ticket: object) -> None:
        """Run GrabCut on (H, W, 3) uint8 RGB `image` inside `rect` (x0, y0, x1, y1); `ready` follows with
        an (H, W) bool proposal."""
        self.submit(lambda: grabcut_box(image, rect), ticket)


class ClickProposer(Proposer):
    """The click model (`llb_core.interactive`), loaded on the worker thread on first use; one session per
    frame, so a frame's features are computed once for all its clicks.

    Args:
        weights: the click model's checkpoint (default: the shipped one).
    """

    def __init__(self, parent: QObject | None = None, weights: str | None = None) -> None:
        super().__init__(parent)
        self.weights = weights
        self._model: Any = None  # ClickNet, built on the worker thread
        self._session: Any = None  # ClickSession of `_frame_key`
        self._frame_key: object = None

    def prepare(self, frame_key: object, image: np.ndarray) -> None:
        """Load the model and compute the frame's features ahead of the first click (`ready` follows with
        None)."""
        self.submit(lambda: self._session_for(frame_key, image) and None, ("prepare", frame_key))

    def propose(
        self,
        frame_key: object,
        image: np.ndarray,
        clicks: list[Any],
        box: tuple[float, float, float, float] | None,
        previous: np.ndarray | None,
        ticket: object,
    ) -> None:
        """Segment the object of `clicks` (llb_core.interactive.Click, image pixels) and `box` on (H, W, 3)
        uint8 RGB `image`, refining `previous` ((H, W) bool or None); `ready` follows with (H, W) bool.
        `frame_key` names the frame: the same key reuses its features."""
        self.submit(lambda: self._session_for(frame_key, image).predict(clicks, box, previous), ticket)

    def _session_for(self, frame_key: object, image: np.ndarray) -> Any:  # noqa: ANN401
        """On the worker thread: the session of this frame (new when the key changed)."""
        from llb_core.interactive.session import ClickSession, load_click_model

        if self._model is None:
            self._model = load_click_model(self.weights)
        if self._frame_key != frame_key or self._session is None:
            self._session = ClickSession(self._model, image)
            self._frame_key = frame_key
        return self._session
