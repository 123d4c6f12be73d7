"""`Canvas`: shows one RGB image with zoom and pan, the brush outline and the box being dragged.

It knows nothing of documents or tools: it reports pointer activity in image pixel coordinates (float; pixel
i spans [i, i + 1)) through signals, and the tool box decides what it means.

Zoom: the wheel (about the pointer), `fit`, `actual_size`, `zoom_by`. Pan: middle-button drag, or Alt +
left drag. Ctrl / Shift + wheel does not zoom: it emits `brush_wheel` (the brush size).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

MIN_SCALE = 0.05
MAX_SCALE = 32.0
BACKGROUND = QColor(38, 40, 44)
EMPTY_TEXT = "Open a video, a folder of frames or a project\n(File ▸ Open, or drop it here)"


class Canvas(QWidget):
    """See the module docstring."""

    pointer_pressed = Signal(QPointF, object)  # image position, Qt.MouseButton
    pointer_moved = Signal(QPointF)  # while a button is held
    pointer_released = Signal(QPointF)
    brush_wheel = Signal(int)  # +1 / -1 per wheel notch with Ctrl or Shift held
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 200)
        self._image: QImage | None = None
        self._pixels: np.ndarray | None = None  # keeps the QImage's buffer alive
        self._wrap_width = 0  # image x wraps at this width (side-by-side views show the frame twice)
        self._scale = 1.0
        self._offset = QPointF(0, 0)  # widget position of image pixel (0, 0)
        self._fit_mode = True
        self._pan_from: QPointF | None = None
        self._pressed = False
        self._hover: QPointF | None = None
        self._brush_radius = 0.0  # image pixels; 0 hides the outline
        self._box: QRectF | None = None
        self.empty_text = EMPTY_TEXT

    # -- content ---------------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray | None, wrap_width: int = 0) -> None:
        """Show (H, W, 3) uint8 RGB (None: nothing). `wrap_width`: source width when `rgb` shows the frame
        more than once side by side (pointer x is reported modulo it)."""
        if rgb is None:
            self._image, self._pixels = None, None
            self.update()
            return
        first = self._image is None or (self._image.width(), self._image.height()) != (rgb.shape[1], rgb.shape[0])
        self._pixels = np.ascontiguousarray(rgb, dtype=np.uint8)
        h, w = self._pixels.shape[:2]
        self._image = QImage(self._pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        self._wrap_width = wrap_width or w
        if first and self._fit_mode:
            self.fit()
        self.update()

    def image_size(self) -> tuple[int, int] | None:
        """(width, height) of the image shown, or None."""
        return None if self._image is None else (self._image.width(), self._image.height())

    def set_brush_radius(self, radius: float) -> None:
        """Brush outline radius in image pixels (0 hides it)."""
        self._brush_radius = max(0.0, radius)
        self.setCursor(Qt.CursorShape.BlankCursor if radius > 0 else Qt.CursorShape.CrossCursor)
        self.update()

    def set_box(self, box: QRectF | None) -> None:
        """The rectangle being dragged, in image pixels (None: none)."""
        self._box = box
        self.update()

    # -- zoom and pan ----------------------------------------------------------------------------
    @property
    def scale(self) -> float:
        return self._scale

    def fit(self) -> None:
        """Whole image in the window, centred."""
        self._fit_mode = True
        if self._image is None:
            return
        iw, ih = self._image.width(), self._image.height()
        s = min(self.width() / iw, self.height() / ih) * 0.98
        self._set_view(max(MIN_SCALE, min(MAX_SCALE, s)), None)
        self._offset = QPointF((self.width() - iw * self._scale) / 2, (self.height() - ih * self._scale) / 2)
        self.update()

    def actual_size(self) -> None:
        """One image pixel per screen pixel, keeping the view centre."""
        self._fit_mode = False
        self._set_view(1.0, QPointF(self.width() / 2, self.height() / 2))

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by `factor` keeping `anchor` (widget position; default the centre) still."""
        self._fit_mode = False
        scale = max(MIN_SCALE, min(MAX_SCALE, self._scale * factor))
        self._set_view(scale, anchor or QPointF(self.width() / 2, self.height() / 2))

    def _set_view(self, scale: float, anchor: QPointF | None) -> None:
        if anchor is not None:
            image_point = (anchor - self._offset) / self._scale
            self._offset = anchor - image_point * scale
        self._scale = scale
        self.zoom_changed.emit(scale)
        self.update()

    def to_image(self, pos: QPointF) -> QPointF:
        """Widget position -> image pixel coordinates (x wrapped for side-by-side views)."""
        p = (pos - self._offset) / self._scale
        if self._wrap_width and p.x() >= self._wrap_width:
            p.setX(p.x() % self._wrap_width)
        return p

    def to_widget(self, point: QPointF) -> QPointF:
        return point * self._scale + self._offset

    # -- events ----------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        if self._fit_mode:
            self.fit()
        super().resizeEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if not steps:
            return
        mods = event.modifiers()
        if mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            self.brush_wheel.emit(1 if steps > 0 else -1)
        elif self._image is not None:
            self.zoom_by(1.25**steps, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        button = event.button()
        alt = event.modifiers() & Qt.KeyboardModifier.AltModifier
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and alt):
            self._pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if self._image is not None and button in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            self._pressed = True
            self.pointer_pressed.emit(self.to_image(event.position()), button)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._pan_from is not None:
            self._fit_mode = False
            self._offset += pos - self._pan_from
            self._pan_from = pos
            self.update()
            return
        self._hover = pos
        if self._pressed:
            self.pointer_moved.emit(self.to_image(pos))
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
            self.set_brush_radius(self._brush_radius)  # restores the tool's cursor
            return
        if self._pressed:
            self._pressed = False
            self.pointer_released.emit(self.to_image(event.position()))

    def leaveEvent(self, event: object) -> None:  # noqa: N802
        self._hover = None
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        if self._image is None:
            p.setPen(QColor(170, 174, 180))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        target = QRectF(self._offset, self._offset + QPointF(self._image.width(), self._image.height()) * self._scale)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._scale < 1.0)
        p.drawImage(target, self._image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._box is not None:
            rect = QRectF(self.to_widget(self._box.topLeft()), self.to_widget(self._box.bottomRight()))
            p.setPen(QPen(QColor(0, 0, 0, 200), 3))
            p.drawRect(rect)
            p.setPen(QPen(QColor(255, 230, 80), 1.5, Qt.PenStyle.DashLine))
            p.drawRect(rect)
        if self._hover is not None and self._brush_radius > 0 and self._pan_from is None:
            r = max(1.5, self._brush_radius * self._scale)
            for colour, width in ((QColor(0, 0, 0, 190), 3.0), (QColor(255, 255, 255), 1.2)):
                p.setPen(QPen(colour, width))
                p.drawEllipse(self._hover, r, r)
            p.drawPoint(self._hover)
