"""`TimelineStrip`: a painted bar of the clip's frames: propagated ranges, stale ranges (hatched: a correction
invalidated them, a run will replace them), keyframes, flagged frames, the current frame. Click or drag to ask
for a frame."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

PROPAGATED = QColor(64, 160, 170)
STALE = QColor(150, 120, 60)  # under a dark hatch: stands apart from fresh propagated frames in any theme
STALE_HATCH = QColor(30, 30, 30, 170)
KEYFRAME = QColor(255, 196, 61)
FLAG = QColor(235, 80, 70)
TRACK = QColor(58, 61, 66)
CURRENT = QColor(250, 250, 250)
MARGIN = 8  # default pixels left and right, so the first and last frames' markers are not clipped


def runs(frames: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted frames -> inclusive (first, last) ranges of consecutive frames."""
    out: list[tuple[int, int]] = []
    for f in sorted(frames):
        if out and out[-1][1] == f - 1:
            out[-1] = (out[-1][0], f)
        else:
            out.append((f, f))
    return out


class TimelineStrip(QWidget):
    """See the module docstring."""

    frame_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(30)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.num_frames = 0
        self.current = 0
        self._propagated: list[tuple[int, int]] = []
        self._stale: set[int] = set()
        self._stale_runs: list[tuple[int, int]] = []
        self._keyframes: list[int] = []
        self._flags: dict[int, str] = {}
        self._ends: tuple[float, float] | None = None  # x of the first and last frames' centres

    def set_data(
        self,
        num_frames: int,
        propagated: Iterable[int],
        keyframes: Iterable[int],
        flags: dict[int, str],
        stale: Iterable[int] = (),
    ) -> None:
        """What to draw; `stale` frames are drawn hatched instead of as propagated."""
        self.num_frames = num_frames
        self._stale = set(stale)
        self._stale_runs = runs(self._stale)
        self._propagated = runs(set(propagated) - self._stale)
        self._keyframes = sorted(keyframes)
        self._flags = dict(flags)
        self.update()

    def set_current(self, frame: int) -> None:
        self.current = frame
        self.update()

    def set_ends(self, first: float, last: float) -> None:
        """Place the first and last frames' centres at these x positions (to line up with a slider)."""
        self._ends = (first, last)
        self.update()

    # -- geometry --------------------------------------------------------------------------------
    def _span(self) -> tuple[float, float]:
        """x of frame 0's centre and the distance between frame centres."""
        first, last = self._ends or (MARGIN, self.width() - MARGIN)
        return first, (last - first) / max(1, self.num_frames - 1)

    def _x(self, frame: float) -> float:
        """x of frame `frame`'s centre (fractional frames lie between centres)."""
        first, step = self._span()
        return first + step * frame

    def frame_at(self, x: float) -> int:
        first, step = self._span()
        f = round((x - first) / step) if step > 0 else 0
        return max(0, min(self.num_frames - 1, f))

    # -- events ----------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self.num_frames and event.button() == Qt.MouseButton.LeftButton:
            self.frame_requested.emit(self.frame_at(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if not self.num_frames:
            return
        frame = self.frame_at(event.position().x())
        tip = f"frame {frame}"
        if frame in self._keyframes:
            tip += " · keyframe"
        if frame in self._stale:
            tip += " · stale: re-run to update"
        if frame in self._flags:
            tip += f" · flagged: {self._flags[frame]}"
        self.setToolTip(tip)
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.frame_requested.emit(frame)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        h = self.height()
        first, step = self._span()
        track = QRectF(first - step / 2 - 2, h * 0.3, self._x(self.num_frames - 1) - first + step + 4, h * 0.4)
        p.fillRect(track, TRACK)
        if not self.num_frames:
            return
        for first, last in self._propagated:
            p.fillRect(
                QRectF(self._x(first), track.top(), max(1.0, self._x(last + 1) - self._x(first)), track.height()),
                PROPAGATED,
            )
        hatch = QBrush(STALE_HATCH, Qt.BrushStyle.BDiagPattern)
        for first, last in self._stale_runs:
            rect = QRectF(self._x(first), track.top(), max(1.0, self._x(last + 1) - self._x(first)), track.height())
            p.fillRect(rect, STALE)
            p.fillRect(rect, hatch)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(FLAG)
        for f in self._flags:
            x = self._x(f)
            p.drawPolygon(QPolygonF([QPointF(x, h - 1), QPointF(x - 4, h - 8), QPointF(x + 4, h - 8)]))
        p.setBrush(KEYFRAME)
        p.setPen(QPen(QColor(0, 0, 0, 160), 1))
        for f in self._keyframes:
            x = self._x(f)
            y = track.center().y()
            p.drawPolygon(QPolygonF([QPointF(x, y - 7), QPointF(x + 5, y), QPointF(x, y + 7), QPointF(x - 5, y)]))
        x = self._x(self.current)
        p.setPen(QPen(CURRENT, 2))
        p.drawLine(QPointF(x, 1), QPointF(x, h - 10))
