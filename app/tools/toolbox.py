"""`ToolBox`: turns canvas pointer activity into mask edits on the document's current frame.

Tools: "brush" (left button paints the active object, right button erases it), "eraser" (left button erases
the active object), "box" (drag a box: GrabCut proposes the object inside it; refine with the brush). One
stroke or one box is one undo step, and the frame becomes a keyframe. Locked objects are never painted over.

GrabCut runs on a worker thread (`BoxProposer`) under a busy cursor; its proposal applies when it arrives,
unless the frame, the object or the document changed meanwhile, a newer box replaced it, or a stroke is in
progress (then it is dropped, with a message).
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QGuiApplication

from app.model.document import Document
from app.tools.mask_ops import clear_object, fill_holes, paint_segment
from app.tools.proposals import BoxProposer
from app.view.canvas import Canvas

log = logging.getLogger(__name__)

TOOLS = ("brush", "eraser", "box")
MIN_RADIUS, MAX_RADIUS = 1, 200


class ToolBox(QObject):
    """See the module docstring."""

    tool_changed = Signal(str)
    brush_size_changed = Signal(int)  # radius in image pixels
    message = Signal(str)  # why an edit was refused, for the status bar

    def __init__(self, canvas: Canvas, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.document: Document | None = None
        self.tool = "brush"
        self.radius = 12
        self.enabled = True
        self._last: QPointF | None = None
        self._erase = False
        self._box_from: QPointF | None = None
        self._proposer = BoxProposer(self)
        self._proposer.ready.connect(self._proposal_ready)
        self._tickets = itertools.count(1)
        self._proposal: tuple[int, Document, int, int] | None = None  # ticket, document, frame, object
        self._busy_cursor = False
        canvas.pointer_pressed.connect(self._press)
        canvas.pointer_moved.connect(self._move)
        canvas.pointer_released.connect(self._release)
        canvas.brush_wheel.connect(lambda step: self.set_radius(self.radius + step * max(1, self.radius // 8)))
        self._update_cursor()

    # -- settings --------------------------------------------------------------------------------
    def set_document(self, document: Document | None) -> None:
        self.document = document

    def set_tool(self, name: str) -> None:
        if name not in TOOLS:
            raise ValueError(f"unknown tool {name!r}")
        self.tool = name
        self._update_cursor()
        self.tool_changed.emit(name)

    def set_radius(self, radius: int) -> None:
        self.radius = max(MIN_RADIUS, min(MAX_RADIUS, int(radius)))
        self._update_cursor()
        self.brush_size_changed.emit(self.radius)

    def bigger(self) -> None:
        self.set_radius(self.radius + max(1, self.radius // 5))

    def smaller(self) -> None:
        self.set_radius(self.radius - max(1, self.radius // 5))

    def set_enabled(self, enabled: bool) -> None:
        """Edits are refused while disabled (during a propagation run)."""
        self.enabled = enabled
        if not enabled:
            self._abort()
        self._update_cursor()

    def _update_cursor(self) -> None:
        """The brush outline while a brush can paint; a plain cross otherwise (box tool, during runs)."""
        brush = self.enabled and self.tool in ("brush", "eraser")
        self.canvas.set_brush_radius(self.radius if brush else 0)

    # -- whether an edit may start ---------------------------------------------------------------
    def _target(self) -> int | None:
        """The object to edit, or None (with a message saying why not)."""
        doc = self.document
        if doc is None:
            return None
        if not self.enabled or doc.running:
            self.message.emit("Editing is paused while propagation runs; cancel it or wait.")
            return None
        if not doc.view.active_object:
            doc.add_object()
        if doc.view.active_object in doc.view.locked:
            self.message.emit("The active object is locked: unlock it in the objects panel to edit it.")
            return None
        return doc.view.active_object

    def _protected(self, obj_id: int) -> set[int]:
        assert self.document is not None
        return self.document.view.locked - {obj_id}

    # -- pointer ---------------------------------------------------------------------------------
    def _press(self, pos: QPointF, button: Qt.MouseButton) -> None:
        obj = self._target()
        if obj is None or self.document is None:
            return
        if self.tool == "box":
            if button == Qt.MouseButton.LeftButton:
                self._box_from = pos
                self.canvas.set_box(QRectF(pos, pos))
            return
        self._erase = self.tool == "eraser" or button == Qt.MouseButton.RightButton
        self.document.begin_edit()
        self._last = pos
        self._paint(pos)

    def _move(self, pos: QPointF) -> None:
        if self._box_from is not None:
            self.canvas.set_box(QRectF(self._box_from, pos).normalized())
        elif self._last is not None:
            self._paint(pos)

    def _release(self, pos: QPointF) -> None:
        doc = self.document
        if self._box_from is not None and doc is not None:
            box = QRectF(self._box_from, pos).normalized()
            self._box_from = None
            self.canvas.set_box(None)
            self._propose(box)
        elif self._last is not None and doc is not None:
            self._paint(pos)
            self._last = None
            doc.end_edit("Erase" if self._erase else "Brush stroke")

    def _paint(self, pos: QPointF) -> None:
        doc = self.document
        assert doc is not None and self._last is not None
        working = doc.mask(doc.view.current_frame)
        if working is None or not doc.editing:
            return
        obj = doc.view.active_object
        p0, p1 = (self._last.x(), self._last.y()), (pos.x(), pos.y())
        changed = paint_segment(working, p0, p1, self.radius, obj, self._erase, self._protected(obj))
        self._last = pos
        doc.edit_changed(changed)

    def _abort(self) -> None:
        self._last, self._box_from, self._proposal = None, None, None
        self.canvas.set_box(None)
        if self.document is not None:
            self.document.cancel_edit()

    # -- whole-frame edits -----------------------------------------------------------------------
    @property
    def proposing(self) -> bool:
        """True while a GrabCut proposal is being computed (or its result is on its way)."""
        return self._proposer.busy

    def wait_for_proposal(self, msecs: int = -1) -> bool:
        """Block until GrabCut is done (tests, shut-down); the result still arrives as an event."""
        return self._proposer.wait(msecs)

    def _propose(self, box: QRectF) -> None:
        doc = self.document
        obj = self._target()
        if doc is None or obj is None:
            return
        rect = (int(box.left()), int(box.top()), int(box.right()) + 1, int(box.bottom()) + 1)
        ticket = next(self._tickets)
        self._proposal = (ticket, doc, doc.view.current_frame, obj)
        if not self._busy_cursor:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
            self._busy_cursor = True
        self._proposer.propose(doc.frame_image(doc.view.current_frame), rect, ticket)

    def _proposal_ready(self, ticket: int, result: object) -> None:
        """GrabCut's (H, W) bool proposal (or the error that stopped it), back on the GUI thread."""
        if self._busy_cursor and not self._proposer.busy:
            QGuiApplication.restoreOverrideCursor()
            self._busy_cursor = False
        if self._proposal is None or self._proposal[0] != ticket:
            return  # a newer box replaced it, or editing was disabled meanwhile
        _, doc, frame, obj = self._proposal
        self._proposal = None
        if isinstance(result, Exception):
            self.message.emit(str(result) if isinstance(result, ValueError) else f"GrabCut failed: {result}")
            return
        if doc is not self.document or frame != doc.view.current_frame or obj != doc.view.active_object:
            self.message.emit("The box proposal was dropped: the frame or the object changed while GrabCut ran.")
            return
        busy = "a stroke is in progress" if doc.editing else "propagation runs" if doc.running else None
        busy = busy or ("the object is locked" if obj in doc.view.locked else None)
        if busy:
            self.message.emit(f"The box proposal was dropped: {busy}.")
            return
        assert isinstance(result, np.ndarray)
        mask = self._current_mask()
        mask[mask == obj] = 0  # the proposal replaces the object on this frame; other objects keep their pixels
        mask[result & (mask == 0)] = obj
        if not doc.commit_mask(doc.view.current_frame, mask, "Box proposal"):
            self.message.emit("GrabCut found nothing new in the box; try a tighter box or paint with the brush.")

    def fill_holes(self) -> None:
        """Fill background enclosed by the active object on the current frame."""
        doc, obj = self.document, self._target()
        if doc is None or obj is None:
            return
        mask = doc.mask(doc.view.current_frame)
        if mask is None or not doc.commit_mask(doc.view.current_frame, fill_holes(mask, obj), "Fill holes"):
            self.message.emit("No holes to fill in the active object on this frame.")

    def clear_object(self) -> None:
        """Remove the active object from the current frame (the frame becomes a keyframe without it)."""
        doc, obj = self.document, self._target()
        if doc is None or obj is None:
            return
        doc.commit_mask(doc.view.current_frame, clear_object(self._current_mask(), obj), "Clear object on frame")

    def _current_mask(self) -> np.ndarray:
        """A copy of the current frame's mask (zeros when it has none)."""
        assert self.document is not None
        doc = self.document
        mask = doc.mask(doc.view.current_frame)
        return np.zeros(doc.project.size, np.uint8) if mask is None else mask.copy()
