"""Soak of the desktop app's engine worker: a long run at a small frame size through the GUI's own run path
(tests/reliability/gui_run.py in a subprocess, so only the app's memory is measured); resident memory, sampled
every 100 saved frames, stays flat within 10% after warm-up. The longer run is benchmarks/soak_gui_worker.py."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from llb_core.workspace import Project
from tests.reliability.gui_run import spawn
from tests.reliability.test_soak import SAMPLE_EVERY, flat, soak_project

FRAMES = int(os.environ.get("LLB_GUI_SOAK_FRAMES", "1500"))


def gui_soak(root: Path, frames: int) -> tuple[list[float], str]:
    """Run the app over a `frames`-frame project in `root`; returns the RSS samples (MB) and its output."""
    soak_project(root, frames).close()
    proc = spawn(root / "project", root / "data", "--rss-every", str(SAMPLE_EVERY))
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, f"{out[-500:]}; see {root / 'data' / 'stderr.log'}"
    samples = [float(m) for m in re.findall(r"^rss ([\d.]+) MB$", out, re.MULTILINE)]
    return samples, out


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads resident memory from /proc")
def test_long_app_run_keeps_memory_flat(tmp_path: Path) -> None:
    samples, out = gui_soak(tmp_path, FRAMES)
    assert f"finished {FRAMES - 1}" in out, out[-500:]
    assert len(samples) == (FRAMES - 1) // SAMPLE_EVERY
    with Project.open(tmp_path / "project") as reopened:
        assert reopened.mask_frames() == list(range(FRAMES))
    problem = flat(samples)
    assert problem is None, problem
