"""`StaleOverlay`: drawn over the canvas while the frame shown is stale (a correction invalidated its propagated
mask, which stays shown until a run replaces it): an amber border and a "stale — re-run to update" badge.

A child widget of the canvas that follows its size and lets every mouse event through, so the canvas itself
needs no change.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

TEXT = "Stale — re-run to update"
BORDER = QColor(235, 170, 40, 200)
BADGE = QColor(235, 170, 40, 230)
BADGE_TEXT = QColor(30, 30, 30)


class StaleOverlay(QWidget):
    """See the module docstring. Hidden until `set_stale(True)`."""

    def __init__(self, canvas: QWidget) -> None:
        super().__init__(canvas)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        font = QFont(self.font())
        font.setBold(True)
        self.setFont(font)
        canvas.installEventFilter(self)
        self.setGeometry(canvas.rect())
        self.hide()

    def set_stale(self, stale: bool) -> None:
        self.setVisible(stale)
        if stale:
            self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.parent() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def badge_rect(self) -> QRectF:
        """Where the badge is drawn (widget coordinates)."""
        metrics = self.fontMetrics()
        w, h = metrics.horizontalAdvance(TEXT) + 24, metrics.height() + 10
        return QRectF((self.width() - w) / 2, 10, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(BORDER, 4))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(QRectF(self.rect()).adjusted(2, 2, -2, -2))
        rect = self.badge_rect()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(BADGE)
        p.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        p.setPen(BADGE_TEXT)
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, TEXT)
