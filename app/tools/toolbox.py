"""`ToolBox`: turns canvas pointer activity into mask edits on the document's current frame.

Tools: "brush" (left button paints the active object, right button erases it), "eraser" (left button erases
the active object), "box" (drag a box: GrabCut proposes the object inside it; refine with the brush),
"click" (the click model: left click adds, right click removes, a drag gives a box; each click refines the
object's mask on this frame). One stroke, box or click is one undo step, and the frame becomes a keyframe.
Locked objects are never painted over.

GrabCut and the click model run on a worker thread (`BoxProposer`, `ClickProposer`) under a busy cursor; a
proposal applies when it arrives, unless the frame, the object or the document changed meanwhile, a newer
box or click replaced it, or a stroke is in progress (then it is dropped, with a message). The clicks of the
click tool belong to one (frame, object): moving to another frame or object starts afresh.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QGuiApplication

from app.model.document import Document
from app.tools.mask_ops import clear_object, fill_holes, paint_segment
from app.tools.proposals import BoxProposer, ClickProposer
from app.view.canvas import Canvas
from llb_core.errors import LLBError
from llb_core.interactive.clicks import Click

log = logging.getLogger(__name__)

TOOLS = ("brush", "eraser", "box", "click")
DRAG_PIXELS = 4  # widget pixels a click-tool press must move to become a box
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
        self._clicker = ClickProposer(self)
        self._clicker.ready.connect(self._proposal_ready)
        self._clicks: list[Click] = []  # the click tool's clicks on `_click_key`'s frame and object
        self._click_box: tuple[float, float, float, float] | None = None
        self._click_key: tuple[int, int, int] | None = None  # id(document), frame, object
        self._click_press: tuple[QPointF, bool] | None = None  # where a click-tool press began, positive
        self._committing_click = False  # a click's own undo step is being pushed
        self._tickets = itertools.count(1)
        self._proposal: tuple[int, Document, int, int, str] | None = None  # ticket, document, frame, object, label
        self._busy_cursor = False
        canvas.pointer_pressed.connect(self._press)
        canvas.pointer_moved.connect(self._move)
        canvas.pointer_released.connect(self._release)
        canvas.brush_wheel.connect(lambda step: self.set_radius(self.radius + step * max(1, self.radius // 8)))
        self._update_cursor()

    # -- settings --------------------------------------------------------------------------------
    def set_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.view.frame_changed.disconnect(self._view_moved)
            self.document.view.active_object_changed.disconnect(self._view_moved)
            self.document.undo_stack.indexChanged.disconnect(self._history_moved)
        self.document = document
        if document is not None:
            document.view.frame_changed.connect(self._view_moved)
            document.view.active_object_changed.connect(self._view_moved)
            document.undo_stack.indexChanged.connect(self._history_moved)
        self._view_moved()

    def _history_moved(self, _index: int) -> None:
        """An undo, a redo or another edit (a brush stroke): the clicks so far no longer describe the mask
        shown, so the next click starts from that mask with only itself."""
        if not self._committing_click:
            self.reset_clicks()

    def _view_moved(self, _value: int = 0) -> None:
        """Another frame, object or document: the click tool's clicks no longer apply."""
        self.reset_clicks()
        if self.tool == "click":
            self._prepare_clicks()

    def set_tool(self, name: str) -> None:
        if name not in TOOLS:
            raise ValueError(f"unknown tool {name!r}")
        self.tool = name
        self.reset_clicks()
        if name == "click":
            self._prepare_clicks()
            self.message.emit("Click tool: left click adds to the object, right click removes, drag draws a box.")
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
        if self.tool == "click":
            self._click_press = (pos, button == Qt.MouseButton.LeftButton)
            return
        self._erase = self.tool == "eraser" or button == Qt.MouseButton.RightButton
        self.document.begin_edit()
        self._last = pos
        self._paint(pos)

    def _move(self, pos: QPointF) -> None:
        press = self._click_press
        dragged = press is not None and (pos - press[0]).manhattanLength() * self.canvas.scale >= DRAG_PIXELS
        if press is not None and press[1] and self._box_from is None and dragged:
            self._box_from = press[0]  # the press became a drag: a box
        if self._box_from is not None:
            self.canvas.set_box(QRectF(self._box_from, pos).normalized())
        elif self._last is not None:
            self._paint(pos)

    def _release(self, pos: QPointF) -> None:
        doc = self.document
        press, self._click_press = self._click_press, None
        if self._box_from is not None and doc is not None:
            box = QRectF(self._box_from, pos).normalized()
            self._box_from = None
            self.canvas.set_box(None)
            if press is not None:
                self.click_segment(box=(box.left(), box.top(), box.right() + 1, box.bottom() + 1))
            else:
                self._propose(box)
        elif press is not None and doc is not None:
            self.click_segment(Click(press[0].x(), press[0].y(), press[1]))
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
        self._last, self._box_from, self._proposal, self._click_press = None, None, None, None
        self.canvas.set_box(None)
        if self.document is not None:
            self.document.cancel_edit()

    # -- whole-frame edits -----------------------------------------------------------------------
    @property
    def proposing(self) -> bool:
        """True while a GrabCut or click proposal is being computed (or its result is on its way)."""
        return self._proposer.busy or self._clicker.busy

    def wait_for_proposal(self, msecs: int = -1) -> bool:
        """Block until GrabCut and the click model are done (tests, shut-down); results still arrive as events."""
        return self._proposer.wait(msecs) and self._clicker.wait(msecs)

    # -- the click tool ------------------------------------------------------------------------------
    @property
    def clicks(self) -> list[Click]:
        """The click tool's clicks on the current frame and object (image pixels)."""
        return list(self._clicks)

    def reset_clicks(self) -> None:
        """Forget the click tool's clicks and box (the next click starts from the object's current mask)."""
        self._clicks, self._click_box, self._click_key = [], None, None
        self.canvas.set_marks([])

    def _prepare_clicks(self) -> None:
        """Load the click model and the current frame's features before the first click."""
        doc = self.document
        if doc is not None and not doc.running:
            frame = doc.view.current_frame
            try:
                image = doc.frame_image(frame)
            except LLBError:
                return  # the frame cannot be read: a click says why
            self._clicker.prepare((id(doc), frame), image)

    def click_segment(self, click: Click | None = None, box: tuple[float, float, float, float] | None = None) -> None:
        """Add a click or set the box, and ask the click model for the active object's new mask."""
        doc = self.document
        obj = self._target()
        if doc is None or obj is None:
            return
        frame = doc.view.current_frame
        key = (id(doc), frame, obj)
        if key != self._click_key:
            self.reset_clicks()
            self._click_key = key
        if click is not None:
            self._clicks.append(click)
        if box is not None:
            self._click_box = box
        self.canvas.set_marks([(QPointF(c.x, c.y), c.positive) for c in self._clicks])
        current = doc.mask(frame)
        previous = np.zeros(doc.project.size, bool) if current is None else current == obj
        try:
            image = doc.frame_image(frame)
        except LLBError as err:
            self.message.emit(str(err))
            return
        ticket = next(self._tickets)
        label = "Box (click tool)" if click is None else "Click +" if click.positive else "Click -"
        self._proposal = (ticket, doc, frame, obj, label)
        self._set_busy_cursor()
        self._clicker.propose((id(doc), frame), image, self.clicks, self._click_box, previous, ticket)

    def _set_busy_cursor(self) -> None:
        if not self._busy_cursor:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
            self._busy_cursor = True

    def _propose(self, box: QRectF) -> None:
        doc = self.document
        obj = self._target()
        if doc is None or obj is None:
            return
        rect = (int(box.left()), int(box.top()), int(box.right()) + 1, int(box.bottom()) + 1)
        ticket = next(self._tickets)
        self._proposal = (ticket, doc, doc.view.current_frame, obj, "Box proposal")
        self._set_busy_cursor()
        self._proposer.propose(doc.frame_image(doc.view.current_frame), rect, ticket)

    def _proposal_ready(self, ticket: object, result: object) -> None:
        """A GrabCut or click proposal, (H, W) bool (or the error that stopped it), back on the GUI thread."""
        if self._busy_cursor and not self.proposing:
            QGuiApplication.restoreOverrideCursor()
            self._busy_cursor = False
        if isinstance(ticket, tuple):  # the click model's warm-up: only its failure matters
            if isinstance(result, Exception):
                self.message.emit(f"The click tool cannot start: {result}")
            return
        if self._proposal is None or self._proposal[0] != ticket:
            return  # a newer box or click replaced it, or editing was disabled meanwhile
        _, doc, frame, obj, label = self._proposal
        self._proposal = None
        what = "The box proposal" if label == "Box proposal" else "The click result"
        if isinstance(result, Exception):
            known = isinstance(result, (ValueError, LLBError))  # their messages say what to do
            self.message.emit(str(result) if known else f"{what} failed: {result}")
            return
        if doc is not self.document or frame != doc.view.current_frame or obj != doc.view.active_object:
            self.message.emit(f"{what} was dropped: the frame or the object changed while it was computed.")
            return
        busy = "a stroke is in progress" if doc.editing else "propagation runs" if doc.running else None
        busy = busy or ("the object is locked" if obj in doc.view.locked else None)
        if busy:
            self.message.emit(f"{what} was dropped: {busy}.")
            return
        assert isinstance(result, np.ndarray)
        mask = self._current_mask()
        mask[mask == obj] = 0  # the proposal replaces the object on this frame
        if label == "Box proposal":  # GrabCut's box keeps every other object's pixels
            mask[result & (mask == 0)] = obj
        else:  # clicks may take pixels from other objects, never from locked ones
            mask[result & ~np.isin(mask, list(self._protected(obj)))] = obj
        self._committing_click = label != "Box proposal"
        try:
            committed = doc.commit_mask(doc.view.current_frame, mask, label)
        finally:
            self._committing_click = False
        if not committed:
            self.message.emit(
                "GrabCut found nothing new in the box; try a tighter box or paint with the brush."
                if label == "Box proposal"
                else "That click changed nothing; click inside what is missing (left) or wrongly taken (right)."
            )

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
