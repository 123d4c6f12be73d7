"""`FrameView`: keeps the canvas showing the document's current frame, composed for the view state.

The single call site of `compose` and `render_region` (the review module's renderer). A stroke in progress
re-renders only the region it damaged (`render_region` follows `compose`'s per-pixel rules, so the canvas
holds exactly what a full `compose` would give); anything else composes the whole frame. A frame that cannot
be decoded is reported once and shown black, so one bad frame never takes the app down.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.canvas import Canvas
from app.document import Document
from app.render import Rect, ViewMode, compose, damaged, render_region
from llb_core.errors import LLBError

log = logging.getLogger(__name__)


class FrameView(QObject):
    """See the module docstring."""

    error = Signal(str, str, object)  # title, message, exception

    def __init__(self, canvas: Canvas, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.document: Document | None = None
        self._reported: set[int] = set()
        self._rgb: np.ndarray | None = None  # the current frame's pixels, read once per frame
        self._rgb_frame: int | None = None
        self._shown: tuple | None = None  # what the canvas image was composed for (see `_key`)
        self._shown_mask: np.ndarray | None = None  # ... and from which mask

    def set_document(self, document: Document | None) -> None:
        if self.document is not None:
            for signal in (self.document.objects_changed, self.document.view_changed):
                signal.disconnect(self.refresh)
            self.document.frame_changed.disconnect(self._frame_changed)
            self.document.mask_changed.disconnect(self._mask_changed)
            self.document.mask_region_changed.disconnect(self._region_changed)
        self.document = document
        self._reported = set()
        if document is not None:
            for signal in (document.objects_changed, document.view_changed):
                signal.connect(self.refresh)
            document.frame_changed.connect(self._frame_changed)
            document.mask_changed.connect(self._mask_changed)
            document.mask_region_changed.connect(self._region_changed)
        self._frame_changed()

    def _frame_changed(self, *_: object) -> None:
        """A new frame, or the same frame from a relinked source: read its pixels again."""
        self._rgb, self._rgb_frame = None, None
        self.refresh()

    def _mask_changed(self, frame: int) -> None:
        doc = self.document
        if doc is None or frame != doc.current_frame:
            return
        mask = doc.mask(frame)
        shown = self._shown_mask
        if self._shown == self._key() and (mask is shown or _same(mask, shown)):
            return  # e.g. a finished stroke: its regions already compose exactly this mask
        self._compose(mask)

    def _key(self) -> tuple:
        """Everything besides the mask that the composed image depends on."""
        doc = self.document
        assert doc is not None
        return doc.current_frame, doc.view_state, tuple(sorted(doc.colours().items())), frozenset(doc.hidden)

    def _frame_rgb(self) -> np.ndarray:
        doc = self.document
        assert doc is not None
        frame = doc.current_frame
        if self._rgb is None or self._rgb_frame != frame:
            try:
                self._rgb = doc.frame_image(frame)
            except (LLBError, OSError) as err:
                if frame not in self._reported:
                    self._reported.add(frame)
                    self.error.emit("Cannot read the frame", str(err), err)
                self._rgb = np.zeros((*doc.project.size, 3), np.uint8)
            self._rgb_frame = frame
        return self._rgb

    def refresh(self, *_: object) -> None:
        """Compose the whole current frame."""
        doc = self.document
        if doc is None:
            self._shown, self._shown_mask = None, None
            self.canvas.set_image(None)
            return
        self._compose(doc.mask(doc.current_frame))

    def _compose(self, mask: np.ndarray | None) -> None:
        doc = self.document
        assert doc is not None
        rgb = self._frame_rgb()
        image = compose(rgb, mask, doc.colours(), doc.hidden, doc.view_state)
        self.canvas.set_image(image, wrap_width=rgb.shape[1])
        self._shown, self._shown_mask = self._key(), mask

    def _region_changed(self, frame: int, rect: Rect) -> None:
        """The mask changed inside `rect` (x0, y0, x1, y1): re-render and repaint only what that damaged."""
        doc = self.document
        if doc is None or frame != doc.current_frame:
            return
        if self._shown != self._key() or self._rgb is None:  # the canvas shows something else: start afresh
            self.refresh()
            return
        # From here the canvas shows compose(rgb, mask) for this very `mask` before the change in `rect`.
        rgb, state = self._rgb, doc.view_state
        area = damaged(rect, state, (rgb.shape[1], rgb.shape[0]))
        if area[0] >= area[2] or area[1] >= area[3]:
            return
        mask = doc.mask(frame)  # the stroke's working mask, changed in place
        pixels = render_region(rgb, mask, doc.colours(), doc.hidden, state, area)
        dx = rgb.shape[1] if state.mode is ViewMode.SIDE_BY_SIDE else 0  # the overlay half of the image
        self.canvas.set_region(area[0] + dx, area[1], pixels)
        self._shown_mask = mask


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
