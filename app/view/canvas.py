"""`Canvas`: shows one RGB image with zoom and pan, the brush outline and the box being dragged.

It knows nothing of documents or tools: it reports pointer activity in image pixel coordinates (float; pixel
i spans [i, i + 1)) through signals, and the tool box decides what it means.

Zoom: the wheel (about the pointer), `fit`, `actual_size`, `zoom_by`. Pan: middle-button drag, or Alt +
left drag. Ctrl / Shift + wheel does not zoom: it emits `brush_wheel` (the brush size).

Repaints are local: `set_region` changes part of the image and repaints only the widget pixels it covers, the
brush outline and the box repaint only where they were and where they are, and `paintEvent` draws only the
damaged rectangle. A 4K frame is never converted or drawn whole for a mouse move.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QRegion,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

MIN_SCALE = 0.05
MAX_SCALE = 32.0
BACKGROUND = QColor(38, 40, 44)
MARK_RADIUS = 6  # widget pixels: the click tool's dots
OUTLINE_PAD = 3  # widget pixels around the brush outline and the box edges that their pens may touch
SAMPLE_PAD = 2  # image pixels read around a damaged area (smooth scaling samples neighbours)
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
        self._marks: list[tuple[QPointF, bool]] = []  # the click tool's clicks: image position, positive
        self.empty_text = EMPTY_TEXT

    # -- content ---------------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray | None, wrap_width: int = 0) -> None:
        """Show (H, W, 3) uint8 RGB (None: nothing). `wrap_width`: source width when `rgb` shows the frame
        more than once side by side (pointer x is reported modulo it).

        The canvas keeps `rgb` (no copy when it is contiguous uint8) and `set_region` writes into it."""
        if rgb is None:
            self._image, self._pixels = None, None
            self.update()
            return
        first = self._image is None or (self._image.width(), self._image.height()) != (rgb.shape[1], rgb.shape[0])
        self._wrap(np.ascontiguousarray(rgb, dtype=np.uint8))
        self._wrap_width = wrap_width or rgb.shape[1]
        if first and self._fit_mode:
            self.fit()
        self.update()

    def set_region(self, x: int, y: int, rgb: np.ndarray) -> None:
        """Replace the image pixels at (x, y) by (h, w, 3) uint8 `rgb` and repaint only the widget area they
        cover. The region must lie inside the image."""
        if self._pixels is None:
            raise ValueError("there is no image to change a region of")
        h, w = rgb.shape[:2]
        if x < 0 or y < 0 or x + w > self._pixels.shape[1] or y + h > self._pixels.shape[0]:
            raise ValueError(f"region {w}x{h} at ({x}, {y}) lies outside the image")
        if not self._pixels.flags.writeable:  # a read-only array was shown: take a copy to write into
            self._wrap(self._pixels.copy())
        self._pixels[y : y + h, x : x + w] = rgb
        self.update(self._widget_rect(QRectF(x, y, w, h)))

    def pixels(self) -> np.ndarray | None:
        """A read-only view of the (H, W, 3) uint8 image shown, or None."""
        if self._pixels is None:
            return None
        view = self._pixels.view()
        view.setflags(write=False)
        return view

    def _wrap(self, pixels: np.ndarray) -> None:
        """Show `pixels` (contiguous (H, W, 3) uint8) through a QImage that borrows its memory."""
        self._pixels = pixels
        h, w = pixels.shape[:2]
        self._image = QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888)

    def image_size(self) -> tuple[int, int] | None:
        """(width, height) of the image shown, or None."""
        return None if self._image is None else (self._image.width(), self._image.height())

    def set_brush_radius(self, radius: float) -> None:
        """Brush outline radius in image pixels (0 hides it)."""
        self._brush_radius = max(0.0, radius)
        self.setCursor(Qt.CursorShape.BlankCursor if radius > 0 else Qt.CursorShape.CrossCursor)
        self.update()

    def set_marks(self, marks: list[tuple[QPointF, bool]]) -> None:
        """The click tool's clicks to draw (image positions; True: positive, drawn green, else red)."""
        old, self._marks = self._marks_region(), list(marks)
        self.update(old.united(self._marks_region()))

    def _marks_region(self) -> QRegion:
        region = QRegion()
        r = MARK_RADIUS + OUTLINE_PAD
        for pos, _ in self._marks:
            w = self.to_widget(pos)
            region = region.united(QRect(math.floor(w.x()) - r, math.floor(w.y()) - r, 2 * r + 1, 2 * r + 1))
        return region

    def set_box(self, box: QRectF | None) -> None:
        """The rectangle being dragged, in image pixels (None: none)."""
        old, self._box = self._box_region(), box
        self.update(old.united(self._box_region()))

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

    def _widget_rect(self, image_rect: QRectF) -> QRect:
        """The widget pixels an image rectangle is drawn on (rounded outwards, plus what smooth scaling
        spreads over)."""
        pad = SAMPLE_PAD * self._scale if self._scale < 1.0 else 1.0
        a, b = self.to_widget(image_rect.topLeft()), self.to_widget(image_rect.bottomRight())
        x0, y0 = math.floor(a.x() - pad), math.floor(a.y() - pad)
        return QRect(x0, y0, math.ceil(b.x() + pad) - x0, math.ceil(b.y() + pad) - y0)

    def _outline_rect(self) -> QRect:
        """The widget area the brush outline is drawn on (empty when it is not drawn)."""
        if self._hover is None or self._brush_radius <= 0 or self._pan_from is not None:
            return QRect()
        r = math.ceil(max(1.5, self._brush_radius * self._scale)) + OUTLINE_PAD
        return QRect(math.floor(self._hover.x()) - r, math.floor(self._hover.y()) - r, 2 * r + 1, 2 * r + 1)

    def _box_region(self) -> QRegion:
        """The widget area the box's edges are drawn on (empty without a box)."""
        if self._box is None:
            return QRegion()
        r = QRectF(self.to_widget(self._box.topLeft()), self.to_widget(self._box.bottomRight())).normalized()
        x0, y0, x1, y1 = math.floor(r.left()), math.floor(r.top()), math.ceil(r.right()), math.ceil(r.bottom())
        pad = OUTLINE_PAD
        region = QRegion()
        for edge in (
            QRect(x0 - pad, y0 - pad, x1 - x0 + 2 * pad + 1, 2 * pad + 1),  # top
            QRect(x0 - pad, y1 - pad, x1 - x0 + 2 * pad + 1, 2 * pad + 1),  # bottom
            QRect(x0 - pad, y0 - pad, 2 * pad + 1, y1 - y0 + 2 * pad + 1),  # left
            QRect(x1 - pad, y0 - pad, 2 * pad + 1, y1 - y0 + 2 * pad + 1),  # right
        ):
            region = region.united(edge)
        return region

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
        old, self._hover = self._outline_rect(), pos
        if self._pressed:
            self.pointer_moved.emit(self.to_image(pos))
        self.update(old.united(self._outline_rect()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
            self.set_brush_radius(self._brush_radius)  # restores the tool's cursor
            return
        if self._pressed:
            self._pressed = False
            self.pointer_released.emit(self.to_image(event.position()))

    def focusInEvent(self, event: object) -> None:  # noqa: N802
        """Nothing drawn depends on focus: skip QWidget's repaint of the whole widget (a 4K frame)."""

    def focusOutEvent(self, event: object) -> None:  # noqa: N802
        """As `focusInEvent`."""

    def leaveEvent(self, event: object) -> None:  # noqa: N802
        old, self._hover = self._outline_rect(), None
        self.update(old)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        damage = event.rect()
        p.setClipRect(damage)
        p.fillRect(damage, BACKGROUND)
        if self._image is None:
            p.setPen(QColor(170, 174, 180))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        source = self._source_rect(damage)
        if not source.isEmpty():
            # Only the image pixels under the damage (plus what smooth scaling samples), with the same
            # image-to-widget mapping as the whole image would have: the pixels match a full repaint.
            target = QRectF(self.to_widget(QPointF(source.topLeft())), QRectF(source).size() * self._scale)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._scale < 1.0)
            p.drawImage(target, self._image, QRectF(source))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._box is not None:
            rect = QRectF(self.to_widget(self._box.topLeft()), self.to_widget(self._box.bottomRight()))
            p.setPen(QPen(QColor(0, 0, 0, 200), 3))
            p.drawRect(rect)
            p.setPen(QPen(QColor(255, 230, 80), 1.5, Qt.PenStyle.DashLine))
            p.drawRect(rect)
        for pos, positive in self._marks:  # a white ring in a black one: visible on any footage and overlay
            centre = self.to_widget(pos)
            p.setPen(QPen(QColor(0, 0, 0, 230), 4))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(centre, MARK_RADIUS, MARK_RADIUS)
            p.setPen(QPen(QColor(255, 255, 255), 2))
            p.setBrush(QColor(40, 230, 80) if positive else QColor(240, 50, 50))
            p.drawEllipse(centre, MARK_RADIUS, MARK_RADIUS)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if self._hover is not None and self._brush_radius > 0 and self._pan_from is None:
            r = max(1.5, self._brush_radius * self._scale)
            for colour, width in ((QColor(0, 0, 0, 190), 3.0), (QColor(255, 255, 255), 1.2)):
                p.setPen(QPen(colour, width))
                p.drawEllipse(self._hover, r, r)
            p.drawPoint(self._hover)

    def _source_rect(self, damage: QRect) -> QRect:
        """The image pixels drawn on the widget rectangle `damage`, widened by `SAMPLE_PAD`, clipped to the
        image."""
        assert self._image is not None
        a = (QPointF(damage.topLeft()) - self._offset) / self._scale
        b = (QPointF(damage.bottomRight()) + QPointF(1, 1) - self._offset) / self._scale
        x0, y0 = max(0, math.floor(a.x()) - SAMPLE_PAD), max(0, math.floor(a.y()) - SAMPLE_PAD)
        x1 = min(self._image.width(), math.ceil(b.x()) + SAMPLE_PAD)
        y1 = min(self._image.height(), math.ceil(b.y()) + SAMPLE_PAD)
        return QRect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))
