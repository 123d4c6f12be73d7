"""Small things an editor relies on: one file picker, a failed open keeps the project, a closed clip leaves no
frame on the slider, view-mode and object shortcuts, onion skin."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from app.view.render import ViewMode, ViewState, compose


def _open_with_mask(studio, make_clip, frames=4):
    assert studio.open_path(make_clip(frames))
    doc = studio.document
    if not doc.objects:
        doc.add_object("thing")
    mask = np.zeros((480, 854), np.uint8)
    mask[100:300, 200:400] = 1
    assert doc.commit_mask(0, mask, "paint")
    return doc, mask


def test_cancel_in_the_file_picker_opens_nothing_else(window, monkeypatch):
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: asked.append("file") or ("", ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: asked.append("folder") or "")
    window.actions_["open"].trigger()
    assert asked == ["file"]
    window.actions_["open_folder"].trigger()
    assert asked == ["file", "folder"]
    assert window.document is None


def test_a_failed_open_keeps_the_open_project(window, studio, make_clip, tmp_path):
    doc, _ = _open_with_mask(studio, make_clip)
    errors = []
    studio.error.connect(lambda title, text, exc: errors.append(text))
    assert not studio.open_path(tmp_path / "no-such-clip.mp4")
    assert studio.document is doc
    assert "no-such-clip.mp4" in errors[0]
    for box in QApplication.topLevelWidgets():  # the error dialog the failed open showed
        if isinstance(box, QMessageBox):
            box.close()
            box.deleteLater()
    assert doc.mask(0) is not None
    assert studio.open_path(doc.project.folder)  # the same project again: stays open, nothing reloaded
    assert studio.document is doc


def test_closing_the_clip_resets_the_slider(window, studio, make_clip):
    assert studio.open_path(make_clip(6))
    studio.document.view.set_frame(4)
    assert window.timeline.slider.value() == 4
    window.actions_["close"].trigger()
    assert window.document is None
    assert window.timeline.slider.value() == 0
    assert window.timeline.slider.maximum() == 0


def test_view_mode_and_object_shortcuts(window, studio, make_clip):
    doc, _ = _open_with_mask(studio, make_clip)
    second = doc.add_object("second")
    window.actions_["view_matte"].trigger()
    assert doc.view.view_state.mode is ViewMode.MATTE
    assert window.view_controls.state().mode is ViewMode.MATTE
    window.actions_["view_overlay"].trigger()
    assert doc.view.view_state.mode is ViewMode.OVERLAY
    doc.view.set_active_object(1)
    window.actions_["next_object"].trigger()
    assert doc.view.active_object == second
    window.actions_["next_object"].trigger()
    assert doc.view.active_object == 1  # wraps around
    window.actions_["prev_object"].trigger()
    assert doc.view.active_object == second


def test_onion_skin_draws_the_previous_frames_edges():
    rgb = np.full((60, 80, 3), 40, np.uint8)
    now, before = np.zeros((60, 80), np.uint8), np.zeros((60, 80), np.uint8)
    now[10:30, 10:30] = 1
    before[30:50, 40:70] = 1
    colours = {1: (255, 0, 0)}
    plain = compose(rgb, now, colours, set(), ViewState(), before)
    onion = compose(rgb, now, colours, set(), ViewState(onion=True), before)
    changed = np.any(plain != onion, axis=2)
    assert changed.any()
    ys, xs = np.nonzero(changed)
    assert ys.min() >= 29 and xs.min() >= 39  # only around where the object was on the previous frame
    assert not changed[35:45, 45:65].any()  # edges only, not the inside
    assert tuple(onion[30, 50]) == (255, 128, 128)  # the object's colour, half white
    hidden = compose(rgb, now, colours, {1}, ViewState(onion=True), before)
    assert np.array_equal(hidden, rgb)  # a hidden object has no onion skin either


def test_onion_toggle_in_the_window(window, studio, make_clip):
    doc, mask = _open_with_mask(studio, make_clip)
    doc.view.set_frame(1)
    window.actions_["onion"].trigger()
    assert doc.view.view_state.onion and window.view_controls.onion_button.isChecked()
    window.actions_["onion"].trigger()
    assert not doc.view.view_state.onion
