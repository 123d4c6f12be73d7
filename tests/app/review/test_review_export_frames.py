"""`ExportDialog` matte controls from the viewer, in/out range and frames without a mask (5-frame DAVIS project)."""

from __future__ import annotations

import numpy as np
import pytest

from app.dialogs.export_dialog import ExportDialog
from app.view.render import ViewMode, ViewState
from llb_core.io import read_index_mask

TIMEOUT_MS = 60_000  # generous: the machine may be busy


@pytest.fixture
def stopped_project(small_project):
    """`small_project` as after a run that stopped at frame 2: frames 3 and 4 have no mask."""
    for i in (3, 4):
        small_project.masks.delete(i)
    return small_project


def open_dialog(qtbot, project, view=None) -> ExportDialog:
    d = ExportDialog(None, project, view)
    qtbot.addWidget(d)
    d.show()
    return d


def export_with(qtbot, dialog, tmp_path, fmt="davis"):
    """Run the dialog's export; return (output path, the job's options)."""
    dialog.set_format(fmt)
    dialog.set_destination(tmp_path / f"out-{fmt}-{dialog.range_box.policy()}")
    with (
        qtbot.waitSignal(dialog.export_started, timeout=TIMEOUT_MS) as started,
        qtbot.waitSignal(dialog.exported, timeout=TIMEOUT_MS) as done,
    ):
        dialog.start()
    return done.args[0], started.args[0].options


def test_opens_with_the_viewers_grow_and_feather(qtbot, small_project):
    dialog = open_dialog(qtbot, small_project, ViewState(mode=ViewMode.MATTE, grow=-3, feather=7))
    assert (dialog.grow_spin.value(), dialog.feather_spin.value()) == (-3, 7)
    assert (dialog.options().grow, dialog.options().feather) == (-3, 7)
    plain = open_dialog(qtbot, small_project)
    assert (plain.grow_spin.value(), plain.feather_spin.value()) == (0, 0)


def test_export_action_passes_the_view_state(qtbot, window, make_clip):
    assert window.studio.open_path(make_clip(3))
    window.document.view.set_view_state(ViewState(mode=ViewMode.CUTOUT, grow=4, feather=2))
    window.actions_["export"].trigger()  # opens once the engine has written every pending mask
    qtbot.waitUntil(lambda: getattr(window, "export", None) is not None and window.export.isVisible())
    assert (window.export.grow_spin.value(), window.export.feather_spin.value()) == (4, 2)
    window.export.close()


def test_default_range_is_the_masked_frames_and_missing_count_shown(qtbot, stopped_project):
    dialog = open_dialog(qtbot, stopped_project)
    box = dialog.range_box
    assert box.frames() == (0, 2) and dialog.options().frames == (0, 2)
    assert "masks on frames 0–2" in box.masked_label.text()
    assert box.missing_frames() == () and not box.policy_combo.isEnabled()
    box.set_range(0, 4)
    assert box.missing_frames() == (3, 4)
    assert box.missing_label.text() == "2 frames of 5 have no mask:"
    assert box.policy_combo.isEnabled() and box.policy() == "skip"  # image sequences: skip by default
    assert box.video_note.isHidden()
    box.last_spin.setValue(3)
    assert box.missing_label.text() == "1 frame of 4 has no mask:"


def test_video_formats_default_to_empty_and_say_skipping_changes_timing(qtbot, stopped_project):
    dialog = open_dialog(qtbot, stopped_project)
    dialog.range_box.set_range(0, 4)
    dialog.set_format("matte")
    assert dialog.range_box.policy() == "empty"
    assert dialog.range_box.video_note.isVisibleTo(dialog) and "shorter" in dialog.range_box.video_note.text()
    dialog.set_format("cutout")
    assert dialog.range_box.policy() == "skip" and dialog.range_box.video_note.isHidden()
    dialog.range_box.set_policy("hold")  # a choice of the person's survives format changes
    dialog.set_format("prores")
    assert dialog.range_box.policy() == "hold"


@pytest.mark.parametrize(("policy", "count"), [("skip", 3), ("empty", 5), ("hold", 5)])
def test_policy_reaches_the_export(qtbot, stopped_project, tmp_path, policy, count):
    dialog = open_dialog(qtbot, stopped_project)
    dialog.range_box.set_range(0, 4)
    dialog.range_box.set_policy(policy)
    out, options = export_with(qtbot, dialog, tmp_path)
    assert (options.frames, options.missing) == ((0, 4), policy)
    assert sorted(p.stem for p in out.glob("*.png")) == [f"{i:05d}" for i in range(count)]
    assert (dialog.progress.value(), dialog.progress.maximum()) == (count, count)
    if policy != "skip":
        held = read_index_mask(out / "00004.png")
        want = stopped_project.index_mask(2) if policy == "hold" else np.zeros_like(held)
        np.testing.assert_array_equal(held, want)


def test_skipping_a_range_without_masks_is_refused_before_starting(qtbot, stopped_project, tmp_path):
    dialog = open_dialog(qtbot, stopped_project)
    dialog.range_box.set_range(3, 4)
    dialog.set_destination(tmp_path / "out")
    with qtbot.waitSignal(dialog.failed) as blocker:
        dialog.start()
    assert "no frame in 3:4 has a mask" in blocker.args[0]
    assert dialog.job is None and not (tmp_path / "out").exists()
