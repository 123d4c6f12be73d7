"""Exporters: mask sequences, mattes, cutouts, videos and COCO annotations from a `MaskSequence`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from llb_core.io._progress import CancelFlag, ProgressFn
from llb_core.io.export._coco import export_coco
from llb_core.io.export._common import (
    ExportOptions,
    InMemorySequence,
    combined_alpha,
    folder_accepts_export,
    hard_index,
    is_export_folder,
)
from llb_core.io.export._frames import MISSING_POLICIES, FramePlan, masked_frames, plan_frames
from llb_core.io.export._matte import apply_matte, union_alpha, union_matte
from llb_core.io.export._png import export_alpha, export_binary, export_cutout, export_davis
from llb_core.io.export._sequence import MaskSequence
from llb_core.io.export._video import export_matte, export_overlay, export_prores, overlay_frame
from llb_core.io.export._ytvos import export_ytvos

Exporter = Callable[..., Path]

FORMATS: dict[str, tuple[Exporter, str]] = {
    "davis": (export_davis, "folder of DAVIS palette PNGs, <frame>.png"),
    "ytvos": (export_ytvos, "YouTube-VOS folder: Annotations/<video>/<frame>.png + meta.json"),
    "binary": (export_binary, "folder per object of 0/255 PNGs, <id>/<frame>.png"),
    "alpha": (export_alpha, "folder per object of soft alpha PNGs (8/16-bit), <id>/<frame>.png"),
    "cutout": (export_cutout, "folder of RGBA PNGs: source RGB + matte"),
    "prores": (export_prores, ".mov ProRes 4444 with alpha"),
    "matte": (export_matte, "greyscale matte video (.mov ProRes 422 HQ or .mkv FFV1 lossless)"),
    "overlay": (export_overlay, ".mp4 H.264 preview with coloured masks"),
    "coco": (export_coco, ".json COCO instances with RLE masks"),
}


def export(
    seq: MaskSequence,
    fmt: str,
    out: str | Path,
    options: ExportOptions | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFlag = None,
) -> Path:
    """Export `seq` in format `fmt` to `out` (a folder or a file, depending on the format).

    Output appears only when complete: on error or cancel, partial files are removed and a previous
    export at `out` is left intact.

    Args:
        seq: masks and frames (a workspace `Project`, or an `InMemorySequence`).
        fmt: one of `FORMATS`.
        out: output folder (PNG formats) or file (video formats, COCO).
        options: matte controls, frame range, missing-frame policy and format options.
        progress: called as `progress(done_frames, total_frames)`.
        cancel: `threading.Event` or callable; when set, the export stops with `CancelledError`.

    Raises:
        ExportError: unknown format, bad options or range, nothing to write, unwritable output, encoder failure.
        CancelledError: cancelled.
    """
    from llb_core.io._errors import ExportError

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    opts = options or ExportOptions()
    objects = opts.validate(seq)
    return FORMATS[fmt][0](seq, Path(out), objects, opts, progress, cancel)


__all__ = [
    "FORMATS",
    "MISSING_POLICIES",
    "ExportOptions",
    "FramePlan",
    "InMemorySequence",
    "MaskSequence",
    "apply_matte",
    "combined_alpha",
    "export",
    "export_alpha",
    "export_binary",
    "export_coco",
    "export_cutout",
    "export_davis",
    "export_matte",
    "export_overlay",
    "export_prores",
    "export_ytvos",
    "folder_accepts_export",
    "hard_index",
    "is_export_folder",
    "masked_frames",
    "overlay_frame",
    "plan_frames",
    "union_alpha",
    "union_matte",
]
