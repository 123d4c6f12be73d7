"""The canvas during edits: strokes repaint only what they damaged and match a full render; GrabCut runs
on a worker thread, lands as one undo step, and is dropped when the frame changed meanwhile."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPointF, QRect, Qt, QTimer
from PySide6.QtWidgets import QApplication

import app.tools.proposals as proposals
from app.view.render import ViewMode, ViewState, compose, reach
from tests.app.conftest import gt_mask
from tests.app.helpers import widget_point

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton


class PaintLog(QObject):
    """Records the rectangles of every paint event a widget gets."""

    def __init__(self) -> None:
        super().__init__()
        self.rects: list[QRect] = []

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            self.rects.extend(event.region())
        return False


def full_render(doc) -> np.ndarray:
    """What a full re-render of the current frame shows."""
    frame = doc.view.current_frame
    return compose(doc.frame_image(frame), doc.mask(frame), doc.colours(), doc.view.hidden, doc.view.view_state)


@pytest.mark.parametrize(
    "state",
    [
        ViewState(ViewMode.OVERLAY),
        ViewState(ViewMode.CUTOUT, grow=3, feather=5),
        ViewState(ViewMode.MATTE, grow=-2, feather=2),
        ViewState(ViewMode.SIDE_BY_SIDE),
    ],
    ids=lambda s: s.mode.name,
)
def test_stroke_repaints_only_its_damage_and_equals_a_full_render(qtbot, window, make_clip, state):
    assert window.studio.open_path(make_clip(2))
    doc, canvas = window.document, window.canvas
    assert doc.add_object() == 1
    doc.commit_mask(0, gt_mask(0).astype(np.uint8), "Start")  # object 1: the dog
    doc.view.set_view_state(state)
    window.toolbox.set_radius(6)
    QApplication.processEvents()
    ys, xs = np.nonzero(gt_mask(0))
    y = int(ys.mean())
    points = [(float(x), y + 8 * np.sin(x / 9)) for x in range(int(xs.min()) - 20, int(xs.max()) + 20, 6)]
    log = PaintLog()
    canvas.installEventFilter(log)
    qtbot.mousePress(canvas, LEFT, pos=widget_point(canvas, *points[0]))
    for x, yy in points[1:]:
        qtbot.mouseMove(canvas, widget_point(canvas, x, yy))
        QApplication.processEvents()
    assert doc.editing
    assert np.array_equal(canvas.pixels(), full_render(doc))  # mid-stroke: what a full re-render would show
    assert log.rects, "the stroke repainted nothing"
    # Every repaint lies within the stroke's reach (brush + outline/feather + the outline's pen) around its path.
    pad = (6 + reach(state) + 3) * canvas.scale + 8
    offsets = [0.0, float(doc.project.size[1])] if state.mode is ViewMode.SIDE_BY_SIDE else [0.0]
    for rect in log.rects:
        centre = QPointF(rect.center())
        near = any(
            abs(centre.x() - p.x()) <= rect.width() / 2 + pad and abs(centre.y() - p.y()) <= rect.height() / 2 + pad
            for dx in offsets
            for p in (canvas.to_widget(QPointF(x + 0.5 + dx, yy + 0.5)) for x, yy in points)
        )
        assert near, f"repaint {rect} far from the stroke"
        assert rect.width() * rect.height() < canvas.width() * canvas.height() / 20  # never the whole canvas
    qtbot.mouseRelease(canvas, LEFT, pos=widget_point(canvas, *points[-1]))
    QApplication.processEvents()
    assert not doc.editing and doc.undo_stack.undoText() == "Brush stroke"
    assert np.array_equal(canvas.pixels(), full_render(doc))  # after the release, too
    canvas.removeEventFilter(log)
    doc.undo_stack.undo()
    assert np.array_equal(canvas.pixels(), full_render(doc))  # and after an undo (the changed rectangle only)


def test_brush_outline_repaints_only_around_the_pointer(qtbot, window, make_clip):
    assert window.studio.open_path(make_clip(2))
    canvas = window.canvas
    QApplication.processEvents()
    log = PaintLog()
    canvas.installEventFilter(log)
    for x in range(100, 300, 20):
        qtbot.mouseMove(canvas, widget_point(canvas, x, 200))
        QApplication.processEvents()
    assert log.rects
    r = window.toolbox.radius * canvas.scale + 8
    for rect in log.rects:
        assert rect.width() <= 2 * (r + 20 * canvas.scale) and rect.height() <= 2 * r  # two outlines at most
    canvas.removeEventFilter(log)


def drag_box(qtbot, canvas, a: tuple[float, float], b: tuple[float, float]) -> None:
    qtbot.mousePress(canvas, LEFT, pos=widget_point(canvas, *a))
    qtbot.mouseMove(canvas, widget_point(canvas, *b))
    qtbot.mouseRelease(canvas, LEFT, pos=widget_point(canvas, *b))


def dog_box() -> tuple[tuple[float, float], tuple[float, float]]:
    ys, xs = np.nonzero(gt_mask(0))
    return (xs.min() - 8.0, ys.min() - 8.0), (xs.max() + 8.0, ys.max() + 8.0)


def test_grabcut_runs_off_the_gui_thread_and_lands_as_one_undo_step(qtbot, window, make_clip, monkeypatch):
    assert window.studio.open_path(make_clip(2))
    doc, tb = window.document, window.toolbox
    threads: list[int] = []
    real = proposals.grabcut_box

    def slow_grabcut(image, rect):
        threads.append(threading.get_ident())
        time.sleep(0.3)  # long enough for the event loop to turn many times meanwhile
        return real(image, rect)

    monkeypatch.setattr(proposals, "grabcut_box", slow_grabcut)
    doc.add_object()
    tb.set_tool("box")
    steps = doc.undo_stack.index()
    ticks = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(tb.proposing))
    timer.start()
    drag_box(qtbot, window.canvas, *dog_box())
    assert tb.proposing and doc.undo_stack.index() == steps  # not applied yet: it runs in the background
    assert QApplication.overrideCursor() is not None
    assert QApplication.overrideCursor().shape() == Qt.CursorShape.BusyCursor
    qtbot.waitUntil(lambda: not tb.proposing, timeout=20_000)
    timer.stop()
    assert threads and threads[0] != threading.get_ident()
    assert sum(ticks) >= 3  # the timer kept firing while GrabCut ran
    assert QApplication.overrideCursor() is None
    assert doc.undo_stack.index() == steps + 1 and doc.undo_stack.undoText() == "Box proposal"
    proposal = doc.clip.mask(0)
    inter = np.logical_and(proposal == 1, gt_mask(0)).sum()
    assert inter / np.logical_or(proposal == 1, gt_mask(0)).sum() > 0.6  # GrabCut found the dog
    assert np.array_equal(window.canvas.pixels(), full_render(doc))
    doc.undo_stack.undo()
    assert doc.clip.mask(0) is None  # one undo step takes it all back
    assert np.array_equal(window.canvas.pixels(), full_render(doc))


def test_a_stale_grabcut_result_is_dropped(qtbot, window, make_clip, monkeypatch):
    assert window.studio.open_path(make_clip(2))
    doc, tb = window.document, window.toolbox
    gate = threading.Event()
    real = proposals.grabcut_box

    def gated_grabcut(image, rect):
        gate.wait(20)
        return real(image, rect)

    monkeypatch.setattr(proposals, "grabcut_box", gated_grabcut)
    doc.add_object()
    tb.set_tool("box")
    steps = doc.undo_stack.index()
    drag_box(qtbot, window.canvas, *dog_box())
    assert tb.proposing
    doc.view.set_frame(1)  # the person moves on while GrabCut runs
    with qtbot.waitSignal(tb.message, timeout=20_000) as said:
        gate.set()
    assert "dropped" in said.args[0]
    assert not tb.proposing and QApplication.overrideCursor() is None
    assert doc.undo_stack.index() == steps
    assert doc.clip.mask(0) is None and doc.clip.mask(1) is None


def click_at(qtbot, canvas, x: float, y: float, button=LEFT) -> None:
    qtbot.mouseClick(canvas, button, pos=widget_point(canvas, x, y))


def test_click_tool_segments_refines_and_never_takes_locked_pixels(qtbot, window, make_clip):
    from llb_core.interactive.clicks import iou, next_click

    assert window.studio.open_path(make_clip(2))
    doc, tb = window.document, window.toolbox
    truth = gt_mask(0)
    locked = np.zeros_like(truth)
    ys, xs = np.nonzero(truth)
    locked[ys.min() : ys.min() + 30, :] = True  # object 1 is locked over the dog's top rows
    start = np.where(locked, 1, 0).astype(np.uint8)
    doc.add_object()
    doc.commit_mask(0, start, "Locked object")
    doc.view.set_locked(1, True)
    assert doc.add_object() == 2
    window.actions_["click"].trigger()
    assert tb.tool == "click" and window.actions_["click"].isChecked()
    steps = doc.undo_stack.index()
    first = next_click(np.zeros_like(truth), truth)
    click_at(qtbot, window.canvas, first.x, first.y)
    assert tb.clicks and tb.clicks[0].positive
    qtbot.waitUntil(lambda: not tb.proposing, timeout=60_000)
    assert doc.undo_stack.index() == steps + 1 and doc.undo_stack.undoText() == "Click +"
    mask = doc.clip.mask(0)
    assert np.array_equal(mask == 1, locked)  # the locked object kept every pixel
    assert iou(mask == 2, truth & ~locked) > 0.7  # one click finds the dog
    # a second click where the model is wrong refines it, as one more undo step
    nxt = next_click(mask == 2, truth & ~locked)
    click_at(qtbot, window.canvas, nxt.x, nxt.y, LEFT if nxt.positive else Qt.MouseButton.RightButton)
    qtbot.waitUntil(lambda: not tb.proposing, timeout=60_000)
    assert len(tb.clicks) == 2 and tb.clicks[1].positive == nxt.positive
    assert doc.undo_stack.index() == steps + 2
    assert np.array_equal(doc.clip.mask(0) == 1, locked)
    doc.undo_stack.undo()
    assert np.array_equal(doc.clip.mask(0), mask)  # one click, one undo step
    assert tb.clicks == []  # after an undo the next click starts from the mask shown
    click_at(qtbot, window.canvas, first.x, first.y)
    assert len(tb.clicks) == 1
    doc.view.set_frame(1)
    assert tb.clicks == []  # clicks belong to their frame
    qtbot.waitUntil(lambda: not tb.proposing, timeout=60_000)


def test_click_tool_drag_gives_a_box(qtbot, window, make_clip):
    assert window.studio.open_path(make_clip(2))
    doc, tb = window.document, window.toolbox
    doc.add_object()
    tb.set_tool("click")
    drag_box(qtbot, window.canvas, *dog_box())
    assert tb.clicks == []
    qtbot.waitUntil(lambda: not tb.proposing, timeout=60_000)
    assert doc.undo_stack.undoText() == "Box (click tool)"
    found = doc.clip.mask(0) == 1
    truth = gt_mask(0)
    assert np.logical_and(found, truth).sum() / np.logical_or(found, truth).sum() > 0.6
