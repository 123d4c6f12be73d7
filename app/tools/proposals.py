"""`BoxProposer`: runs GrabCut box proposals (`mask_ops.grabcut_box`) on a worker thread.

The GUI thread keeps painting while GrabCut runs (OpenCV releases the GIL). Jobs run one at a time, in order;
each carries a ticket chosen by the caller, and `ready` hands it back with the result on the GUI thread, so
the caller decides whether the result still applies.
"""

from __future__ import annotations

import contextlib
import logging

import numpy as np
from PySide6.QtCore import QObject, Qt, QThreadPool, Signal

from app.tools.mask_ops import Rect, grabcut_box

log = logging.getLogger(__name__)


class BoxProposer(QObject):
    """See the module docstring."""

    ready = Signal(object, object)  # ticket, (H, W) bool proposal or the exception that stopped GrabCut
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

    def propose(self, image: np.ndarray, rect: Rect, ticket: object) -> None:
        """Run GrabCut on (H, W, 3) uint8 RGB `image` inside `rect` (x0, y0, x1, y1); `ready` follows."""
        self._queued += 1
        self._pool.start(lambda: self._run(image, rect, ticket))

    def wait(self, msecs: int = -1) -> bool:
        """Block until no job runs (tests, shut-down); False on time-out. Results still arrive as events."""
        return self._pool.waitForDone(msecs)

    def _run(self, image: np.ndarray, rect: Rect, ticket: object) -> None:
        """On the worker thread."""
        result: object
        try:
            result = grabcut_box(image, rect)
        except ValueError as err:  # a box GrabCut cannot use; the message says what to do
            result = err
        except Exception as err:  # noqa: BLE001 - reported to the person, never lost on a worker thread
            log.exception("GrabCut failed")
            result = err
        with contextlib.suppress(RuntimeError):  # this object was deleted while the job ran (window closed)
            self._done.emit(ticket, result)

    def _finish(self, ticket: object, result: object) -> None:
        self._queued -= 1
        self.ready.emit(ticket, result)
