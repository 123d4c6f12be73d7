"""The DAVIS folder layout: `<root>/JPEGImages/<res>/<seq>/` beside `<root>/Annotations/<res>/<seq>/`.

`<res>` names the frame height (`480p`, `360p`, `240p`, `1080p`, ...). Readers take whichever resolution
folder a root holds; a root with several needs the caller to choose one.
"""

from __future__ import annotations

import re
from pathlib import Path

from llb_core.io._errors import LlbIoError

FRAMES_FOLDER = "JPEGImages"
MASKS_FOLDER = "Annotations"
FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")
_RESOLUTION = re.compile(r"^\d+p$|^Full-Resolution$")


class DavisLayoutError(LlbIoError):
    """A folder is not a usable DAVIS-layout root (missing or ambiguous resolution folder)."""


def _resolutions(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and _RESOLUTION.match(p.name))


def davis_resolution(root: str | Path, resolution: str | None = None) -> str:
    """The resolution folder (e.g. "480p") that both `root/JPEGImages` and `root/Annotations` hold.

    Args:
        root: the DAVIS-layout root.
        resolution: the folder to use; None: the only one the root holds.

    Raises:
        DavisLayoutError: no such root, no resolution folder, several (and none chosen), or the chosen one
            missing on either side. The message names the folders and the fix.
    """
    root = Path(root)
    if not root.is_dir():
        raise DavisLayoutError(f"{root}: no such folder. Give the root of a DAVIS-layout data set.")
    layout = f"{FRAMES_FOLDER}/<res>/<seq>/ and {MASKS_FOLDER}/<res>/<seq>/ (<res>: 480p, 360p, 240p, ...)"
    if resolution is not None:
        for sub in (FRAMES_FOLDER, MASKS_FOLDER):
            if not (root / sub / resolution).is_dir():
                raise DavisLayoutError(
                    f"{root / sub / resolution}: folder not found. A DAVIS-layout root holds {layout}; "
                    f"this root has {_resolutions(root / sub) or 'none'} under {sub}."
                )
        return resolution
    frames, masks = _resolutions(root / FRAMES_FOLDER), _resolutions(root / MASKS_FOLDER)
    common = sorted(set(frames) & set(masks))
    if len(common) == 1:
        return common[0]
    if not common:
        missing = root / (MASKS_FOLDER if frames else FRAMES_FOLDER)
        if frames:
            missing = missing / frames[0]
        raise DavisLayoutError(f"{missing}: folder not found. A DAVIS-layout root holds {layout}; point to that root.")
    raise DavisLayoutError(
        f'{root}: several resolution folders ({", ".join(common)}); choose one (e.g. resolution = "{common[0]}").'
    )


def davis_folders(root: str | Path, resolution: str | None = None) -> tuple[Path, Path]:
    """(frames folder, masks folder) of a DAVIS-layout root: `root/JPEGImages/<res>`, `root/Annotations/<res>`."""
    res = davis_resolution(root, resolution)
    return Path(root) / FRAMES_FOLDER / res, Path(root) / MASKS_FOLDER / res


def davis_sequences(frames_dir: Path) -> list[str]:
    """Sequence names: the sub-folders of `frames_dir` that hold frames (image files), sorted.

    Other folders beside the sequences (a `<seq>.llbproj` project folder, say) are not sequences. A sequence
    without annotations is still listed, so that readers can say what is missing.
    """
    return sorted(p.name for p in frames_dir.iterdir() if p.is_dir() and _holds_frames(p))


def _holds_frames(folder: Path) -> bool:
    return any(p.suffix.lower() in FRAME_SUFFIXES for p in folder.iterdir())
