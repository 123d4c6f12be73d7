"""The "Model" preference: shipped weights by name, validated, and a switch reaches the engine's next run."""

from __future__ import annotations

import shutil

import pytest
import torch
from PySide6.QtCore import QSettings

from app.window.settings import AppSettings, load_settings, save_settings
from llb_core.model import create_model, save_checkpoint
from llb_core.model.jointformer import JointFormerNet
from llb_core.resources import DEFAULT_WEIGHTS, resource
from tests.app.test_propagation_gui import open_and_paint, run


@pytest.fixture
def resources_with_jointformer(tmp_path, monkeypatch):
    """A resources folder with the shipped default weights and a small untrained jointformer.pt."""
    folder = tmp_path / "resources"
    (folder / "weights").mkdir(parents=True)
    shutil.copy(resource(DEFAULT_WEIGHTS), folder / DEFAULT_WEIGHTS)
    torch.manual_seed(0)
    model = create_model("jointformer", token_dim=32, heads=2, joint_blocks=2, decoder_widths=(32, 16, 16, 16))
    save_checkpoint(model, folder / "weights" / "jointformer.pt")
    monkeypatch.setenv("LLB_RESOURCES", str(folder))
    return folder


def test_model_preference_is_validated(resources_with_jointformer, tmp_path):
    assert AppSettings(model="jointformer").model == "jointformer"
    with pytest.raises(ValueError, match="must name a shipped model"):
        AppSettings(model="nope")
    qs = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    save_settings(qs, AppSettings(model="jointformer"))
    assert load_settings(qs).model == "jointformer"
    (resources_with_jointformer / "weights" / "jointformer.pt").unlink()  # gone since: back to the default
    assert load_settings(qs).model == "default"


def test_switching_the_model_runs_the_next_propagation_with_it(qtbot, resources_with_jointformer, make_clip, tmp_path):
    from app.window.controller import Studio
    from app.window.main_window import MainWindow
    from tests.app.conftest import FAST

    studio = Studio(QSettings(), base_settings=FAST, data_dir=tmp_path / "data")  # loads the shipped models
    studio.apply_settings(studio.settings.replace(resolution=FAST.resolution, autosave_minutes=0))
    window = MainWindow(studio)
    qtbot.addWidget(window)
    window.show()
    try:
        dialog = window.settings_dialog()
        names = [dialog.model_combo.itemData(i) for i in range(dialog.model_combo.count())]
        assert names == ["default", "jointformer"]
        assert "JointFormer" in dialog.model_combo.itemText(1)
        dialog.model_combo.setCurrentIndex(1)
        dialog.accept()
        assert studio.settings.model == "jointformer"
        loaded = []
        studio.engine.model_ready.connect(lambda: loaded.append(True))
        open_and_paint(qtbot, window, make_clip(4))
        summary = run(qtbot, window)
        assert summary.error is None and summary.frames == [1, 2, 3]
        assert all(window.document.clip.mask(f) is not None for f in (1, 2, 3))
        assert loaded  # the jointformer model was loaded for this run
        assert isinstance(studio.engine.loaded_model(), JointFormerNet)
    finally:
        studio.shutdown()
