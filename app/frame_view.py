"""`FrameView`: keeps the canvas showing the document's current frame, composed for the view state.

The single call site of `compose` (the review module's renderer). A frame that cannot be decoded is reported
once and shown black, so one bad frame never takes the app down. A stale frame (see `app.clip_state`) is shown
as it is, under a `StaleOverlay`.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.canvas import Canvas
from app.document import Document
from app.render import compose
from app.widgets.stale_overlay import StaleOverlay
from llb_core.errors import LLBError

log = logging.getLogger(__name__)


class FrameView(QObject):
    """See the module docstring."""

    error = Signal(str, str, object)  # title, message, exception

    def __init__(self, canvas: Canvas, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.stale_overlay = StaleOverlay(canvas)
        self.document: Document | None = None
        self._reported: set[int] = set()

    def set_document(self, document: Document | None) -> None:
        if self.document is not None:
            for signal in (self.document.frame_changed, self.document.objects_changed, self.document.view_changed):
                signal.disconnect(self.refresh)
            self.document.mask_changed.disconnect(self._mask_changed)
        self.document = document
        self._reported = set()
        if document is not None:
            for signal in (document.frame_changed, document.objects_changed, document.view_changed):
                signal.connect(self.refresh)
            document.mask_changed.connect(self._mask_changed)
        self.refresh()

    def _mask_changed(self, frame: int) -> None:
        if self.document is not None and frame == self.document.current_frame:
            self.refresh()

    def refresh(self, *_: object) -> None:
        doc = self.document
        if doc is None:
            self.canvas.set_image(None)
            self.stale_overlay.set_stale(False)
            return
        frame = doc.current_frame
        self.stale_overlay.set_stale(doc.clip.is_stale(frame))
        try:
            rgb = doc.frame_image(frame)
        except (LLBError, OSError) as err:
            if frame not in self._reported:
                self._reported.add(frame)
                self.error.emit("Cannot read the frame", str(err), err)
            rgb = np.zeros((*doc.project.size, 3), np.uint8)
        previous = doc.mask(frame - 1) if doc.view_state.onion and frame > 0 else None
        image = compose(rgb, doc.mask(frame), doc.colours(), doc.hidden, doc.view_state, previous)
        self.canvas.set_image(image, wrap_width=rgb.shape[1])
