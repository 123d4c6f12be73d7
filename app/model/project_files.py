"""Where projects live. Qt-free.

Opening a project folder opens it. Opening a bare video file or folder of frames opens (or creates) its
project: `<clip>.llbproj` beside the clip (`street.mp4` -> `street.mp4.llbproj`, `frames/` ->
`frames.llbproj`), so the work travels with the footage. When that folder cannot be written (read-only
media, a system folder), the project goes to the app's data folder instead, named after the clip plus a
hash of its path (`<data>/projects/street.mp4-1a2b3c4d.llbproj`), so reopening the same clip finds it. A
`.llbproj` folder that already belongs to another clip is never reused: `-2`, `-3`, ... are tried next.
The demo project always lives in the data folder (`<data>/projects/demo.llbproj`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from llb_core.workspace import MANIFEST_NAME, Project, ProjectError, parse_manifest

SUFFIX = ".llbproj"


def is_project(path: str | Path) -> bool:
    """True for a folder holding a project manifest (or only its backup)."""
    p = Path(path)
    return p.is_dir() and ((p / MANIFEST_NAME).exists() or (p / (MANIFEST_NAME + ".bak")).exists())


def _writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def _source_of(folder: Path) -> Path | None:
    """The clip a project folder belongs to, or None if it is not a readable project."""
    for name in (MANIFEST_NAME, MANIFEST_NAME + ".bak"):
        path = folder / name
        try:
            return Path(parse_manifest(path.read_text(encoding="utf-8"), path).source_path).resolve()
        except (OSError, ProjectError):
            continue
    return None


def candidates(source: Path, data_dir: Path) -> list[Path]:
    """Project folders a clip may use, in order of preference."""
    source = source.resolve()
    beside = source.parent if _writable(source.parent) else None
    tag = hashlib.sha1(str(source).encode()).hexdigest()[:8]
    root, stem = (beside, source.name) if beside is not None else (data_dir / "projects", f"{source.name}-{tag}")
    return [root / f"{stem}{SUFFIX}"] + [root / f"{stem}-{k}{SUFFIX}" for k in range(2, 100)]


def open_or_create(path: str | Path, data_dir: str | Path) -> tuple[Path, bool]:
    """The project folder for `path` and whether it must be created (see the module docstring).

    Returns:
        (folder, create): `create` is True when no project exists there yet.
    """
    p = Path(path).expanduser()
    if is_project(p):
        return p, False
    for folder in candidates(p, Path(data_dir)):
        if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
            return folder, True
        if is_project(folder) and _source_of(folder) == p.resolve():
            return folder, False
    raise FileExistsError(f"{p}: 98 project folders beside it belong to other clips; open one of them directly")


def declare_found_objects(project: Project) -> list[int]:
    """Declare every object id found in the project's mask files but not in its manifest (after restoring an
    older manifest from its backup, so strokes made since are not orphaned); returns the ids declared."""
    declared = {o.id for o in project.objects}
    found: set[int] = set()
    for frame in project.mask_frames():
        mask = project.read_mask(frame)
        if mask is not None:
            found.update(int(v) for v in np.unique(mask) if v)
    new = sorted(found - declared)
    for obj_id in new:
        project.add_object(f"object {obj_id} (recovered)", obj_id=obj_id)
    return new


def demo_folder(data_dir: str | Path) -> Path:
    return Path(data_dir) / "projects" / f"demo{SUFFIX}"
