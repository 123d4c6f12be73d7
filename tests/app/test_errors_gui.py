"""Failures are clear dialogs and lose nothing: missing weights, a full disk, a moved clip, a damaged manifest."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from app.window.controller import Studio
from app.window.main_window import MainWindow
from llb_core.io import WriteError
from llb_core.model import CheckpointError
from llb_core.workspace import MANIFEST_NAME, SourceContentError, SourceMismatchError
from tests.app.conftest import FAST
from tests.app.helpers import stored_masks, stroke

pytestmark = pytest.mark.gui


def dialogs() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def close_dialogs(qtbot) -> None:
    for box in dialogs():
        box.accept()
    qtbot.waitUntil(lambda: not dialogs())


def test_missing_weights_is_a_dialog_and_the_strokes_stay(qtbot, make_clip, tmp_path):
    def no_weights():
        raise CheckpointError("/opt/llb/weights/default.pt: default weights not found; reinstall LLB Studio")

    studio = Studio(QSettings(), model_loader=no_weights, base_settings=FAST, data_dir=tmp_path / "data")
    window = MainWindow(studio)
    qtbot.addWidget(window)
    window.show()
    assert studio.open_path(make_clip(3))
    stroke(qtbot, window.canvas, [(300, 200), (400, 200)])
    painted = studio.document.clip.mask(0).copy()
    window.actions_["forward"].trigger()
    qtbot.waitUntil(lambda: len(dialogs()) == 1, timeout=30_000)
    assert "default.pt" in dialogs()[0].text() and "reinstall" in dialogs()[0].text()
    assert not studio.busy and window.actions_["forward"].isEnabled()
    close_dialogs(qtbot)
    qtbot.waitUntil(lambda: 0 in stored_masks(studio.document.project))
    assert np.array_equal(stored_masks(studio.document.project)[0], painted)
    studio.shutdown()


def test_full_disk_keeps_the_edit_and_writes_it_on_save(qtbot, window, make_clip, monkeypatch):
    assert window.studio.open_path(make_clip(3))
    doc = window.document
    real_write = __import__("llb_core.workspace._mask_store", fromlist=["write_index_mask"]).write_index_mask

    def full(path, mask):
        raise WriteError(f"{path}: could not write (No space left on device)")

    monkeypatch.setattr("llb_core.workspace._mask_store.write_index_mask", full)
    stroke(qtbot, window.canvas, [(300, 200), (400, 200)])
    qtbot.waitUntil(lambda: len(dialogs()) == 1)
    text = dialogs()[0].text()
    assert "No space left on device" in text and "Free disk space" in text and "Ctrl+S" in text
    assert doc.clip.mask(0) is not None and stored_masks(doc.project) == {}
    close_dialogs(qtbot)
    monkeypatch.setattr("llb_core.workspace._mask_store.write_index_mask", real_write)
    window.actions_["save"].trigger()  # the failed write is retried
    qtbot.waitUntil(lambda: 0 in stored_masks(doc.project))
    assert np.array_equal(stored_masks(doc.project)[0], doc.clip.mask(0))


def test_moved_clip_is_located_and_relinked(qtbot, window, make_clip, tmp_path):
    studio = window.studio
    clip = make_clip(3)
    assert studio.open_path(clip)
    stroke(qtbot, window.canvas, [(300, 200), (400, 200)])
    folder = studio.document.project.folder
    assert studio.close_document()
    moved = tmp_path / "elsewhere" / "clip"
    moved.parent.mkdir()
    shutil.move(str(clip), moved)
    asked: list[str] = []
    studio.ask = lambda title, question: False
    studio.locate = lambda reason: asked.append(reason) or None
    assert not studio.open_path(folder)  # not located: a clear error, nothing opened
    assert "missing" in asked[0] and len(dialogs()) == 1 and "missing" in dialogs()[0].text()
    close_dialogs(qtbot)
    studio.locate = lambda reason: str(moved)
    assert studio.open_path(folder)
    assert studio.document.project.source_path == moved.resolve()
    assert studio.document.clip.mask(0) is not None and window.canvas.image_size() == (854, 480)


class _RelinkStub:
    """Stands in for a Project whose `relink` raises `error` unless forced; records each call's `force`."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.forced: list[bool] = []

    def relink(self, path: str, force: bool = False) -> None:
        self.forced.append(force)
        if not force:
            raise self.error


@pytest.mark.parametrize(
    ("error", "offered"),
    [
        (SourceContentError("clip: content differs from the project's original clip."), True),
        (SourceMismatchError("clip: has 4 frames but the project expects 6 frames."), False),
    ],
)
def test_relink_offers_force_only_for_different_content(qtbot, tmp_path, error, offered):
    studio = Studio(QSettings(), model_loader=lambda: None, base_settings=FAST, data_dir=tmp_path / "data")
    questions: list[str] = []
    studio.locate = lambda reason: str(tmp_path / "clip")
    studio.ask = lambda title, question: questions.append(question) or True
    project = _RelinkStub(error)
    try:
        if offered:
            studio._relink(project, "where is the clip?")
            assert project.forced == [False, True] and len(questions) == 1
        else:
            with pytest.raises(SourceMismatchError, match="4 frames"):
                studio._relink(project, "where is the clip?")
            assert project.forced == [False] and questions == []
    finally:
        studio.shutdown()


def test_damaged_manifest_is_restored_from_its_backup_when_asked(qtbot, window, make_clip):
    studio = window.studio
    assert studio.open_path(make_clip(2))
    stroke(qtbot, window.canvas, [(300, 200), (400, 200)])
    folder = studio.document.project.folder
    assert studio.save() and studio.close_document()
    (folder / MANIFEST_NAME).write_text("{ damaged", encoding="utf-8")
    questions: list[str] = []
    studio.ask = lambda title, question: questions.append(question) or True
    assert studio.open_path(folder)
    assert "not valid JSON" in questions[0] and "backup" in questions[0]
    doc = studio.document
    assert doc is not None and [o.id for o in doc.objects] == [1]  # declared again from the mask files
    assert doc.clip.mask(0) is not None and (doc.clip.mask(0) == 1).any()  # the stroke survived
    qtbot.waitUntil(lambda: len(dialogs()) == 1)
    assert dialogs()[0].windowTitle() == "Unsaved work recovered" and "[1]" in dialogs()[0].text()
