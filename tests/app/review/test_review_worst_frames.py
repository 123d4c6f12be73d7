"""The worst-frames dock and the document's flags: keyframes never flagged, worst first, click / Enter jumps,
N / Shift+N walk in frame order. Frames arrive as the engine would deliver them, without propagating."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.engine.worker import FrameUpdate
from app.model.flags import FrameStats, ObjectSignals
from llb_core.inference import Provenance
from tests.app.conftest import gt_mask

pytestmark = pytest.mark.gui


def signals(confidence: float) -> FrameStats:
    """Stats of a propagated frame whose one object has this boundary confidence (lower: worse)."""
    return FrameStats({1: 1000}, {1: ObjectSignals(1000, confidence, 0.0, 1000, 1000)})


def deliver(doc, frame: int, stats: FrameStats) -> None:
    mask = gt_mask(frame).astype(np.uint8)
    doc.engine.frame_done.emit(FrameUpdate(frame, mask, Provenance(0, 1), stats, None))


def test_worst_frames_lists_flags_worst_first_skips_keyframes_and_jumps(qtbot, window, make_clip):
    assert window.studio.open_path(make_clip(6))
    doc, dock = window.document, window.worst_frames
    doc.add_object()
    doc.commit_mask(0, gt_mask(0).astype(np.uint8), "Paint")
    doc.commit_mask(4, gt_mask(4).astype(np.uint8), "Paint")
    assert set(doc.clip.keyframes) == {0, 4}
    for frame, confidence in ((1, 0.9), (2, 0.2), (3, 0.0), (4, 0.0), (5, 0.1)):
        deliver(doc, frame, signals(confidence))  # 4 is a keyframe merged into the run: hopeless stats anyway
    assert list(doc.flags) == [2, 3, 5]  # 1 is fine; the keyframes are never flagged
    assert dock.frames() == [3, 5, 2]  # worst first
    top = dock.tree.topLevelItem(0)
    assert top.text(0) == "3" and top.text(1) == f"{doc.flags[3].score:.2f}" and "unsure boundary" in top.text(2)
    assert dock.summary.text() == "3 flagged"

    rect = dock.tree.visualItemRect(dock.tree.topLevelItem(1))
    qtbot.mouseClick(dock.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert doc.view.current_frame == 5
    dock.tree.setFocus()
    dock.tree.setCurrentItem(dock.tree.topLevelItem(2))
    qtbot.keyClick(dock.tree, Qt.Key.Key_Return)
    assert doc.view.current_frame == 2

    doc.view.set_frame(0)
    visited = []
    for _ in range(4):
        window.actions_["next_flag"].trigger()  # N: frame order, not score order
        visited.append(doc.view.current_frame)
    assert visited == [2, 3, 5, 5]
    window.actions_["prev_flag"].trigger()
    assert doc.view.current_frame == 3


def test_flags_persist_with_their_scores(qtbot, window, make_clip):
    assert window.studio.open_path(make_clip(4))
    doc = window.document
    doc.add_object()
    doc.commit_mask(0, gt_mask(0).astype(np.uint8), "Paint")
    deliver(doc, 2, signals(0.0))
    doc.save()
    stored = doc.project.settings["app.model.flags"]
    assert stored == {"2": {"score": round(doc.flags[2].score, 3), "reason": doc.flags[2].reason}}
