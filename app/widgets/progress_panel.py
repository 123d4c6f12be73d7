"""`ProgressPanel`: a propagation run's progress (frames done, fps, ETA) and its Cancel button."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from app.engine.worker import RunSummary
from app.view import icons


def format_eta(seconds: float) -> str:
    """12 s, 3 min 05 s, 1 h 02 min."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class ProgressPanel(QWidget):
    """Hidden while idle; connect `Engine` signals to the `on_*` slots."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMinimumWidth(220)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton(icons.icon("fa5s.stop"), "Cancel")
        self.cancel_button.setToolTip("Stop after the frame in progress; finished frames are kept (Esc)")
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.setVisible(False)

    def on_busy(self, busy: bool) -> None:
        if busy:
            self.bar.setRange(0, 0)  # busy indicator until the frame count is known
            self.label.setText("Starting…")
            self.cancel_button.setEnabled(True)
        self.setVisible(busy)

    def on_status(self, text: str) -> None:
        self.label.setText(text)

    def on_started(self, total: int) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(0)
        self.bar.setFormat(f"0 / {total}")
        self.label.setText("Propagating…" if total else "Nothing to propagate")

    def on_progress(self, done: int, total: int, fps: float) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        self.bar.setFormat(f"{done} / {total} frames")
        eta = format_eta((total - done) / fps) if fps > 0 else "…"
        self.label.setText(f"Propagating · {fps:.1f} fps · ETA {eta}")

    def on_finished(self, summary: RunSummary) -> None:
        self.setVisible(False)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.label.setText("Cancelling after this frame…")
        self.cancel_requested.emit()
