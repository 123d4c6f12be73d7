"""`Timeline`: the strip (`TimelineStrip`), a superqt frame slider and the transport: play / pause at the
clip's fps, step, previous / next keyframe and flagged frame. Reads the document; writes back only the
current frame."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QWidget,
)
from superqt import QLabeledSlider

from app.model.document import Document
from app.view import icons
from app.widgets.timeline_strip import TimelineStrip

INFO_WIDTH = 240


def neighbour(frames: Iterable[int], current: int, direction: int) -> int | None:
    """The nearest frame of `frames` after (direction > 0) or before `current`, or None."""
    if direction > 0:
        return min((f for f in frames if f > current), default=None)
    return max((f for f in frames if f < current), default=None)


class Timeline(QWidget):
    """See the module docstring."""

    playing_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.strip = TimelineStrip()
        self.strip.frame_requested.connect(self.go_to)
        self.slider = QLabeledSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self.go_to)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.info = QLabel()
        self.info.setFixedWidth(INFO_WIDTH)  # a long flag reason must not squeeze the slider
        self.buttons: dict[str, QToolButton] = {}
        transport = QWidget()
        row = QGridLayout(transport)
        row.setContentsMargins(0, 0, 0, 0)
        row.setHorizontalSpacing(0)
        for key, icon, tip, slot in (
            ("prev_key", "fa5s.fast-backward", "Previous keyframe", lambda: self.jump_keyframe(-1)),
            ("prev", "fa5s.step-backward", "Previous frame", lambda: self.step(-1)),
            ("play", "fa5s.play", "Play / pause", self.toggle_play),
            ("next", "fa5s.step-forward", "Next frame", lambda: self.step(1)),
            ("next_key", "fa5s.fast-forward", "Next keyframe", lambda: self.jump_keyframe(1)),
            ("prev_flag", "mdi6.flag-remove-outline", "Previous flagged frame", lambda: self.jump_flag(-1)),
            ("next_flag", "mdi6.flag-outline", "Next flagged frame", lambda: self.jump_flag(1)),
        ):
            b = QToolButton()
            b.setIcon(icons.icon(icon))
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            self.buttons[key] = b
            row.addWidget(b, 0, len(self.buttons) - 1)
        layout = QGridLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setVerticalSpacing(0)
        layout.addWidget(self.strip, 0, 1)
        layout.addWidget(transport, 1, 0)
        layout.addWidget(self.slider, 1, 1)
        layout.addWidget(self.info, 1, 2)
        layout.setColumnStretch(1, 1)
        self._refresh()

    # -- lining the strip up with the slider -------------------------------------------------------
    def _align_strip(self) -> None:
        """Put each frame's marker on the strip exactly above the slider handle's centre for that frame."""
        inner = self.slider.findChild(QSlider)
        if inner is None or not inner.isVisible():
            return
        opt = QStyleOptionSlider()
        inner.initStyleOption(opt)
        style = inner.style()
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, inner)
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, inner)
        origin = inner.mapTo(self, QPoint(0, 0)).x() - self.strip.x()
        first = origin + groove.left() + handle.width() / 2
        self.strip.set_ends(first, first + groove.width() - handle.width())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        QTimer.singleShot(0, self._align_strip)  # after the layout has placed the children

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        QTimer.singleShot(0, self._align_strip)

    def set_document(self, document: Document | None) -> None:
        self.pause()
        if self.document is not None:
            self.document.view.frame_changed.disconnect(self._frame_changed)
            self.document.timeline_changed.disconnect(self._refresh)
        self.document = document
        if document is not None:
            document.view.frame_changed.connect(self._frame_changed)
            document.timeline_changed.connect(self._refresh)
        self._refresh()

    # -- navigation ------------------------------------------------------------------------------
    def go_to(self, frame: int) -> None:
        if self.document is not None:
            self.document.view.set_frame(frame)

    def step(self, n: int) -> None:
        if self.document is not None:
            self.go_to(self.document.view.current_frame + n)

    def jump_keyframe(self, direction: int) -> None:
        doc = self.document
        if doc is not None:
            target = neighbour(doc.clip.keyframes, doc.view.current_frame, direction)
            if target is not None:
                self.go_to(target)

    def jump_flag(self, direction: int) -> None:
        doc = self.document
        if doc is not None:
            target = neighbour(doc.flags, doc.view.current_frame, direction)
            if target is not None:
                self.go_to(target)

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        elif self.document is not None:
            if self.document.view.current_frame >= self.document.num_frames - 1:
                self.go_to(0)
            self.timer.start(max(1, round(1000 / max(1e-3, self.document.project.fps))))
            self.buttons["play"].setIcon(icons.icon("fa5s.pause"))
            self.playing_changed.emit(True)

    def pause(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.buttons["play"].setIcon(icons.icon("fa5s.play"))
            self.playing_changed.emit(False)

    def _tick(self) -> None:
        doc = self.document
        if doc is None or doc.view.current_frame >= doc.num_frames - 1:
            self.pause()
        else:
            doc.view.set_frame(doc.view.current_frame + 1)

    # -- view ------------------------------------------------------------------------------------
    def _frame_changed(self, frame: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(frame)
        self.slider.blockSignals(False)
        self.strip.set_current(frame)
        self._describe()

    def _refresh(self) -> None:
        doc = self.document
        for w in (self.slider, self.strip, *self.buttons.values()):
            w.setEnabled(doc is not None)
        if doc is None:
            self.slider.blockSignals(True)
            self.slider.setRange(0, 0)  # no frame of the closed clip stays on show
            self.slider.setValue(0)
            self.slider.blockSignals(False)
            self.strip.set_data(0, [], [], {}, [])
            self.strip.set_current(0)
            self.info.setText("")
            return
        self.slider.blockSignals(True)
        self.slider.setRange(0, doc.num_frames - 1)
        self.slider.setValue(doc.view.current_frame)
        self.slider.blockSignals(False)
        flags = {f: flag.describe() for f, flag in doc.flags.items()}
        self.strip.set_data(doc.num_frames, doc.clip.provenance, doc.clip.keyframes, flags, doc.clip.stale)
        QTimer.singleShot(0, self._align_strip)  # the slider's label width follows the frame count
        self.strip.set_current(doc.view.current_frame)
        self.buttons["prev_flag"].setEnabled(bool(doc.flags))
        self.buttons["next_flag"].setEnabled(bool(doc.flags))
        self._describe()

    def _describe(self) -> None:
        doc = self.document
        if doc is None:
            return
        f = doc.view.current_frame
        parts = [f"of {doc.num_frames - 1}"]
        if f in doc.clip.keyframes:
            parts.append("keyframe")
        elif f in doc.clip.provenance:
            parts.append("propagated")
        if doc.clip.is_stale(f):
            parts.append("stale: re-run to update")
        if f in doc.flags:
            parts.append(f"flagged, {doc.flags[f].describe()}")
        text = " · ".join(parts)
        self.info.setToolTip(text)
        self.info.setText(self.info.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, INFO_WIDTH - 4))
