"""PNG sequence exporters: DAVIS palette, per-object binary, per-object soft alpha, RGBA cutouts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from llb_core.io._atomic import atomic_write_png
from llb_core.io._masks import quantize_alpha, write_binary_mask, write_index_mask, write_soft_mask
from llb_core.io._objects import ObjectSpec
from llb_core.io._progress import CancelFlag, ProgressFn
from llb_core.io.export._common import (
    ExportOptions,
    MaskSequence,
    combined_alpha,
    hard_index,
    iterate_frames,
    object_mattes,
    planned,
    staged_folder,
)
from llb_core.io.export._frames import PlannedSequence


def _meta(fmt: str, seq: PlannedSequence, objects: Sequence[ObjectSpec], opts: ExportOptions) -> dict:
    return {
        "format": fmt,
        "frames": len(seq.plan.frames),
        "range": [seq.plan.first, seq.plan.last],
        "missing": opts.missing,
        "fps": seq.fps,
        "objects": [o.id for o in objects],
        "grow": opts.grow,
        "feather": opts.feather,
        "bit_depth": opts.bit_depth,
    }


def export_davis(
    seq: MaskSequence,
    out: Path,
    objects: Sequence[ObjectSpec],
    opts: ExportOptions,
    progress: ProgressFn | None = None,
    cancel: CancelFlag = None,
) -> Path:
    """`out/<frame>.png`: one DAVIS palette PNG per frame (index = object id).

    Every PNG exporter writes the frames `opts.frames` / `opts.missing` select (see `plan_frames`), named after
    the source frames.
    """
    seq = planned(seq, opts)
    with staged_folder(out, _meta("davis", seq, objects, opts)) as stage:
        for i in iterate_frames(seq.plan.frames, progress, cancel, f"export to {out}"):
            write_index_mask(stage / f"{seq.frame_name(i)}.png", hard_index(seq, i, objects, opts))
    return Path(out)


def export_binary(
    seq: MaskSequence,
    out: Path,
    objects: Sequence[ObjectSpec],
    opts: ExportOptions,
    progress: ProgressFn | None = None,
    cancel: CancelFlag = None,
) -> Path:
    """`out/<object id>/<frame>.png`: 0/255 greyscale PNGs, one folder per object."""
    seq = planned(seq, opts)
    with staged_folder(out, _meta("binary", seq, objects, opts)) as stage:
        for i in iterate_frames(seq.plan.frames, progress, cancel, f"export to {out}"):
            index = hard_index(seq, i, objects, opts)
            for obj in objects:
                write_binary_mask(stage / str(obj.id) / f"{seq.frame_name(i)}.png", index == obj.id)
    return Path(out)


def export_alpha(
    seq: MaskSequence,
    out: Path,
    objects: Sequence[ObjectSpec],
    opts: ExportOptions,
    progress: ProgressFn | None = None,
    cancel: CancelFlag = None,
) -> Path:
    """`out/<object id>/<frame>.png`: soft alpha as 8- or 16-bit greyscale PNGs (opts.bit_depth)."""
    seq = planned(seq, opts)
    with staged_folder(out, _meta("alpha", seq, objects, opts)) as stage:
        for i in iterate_frames(seq.plan.frames, progress, cancel, f"export to {out}"):
            for obj_id, alpha in object_mattes(seq, i, objects, opts, use_soft=True).items():
                write_soft_mask(stage / str(obj_id) / f"{seq.frame_name(i)}.png", alpha, opts.bit_depth)
    return Path(out)


def export_cutout(
    seq: MaskSequence,
    out: Path,
    objects: Sequence[ObjectSpec],
    opts: ExportOptions,
    progress: ProgressFn | None = None,
    cancel: CancelFlag = None,
) -> Path:
    """`out/<frame>.png`: RGBA PNGs, RGB = the source pixels exactly, A = union matte of the objects.

    RGB is straight (not premultiplied). With opts.bit_depth 16 the PNGs are 16-bit RGBA and RGB holds
    the source's full precision.
    """
    seq = planned(seq, opts)
    with staged_folder(out, _meta("cutout", seq, objects, opts)) as stage:
        for i in iterate_frames(seq.plan.frames, progress, cancel, f"export to {out}"):
            alpha = quantize_alpha(combined_alpha(seq, i, objects, opts), opts.bit_depth)
            rgb = seq.frame(i) if opts.bit_depth == 8 else seq.frame16(i)
            atomic_write_png(stage / f"{seq.frame_name(i)}.png", np.dstack([rgb, alpha]))
    return Path(out)
