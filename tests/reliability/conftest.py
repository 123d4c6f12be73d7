"""Fixtures of the reliability suite: a small synthetic world of clips, a project and earlier outputs, its
snapshot (to prove that failures change nothing), read-only folders, and a count of cases per suite that is
printed in pytest's terminal summary (visible under -q)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from llb_core.io import ObjectSpec, write_index_mask
from llb_core.io.export import export
from llb_core.workspace import Project, import_masks

REPO_ROOT = Path(__file__).resolve().parents[2]
H, W, FRAMES = 64, 96, 6

# The suites whose cases are counted, by test module.
SUITES = {
    "test_bad_input_cli": "bad-input corpus (CLI)",
    "test_bad_input_api": "bad-input corpus (Project API)",
    "test_parsers_property": "property tests (mask and manifest parsers)",
    "test_kill": "fault injection (SIGKILL)",
    "test_gui_kill": "fault injection (SIGKILL, desktop app worker)",
    "test_soak": "soak",
    "test_gui_soak": "soak (desktop app worker)",
}
_outcomes: dict[str, Counter[str]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count each case of the suites above once, by its outcome."""
    module = Path(report.nodeid.split("::")[0]).stem
    if module in SUITES and (report.when == "call" or (report.when == "setup" and not report.passed)):
        _outcomes.setdefault(module, Counter())[report.outcome] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for module, title in SUITES.items():
        counts = _outcomes.get(module)
        if counts:
            detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            terminalreporter.write_line(f"{title}: {sum(counts.values())} cases ({detail})")


def frame(i: int) -> np.ndarray:
    """(H, W, 3) uint8: a bright square moving right over a gradient."""
    img = np.zeros((H, W, 3), np.uint8)
    img[..., 0] = np.linspace(0, 120, W, dtype=np.uint8)[None, :]
    img[20:44, 10 + 4 * i : 34 + 4 * i] = (250, 220, 40)
    return img


def square_mask() -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[20:44, 10:34] = 1
    return mask


@dataclass(frozen=True)
class World:
    """Everything a bad-input case may point at; none of it may change."""

    root: Path
    clip: Path  # folder of FRAMES PNG frames, W x H
    video: Path  # the same frames as an .mp4
    mask: Path  # a good palette mask of frame 0
    project: Path  # a project with a keyframe at 0 and two propagated-looking frames
    previous_out: Path  # an earlier `llb propagate --out` folder
    previous_export: Path  # an earlier complete davis export
    user_folder: Path  # a person's folder (not an export)
    bad: Path  # the corpus of broken files


def write_video(path: Path, n: int) -> None:
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(str(path), (W, H), fps=10, codec="libx264", macro_block_size=16)
    writer.send(None)
    for i in range(n):
        writer.send(np.ascontiguousarray(frame(i % 12)))
    writer.close()


def make_project(folder: Path, clip: Path, mask: Path, masks_in: Path) -> Path:
    """A project over `clip` with the keyframe `mask` at frame 0 imported."""
    project = Project.create(folder, clip, objects=[ObjectSpec.default(1, "square")])
    masks_in.mkdir(exist_ok=True)
    write_index_mask(masks_in / "00000.png", np.asarray(Image.open(mask)))
    import_masks(project, masks_in)
    project.close()
    return folder


def _bad_files(bad: Path, video: Path) -> None:
    bad.mkdir()
    (bad / "zero.mp4").write_bytes(b"")
    data = video.read_bytes()
    (bad / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (bad / "text.mp4").write_text("this is not a video\n")
    (bad / "no_frames").mkdir()
    (bad / "no_frames" / "readme.txt").write_text("no images here\n")
    (bad / "zero.png").write_bytes(b"")
    (bad / "truncated.png").write_bytes((bad.parent / "mask.png").read_bytes()[:40])
    write_index_mask(bad / "wrong_size.png", np.ones((H, W - 1), np.uint8))
    Image.fromarray(square_mask().astype(np.uint16) * 65535).save(bad / "sixteen_bit.png")
    rng = np.random.default_rng(17)
    Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(bad / "rgb.png")
    grey = np.zeros((H, W), np.uint8)
    grey[10:30, 10:40], grey[35:60, 50:90] = 128, 255
    Image.fromarray(grey).save(bad / "grey_0_128_255.png")
    noise = Image.fromarray(rng.integers(0, 200, (H, W), dtype=np.uint8), mode="P")
    noise.putpalette(list(range(256)) * 3)
    noise.save(bad / "noise_200_ids.png")
    write_index_mask(bad / "empty.png", np.zeros((H, W), np.uint8))
    (bad / "mask.png.mp4").write_bytes((bad.parent / "mask.png").read_bytes())  # a PNG renamed
    (bad / "zero.pt").write_bytes(b"")
    (bad / "garbage.pt").write_bytes(b"\x80\x04not a checkpoint" * 10)
    import torch

    torch.save({"format": "something else", "weights": torch.zeros(100)}, bad / "whole.pt")
    whole = (bad / "whole.pt").read_bytes()
    (bad / "truncated.pt").write_bytes(whole[: len(whole) // 2])
    (bad / "folder.pt").mkdir()
    (bad / "a_file").write_text("a file where a folder is expected\n")


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("world")
    clip = root / "clip"
    clip.mkdir()
    for i in range(FRAMES):
        Image.fromarray(frame(i)).save(clip / f"{i:05d}.png")
    video = root / "clip.mp4"
    write_video(video, FRAMES)
    mask = root / "mask.png"
    write_index_mask(mask, square_mask())
    project = make_project(root / "project", clip, mask, root / "masks_in")
    previous_out = root / "previous_out"
    previous_out.mkdir()
    for i in range(3):
        write_index_mask(previous_out / f"{i:05d}.png", square_mask())
    with Project.open(project) as p:
        previous_export = export(p, "davis", root / "previous_export")
    user_folder = root / "user_folder"
    user_folder.mkdir()
    (user_folder / "notes.txt").write_text("mine\n")
    _bad_files(root / "bad", video)
    return World(root, clip, video, mask, project, previous_out, previous_export, user_folder, root / "bad")


def snapshot(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under `root` (folders as 'dir')."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        out[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _chattr(flag: str, path: Path) -> bool:
    try:
        done = subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False)
    except FileNotFoundError:
        return False
    return done.returncode == 0


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """Make the folder `path` immutable (`chattr +i`: chmod does not stop root), always undone."""
    path.mkdir(parents=True, exist_ok=True)
    if not _chattr("+i", path):
        pytest.skip(f"chattr +i is not supported on the file system of {path}")
    try:
        probe = path / ".probe"
        with contextlib.suppress(OSError):
            probe.write_text("x")
        if probe.exists():
            probe.unlink()
            pytest.skip(f"chattr +i did not make {path} read-only here")
        yield path
    finally:
        _chattr("-i", path)


@contextlib.contextmanager
def small_tmpfs(path: Path, size_kb: int) -> Iterator[Path]:
    """Mount a tmpfs of `size_kb` at `path` (needs root); skips where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a small tmpfs here ({done.stderr.decode().strip()}); the patched-write test covers it"
        )
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], capture_output=True, check=False)


def llb_subprocess(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m llb_core ARGS` from the checkout (the command a person types, without the console script)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "llb_core", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        env=env,
        check=False,
    )
