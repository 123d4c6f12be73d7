"""Strict checks of masks a person hands in (keyframes), beyond what `read_index_mask` needs to decode them.

A keyframe mask must be a palette PNG (index = object id) or a greyscale PNG with values 0/255 only: a
greyscale mask with other values (an anti-aliased or 0/128/255 export) would silently merge into one object,
and a palette mask with hundreds of ids is nearly always noise, which the engine would track for hours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from llb_core.io._errors import MaskFileError
from llb_core.io._masks import MaskIssue, read_index_mask

# A sane number of objects in one keyframe; the command line lets a person raise it.
DEFAULT_MAX_OBJECTS = 50


def _greyscale_values(path: Path) -> list[int] | None:
    """The distinct values of a greyscale mask file, or None for other modes."""
    with Image.open(path) as im:
        if im.mode not in ("L", "LA"):
            return None
        return np.unique(np.asarray(im.convert("L"))).tolist()


def _listed(values: list[int], shown: int = 6) -> str:
    head = ", ".join(str(v) for v in values[:shown])
    return head + (f", ... ({len(values)} values)" if len(values) > shown else "")


def inspect_keyframe_mask(
    path: str | Path,
    size: tuple[int, int] | None,
    max_objects: int = DEFAULT_MAX_OBJECTS,
    *,
    allow_empty: bool = False,
) -> tuple[np.ndarray | None, MaskIssue | None]:
    """Read a keyframe mask and refuse what would be silently misread.

    Args:
        path: the mask file.
        size: expected (H, W), or None.
        max_objects: most object ids one mask may hold.
        allow_empty: accept a mask of background only (an imported keyframe where the objects are absent; a
            propagation cannot start from one).

    Returns:
        ((H, W) uint8 index mask, None) when usable, else (None, issue) saying what was found and the remedy.
    """
    path = Path(path)
    try:
        mask = read_index_mask(path, size)
        grey = _greyscale_values(path)
    except MaskFileError as err:
        return None, MaskIssue(path, str(err).removeprefix(f"{path}: "))
    if grey is not None and not set(grey) <= {0, 255}:
        return None, MaskIssue(
            path,
            f"greyscale with values {_listed(grey)}, neither a palette nor 0/255; threshold it to 0/255 (one object) "
            "or save it as a palette PNG (index = object id)",
        )
    ids = np.unique(mask).tolist()
    ids = [i for i in ids if i != 0]
    if len(ids) > max_objects:
        return None, MaskIssue(
            path,
            f"holds {len(ids)} object ids (limit {max_objects}), which looks like noise rather than objects; "
            "fix the mask or raise the limit with --max-objects",
        )
    if not ids and not allow_empty:
        return None, MaskIssue(path, "the mask holds no object (every pixel is background); paint at least one object")
    return mask, None
