"""Fault injection in the desktop app: its engine worker (the GUI's own run path: Studio -> Document -> Engine
-> EngineWorker -> MaskStore, driven by tests/reliability/gui_run.py in a subprocess) is SIGKILLed at a random
point after some frames were saved (several seeds). The project reopens through `Project.open` and through the
app's Studio; every mask and soft mask decodes, the journal loads, every frame the app reported saved is there
byte for byte, and no temporary file poses as a mask."""

from __future__ import annotations

import os
import queue
import random
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from llb_core.io import read_index_mask, read_soft_mask
from llb_core.workspace import Journal, Project
from tests.reliability.gui_run import spawn
from tests.reliability.test_soak import soak_project

CLIP_FRAMES = 60
SEEDS = (1, 2, 3)
LINE_TIMEOUT = 120.0  # s without a line from the app: it hung (the machine is shared; no timing is asserted)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project over a CLIP_FRAMES-frame clip with keyframe 0 (each test runs on a copy)."""
    root = tmp_path_factory.mktemp("gui-kill")
    soak_project(root, CLIP_FRAMES).close()
    return root / "project"


def lines_of(proc: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """The process's stdout lines, read on a thread (None at the end)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def stray_files(folder: Path) -> list[str]:
    """Files under masks/ and soft/ that look like masks (no leading dot) yet are not a decodable PNG."""
    bad = []
    for sub, read in (("masks", read_index_mask), ("soft", read_soft_mask)):
        for path in (folder / sub).rglob("*"):
            if not path.is_file() or path.name.startswith("."):
                continue
            try:
                assert path.suffix == ".png" and path.stem.isdigit()
                read(path)
            except Exception:  # noqa: BLE001 - any failure means the file is damaged or misnamed
                bad.append(str(path.relative_to(folder)))
    return bad


def run_and_kill(project: Path, data: Path, target: int, rng: random.Random) -> dict[int, bytes]:
    """Start a run in the app, SIGKILL it once `target` frames were reported saved (plus a random few ms, so
    the kill may land in the middle of a write); returns frame -> mask bytes as read when it was reported."""
    proc = spawn(project, data)
    lines = lines_of(proc)
    finished: dict[int, bytes] = {}
    try:
        while len(finished) < target:
            line = lines.get(timeout=LINE_TIMEOUT)
            assert line is not None and not line.startswith(("finished", "error")), (
                f"the run ended before the kill ({line}); see {data / 'stderr.log'}"
            )
            if line.startswith("saved "):
                frame = int(line.split()[1])
                finished[frame] = (project / "masks" / f"{frame:05d}.png").read_bytes()
        time.sleep(rng.uniform(0, 0.03))
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    return finished


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_app_worker_killed_mid_run_loses_nothing_reported(template: Path, tmp_path: Path, seed: int) -> None:
    project = tmp_path / "project"
    shutil.copytree(template, project)
    rng = random.Random(seed)
    finished = run_and_kill(project, tmp_path / "data", rng.randint(3, CLIP_FRAMES // 2), rng)

    assert stray_files(project) == []
    Journal(project).entries_after(0)  # loads (raises on a damaged journal)
    with Project.open(project) as reopened:
        for frame, data in finished.items():
            assert reopened.has_mask(frame), f"frame {frame} was reported saved before the kill and is gone"
            assert (project / "masks" / f"{frame:05d}.png").read_bytes() == data
        have = reopened.mask_frames()
        assert all(reopened.read_mask(f) is not None for f in have)
    assert set(finished) | {0} <= set(have)

    # The app opens the project the kill left, and (one seed: a run costs a model load) runs it to the end.
    opener = spawn(project, tmp_path / "data", "--reopen")
    out, _ = opener.communicate(timeout=120)
    assert opener.returncode == 0 and out.startswith("opened "), f"{out}; see {tmp_path / 'data' / 'stderr.log'}"
    assert [int(f) for f in out.split()[1:]] == have
    if seed != SEEDS[0]:
        return
    rerun = spawn(project, tmp_path / "data")
    out, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0 and f"finished {CLIP_FRAMES - 1}" in out, out[-500:]
    assert stray_files(project) == []
    with Project.open(project) as reopened:
        assert reopened.mask_frames() == list(range(CLIP_FRAMES))
