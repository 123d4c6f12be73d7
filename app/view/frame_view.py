"""`FrameView`: keeps the canvas showing the document's current frame, composed for the view state.

The single call site of `compose` and `render_region` (the review module's renderer). A stroke in progress
re-renders only the region it damaged, and a new mask for the frame shown (a finished stroke, a box proposal,
an undo) only the rectangle where it differs from the mask shown; `render_region` follows `compose`'s
per-pixel rules, so the canvas holds exactly what a full `compose` would give. A new frame, view state or
object colour composes the whole frame. A frame that cannot be decoded is reported once and shown black, so
one bad frame never takes the app down. A stale frame (see `app.clip_state`) is shown as it is,
under a `StaleOverlay`; with onion skin on, the previous frame's mask is drawn too.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.model.document import Document
from app.view.canvas import Canvas
from app.view.render import Rect, ViewMode, compose, damaged, render_region
from app.widgets.stale_overlay import StaleOverlay
from llb_core.errors import LLBError

log = logging.getLogger(__name__)

FULL_RENDER_SHARE = 0.5  # a change covering more of the frame than this composes the whole frame


class FrameView(QObject):
    """See the module docstring."""

    error = Signal(str, str, object)  # title, message, exception

    def __init__(self, canvas: Canvas, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.stale_overlay = StaleOverlay(canvas)
        self.document: Document | None = None
        self._reported: set[int] = set()
        self._rgb: np.ndarray | None = None  # the current frame's pixels, read once per frame
        self._rgb_frame: int | None = None
        self._shown: tuple | None = None  # what the canvas image was composed for (see `_key`)
        self._shown_mask: np.ndarray | None = None  # ... and from which mask
        self._previous: tuple[int, np.ndarray | None] | None = None  # (frame, its mask) for the onion skin

    def set_document(self, document: Document | None) -> None:
        if self.document is not None:
            for signal in (self.document.objects_changed, self.document.view.view_changed):
                signal.disconnect(self.refresh)
            self.document.view.frame_changed.disconnect(self._frame_changed)
            self.document.mask_changed.disconnect(self._mask_changed)
            self.document.mask_region_changed.disconnect(self._region_changed)
        self.document = document
        self._reported = set()
        if document is not None:
            for signal in (document.objects_changed, document.view.view_changed):
                signal.connect(self.refresh)
            document.view.frame_changed.connect(self._frame_changed)
            document.mask_changed.connect(self._mask_changed)
            document.mask_region_changed.connect(self._region_changed)
        self._frame_changed()

    def _frame_changed(self, *_: object) -> None:
        """A new frame, or the same frame from a relinked source: read its pixels again."""
        self._rgb, self._rgb_frame = None, None
        self._previous = None
        self.refresh()

    def _mask_changed(self, frame: int) -> None:
        """Re-render only the rectangle where the new mask differs from the one shown (nothing after a
        finished stroke, whose regions already compose it; a box proposal's or an undo's area)."""
        doc = self.document
        if doc is not None and frame == doc.view.current_frame - 1:  # the onion skin's frame
            self._previous = None
            if doc.view.view_state.onion:
                self.refresh()
            return
        if doc is None or frame != doc.view.current_frame:
            return
        self.stale_overlay.set_stale(doc.clip.is_stale(frame))  # a run or an undo may have changed that
        mask, shown = doc.mask(frame), self._shown_mask
        if self._shown != self._key() or self._rgb is None or (mask is not None and mask is shown):
            self._compose(mask)  # something else changed too, or a mask changed in place (where is unknown)
            return
        rect = _changed_rect(mask, shown)
        if rect is None:
            return
        w, h = self._rgb.shape[1], self._rgb.shape[0]
        if (rect[2] - rect[0]) * (rect[3] - rect[1]) > FULL_RENDER_SHARE * w * h:
            self._compose(mask)
        else:
            self._render_area(mask, rect)

    def _previous_mask(self) -> np.ndarray | None:
        """The previous frame's mask when onion skin is on (else None)."""
        doc = self.document
        assert doc is not None
        frame = doc.view.current_frame
        if not doc.view.view_state.onion or frame == 0:
            return None
        if self._previous is None or self._previous[0] != frame - 1:  # decoded once per frame, not per move
            self._previous = (frame - 1, doc.mask(frame - 1))
        return self._previous[1]

    def _key(self) -> tuple:
        """Everything besides the mask that the composed image depends on."""
        doc = self.document
        assert doc is not None
        return (
            doc.view.current_frame,
            doc.view.view_state,
            tuple(sorted(doc.colours().items())),
            frozenset(doc.view.hidden),
        )

    def _frame_rgb(self) -> np.ndarray:
        doc = self.document
        assert doc is not None
        frame = doc.view.current_frame
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
            self.stale_overlay.set_stale(False)
            return
        self._compose(doc.mask(doc.view.current_frame))

    def _compose(self, mask: np.ndarray | None) -> None:
        doc = self.document
        assert doc is not None
        rgb = self._frame_rgb()
        self.stale_overlay.set_stale(doc.clip.is_stale(doc.view.current_frame))
        image = compose(rgb, mask, doc.colours(), doc.view.hidden, doc.view.view_state, self._previous_mask())
        self.canvas.set_image(image, wrap_width=rgb.shape[1])
        self._shown, self._shown_mask = self._key(), mask

    def _region_changed(self, frame: int, rect: Rect) -> None:
        """The mask changed inside `rect` (x0, y0, x1, y1): re-render and repaint only what that damaged."""
        doc = self.document
        if doc is None or frame != doc.view.current_frame:
            return
        if self._shown != self._key() or self._rgb is None:  # the canvas shows something else: start afresh
            self.refresh()
            return
        # From here the canvas shows compose(rgb, mask) for this very `mask` before the change in `rect`.
        self._render_area(doc.mask(frame), rect)  # the stroke's working mask, changed in place

    def _render_area(self, mask: np.ndarray | None, rect: Rect) -> None:
        """Re-render what a change of the mask shown inside `rect` damaged; the canvas then shows `mask`."""
        doc, rgb = self.document, self._rgb
        assert doc is not None and rgb is not None
        state = doc.view.view_state
        area = damaged(rect, state, (rgb.shape[1], rgb.shape[0]))
        if area[0] >= area[2] or area[1] >= area[3]:
            return
        pixels = render_region(rgb, mask, doc.colours(), doc.view.hidden, state, area, self._previous_mask())
        dx = rgb.shape[1] if state.mode is ViewMode.SIDE_BY_SIDE else 0  # the overlay half of the image
        self.canvas.set_region(area[0] + dx, area[1], pixels)
        self._shown_mask = mask


def _changed_rect(a: np.ndarray | None, b: np.ndarray | None) -> Rect | None:
    """Bounding rectangle (x0, y0, x1, y1) of the pixels where two (H, W) masks differ (None: a mask of
    zeros); None when they are equal."""
    if a is None and b is None:
        return None
    diff = (b != 0) if a is None else (a != 0) if b is None else (a != b)  # (H, W) bool
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff[rows[0] : rows[-1] + 1].any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
