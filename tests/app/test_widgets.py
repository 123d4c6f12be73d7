"""Widgets and window commands that need no propagation: canvas, tools, objects panel, timeline, demo."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMenu

from app.view.canvas import Canvas
from app.view.render import ViewMode
from app.widgets.timeline import neighbour
from app.widgets.timeline_strip import runs
from tests.app.helpers import stroke, widget_point

pytestmark = pytest.mark.gui


def test_canvas_fit_zoom_about_the_pointer_and_wrapped_coordinates(qtbot):
    canvas = Canvas()
    qtbot.addWidget(canvas)
    canvas.resize(800, 500)
    canvas.show()
    canvas.set_image(np.zeros((100, 400, 3), np.uint8), wrap_width=200)  # a side-by-side pair of 200 px frames
    assert canvas.scale == pytest.approx(800 / 400 * 0.98)
    anchor = QPointF(300, 250)
    under = canvas.to_image(anchor)
    canvas.zoom_by(2.0, anchor)
    after = canvas.to_image(anchor)
    assert (after.x(), after.y()) == pytest.approx((under.x(), under.y()))  # the point under the pointer stays
    right_half = canvas.to_image(canvas.to_widget(QPointF(250, 40)))
    assert right_half.x() == pytest.approx(50) and right_half.y() == pytest.approx(40)
    canvas.actual_size()
    assert canvas.scale == 1.0
    with qtbot.waitSignal(canvas.brush_wheel) as blocker:
        qtbot.wheel = None  # pytest-qt has no wheel helper; send the event directly
        from PySide6.QtGui import QWheelEvent

        event = QWheelEvent(
            QPointF(100, 100), QPointF(100, 100), QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False,
        )  # fmt: skip
        QApplication.sendEvent(canvas, event)
    assert blocker.args == [1] and canvas.scale == 1.0  # Ctrl + wheel sizes the brush, it does not zoom


def test_timeline_helpers():
    assert runs([5, 1, 2, 3, 7, 8]) == [(1, 3), (5, 5), (7, 8)]
    assert neighbour([0, 4, 9], 4, 1) == 9 and neighbour([0, 4, 9], 4, -1) == 0 and neighbour([0], 0, 1) is None


def test_brush_size_keys_box_tool_and_locked_objects(qtbot, window, make_clip):
    assert window.studio.open_path(make_clip(2))
    doc, tb = window.document, window.toolbox
    tb.set_radius(10)
    window.actions_["bigger"].trigger()
    assert tb.radius == 12 and window.brush_size.value() == 12
    window.actions_["smaller"].trigger()
    assert tb.radius < 12
    window.actions_["box"].trigger()
    assert tb.tool == "box" and window.actions_["box"].isChecked()
    from tests.app.conftest import gt_mask

    ys, xs = np.nonzero(gt_mask(0))
    qtbot.mousePress(
        window.canvas, Qt.MouseButton.LeftButton, pos=widget_point(window.canvas, xs.min() - 8, ys.min() - 8)
    )
    qtbot.mouseMove(window.canvas, widget_point(window.canvas, (xs.min() + xs.max()) / 2, ys.max()))
    qtbot.mouseRelease(
        window.canvas, Qt.MouseButton.LeftButton, pos=widget_point(window.canvas, xs.max() + 8, ys.max() + 8)
    )
    qtbot.waitUntil(lambda: not tb.proposing, timeout=20_000)  # GrabCut runs on a worker thread
    proposal = doc.clip.mask(0)
    assert proposal is not None and doc.undo_stack.undoText() == "Box proposal"
    inter = np.logical_and(proposal == 1, gt_mask(0)).sum()
    assert inter / np.logical_or(proposal == 1, gt_mask(0)).sum() > 0.6  # GrabCut found the dog
    doc.view.set_locked(1, True)
    window.actions_["brush"].trigger()
    stroke(qtbot, window.canvas, [(10, 10), (50, 10)])
    assert np.array_equal(doc.clip.mask(0), proposal)  # a locked object is not edited
    window.actions_["fill_holes"].trigger()
    assert doc.undo_stack.undoText() == "Box proposal"


def test_objects_panel_add_rename_hide_remove_with_undo(qtbot, window, make_clip):
    assert window.studio.open_path(make_clip(2))
    doc, panel = window.document, window.objects_panel
    panel.add_button.click()
    panel.add_button.click()
    assert [o.id for o in doc.objects] == [1, 2] and doc.view.active_object == 2
    item = panel.list.topLevelItem(0)
    item.setText(0, "dog")  # what finishing an in-place edit does
    assert doc.project.object(1).name == "dog" and panel.list.topLevelItem(0).text(0) == "dog"
    panel.list.setCurrentItem(panel.list.topLevelItem(0))
    assert doc.view.active_object == 1
    stroke(qtbot, window.canvas, [(300, 200), (400, 200)])
    doc.view.set_active_object(2)
    stroke(qtbot, window.canvas, [(300, 300), (400, 300)])
    painted = doc.clip.mask(0).copy()
    rect = panel.list.visualItemRect(panel.list.topLevelItem(1))
    qtbot.mouseClick(
        panel.list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(panel.list.columnViewportPosition(1) + 5, rect.center().y()),
    )
    assert doc.view.hidden == {2}
    panel.list.setCurrentItem(panel.list.topLevelItem(1))
    panel.remove_button.click()
    assert [o.id for o in doc.objects] == [1] and not (doc.clip.mask(0) == 2).any()
    window.actions_["undo"].trigger()
    assert [o.id for o in doc.objects] == [1, 2] and np.array_equal(doc.clip.mask(0), painted)
    window.actions_["undo"].trigger()  # the object 2 stroke
    window.actions_["undo"].trigger()  # the object 1 stroke
    window.actions_["undo"].trigger()  # the rename
    assert doc.project.object(1).name == "object 1" and doc.clip.mask(0) is None


def click_cell(qtbot, panel, row: int, column: int) -> None:
    """A left click in the middle of one cell of the objects list."""
    tree = panel.list
    rect = tree.visualItemRect(tree.topLevelItem(row))
    x = tree.columnViewportPosition(column) + tree.columnWidth(column) // 2
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, rect.center().y()))


def test_eye_and_lock_cells_toggle_without_changing_the_active_object(qtbot, window, make_clip):
    assert window.studio.open_path(make_clip(2))
    doc, panel = window.document, window.objects_panel
    panel.add_button.click()
    panel.add_button.click()
    doc.view.set_active_object(1)
    click_cell(qtbot, panel, 1, 1)  # object 2's eye
    assert doc.view.hidden == {2} and doc.view.active_object == 1
    assert panel.list.currentItem() is panel.list.topLevelItem(0)
    click_cell(qtbot, panel, 1, 2)  # object 2's lock
    assert doc.view.locked == {2} and doc.view.active_object == 1
    stroke(qtbot, window.canvas, [(300, 200), (400, 200)])  # the next stroke still paints object 1
    assert set(np.unique(doc.clip.mask(0))) == {0, 1}
    click_cell(qtbot, panel, 1, 1)
    click_cell(qtbot, panel, 1, 2)
    assert doc.view.hidden == set() and doc.view.locked == set() and doc.view.active_object == 1
    click_cell(qtbot, panel, 1, 0)  # the name cell still picks the active object
    assert doc.view.active_object == 2


def test_history_lists_the_strokes_and_a_click_jumps_back(qtbot, window, make_clip):
    history = window.history
    toggle = history.toggleViewAction()
    view_menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&View")
    assert toggle in view_menu.actions()
    assert history.isVisible()
    toggle.trigger()
    assert not history.isVisible()
    toggle.trigger()
    assert history.isVisible()
    assert window.studio.open_path(make_clip(2))
    doc, view = window.document, window.history.view
    assert view.stack() is doc.undo_stack
    stroke(qtbot, window.canvas, [(300, 200), (400, 200)])
    first = doc.clip.mask(0).copy()
    stroke(qtbot, window.canvas, [(300, 300), (400, 300)])
    model, n = view.model(), doc.undo_stack.count()  # the first stroke also declared object 1
    assert n == 3 and model.rowCount() == n + 1  # the project as opened, then one row per step
    assert [model.index(r, 0).data() for r in range(n + 1)] == ["Project opened", *map(doc.undo_stack.text, range(n))]
    first_stroke = model.index(n - 1, 0)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(first_stroke).center())
    assert doc.undo_stack.index() == n - 1 and np.array_equal(doc.clip.mask(0), first)  # the second stroke undone
    assert window.actions_["redo"].isEnabled()
    window.studio.close_document()
    assert view.stack() is None


def test_timeline_play_step_and_keyframe_navigation(qtbot, window, make_clip):
    assert window.studio.open_path(make_clip(6))
    doc, tl = window.document, window.timeline
    stroke(qtbot, window.canvas, [(300, 200), (400, 200)])
    doc.view.set_frame(4)
    stroke(qtbot, window.canvas, [(300, 200), (400, 200)])
    window.actions_["first"].trigger()
    window.actions_["next_key"].trigger()
    assert doc.view.current_frame == 4 and tl.slider.value() == 4 and "keyframe" in tl.info.text()
    window.actions_["prev_frame"].trigger()
    assert doc.view.current_frame == 3
    window.actions_["prev_key"].trigger()
    assert doc.view.current_frame == 0
    window.actions_["play"].trigger()
    assert tl.playing and tl.timer.interval() == round(1000 / doc.project.fps)
    qtbot.waitUntil(lambda: not tl.playing, timeout=5000)  # plays to the last frame and stops
    assert doc.view.current_frame == 5
    qtbot.mouseClick(tl.strip, Qt.MouseButton.LeftButton, pos=QPoint(round(tl.strip._x(2)), 15))
    assert doc.view.current_frame == 2


def test_shortcuts_overview_lists_the_actions(qtbot, window):
    window.actions_["shortcuts"].trigger()
    dialog = next(w for w in window.findChildren(QDialog) if w.windowTitle() == "Keyboard shortcuts")
    rows = dict((what, keys) for keys, what in dialog.visible_rows())
    assert "Propagate forward" in rows and "Next flagged frame" in rows and "Brush" in rows
    assert any("Z" in keys for what, keys in rows.items() if what == "Undo")
    dialog.close()


def test_view_mode_and_settings_reach_the_document_and_engine(qtbot, window, make_clip):
    assert window.studio.open_path(make_clip(2))
    doc = window.document
    window.view_controls.mode_buttons[ViewMode.SIDE_BY_SIDE].click()
    assert doc.view.view_state.mode == ViewMode.SIDE_BY_SIDE
    assert window.canvas.image_size() == (2 * 854, 480)  # source | overlay
    stroke(qtbot, window.canvas, [(854 + 300, 200), (854 + 400, 200)])  # painting on the right half
    assert (doc.clip.mask(0)[195:205, 300:400] == 1).all()
    dialog = window.settings_dialog()
    new = window.studio.settings.replace(resolution=192, memory_interval=3, autosave_minutes=7, finetune_steps=30)
    dialog.show_settings(new)
    assert dialog.finetune_spin.value() == 30 and dialog.result_settings() == new
    dialog.accept()
    assert window.studio.settings.resolution == 192 and doc.settings.memory_interval == 3
    assert doc.settings.finetune_steps == 30  # the next run tunes a copy of the network on its keyframes
    assert window.studio.autosave.interval() == 7 * 60_000
    assert doc.project.dirty  # the stroke's keyframe is only in the journal so far
    window.studio.autosave.timeout.emit()  # what the timer does every 7 minutes
    assert not doc.project.dirty
    from app.window.settings import load_settings

    assert load_settings(window.studio.qsettings).resolution == 192  # stored in QSettings


def test_demo_opens_with_its_first_mask(qtbot, window):
    from llb_core.resources import demo_clip

    try:
        demo_clip()
    except Exception as err:  # noqa: BLE001
        pytest.skip(str(err))
    assert window.studio.open_demo()
    doc = window.document
    assert doc.clip.keyframes == {0: frozenset({1})} and doc.objects[0].name == "bunny"
    assert (doc.clip.mask(0) == 1).sum() > 1000 and doc.undo_stack.count() == 0
    assert window.canvas.image_size() == (1280, 720)


def test_llb_studio_demo_launches_the_window_with_the_demo(qtbot, monkeypatch, tmp_path):
    """`llb-studio --demo` (app.cli -> launch): the window opens on the demo clip; exit code 0."""
    import sys

    from app import cli
    from app.window.main_window import MainWindow

    try:
        from llb_core.resources import demo_clip

        demo_clip()
    except Exception as err:  # noqa: BLE001
        pytest.skip(str(err))
    monkeypatch.setattr("app.window.controller.default_data_dir", lambda: tmp_path / "data")
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # launch installs its own; restored afterwards
    seen = {}
    real_exec = QApplication.exec

    def exec_briefly(app):
        def look_and_quit():
            window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
            if window.document is None:
                return
            seen["keyframes"] = window.document.clip.keyframes
            seen["title"] = window.windowTitle()
            timer.stop()
            window.close()
            app.quit()

        timer = QTimer()
        timer.timeout.connect(look_and_quit)
        timer.start(50)
        return real_exec()

    monkeypatch.setattr(QApplication, "exec", exec_briefly)
    assert cli.main(["--demo"]) == 0
    assert seen["keyframes"] == {0: frozenset({1})} and seen["title"].startswith("demo.llbproj")
