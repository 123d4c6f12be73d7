"""`app.window.settings`: validation, QSettings round trip, fallback on garbage, recent files, engine settings."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from app.view.qt_image import to_qimage
from app.window.settings import GROUP, AppSettings, add_recent, available_devices, load_settings, save_settings
from llb_core.inference.settings import SessionSettings


def test_defaults_follow_the_engine():
    s = AppSettings()
    engine = SessionSettings()
    assert (s.resolution, s.memory_interval, s.device, s.precision) == (
        engine.resolution,
        engine.memory_interval,
        engine.device,
        engine.precision,
    )
    assert s.autosave_minutes == 2
    assert s.recent_files == ()


def test_validation_names_every_bad_field():
    with pytest.raises(ValueError) as err:
        AppSettings(device="gpu", resolution=10, autosave_minutes=-1)
    text = str(err.value)
    assert "device must be auto, cpu, cuda, cuda:N or mps, got 'gpu'" in text
    assert "resolution must be a whole number in 64..4096, got 10" in text
    assert "autosave_minutes" in text
    assert "precision" not in text
    with pytest.raises(ValueError, match="recent_files"):
        AppSettings(recent_files=["a"])  # a list, not a tuple
    with pytest.raises(ValueError, match="cache_size"):
        AppSettings(cache_size=True)


def test_round_trip(qsettings):
    s = AppSettings(
        device="cuda:1",
        precision="bf16",
        resolution=480,
        memory_interval=7,
        cache_size=128,
        autosave_minutes=0,
        recent_files=("/videos/a clip.mp4",),  # one item: QSettings would store a plain string
    )
    save_settings(qsettings, s)
    reread = QSettings(qsettings.fileName(), QSettings.Format.IniFormat)
    assert load_settings(reread) == s


@pytest.mark.parametrize(
    "recent", [(), ("/videos/a clip.mp4",), ("/a, b/c.mp4", 'C:\\Users\\zoë\\clip "1".mov', "/p/[x].mkv")]
)
def test_recent_files_round_trip(qsettings, recent):
    save_settings(qsettings, AppSettings(recent_files=recent))
    assert load_settings(QSettings(qsettings.fileName(), QSettings.Format.IniFormat)).recent_files == recent


def test_missing_file_gives_defaults(qsettings):
    assert load_settings(qsettings) == AppSettings()


def test_garbage_values_fall_back_per_field_with_warning(qsettings, caplog):
    save_settings(qsettings, AppSettings(resolution=384, precision="fp16", cache_size=64))
    qsettings.beginGroup(GROUP)
    for key, value in {
        "device": "quantum",
        "memory_interval": "five",
        "cache_size": "0",
        "autosave_minutes": "3.5",
        "recent_files": "[not json",
    }.items():
        qsettings.setValue(key, value)
    qsettings.endGroup()
    qsettings.sync()
    with caplog.at_level(logging.WARNING, logger="app.window.settings"):
        s = load_settings(QSettings(qsettings.fileName(), QSettings.Format.IniFormat))
    defaults = AppSettings()
    assert s == AppSettings(resolution=384, precision="fp16")  # the valid entries survive
    assert (s.device, s.memory_interval, s.cache_size, s.recent_files) == (
        defaults.device,
        defaults.memory_interval,
        defaults.cache_size,
        (),
    )
    warned = " ".join(r.getMessage() for r in caplog.records)
    for key in ("device", "memory_interval", "cache_size", "autosave_minutes", "recent_files"):
        assert f"{GROUP}/{key}" in warned
    assert qsettings.fileName() in warned


def test_hand_edited_ini_with_garbage(tmp_path):
    ini = tmp_path / "hand.ini"
    ini.write_text(f"[{GROUP}]\nresolution=@Invalid(\nrecent_files=42\ndevice=cpu\n", encoding="utf-8")
    s = load_settings(QSettings(str(ini), QSettings.Format.IniFormat))
    assert s == AppSettings(device="cpu")


def test_session_settings_maps_fields():
    s = AppSettings(device="cpu", precision="fp32", runtime="torch", resolution=320, memory_interval=9)
    engine = s.session_settings()
    assert (engine.device, engine.precision, engine.resolution, engine.memory_interval) == ("cpu", "fp32", 320, 9)
    assert engine.runtime == "torch" and AppSettings().session_settings().runtime == "auto"
    with pytest.raises(ValueError, match="runtime must be one of auto, torch, openvino"):
        AppSettings(runtime="tensorrt")
    kept = s.session_settings(SessionSettings(mode="crop", memory_capacity=12))
    assert (kept.mode, kept.memory_capacity, kept.resolution) == ("crop", 12, 320)


def test_add_recent_moves_to_front_and_limits():
    s = AppSettings()
    for i in range(12):
        s = add_recent(s, f"/p/{i}")
    assert s.recent_files == tuple(f"/p/{i}" for i in range(11, 1, -1))
    s = add_recent(s, "/p/5", limit=3)
    assert s.recent_files == ("/p/5", "/p/11", "/p/10")


def test_available_devices_start_with_auto_and_cpu():
    devices = available_devices()
    assert devices[:2] == ["auto", "cpu"]
    for d in devices:
        AppSettings(device=d)  # every offered device is a valid setting


def test_to_qimage_copies_pixels():
    rgb = np.zeros((5, 7, 3), np.uint8)
    rgb[2, 3] = (10, 20, 30)
    img = to_qimage(rgb[:, :, :])
    rgb[2, 3] = 0  # the QImage owns its pixels
    assert (img.width(), img.height()) == (7, 5)
    assert img.pixelColor(3, 2).getRgb()[:3] == (10, 20, 30)
    sliced = to_qimage(np.arange(60, dtype=np.uint8).reshape(5, 12)[:, ::2])  # non-contiguous grey
    assert sliced.pixelColor(1, 1).red() == 14
    with pytest.raises(ValueError, match="uint8"):
        to_qimage(np.zeros((4, 4, 3), np.float32))
