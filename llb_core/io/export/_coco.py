"""COCO instance annotations with RLE masks (pycocotools), one image entry per frame."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils

from llb_core.io._atomic import atomic_write_text
from llb_core.io._objects import ObjectSpec
from llb_core.io._progress import CancelFlag, ProgressFn
from llb_core.io.export._common import ExportOptions, MaskSequence, check_file_out, hard_index, iterate_frames, planned


def export_coco(
    seq: MaskSequence,
    out: Path,
    objects: Sequence[ObjectSpec],
    opts: ExportOptions,
    progress: ProgressFn | None = None,
    cancel: CancelFlag = None,
) -> Path:
    """Write one COCO JSON file.

    Images: one per planned frame (`plan_frames`; `id` = frame index + 1, `file_name` = frame name + opts.image_ext,
    `frame_index`). Categories: one per object (`id` = object id, `name`). Annotations: one per object
    present in a frame, `segmentation` an uncompressed-size RLE (`{"size": [H, W], "counts": str}`),
    `area` and `bbox` from pycocotools, `iscrowd` 0, and `track_id` = object id.
    """
    out = check_file_out(out, (".json",), "coco")
    seq = planned(seq, opts)
    h, w = seq.size
    images, anns = [], []
    for i in iterate_frames(seq.plan.frames, progress, cancel, f"export to {out}"):
        images.append(
            {
                "id": i + 1,
                "file_name": f"{seq.frame_name(i)}{opts.image_ext}",
                "width": w,
                "height": h,
                "frame_index": i,
            }
        )
        index = hard_index(seq, i, objects, opts)
        present = set(np.unique(index).tolist())
        for obj in objects:
            if obj.id not in present:
                continue
            rle = mask_utils.encode(np.asfortranarray(index == obj.id, dtype=np.uint8))
            bbox = [float(v) for v in mask_utils.toBbox(rle)]
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i + 1,
                    "category_id": obj.id,
                    "segmentation": {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")},
                    "area": float(mask_utils.area(rle)),
                    "bbox": bbox,
                    "iscrowd": 0,
                    "track_id": obj.id,
                }
            )
    doc = {
        "info": {"description": "LLB Studio export", "fps": seq.fps, "num_frames": seq.num_frames},
        "images": images,
        "annotations": anns,
        "categories": [{"id": o.id, "name": o.name, "supercategory": "object"} for o in objects],
    }
    atomic_write_text(out, json.dumps(doc))
    return out
