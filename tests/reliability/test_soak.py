"""Soak: a long clip propagated through a project at a small frame size; resident memory, sampled every 100
frames, stays flat within 10% after warm-up (the full-size soak is benchmarks/soak_propagate.py)."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from llb_core.inference import Session, SessionSettings
from llb_core.io import ObjectSpec, write_index_mask
from llb_core.model.defaults import load_model
from llb_core.workspace import ClipState, Project, import_masks, propagate_clip

FRAMES = int(os.environ.get("LLB_SOAK_FRAMES", "2000"))
# Opt-in: on a loaded 2-core machine the engine runs about 1 frame/s even at this size (measured: 600 frames in
# 8 min), so 2,000 frames do not fit the suite's budget; CI sets LLB_SOAK=1 on a machine with spare cores.
ENABLED = os.environ.get("LLB_SOAK") == "1"
SAMPLE_EVERY = 100
WARM_UP = 300  # frames before the memory bank is full and the caches are warm
SETTINGS = SessionSettings(resolution=64, mode="full", init_iterations=3, update_iterations=1)


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def looped_clip(folder: Path, loop: int = 24, size: tuple[int, int] = (48, 64)) -> None:
    """A folder of FRAMES frames: `loop` distinct frames of a moving square, repeated (hard links: no disk cost)."""
    folder.mkdir()
    h, w = size
    for i in range(loop):
        img = np.full((h, w, 3), 40, np.uint8)
        x = 4 + (i if i < loop // 2 else loop - i)
        img[12:32, x : x + 20] = (240, 200, 30)
        Image.fromarray(img).save(folder / f"{i:05d}.png")
    for i in range(loop, FRAMES):
        os.link(folder / f"{i % loop:05d}.png", folder / f"{i:05d}.png")


@pytest.mark.slow
@pytest.mark.skipif(not ENABLED, reason="soak is opt-in: set LLB_SOAK=1 (and LLB_SOAK_FRAMES, default 2000)")
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads resident memory from /proc")
def test_long_project_run_keeps_memory_flat(tmp_path: Path) -> None:
    looped_clip(tmp_path / "clip")
    project = Project.create(tmp_path / "project", tmp_path / "clip", objects=[ObjectSpec.default(1)])
    first = np.zeros((48, 64), np.uint8)
    first[12:32, 4:24] = 1
    (tmp_path / "keys").mkdir()
    write_index_mask(tmp_path / "keys" / "00000.png", first)
    import_masks(project, tmp_path / "keys")
    samples: list[float] = []

    def progress(done: int, total: int) -> None:
        if done % SAMPLE_EVERY == 0:
            gc.collect()
            samples.append(rss_mb())

    try:
        clip = ClipState(project)
        session = Session(project.source, load_model(None, allow_untrained=True), clip, SETTINGS)
        report = propagate_clip(clip, session, project.masks, soft=False, progress=progress)
    finally:
        project.close()
    assert report.frames == FRAMES - 1
    with Project.open(tmp_path / "project") as reopened:
        assert len(reopened.mask_frames()) == FRAMES
    steady = samples[WARM_UP // SAMPLE_EVERY :]
    assert len(steady) >= 3, samples
    base = steady[0]
    assert max(steady) <= base * 1.10, f"resident memory grew from {base:.0f} MB to {max(steady):.0f} MB: {samples}"
