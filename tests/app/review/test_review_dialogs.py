"""`SettingsDialog` and `ShortcutsDialog`: widgets show the given values and return what the person set."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from app.dialogs.settings_dialog import SettingsDialog
from app.dialogs.shortcuts_dialog import ShortcutsDialog, native_text
from app.window.settings import AppSettings, available_devices, load_settings, save_settings

CUSTOM = AppSettings(
    device="cpu",
    precision="fp32",
    resolution=384,
    memory_interval=3,
    cache_size=200,
    autosave_minutes=5,
    recent_files=("/a", "/b"),
)


@pytest.fixture
def settings_dialog(qtbot):
    d = SettingsDialog(None, CUSTOM)
    qtbot.addWidget(d)
    return d


def test_settings_dialog_shows_and_returns_settings(settings_dialog):
    d = settings_dialog
    assert d.result_settings() == CUSTOM
    assert (d.resolution_spin.value(), d.cache_spin.value(), d.autosave_spin.value()) == (384, 200, 5)
    assert [d.device_combo.itemData(i) for i in range(d.device_combo.count())] == available_devices()


def test_settings_dialog_edits_every_field(settings_dialog):
    d = settings_dialog
    d.device_combo.setCurrentIndex(d.device_combo.findData("auto"))
    d.precision_combo.setCurrentIndex(d.precision_combo.findData("bf16"))
    d.runtime_combo.setCurrentIndex(d.runtime_combo.findData("openvino"))
    d.resolution_spin.setValue(512)
    d.memory_interval_spin.setValue(10)
    d.cache_spin.setValue(64)
    d.autosave_spin.setValue(0)
    assert d.autosave_spin.text() == "Off"
    expected = AppSettings(
        precision="bf16", runtime="openvino", resolution=512, memory_interval=10, cache_size=64, autosave_minutes=0
    )
    assert d.result_settings() == expected.replace(recent_files=("/a", "/b"))


def test_settings_dialog_limits_match_validation(settings_dialog):
    d = settings_dialog
    d.resolution_spin.setValue(10_000)
    d.memory_interval_spin.setValue(0)
    d.cache_spin.setValue(0)
    s = d.result_settings()  # would raise if a spin box allowed an invalid value
    assert (s.resolution, s.memory_interval, s.cache_size) == (4096, 1, 1)


def test_restore_defaults_keeps_recent_files(settings_dialog):
    settings_dialog.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    assert settings_dialog.result_settings() == AppSettings(recent_files=("/a", "/b"))


def test_unavailable_device_is_kept(qtbot):
    d = SettingsDialog(None, AppSettings(device="cuda:7"))
    qtbot.addWidget(d)
    assert d.result_settings().device == "cuda:7"
    assert "not available" in d.device_combo.currentText()


def test_settings_dialog_round_trip_through_qsettings(qtbot, qsettings):
    save_settings(qsettings, CUSTOM)
    d = SettingsDialog(None, load_settings(qsettings))
    qtbot.addWidget(d)
    d.resolution_spin.setValue(320)
    save_settings(qsettings, d.result_settings())
    assert load_settings(qsettings) == CUSTOM.replace(resolution=320)


SHORTCUTS = [("Ctrl+Z", "Undo"), ("Ctrl+Shift+Z", "Redo"), ("F1", "Keyboard shortcuts"), ("Mouse wheel", "Zoom")]


def test_shortcuts_table_and_filter(qtbot):
    d = ShortcutsDialog(None, SHORTCUTS)
    qtbot.addWidget(d)
    assert d.table.columnCount() == 2 and d.table.rowCount() == 4
    assert d.visible_rows() == [(native_text(k), a) for k, a in SHORTCUTS]
    assert native_text("Mouse wheel") == "Mouse wheel"
    qtbot.keyClicks(d.filter_edit, "redo")
    assert d.visible_rows() == [(native_text("Ctrl+Shift+Z"), "Redo")]
    d.filter_edit.setText("ctrl")
    assert [a for _, a in d.visible_rows()] == ["Undo", "Redo"]
    d.filter_edit.clear()
    assert len(d.visible_rows()) == 4
