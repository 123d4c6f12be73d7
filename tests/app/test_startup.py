"""Start-up: the window never waits for torch or the weights; propagation enables once the model is ready."""

from __future__ import annotations

import subprocess
import sys
import threading

from PySide6.QtCore import QSettings

from llb_core.errors import LLBError
from tests.app.conftest import FAST
from tests.conftest import REPO_ROOT

PROPAGATE = ("forward", "backward", "both", "fill_missing")


def test_importing_the_app_does_not_import_torch():
    code = "import sys, app.cli, app.window.main_window; "
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _window(qtbot, tmp_path, loader):
    from app.window.controller import Studio
    from app.window.main_window import MainWindow

    studio = Studio(QSettings(), model_loader=loader, base_settings=FAST, data_dir=tmp_path / "data")
    window = MainWindow(studio)
    qtbot.addWidget(window)
    window.show()
    return window


def test_propagation_enables_when_the_model_has_loaded(qtbot, tmp_path, make_clip, model):
    release = threading.Event()

    def slow_loader():
        release.wait(30)
        return model

    window = _window(qtbot, tmp_path, slow_loader)
    studio = window.studio
    try:
        assert studio.open_path(make_clip(3))
        studio.engine.preload()
        assert studio.engine.model_state == "loading"
        assert not any(window.actions_[name].isEnabled() for name in PROPAGATE)
        assert window.actions_["brush"].isEnabled()  # painting works while the model loads
        release.set()
        qtbot.waitUntil(lambda: studio.engine.model_state == "ready", timeout=30_000)
        assert all(window.actions_[name].isEnabled() for name in PROPAGATE)
        assert "Model loaded" in window.statusBar().currentMessage()
    finally:
        release.set()
        studio.shutdown()


def test_a_failed_load_is_reported_and_a_run_may_retry(qtbot, tmp_path, make_clip):
    def no_weights():
        raise LLBError("weights not found: /nowhere/default.pt; reinstall LLB Studio")

    window = _window(qtbot, tmp_path, no_weights)
    studio = window.studio
    try:
        assert studio.open_path(make_clip(3))
        studio.engine.preload()
        qtbot.waitUntil(lambda: studio.engine.model_state == "failed", timeout=30_000)
        assert "/nowhere/default.pt" in window.statusBar().currentMessage()
        assert all(window.actions_[name].isEnabled() for name in PROPAGATE)
    finally:
        studio.shutdown()
