"""`ExportDialog` exporting a real 5-frame DAVIS project through its worker thread: output, cancel, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from app.dialogs._export_job import FORMAT_INFO, fit_destination
from app.dialogs.export_dialog import ExportDialog
from llb_core.io import read_index_mask
from llb_core.io.export import FORMATS, ExportOptions, hard_index

TIMEOUT_MS = 60_000  # generous: the machine may be busy


@pytest.fixture
def dialog(qtbot, small_project):
    d = ExportDialog(None, small_project)
    qtbot.addWidget(d)
    d.show()
    yield d
    if d.job is not None:  # never leave a thread running past the test
        d.job.cancel()
        d.job.wait()


def run_export(qtbot, dialog) -> Path:
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT_MS) as blocker:
        dialog.start()
    return blocker.args[0]


def leftovers(folder: Path) -> list[str]:
    """Names of staging / temporary files an export may leave beside its output."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_every_format_has_a_destination_rule():
    assert set(FORMAT_INFO) == set(FORMATS)


def test_davis_export_matches_project_masks(qtbot, dialog, small_project, tmp_path):
    dialog.set_format("davis")
    out = tmp_path / "exports" / "davis"
    dialog.set_destination(out)
    assert run_export(qtbot, dialog) == out
    assert sorted(p.name for p in out.glob("*.png")) == [f"{i:05d}.png" for i in range(5)]
    for i in range(5):
        assert np.array_equal(read_index_mask(out / f"{i:05d}.png"), small_project.index_mask(i))
    assert (dialog.progress.value(), dialog.progress.maximum()) == (5, 5)
    assert str(out) in dialog.status_label.text()
    assert dialog.export_button.isEnabled() and not dialog.running


def test_coco_export_of_one_object_with_grow(qtbot, dialog, small_project, tmp_path):
    dialog.set_format("coco")
    dialog.objects_list.item(1).setCheckState(Qt.CheckState.Unchecked)  # object 2, "back"
    dialog.grow_spin.setValue(3)
    assert dialog.options() == ExportOptions(objects=(1,), grow=3, image_ext=".jpg", frames=(0, 4), missing="skip")
    out = tmp_path / "anns.json"
    dialog.set_destination(out)
    assert run_export(qtbot, dialog) == out
    doc = json.loads(out.read_text())
    assert [c["name"] for c in doc["categories"]] == ["front"]
    assert [im["file_name"] for im in doc["images"]] == [f"{i:05d}.jpg" for i in range(5)]
    assert len(doc["annotations"]) == 5
    for ann in doc["annotations"]:
        rle = dict(ann["segmentation"], counts=ann["segmentation"]["counts"].encode())
        decoded = mask_utils.decode(rle).astype(bool)
        original = small_project.index_mask(ann["image_id"] - 1) == 1
        grown = hard_index(small_project, ann["image_id"] - 1, small_project.objects[:1], dialog.options()) == 1
        assert ann["category_id"] == 1
        assert np.array_equal(decoded, grown)
        assert decoded.sum() > original.sum() and np.all(decoded[original])  # grown by 3 px


def test_file_destination_gets_the_format_extension(qtbot, dialog, tmp_path):
    dialog.set_format("coco")
    dialog.set_destination(tmp_path / "anns")
    assert run_export(qtbot, dialog) == tmp_path / "anns.json"
    assert dialog.destination() == tmp_path / "anns.json"


def test_format_change_adapts_destination(dialog, tmp_path, small_project):
    dialog.set_format("overlay")
    assert dialog.destination().suffix == ".mp4"
    assert dialog.destination().parent == small_project.folder.resolve() / "exports"
    dialog.set_destination(tmp_path / "clip.json")
    dialog.set_format("matte")
    assert dialog.destination() == tmp_path / "clip.mov"
    dialog.set_format("davis")
    assert dialog.destination() == tmp_path / "clip"
    assert fit_destination(tmp_path / "notes.txt", "coco") == tmp_path / "notes.txt.json"


def test_format_specific_rows(dialog):
    visible = {}
    for fmt in ("davis", "alpha", "overlay", "ytvos", "coco"):
        dialog.set_format(fmt)
        visible[fmt] = [
            dialog.form.isRowVisible(w)
            for w in (dialog.bit_depth_combo, dialog.opacity_spin, dialog.video_name_edit, dialog.image_ext_combo)
        ]
    assert visible == {
        "davis": [False, False, False, False],
        "alpha": [True, False, False, False],
        "overlay": [False, True, False, False],
        "ytvos": [False, False, True, False],
        "coco": [False, False, False, True],
    }
    assert dialog.format_help.text() == FORMATS["coco"][1]


@pytest.mark.parametrize(("fmt", "name"), [("davis", "out"), ("coco", "out.json")])
@pytest.mark.parametrize("when", ["before", "after first frame"])
def test_cancel_leaves_nothing_and_dialog_usable(qtbot, dialog, tmp_path, fmt, name, when):
    out_dir = tmp_path / "dest"
    out_dir.mkdir()
    dialog.set_format(fmt)
    dialog.set_destination(out_dir / name)

    def cancel_it(job):
        if when == "before":
            job.cancel()
        else:  # runs in the worker thread as frame 1 is reported, so frame 2 is never written
            job.progressed.connect(lambda *_: job.cancel(), Qt.ConnectionType.DirectConnection)

    dialog.export_started.connect(cancel_it)
    with qtbot.waitSignal(dialog.cancelled, timeout=TIMEOUT_MS), qtbot.assertNotEmitted(dialog.exported):
        dialog.start()
    assert list(out_dir.iterdir()) == []
    assert "cancelled" in dialog.status_label.text()
    assert dialog.export_button.isEnabled() and dialog.format_combo.isEnabled()
    assert dialog.close_button.text() == "Close"

    dialog.export_started.disconnect(cancel_it)
    assert run_export(qtbot, dialog) == out_dir / name
    assert leftovers(out_dir) == []


def test_close_while_running_cancels_instead(qtbot, dialog, tmp_path):
    dialog.set_destination(tmp_path / "out")
    dialog.export_started.connect(
        lambda job: job.progressed.connect(lambda *_: dialog.reject(), Qt.ConnectionType.BlockingQueuedConnection)
    )
    with qtbot.waitSignal(dialog.cancelled, timeout=TIMEOUT_MS):
        dialog.start()
    assert dialog.isVisible()
    assert not (tmp_path / "out").exists()


def test_unwritable_destination_reports_path_and_remedy(qtbot, dialog, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = blocker / "export"
    dialog.set_destination(out)
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT_MS) as sig:
        dialog.start()
    message = sig.args[0]
    assert str(out) in message and "choose another destination" in message
    assert f"{blocker} is a file, where a folder is needed" in message
    assert dialog.message_box is not None and dialog.message_box.isVisible()
    assert dialog.message_box.informativeText() == message
    dialog.message_box.close()
    assert dialog.export_button.isEnabled()


def test_non_empty_folder_is_refused_with_llb_message(qtbot, dialog, tmp_path):
    mine = tmp_path / "holiday-photos"
    mine.mkdir()
    (mine / "beach.jpg").write_bytes(b"precious")
    dialog.set_destination(mine)
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT_MS) as sig:
        dialog.start()
    assert str(mine) in sig.args[0] and "choose a new or empty folder" in sig.args[0]
    assert (mine / "beach.jpg").read_bytes() == b"precious"
    dialog.message_box.close()


def test_nothing_to_export_is_refused_before_starting(qtbot, dialog):
    for i in range(dialog.objects_list.count()):
        dialog.objects_list.item(i).setCheckState(Qt.CheckState.Unchecked)
    with qtbot.waitSignal(dialog.failed, timeout=1000) as sig, qtbot.assertNotEmitted(dialog.export_started):
        dialog.start()
    assert "at least one object" in sig.args[0]
    dialog.destination_edit.clear()
    with qtbot.waitSignal(dialog.failed, timeout=1000) as sig:
        dialog.start()
    assert "destination" in sig.args[0]


def test_browse_never_targets_a_folder_of_other_files(dialog, tmp_path, monkeypatch):
    """The chooser itself is replaced: what is tested is what the dialog does with its answer."""
    empty, busy = tmp_path / "empty", tmp_path / "busy"
    empty.mkdir()
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    answers = iter([str(empty), str(busy), ""])
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: next(answers))
    dialog.set_format("binary")
    dialog.browse()
    assert dialog.destination() == empty
    dialog.browse()
    assert dialog.destination() == busy / f"{dialog.project.folder.name}-binary"
    dialog.browse()  # chooser cancelled: destination unchanged
    assert dialog.destination() == busy / f"{dialog.project.folder.name}-binary"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "preview"), ""))
    dialog.set_format("overlay")
    dialog.browse()
    assert dialog.destination() == tmp_path / "preview.mp4"
