"""`FrameRangeBox`: the export's in/out frames, how many of them have no mask, and what to do with those.

Qt side only: the counting and the policies are `llb_core.io.export.plan_frames` and `MISSING_POLICIES`.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from app.dialogs._widgets import muted_label, select_data
from llb_core.io.export import MISSING_POLICIES, MaskSequence, plan_frames

POLICY_LABELS = {  # MISSING_POLICIES -> what the person picks
    "skip": "Skip them",
    "empty": "Write empty frames (transparent / black)",
    "hold": "Hold the last mask",
}
VIDEO_NOTE = (
    "In a video, skipped frames are left out: the video gets shorter than the range and no longer keeps the "
    "source's timing. Write empty frames or hold the last mask to keep it in step."
)


class FrameRangeBox(QWidget):
    """In/out spin boxes (default: first to last masked frame), the missing-frame count and the policy.

    Signals:
        changed(): the range or the policy changed.
    """

    changed = Signal()

    def __init__(self, seq: MaskSequence, masked: Sequence[int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seq = seq
        self.masked = sorted(masked)
        self._video = False
        self._custom_policy = False  # False while the policy is the default of the current format
        last = max(seq.num_frames - 1, 0)

        self.first_spin = _frame_spin(last, "First frame to export", self)
        self.last_spin = _frame_spin(last, "Last frame to export (included)", self)
        self.first_spin.valueChanged.connect(self._on_range_changed)
        self.last_spin.valueChanged.connect(self._on_range_changed)
        self.masked_label = muted_label(self)
        if self.masked:
            self.masked_label.setText(f"masks on frames {self.masked[0]}–{self.masked[-1]}")
        else:
            self.masked_label.setText("no frame has a mask yet")
        span = QHBoxLayout()
        span.setContentsMargins(0, 0, 0, 0)
        span.addWidget(self.first_spin)
        span.addWidget(QLabel("to", self))
        span.addWidget(self.last_spin)
        span.addWidget(self.masked_label, 1)

        self.missing_label = QLabel(self)
        self.policy_combo = QComboBox(self)
        for policy in MISSING_POLICIES:
            self.policy_combo.addItem(POLICY_LABELS.get(policy, policy), policy)
        self.policy_combo.setToolTip("What to write for the frames of the range that have no mask")
        self.policy_combo.activated.connect(self._on_policy_chosen)
        self.policy_combo.currentIndexChanged.connect(self._refresh)
        self.video_note = muted_label(self)
        self.video_note.setText(VIDEO_NOTE)
        missing = QHBoxLayout()
        missing.setContentsMargins(0, 0, 0, 0)
        missing.addWidget(self.missing_label)
        missing.addWidget(self.policy_combo, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(span)
        layout.addLayout(missing)
        layout.addWidget(self.video_note)

        first, last = (self.masked[0], self.masked[-1]) if self.masked else (0, last)
        self.set_range(first, last)
        self._set_default_policy()

    # -- state -----------------------------------------------------------------------------------
    def frames(self) -> tuple[int, int]:
        """The inclusive (first, last) frame range."""
        return self.first_spin.value(), self.last_spin.value()

    def set_range(self, first: int, last: int) -> None:
        """Export frames `first`..`last` (inclusive; clamped to the clip)."""
        top = max(self.seq.num_frames - 1, 0)
        last = min(max(last, 0), top)
        first = min(max(first, 0), last)
        for spin, value in ((self.first_spin, first), (self.last_spin, last)):
            spin.blockSignals(True)
            spin.setRange(0, top)
            spin.setValue(value)
            spin.blockSignals(False)
        self._on_range_changed()

    def policy(self) -> str:
        """What to do with frames without a mask: one of `MISSING_POLICIES`."""
        return self.policy_combo.currentData()

    def set_policy(self, policy: str) -> None:
        """Choose the missing-frame policy, as if the person had."""
        select_data(self.policy_combo, policy, "missing-frame policy", MISSING_POLICIES)
        self._custom_policy = True

    def missing_frames(self) -> tuple[int, ...]:
        """Frames of the range that have no mask."""
        return plan_frames(self.seq, self.frames(), "empty", self.masked).missing

    def set_video(self, video: bool) -> None:
        """Tell the box whether the format is a video: skipping then changes timing, so empty is the default."""
        self._video = video
        if not self._custom_policy:
            self._set_default_policy()
        self._refresh()

    # -- slots -----------------------------------------------------------------------------------
    def _on_range_changed(self, *_: object) -> None:
        self.first_spin.setMaximum(self.last_spin.value())  # first <= last, whichever moved
        self.last_spin.setMinimum(self.first_spin.value())
        self._refresh()

    def _on_policy_chosen(self, _index: int) -> None:
        self._custom_policy = True

    def _set_default_policy(self) -> None:
        index = self.policy_combo.findData("empty" if self._video else "skip")
        self.policy_combo.setCurrentIndex(index)

    def _refresh(self, *_: object) -> None:
        count = len(self.missing_frames())
        first, last = self.frames()
        total = last - first + 1
        if count:
            what = "1 frame" if count == 1 else f"{count} frames"
            self.missing_label.setText(f"{what} of {total} {'has' if count == 1 else 'have'} no mask:")
        else:
            self.missing_label.setText(f"All {total} frames have a mask.")
        self.policy_combo.setEnabled(count > 0)
        self.video_note.setVisible(self._video and count > 0)
        self.changed.emit()


def _frame_spin(last: int, tip: str, parent: QWidget) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(0, last)
    spin.setToolTip(tip)
    spin.setMinimumWidth(80)
    return spin
