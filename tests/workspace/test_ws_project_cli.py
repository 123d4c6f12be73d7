"""A project through the command line alone: create, import, propagate, correct one frame from Python, propagate
again (only the dependent frames change), info, export; and the refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from llb_core.cli import main
from llb_core.workspace import ClipState, Project
from tests.conftest import DAVIS

FAST = ["--resolution", "128", "--mode", "full", "--quiet"]


@pytest.fixture
def dog(shared_data: Path, tmp_path: Path) -> tuple[Path, Path]:
    """An 8-frame copy of DAVIS dog and a folder with its frame-0 ground truth."""
    clip, gt = tmp_path / "dog", tmp_path / "gt"
    clip.mkdir()
    gt.mkdir()
    for i in range(8):
        shutil.copy(DAVIS / "JPEGImages" / "480p" / "dog" / f"{i:05d}.jpg", clip)
    shutil.copy(DAVIS / "Annotations" / "480p" / "dog" / "00000.png", gt)
    return clip, gt


def info(folder: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["project", "info", str(folder), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_round_trip(dog, tmp_path, capsys):
    clip, gt = dog
    p = tmp_path / "dog.llbproj"
    assert main(["project", "create", str(clip), "--out", str(p)]) == 0
    assert main(["project", "import", str(p), str(gt)]) == 0
    assert "1 keyframe(s) imported, new objects [1]" in capsys.readouterr().out
    assert main(["propagate", "--project", str(p), *FAST]) == 0
    first = info(p, capsys)
    assert first["keyframes"] == {"0": [1]} and first["missing"] == [] and first["stale"] == []
    assert first["propagated"] == [{"frames": [1, 7], "from": 0, "direction": 1}]
    before = {f: Project.open(p).read_mask(f) for f in range(8)}

    with Project.open(p) as project:  # a correction from Python, as the app makes it
        clip_state = ClipState(project)
        corrected = np.zeros(project.size, np.uint8)
        corrected[150:350, 300:600] = 1
        states = clip_state.edit(4, corrected, [1], 3)
        project.masks.write(4, corrected)
        clip_state.apply(states)
    assert info(p, capsys)["stale"] == [[5, 7]]

    assert main(["propagate", "--project", str(p), *FAST]) == 0
    assert "3 frames" in capsys.readouterr().err
    after = info(p, capsys)
    assert after["stale"] == [] and after["keyframes"] == {"0": [1], "4": [1]}
    assert after["propagated"] == [
        {"frames": [1, 3], "from": 0, "direction": 1},
        {"frames": [5, 7], "from": 4, "direction": 1},
    ]
    with Project.open(p) as project:
        for f in range(4):  # not dependent on frame 4: the files are what they were
            assert np.array_equal(project.read_mask(f), before[f])
        assert np.array_equal(project.read_mask(4), corrected)
        assert any(not np.array_equal(project.read_mask(f), before[f]) for f in range(5, 8))
    assert main(["propagate", "--project", str(p), *FAST]) == 0
    assert "nothing to do" in capsys.readouterr().err

    out = tmp_path / "davis"
    assert main(["export", str(p), "--format", "davis", "--out", str(out)]) == 0
    assert len(list(out.rglob("*.png"))) == 8


def test_refusals_are_one_line(dog, tmp_path, capsys):
    clip, gt = dog
    assert main(["project", "info", str(gt)]) == 2
    assert "not an LLB project folder" in capsys.readouterr().err
    p = tmp_path / "p.llbproj"
    assert main(["project", "create", str(clip), "--out", str(p)]) == 0
    assert main(["propagate", "--project", str(p), "--out", str(tmp_path / "x")]) == 2
    assert "--project takes no INPUT" in capsys.readouterr().err
    assert main(["propagate", "--project", str(p), *FAST]) == 2
    assert "no keyframe yet; import masks with `llb project import" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    from PIL import Image

    Image.fromarray(np.zeros((100, 100), np.uint8)).save(bad / "00002.png")
    assert main(["project", "import", str(p), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing imported, 1 file(s) rejected" in err and "00002.png" in err
