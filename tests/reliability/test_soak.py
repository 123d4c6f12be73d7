"""Soak: a 2,000-frame clip propagated through a project at a small frame size; resident memory, sampled every
100 frames, stays flat within 10% after warm-up (the same run with its RSS log: benchmarks/soak_propagate.py).

The run uses one torch thread: at 48x64 a frame costs about 10 ms of convolutions, and two threads on a
2-core machine already busy (a training job) made each convolution wait for a core, 40-100x slower
(profiled: 1.6 s/frame with 2 threads, 22 ms/frame with 1). The soak tests memory, not speed."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from llb_core.inference import Session, SessionSettings
from llb_core.io import ObjectSpec, write_index_mask
from llb_core.model.defaults import load_model
from llb_core.workspace import ClipState, Project, import_masks, propagate_clip

FRAMES = int(os.environ.get("LLB_SOAK_FRAMES", "2000"))
SAMPLE_EVERY = 100
WARM_UP = 300  # frames before the memory bank is full and the caches are warm
SETTINGS = SessionSettings(resolution=64, mode="full", init_iterations=3, update_iterations=1)


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def looped_clip(folder: Path, frames: int = FRAMES, loop: int = 24, size: tuple[int, int] = (48, 64)) -> None:
    """A folder of `frames` frames: `loop` distinct frames of a moving square, repeated (hard links: no disk
    cost)."""
    folder.mkdir()
    h, w = size
    for i in range(loop):
        img = np.full((h, w, 3), 40, np.uint8)
        x = 4 + (i if i < loop // 2 else loop - i)
        img[12:32, x : x + 20] = (240, 200, 30)
        Image.fromarray(img).save(folder / f"{i:05d}.png")
    for i in range(loop, frames):
        os.link(folder / f"{i % loop:05d}.png", folder / f"{i:05d}.png")


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch's CPU kernels on one thread (see the module docstring), restoring the count afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def soak_project(root: Path, frames: int = FRAMES) -> Project:
    """A project over a looped clip of `frames` frames with the first frame's square as keyframe 0."""
    looped_clip(root / "clip", frames)
    project = Project.create(root / "project", root / "clip", objects=[ObjectSpec.default(1)])
    first = np.zeros((48, 64), np.uint8)
    first[12:32, 4:24] = 1
    (root / "keys").mkdir()
    write_index_mask(root / "keys" / "00000.png", first)
    import_masks(project, root / "keys")
    return project


def flat(samples: list[float]) -> str | None:
    """None if the samples after warm-up stay within 10% of the first of them; otherwise why not."""
    steady = samples[WARM_UP // SAMPLE_EVERY :]
    if len(steady) < 3:
        return f"too few samples after warm-up: {samples}"
    base = steady[0]
    if max(steady) > base * 1.10:
        return f"resident memory grew from {base:.0f} MB to {max(steady):.0f} MB: {samples}"
    return None


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads resident memory from /proc")
def test_long_project_run_keeps_memory_flat(tmp_path: Path) -> None:
    project = soak_project(tmp_path)
    samples: list[float] = []

    def progress(done: int, total: int) -> None:
        if done % SAMPLE_EVERY == 0:
            gc.collect()
            samples.append(rss_mb())

    try:
        with one_torch_thread():
            clip = ClipState(project)
            session = Session(project.source, load_model(None, allow_untrained=True), clip, SETTINGS)
            report = propagate_clip(clip, session, project.masks, soft=False, progress=progress)
    finally:
        project.close()
    assert report.frames == FRAMES - 1
    with Project.open(tmp_path / "project") as reopened:
        assert len(reopened.mask_frames()) == FRAMES
    problem = flat(samples)
    assert problem is None, problem


def test_flatness_check_catches_growth_and_short_runs() -> None:
    warm = [300.0] * (WARM_UP // SAMPLE_EVERY)
    assert flat([*warm, 400.0, 410.0, 439.0, 440.0]) is None
    assert "grew from 400 MB to 441 MB" in (flat([*warm, 400.0, 420.0, 441.0]) or "")
    assert "too few samples" in (flat([*warm, 400.0, 401.0]) or "")
