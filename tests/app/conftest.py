"""GUI test fixtures: offscreen Qt (no display), preferences isolated per test, small real clips, one shared model."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt creates its application

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings, QStandardPaths

from llb_core.inference import SessionSettings
from tests.conftest import DAVIS

SEQUENCE = "dog"
# Fast engine settings for tests: small internal resolution and few learner steps (the machine is shared).
FAST = SessionSettings(resolution=128, init_iterations=5, update_iterations=1)


@pytest.fixture
def qsettings(tmp_path: Path) -> QSettings:
    """A QSettings on a fresh ini file; default-constructed QSettings also land in `tmp_path`."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "qsettings"))
    return QSettings(str(tmp_path / "llb-studio.ini"), QSettings.Format.IniFormat)


@pytest.fixture(autouse=True)
def isolated_settings(qapp, tmp_path: Path) -> Iterator[None]:
    """Each test gets its own QSettings store and data folders, never the user's."""
    QStandardPaths.setTestModeEnabled(True)
    qapp.setOrganizationName(f"llb-test-{uuid.uuid4().hex[:8]}")
    qapp.setApplicationName("LLB Studio tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "qsettings"))
    yield


def gt_mask(index: int) -> np.ndarray:
    """(H, W) bool ground-truth mask of the test sequence."""
    return np.asarray(Image.open(DAVIS / "Annotations" / "480p" / SEQUENCE / f"{index:05d}.png").convert("L")) > 127


@pytest.fixture
def make_clip(shared_data, tmp_path: Path) -> Callable[[int], Path]:
    """make_clip(n): a folder with the first n JPEG frames of a real DAVIS clip (854x480)."""

    def make(n: int) -> Path:
        folder = tmp_path / f"{SEQUENCE}-{n}"
        folder.mkdir()
        for i in range(n):
            shutil.copy(DAVIS / "JPEGImages" / "480p" / SEQUENCE / f"{i:05d}.jpg", folder)
        return folder

    return make


@pytest.fixture(scope="session")
def model():
    """The shipped default weights, loaded once for the whole session."""
    from llb_core.model.defaults import load_model

    return load_model()


@pytest.fixture
def studio(qtbot, model, tmp_path: Path):
    """A Studio with isolated preferences, the shared model and fast engine settings."""
    from app.window.controller import Studio

    s = Studio(QSettings(), model_loader=lambda: model, base_settings=FAST, data_dir=tmp_path / "data")
    s.apply_settings(s.settings.replace(resolution=FAST.resolution, autosave_minutes=0))
    yield s
    if s.busy:
        s.cancel()
        qtbot.waitUntil(lambda: not s.busy, timeout=60_000)
    s.shutdown()


@pytest.fixture
def window(qtbot, studio):
    """The main window around `studio`, shown offscreen."""
    from app.window.main_window import MainWindow

    w = MainWindow(studio)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    if studio.busy:
        studio.cancel()
        qtbot.waitUntil(lambda: not studio.busy, timeout=60_000)
