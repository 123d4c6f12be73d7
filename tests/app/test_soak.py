"""Soak: thousands of frame changes, panel refreshes and timeline updates leave the reference count of None and
the process memory flat (PySide6 6.12.0 dropped a reference to None on every setter call and the interpreter
aborted after about a thousand frame changes)."""

from __future__ import annotations

import gc
import sys

import numpy as np
from PySide6.QtWidgets import QApplication

from app.view.render import ViewMode
from app.widgets.device_status import process_memory
from app.window.qt_check import bindings_problem

FRAMES = 12
ROUNDS = 250  # each round: 12 frame changes (the first 12 changes warm every cache)


def test_qt_bindings_keep_reference_counts(qapp):
    assert bindings_problem() is None


def test_thousands_of_frame_changes_leave_none_and_memory_flat(window, studio, make_clip, qtbot):
    assert studio.open_path(make_clip(FRAMES))
    doc = studio.document
    second = doc.add_object("second")
    mask = np.zeros((480, 854), np.uint8)
    mask[100:300, 200:400], mask[300:400, 500:700] = 1, second
    assert doc.commit_mask(0, mask, "paint")
    assert doc.commit_mask(FRAMES // 2, mask, "paint")
    modes = list(ViewMode)

    def churn(rounds: int) -> None:
        for r in range(rounds):
            for f in range(FRAMES):
                window.timeline.go_to(f if r % 2 == 0 else FRAMES - 1 - f)
            doc.view.set_active_object(1 if r % 2 else second)
            doc.view.set_hidden(second, r % 3 == 0)
            doc.view.set_view_state(doc.view.view_state.__class__(mode=modes[r % len(modes)]))
            window.objects_panel._refresh()
            window.timeline._refresh()
            window.device_status.refresh()
            QApplication.processEvents()

    churn(5)  # warm-up: caches, icons, lazily built widgets
    gc.collect()
    none_before, rss_before = sys.getrefcount(None), process_memory()
    churn(ROUNDS)
    gc.collect()
    none_drift = sys.getrefcount(None) - none_before
    rss_growth = process_memory() - rss_before
    changes = ROUNDS * FRAMES
    assert abs(none_drift) < 200, f"None's reference count moved by {none_drift} over {changes} frame changes"
    assert rss_growth < 40 * 2**20, f"memory grew by {rss_growth / 2**20:.1f} MiB over {changes} frame changes"
    assert doc.view.current_frame in (0, FRAMES - 1)
