"""Checks of command-line arguments and paths, run before torch is imported or a model is opened.

Each check raises `CliError` with one sentence that names the file or option and the remedy; none of them
imports torch except `device`, which the commands call after every path check has passed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import zipfile
from pathlib import Path

from llb_core.cli import CliError

# What `--resolution` accepts (the engine's own limits, `SessionSettings`).
MIN_RESOLUTION, MAX_RESOLUTION = 64, 4096


def add_max_objects(parser: argparse.ArgumentParser) -> None:
    """The `--max-objects N` option of commands that read keyframe masks."""
    parser.add_argument(
        "--max-objects",
        type=int,
        default=None,
        metavar="N",
        help="refuse masks with more than N object ids (default 50: more is nearly always noise)",
    )


def existing(path: str | Path, what: str) -> Path:
    """`path` must exist (a file or a folder)."""
    path = Path(path)
    if not path.exists():
        raise CliError(f"{path}: {what} not found; check the path")
    return path


def _nearest_existing(path: Path) -> Path:
    probe = path.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _probe_writable(folder: Path, target: Path) -> None:
    """Create and remove a file in `folder` (the only test that also sees read-only mounts and `chattr +i`)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".llb-write-check-", dir=folder)
    except OSError as err:
        raise CliError(
            f"{target}: cannot write in {folder} ({err.strerror}); make it writable or choose another folder"
        ) from err
    os.close(fd)
    os.unlink(name)


def output_folder(path: str | Path, option: str = "--out") -> Path:
    """`path` must be a folder that exists and is writable, or one that can be made below a writable folder."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CliError(f"{path}: is a file, not a folder; give {option} a folder path")
    base = _nearest_existing(path)
    if not base.is_dir():
        raise CliError(f"{path}: {base} is a file, so no folder can be made below it; give {option} another path")
    _probe_writable(base, path)
    return path


def output_file(path: str | Path, option: str) -> Path:
    """`path` must be a file path (not a folder) whose folder exists or can be made, and is writable."""
    path = Path(path)
    if path.is_dir():
        raise CliError(f"{path}: is a folder; give {option} a file name")
    base = _nearest_existing(path.parent)
    if not base.is_dir():
        raise CliError(f"{path}: {base} is a file, so {path.name} cannot be written there; give {option} another path")
    _probe_writable(base, path)
    return path


def held_masks(folder: Path) -> list[Path]:
    """The PNG files directly in `folder` (masks an earlier run wrote), sorted."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png" and p.is_file())


def checkpoint(path: str | Path | None) -> Path | None:
    """`path` (when given) must be a file in PyTorch's zip format: cheap to check, and torch says little more."""
    if path is None:
        return None
    path = Path(path)
    if not path.exists():
        raise CliError(f"{path}: checkpoint not found; give --weights the path of a .pt file written by `llb train`")
    if not path.is_file():
        raise CliError(f"{path}: is a folder, not a checkpoint; give --weights a .pt file written by `llb train`")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as err:
        size = path.stat().st_size
        raise CliError(
            f"{path}: not a PyTorch checkpoint ({size} bytes, not a complete zip archive: truncated or another kind "
            "of file); copy it again or give --weights a .pt file written by `llb train`"
        ) from err
    if not any(name.endswith("data.pkl") for name in names):
        raise CliError(
            f"{path}: a zip archive but not a PyTorch checkpoint; give --weights a .pt file from `llb train`"
        )
    return path


def resolution(value: int | None) -> int | None:
    """`--resolution` must lie within the engine's limits."""
    if value is not None and not MIN_RESOLUTION <= value <= MAX_RESOLUTION:
        raise CliError(
            f"--resolution {value}: give an internal short side between {MIN_RESOLUTION} and {MAX_RESOLUTION} "
            "(default 320)"
        )
    return value


def at_least(option: str, value: int | None, low: int, why: str) -> int | None:
    """`value` (when given) must be at least `low`; `why` says what the option counts."""
    if value is not None and value < low:
        raise CliError(f"{option} {value}: give at least {low} ({why})")
    return value


def runtime_override() -> None:
    """A bad $LLB_RUNTIME is refused before anything loads."""
    from llb_core.inference.settings import resolve_runtime

    try:
        resolve_runtime("auto")
    except ValueError as err:
        raise CliError(str(err)) from None


def device(name: str) -> str:
    """The device must exist on this machine; imports torch, so call it after the path checks."""
    from llb_core.inference.settings import select_device

    try:
        select_device(name)
    except (ValueError, RuntimeError) as err:
        raise CliError(f"--device {name}: {err}") from err
    return name
