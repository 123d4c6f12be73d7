"""A project made in the app continues on the command line, and one made on the command line opens in the app:
the same keyframes, provenance and stale frames either way."""

from __future__ import annotations

import numpy as np
import pytest

from llb_core.cli import main
from llb_core.workspace import Project
from tests.app.conftest import FAST, gt_mask
from tests.app.helpers import stored_masks
from tests.app.test_propagation_gui import RUN_TIMEOUT, run
from tests.workspace.test_ws_project_cli import info

pytestmark = [pytest.mark.gui, pytest.mark.slow]
CLI_FAST = ["--resolution", str(FAST.resolution), "--mode", FAST.mode, "--quiet"]


def dog_mask(frame: int) -> np.ndarray:
    return gt_mask(frame).astype(np.uint8)


def test_gui_project_continues_on_the_command_line(qtbot, window, make_clip, capsys):
    studio = window.studio
    assert studio.open_path(make_clip(6))
    doc = window.document
    doc.add_object("dog")
    assert doc.commit_mask(0, dog_mask(0), "paint")
    run(qtbot, window)
    assert doc.commit_mask(3, dog_mask(3), "correct")  # frames 4, 5 go stale
    assert doc.clip.stale == [4, 5]
    folder = doc.project.folder
    painted = doc.clip.mask(3)
    qtbot.waitUntil(lambda: np.array_equal(stored_masks(doc.project).get(3), painted), timeout=RUN_TIMEOUT)
    assert studio.close_document()
    with Project.open(folder) as project:
        before = {f: project.read_mask(f) for f in range(4)}
    assert np.array_equal(before[3], painted)
    assert main(["propagate", "--project", str(folder), *CLI_FAST]) == 0
    assert "2 frames" in capsys.readouterr().err  # exactly the stale ones
    state = info(folder, capsys)
    assert state["stale"] == [] and state["keyframes"] == {"0": [1], "3": [1]}
    assert {"frames": [4, 5], "from": 3, "direction": 1} in state["propagated"]
    with Project.open(folder) as project:
        assert all(np.array_equal(project.read_mask(f), m) for f, m in before.items())


def test_cli_project_opens_in_the_gui(qtbot, window, make_clip, tmp_path, capsys):
    clip = make_clip(6)
    folder = tmp_path / "cli.llbproj"
    gt = tmp_path / "gt"
    gt.mkdir()
    from PIL import Image

    Image.fromarray(dog_mask(0) * 255).save(gt / "00000.png")
    assert main(["project", "create", str(clip), "--out", str(folder), "--object", "dog"]) == 0
    assert main(["project", "import", str(folder), str(gt), "--no-create-objects"]) == 0
    assert main(["propagate", "--project", str(folder), *CLI_FAST]) == 0
    assert window.studio.open_path(folder)
    doc = window.document
    assert [o.name for o in doc.objects] == ["dog"] and doc.clip.keyframes == {0: frozenset({1})}
    assert sorted(doc.clip.provenance) == [1, 2, 3, 4, 5] and doc.clip.missing() == []
    assert doc.commit_mask(2, dog_mask(2), "correct")
    assert doc.clip.stale == [3, 4, 5]  # the GUI's correction, by the same rule
