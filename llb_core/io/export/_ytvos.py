"""YouTube-VOS layout: `Annotations/<video>/<frame>.png` palette masks plus `meta.json`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from llb_core.io._masks import write_index_mask
from llb_core.io._objects import ObjectSpec
from llb_core.io._progress import CancelFlag, ProgressFn
from llb_core.io.export._common import ExportOptions, MaskSequence, hard_index, iterate_frames, planned, staged_folder


def export_ytvos(
    seq: MaskSequence,
    out: Path,
    objects: Sequence[ObjectSpec],
    opts: ExportOptions,
    progress: ProgressFn | None = None,
    cancel: CancelFlag = None,
) -> Path:
    """Write `out/Annotations/<video>/<frame>.png` for every planned frame (`plan_frames`) and `out/meta.json`.

    `meta.json` follows the YouTube-VOS schema: `{"videos": {video: {"objects": {"<id>":
    {"category": name, "frames": [frame names where the object is present]}}}}}`.
    """
    out = Path(out)
    seq = planned(seq, opts)
    video = opts.video_name or out.name
    frames_of: dict[int, list[str]] = {o.id: [] for o in objects}
    plan = seq.plan
    meta = {
        "format": "ytvos",
        "frames": len(plan.frames),
        "range": [plan.first, plan.last],
        "missing": opts.missing,
        "fps": seq.fps,
        "video": video,
    }
    with staged_folder(out, meta) as stage:
        ann = stage / "Annotations" / video
        for i in iterate_frames(plan.frames, progress, cancel, f"export to {out}"):
            index = hard_index(seq, i, objects, opts)
            name = seq.frame_name(i)
            write_index_mask(ann / f"{name}.png", index)
            for obj_id in np.unique(index).tolist():
                if obj_id:
                    frames_of[obj_id].append(name)
        doc = {
            "videos": {
                video: {"objects": {str(o.id): {"category": o.name, "frames": frames_of[o.id]} for o in objects}}
            }
        }
        (stage / "meta.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return out
