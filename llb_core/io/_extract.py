"""Extract a clip to numbered image files (for fast scrubbing of long or heavy videos)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import cv2

from llb_core.io._errors import ExportError
from llb_core.io._progress import CancelFlag, ProgressFn, check_cancel, report
from llb_core.io._source import FrameSource


def extract_frames(
    source: FrameSource,
    out_dir: str | Path,
    image_format: str = "png",
    jpeg_quality: int = 95,
    progress: ProgressFn | None = None,
    cancel: CancelFlag = None,
) -> Path:
    """Write every frame of `source` to `out_dir/<frame name>.<png|jpg>`.

    PNG is lossless (frames read back identical); JPEG at `jpeg_quality` is ~5x smaller. Frames go to a
    staging folder renamed to `out_dir` at the end, so a cancelled or failed run leaves nothing behind.

    Args:
        source: the clip.
        out_dir: folder to create; it must not exist yet (or be empty).
        image_format: "png" or "jpg".
        jpeg_quality: 1..100, JPEG only.
        progress: `progress(done, total)`.
        cancel: cancel flag.

    Returns:
        `out_dir`, openable with `ImageFolderSource` (same frame names and order).
    """
    fmt = image_format.lower().lstrip(".")
    if fmt not in ("png", "jpg"):
        raise ExportError(f"frame extraction writes png or jpg, not {image_format!r}")
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out}: already exists and is not empty; choose a new folder for the frames.")
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    params = [cv2.IMWRITE_PNG_COMPRESSION, 1] if fmt == "png" else [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]
    n = source.num_frames
    try:
        for i in range(n):
            check_cancel(cancel, f"extraction of {source.path}")
            bgr = cv2.cvtColor(source.read(i), cv2.COLOR_RGB2BGR)
            target = stage / f"{source.frame_name(i)}.{fmt}"
            if not cv2.imwrite(str(target), bgr, params):
                raise ExportError(f"{target}: could not write the frame; check free disk space.")
            report(progress, i + 1, n)
        if out.exists():
            out.rmdir()
        os.replace(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return out
