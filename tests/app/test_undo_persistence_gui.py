"""GUI tests: undo/redo restores exact masks; save, close, reopen; export; bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from llb_core.io import read_index_mask
from tests.app.conftest import gt_mask
from tests.app.helpers import paint_inside, same_masks, stored_masks, stroke
from tests.app.test_propagation_gui import run

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def soft_files(project) -> dict[str, bytes]:
    root = project.folder / "soft"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.png"))} if root.exists() else {}


def test_undo_redo_of_strokes_and_runs_restores_exact_masks(qtbot, window, make_clip):
    assert window.studio.open_path(make_clip(6))
    doc, canvas = window.document, window.canvas
    project = doc.project
    window.toolbox.set_radius(12)
    stroke(qtbot, canvas, [(300, 200), (420, 220)])
    m1 = doc.clip.mask(0).copy()
    stroke(qtbot, canvas, [(330, 150), (330, 300)])
    m2 = doc.clip.mask(0).copy()
    assert (m1 > 0).sum() > 1000 and not np.array_equal(m1, m2)
    qtbot.waitUntil(lambda: same_masks(stored_masks(project), {0: m2}))

    window.actions_["undo"].trigger()
    assert np.array_equal(doc.clip.mask(0), m1)
    qtbot.waitUntil(lambda: same_masks(stored_masks(project), {0: m1}))
    window.actions_["undo"].trigger()
    assert doc.clip.mask(0) is None and 0 not in doc.clip.keyframes and project.keyframes == []
    qtbot.waitUntil(lambda: stored_masks(project) == {})
    window.actions_["redo"].trigger()
    window.actions_["redo"].trigger()
    assert np.array_equal(doc.clip.mask(0), m2) and project.keyframes == [0]
    qtbot.waitUntil(lambda: same_masks(stored_masks(project), {0: m2}))

    paint_inside(qtbot, canvas, gt_mask(0), 12)  # a real object to propagate
    key = doc.clip.mask(0).copy()
    run(qtbot, window)
    run_a = {f: doc.clip.mask(f) for f in range(6)}
    qtbot.waitUntil(lambda: same_masks(stored_masks(project), run_a))
    soft_a = soft_files(project)
    assert len(soft_a) == 5  # one soft mask per propagated frame
    assert doc.view.current_frame == 5  # the view followed the run
    window.studio.apply_settings(window.studio.settings.replace(resolution=96))
    doc.view.set_frame(0)
    run(qtbot, window)  # a second run over the same frames replaces run A's masks
    run_b = {f: doc.clip.mask(f) for f in range(6)}
    assert any(not np.array_equal(run_a[f], run_b[f]) for f in range(1, 6))
    qtbot.waitUntil(lambda: same_masks(stored_masks(project), run_b))

    assert doc.undo_stack.undoText().startswith("Propagate")
    window.actions_["undo"].trigger()  # run B
    assert same_masks({f: doc.clip.mask(f) for f in range(6)}, run_a)
    qtbot.waitUntil(lambda: same_masks(stored_masks(project), run_a))
    qtbot.waitUntil(lambda: soft_files(project) == soft_a)  # soft masks come back too, byte for byte
    window.actions_["undo"].trigger()  # run A
    assert same_masks({f: doc.clip.mask(f) for f in range(6)}, {0: key} | dict.fromkeys(range(1, 6)))
    qtbot.waitUntil(lambda: same_masks(stored_masks(project), {0: key}))
    window.actions_["redo"].trigger()
    window.actions_["redo"].trigger()
    assert same_masks({f: doc.clip.mask(f) for f in range(6)}, run_b)
    qtbot.waitUntil(lambda: same_masks(stored_masks(project), run_b))


def test_save_close_reopen_restores_everything_and_export_writes_the_format(qtbot, window, make_clip, tmp_path):
    clip = make_clip(5)
    studio = window.studio
    assert studio.open_path(clip)
    doc = studio.document
    paint_inside(qtbot, window.canvas, gt_mask(0), 12)
    run(qtbot, window)
    window.objects_panel.add_button.click()
    ball = doc.view.active_object
    assert ball == 2
    doc.update_object(ball, name="ball", colour=(10, 200, 30))
    doc.view.set_frame(2)
    stroke(qtbot, window.canvas, [(700, 400), (760, 420)])
    doc.view.set_hidden(ball, True)
    doc.view.set_locked(1, True)
    expected = {
        "masks": {f: doc.clip.mask(f) for f in range(5)},
        "objects": doc.objects,
        "keyframes": doc.clip.keyframes,
        "provenance": doc.clip.provenance,
    }
    assert expected["keyframes"] == {0: frozenset({1}), 2: frozenset({1, 2})}
    assert doc.clip.stale == [3, 4] and all(expected["masks"][f] is not None for f in (3, 4))  # kept, stale
    folder = doc.project.folder
    assert studio.save() and studio.close_document()
    assert window.document is None and window.canvas.image_size() is None

    assert studio.open_path(clip)  # the clip again: its project is found beside it
    again = studio.document
    assert again.project.folder == folder
    assert same_masks({f: again.clip.mask(f) for f in range(5)}, expected["masks"])
    assert same_masks(stored_masks(again.project), {f: m for f, m in expected["masks"].items() if m is not None})
    assert again.objects == expected["objects"] and again.objects[1].name == "ball"
    assert again.clip.keyframes == expected["keyframes"]
    assert again.clip.provenance == expected["provenance"]
    assert again.clip.stale == [3, 4] and again.project.frames.to_json()["stale"] == [[3, 4]]
    assert (again.view.current_frame, again.view.hidden, again.view.locked, again.view.active_object) == (
        2,
        {2},
        {1},
        2,
    )
    assert window.timeline.slider.value() == 2
    assert window.frame_view.stale_overlay.isHidden()
    again.view.set_frame(3)
    assert window.frame_view.stale_overlay.isVisible()  # reopening shows the stale frames as stale
    stroke(qtbot, window.canvas, [(100, 100), (160, 120)])  # the overlay lets strokes through
    assert 3 in again.clip.keyframes and again.clip.stale == [4] and window.frame_view.stale_overlay.isHidden()
    window.actions_["undo"].trigger()
    assert again.clip.stale == [3, 4] and np.array_equal(again.clip.mask(3), expected["masks"][3])

    window.actions_["export"].trigger()  # opens once the engine has written every pending mask
    qtbot.waitUntil(lambda: getattr(window, "export", None) is not None and window.export.isVisible())
    dialog = window.export
    dialog.set_format("davis")
    out = tmp_path / "export-davis"
    dialog.set_destination(out)
    with qtbot.waitSignal(dialog.exported, timeout=60_000) as blocker:
        dialog.start()
    assert blocker.args[0] == out
    for f in range(5):  # stale frames are exported like any other; frames without a mask are skipped (the default)
        path, want = out / f"{f:05d}.png", expected["masks"][f]
        if want is None:
            assert not path.exists()
        else:
            assert np.array_equal(read_index_mask(path), want)


def _message_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def test_corrupt_video_shows_an_error_and_the_app_stays_usable(qtbot, window, make_clip, tmp_path):
    bad = tmp_path / "holiday.mp4"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(bad))])
    drop = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(drop)  # dropped on the window like a file from the desktop
    qtbot.waitUntil(lambda: len(_message_boxes()) == 1)
    box = _message_boxes()[0]
    assert "holiday.mp4" in box.text() and "not a readable video" in box.text()
    assert box.icon() == QMessageBox.Icon.Critical
    assert window.document is None
    assert not any(Path(tmp_path).glob("holiday.mp4.llbproj*"))  # nothing half-made left behind
    box.accept()
    qtbot.waitUntil(lambda: not _message_boxes())
    assert window.studio.open_path(make_clip(3))
    assert window.document is not None and window.canvas.image_size() == (854, 480)
    stroke(qtbot, window.canvas, [(100, 100), (200, 100)])
    assert window.document.clip.mask(0) is not None
