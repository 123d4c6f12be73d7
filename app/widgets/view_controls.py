"""`ViewControls`: how masks are drawn in the viewer (mode, opacity, grow/shrink, feather, outline)."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QToolButton, QWidget
from superqt import QLabeledSlider

from app.view import icons
from app.view.render import ViewMode, ViewState

# mode -> (icon, label, tooltip)
MODES: dict[ViewMode, tuple[str, str, str]] = {
    ViewMode.OVERLAY: ("mdi6.layers-outline", "Overlay", "Object colours blended over the frame"),
    ViewMode.MASK: ("mdi6.image-filter-black-white", "Mask", "Object colours on black"),
    ViewMode.CUTOUT: ("mdi6.checkerboard", "Cutout", "Visible objects over a checkerboard, with the export matte"),
    ViewMode.MATTE: ("mdi6.circle-half-full", "Matte", "The export matte in grey (white = object)"),
    ViewMode.SIDE_BY_SIDE: ("mdi6.compare", "Side by side", "Source frame left, overlay right"),
}
_MATTE_MODES = (ViewMode.CUTOUT, ViewMode.MATTE)  # where grow and feather are shown
_OVERLAY_MODES = (ViewMode.OVERLAY, ViewMode.SIDE_BY_SIDE)  # where opacity and outline are shown


class ViewControls(QWidget):
    """A row of view controls. Emits `changed(ViewState)` whenever the person changes one of them.

    Controls that do not affect the current mode are disabled (their values are kept): opacity and outline
    apply to Overlay and Side by side, grow and feather to Cutout and Matte.
    """

    changed = Signal(object)

    def __init__(self, parent: QWidget | None = None, state: ViewState | None = None) -> None:
        super().__init__(parent)
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[ViewMode, QToolButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        for mode, (icon, label, tip) in MODES.items():
            button = QToolButton(self)
            button.setCheckable(True)
            button.setIcon(icons.icon(icon))
            button.setText(label)
            button.setToolTip(f"{label}: {tip}")
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setAutoRaise(True)
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            layout.addWidget(button)
        layout.addSpacing(12)

        self.opacity_slider = QLabeledSlider(Qt.Orientation.Horizontal, self)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setMinimumWidth(120)
        self.opacity_slider.setToolTip("Opacity of the object colours, in percent")
        self._opacity_label = _label("Opacity %", self.opacity_slider)
        layout.addWidget(self._opacity_label)
        layout.addWidget(self.opacity_slider, 1)

        self.outline_button = _toggle("mdi6.vector-square", "Outline: draw each object's edge in its colour", self)
        self.onion_button = _toggle(
            "mdi6.layers-outline", "Onion skin (O): the previous frame's object edges, in a lighter tint", self
        )
        layout.addWidget(self.outline_button)
        layout.addWidget(self.onion_button)
        layout.addSpacing(12)

        self.grow_spin = _spin(-50, 50, "Grow (+) or shrink (-) the matte in pixels, as the export will", self)
        self._grow_label = _label("Grow", self.grow_spin)
        self.feather_spin = _spin(0, 50, "Feather: blur the matte edge over this many pixels, as the export will", self)
        self._feather_label = _label("Feather", self.feather_spin)
        for widget in (self._grow_label, self.grow_spin, self._feather_label, self.feather_spin):
            layout.addWidget(widget)
        layout.addStretch(0)

        self.set_state(state or ViewState())
        self.mode_group.buttonToggled.connect(self._on_mode_toggled)
        self.opacity_slider.valueChanged.connect(self._emit)
        self.outline_button.toggled.connect(self._emit)
        self.onion_button.toggled.connect(self._emit)
        self.grow_spin.valueChanged.connect(self._emit)
        self.feather_spin.valueChanged.connect(self._emit)

    def state(self) -> ViewState:
        """The state the controls show."""
        mode = next(m for m, b in self.mode_buttons.items() if b.isChecked())
        return ViewState(
            mode=mode,
            opacity=self.opacity_slider.value() / 100.0,
            grow=self.grow_spin.value(),
            feather=self.feather_spin.value(),
            outline=self.outline_button.isChecked(),
            onion=self.onion_button.isChecked(),
        )

    def set_state(self, state: ViewState) -> None:
        """Show `state` without emitting `changed` (opacity is rounded to whole percent)."""
        controls = (
            self.mode_group,
            self.opacity_slider,
            self.outline_button,
            self.onion_button,
            self.grow_spin,
            self.feather_spin,
        )
        blockers = [QSignalBlocker(w) for w in controls]
        try:
            self.mode_buttons[state.mode].setChecked(True)
            self.opacity_slider.setValue(round(state.opacity * 100))
            self.outline_button.setChecked(state.outline)
            self.onion_button.setChecked(state.onion)
            self.grow_spin.setValue(state.grow)
            self.feather_spin.setValue(state.feather)
        finally:
            for blocker in blockers:
                blocker.unblock()
        self._update_enabled(state.mode)

    def _on_mode_toggled(self, button: QToolButton, checked: bool) -> None:
        if checked:  # the exclusive group also reports the button that went off: ignore that one
            self._update_enabled(self.state().mode)
            self._emit()

    def _update_enabled(self, mode: ViewMode) -> None:
        overlay = mode in _OVERLAY_MODES
        for w in (self._opacity_label, self.opacity_slider, self.outline_button):
            w.setEnabled(overlay)
        self.onion_button.setEnabled(mode not in _MATTE_MODES)
        matte = mode in _MATTE_MODES
        for w in (self._grow_label, self.grow_spin, self._feather_label, self.feather_spin):
            w.setEnabled(matte)

    def _emit(self, *_: object) -> None:
        self.changed.emit(self.state())


def _toggle(icon: str, tip: str, parent: QWidget) -> QToolButton:
    button = QToolButton(parent)
    button.setCheckable(True)
    button.setIcon(icons.icon(icon))
    button.setAutoRaise(True)
    button.setToolTip(tip)
    return button


def _spin(lo: int, hi: int, tip: str, parent: QWidget) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(lo, hi)
    spin.setSuffix(" px")
    spin.setToolTip(tip)
    spin.setKeyboardTracking(False)  # typing "12" emits once, not for "1" then "12"
    spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    return spin


def _label(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text, buddy.parentWidget())
    label.setBuddy(buddy)
    label.setToolTip(buddy.toolTip())
    return label
