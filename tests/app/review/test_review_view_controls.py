"""`ViewControls` emits the ViewState the person sets, and shows states it is given without emitting."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.view.render import ViewMode, ViewState
from app.widgets.view_controls import ViewControls


@pytest.fixture
def controls(qtbot):
    w = ViewControls()
    qtbot.addWidget(w)
    return w


def last_state(qtbot, controls, action):
    with qtbot.waitSignal(controls.changed, timeout=1000) as blocker:
        action()
    return blocker.args[0]


def test_initial_state_is_default(controls):
    assert controls.state() == ViewState()


def test_mode_buttons_emit_mode(qtbot, controls):
    for mode, button in controls.mode_buttons.items():
        if mode is ViewMode.OVERLAY:
            continue
        state = last_state(qtbot, controls, lambda b=button: qtbot.mouseClick(b, Qt.MouseButton.LeftButton))
        assert state == ViewState(mode=mode)
        assert [b.isChecked() for b in controls.mode_buttons.values()].count(True) == 1


def test_each_control_changes_its_field(qtbot, controls):
    controls.set_state(ViewState(mode=ViewMode.MATTE))
    assert last_state(qtbot, controls, lambda: controls.grow_spin.setValue(-7)).grow == -7
    assert last_state(qtbot, controls, lambda: controls.feather_spin.setValue(12)) == ViewState(
        mode=ViewMode.MATTE, grow=-7, feather=12
    )
    controls.set_state(ViewState(mode=ViewMode.OVERLAY))
    assert last_state(qtbot, controls, lambda: controls.opacity_slider.setValue(80)).opacity == pytest.approx(0.8)
    assert last_state(qtbot, controls, lambda: controls.outline_button.click()).outline is False


def test_spin_limits(controls):
    controls.grow_spin.setValue(-99)
    controls.feather_spin.setValue(99)
    assert (controls.state().grow, controls.state().feather) == (-50, 50)


def test_set_state_round_trips_without_emitting(qtbot, controls):
    target = ViewState(mode=ViewMode.CUTOUT, opacity=0.25, grow=4, feather=3, outline=False)
    with qtbot.assertNotEmitted(controls.changed):
        controls.set_state(target)
    assert controls.state() == target


def test_irrelevant_controls_are_disabled(controls):
    controls.set_state(ViewState(mode=ViewMode.MATTE))
    assert controls.grow_spin.isEnabled() and not controls.opacity_slider.isEnabled()
    controls.mode_buttons[ViewMode.SIDE_BY_SIDE].click()
    assert controls.opacity_slider.isEnabled() and controls.outline_button.isEnabled()
    assert not controls.grow_spin.isEnabled() and not controls.feather_spin.isEnabled()
