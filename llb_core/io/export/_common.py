"""What every exporter shares: options, frame planning, matte controls and safe output staging.

The input protocol, `MaskSequence`, lives in `_sequence` (it is imported here too, its old home).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llb_core.io._atomic import atomic_write_text
from llb_core.io._errors import ExportError, WriteError
from llb_core.io._objects import ObjectSpec
from llb_core.io._progress import CancelFlag, ProgressFn, check_cancel, report
from llb_core.io._source import FrameSource
from llb_core.io.export._frames import PlannedSequence, check_missing, check_range, plan_frames
from llb_core.io.export._matte import apply_matte, disk, union_matte  # noqa: F401 (apply_matte, disk: old home)
from llb_core.io.export._sequence import MaskSequence

MARKER = ".llb-export.json"

log = logging.getLogger(__name__)


class InMemorySequence:
    """A `MaskSequence` over a `FrameSource` and masks held in memory (scripts and tests).

    Args:
        source: the frames.
        masks: frame index -> (H, W) uint8 index mask; frames not in it have no mask (empty, `has_mask` False).
        objects: declared objects (default: one per id found in `masks`).
        soft: (frame index, object id) -> (H, W) float32 soft mask.
    """

    def __init__(
        self,
        source: FrameSource,
        masks: dict[int, np.ndarray],
        objects: Sequence[ObjectSpec] | None = None,
        soft: dict[tuple[int, int], np.ndarray] | None = None,
    ) -> None:
        self.source = source
        self.masks = masks
        self.soft = soft or {}
        if objects is None:
            ids = sorted({int(v) for m in masks.values() for v in np.unique(m)} - {0})
            objects = [ObjectSpec.default(i) for i in ids]
        self._objects = list(objects)

    @property
    def num_frames(self) -> int:
        return self.source.num_frames

    @property
    def fps(self) -> float:
        return self.source.fps

    @property
    def size(self) -> tuple[int, int]:
        return self.source.size

    @property
    def objects(self) -> Sequence[ObjectSpec]:
        return self._objects

    def frame_name(self, index: int) -> str:
        return self.source.frame_name(index)

    def frame(self, index: int) -> np.ndarray:
        return self.source.read(index)

    def frame16(self, index: int) -> np.ndarray:
        return self.source.read16(index)

    def has_mask(self, index: int) -> bool:
        return index in self.masks

    def index_mask(self, index: int) -> np.ndarray:
        m = self.masks.get(index)
        return np.zeros(self.size, np.uint8) if m is None else m

    def soft_mask(self, index: int, obj_id: int) -> np.ndarray | None:
        return self.soft.get((index, obj_id))


@dataclass(frozen=True)
class ExportOptions:
    """Matte controls and format options applied at export.

    Attributes:
        objects: ids to export (None: all declared objects).
        grow: pixels to grow (> 0) or shrink (< 0) the matte, with a disk (after combining the objects).
        feather: blur radius in pixels applied to the matte's edge (0: hard edges).
        bit_depth: 8 or 16, for soft-alpha PNGs, cutouts and grey matte videos.
        video_name: folder name in the YouTube-VOS layout (default: the output folder's name).
        overlay_opacity: mask opacity in overlay previews, 0..1.
        image_ext: extension used for frame file names in COCO `images` entries.
        frames: inclusive (first, last) frame indices to export (None: the whole clip).
        missing: what to do with frames in the range that have no mask, one of `MISSING_POLICIES`: "skip"
            (not written; videos get shorter), "empty" (written with no object) or "hold" (written with the
            masks of the nearest earlier masked frame).
    """

    objects: tuple[int, ...] | None = None
    grow: int = 0
    feather: int = 0
    bit_depth: int = 8
    video_name: str | None = None
    overlay_opacity: float = 0.5
    image_ext: str = ".jpg"
    frames: tuple[int, int] | None = None
    missing: str = "empty"

    def validate(self, seq: MaskSequence) -> list[ObjectSpec]:
        """Check the options against a sequence; return the selected objects in id order."""
        if self.bit_depth not in (8, 16):
            raise ExportError(f"bit depth must be 8 or 16, got {self.bit_depth}")
        if self.feather < 0:
            raise ExportError(f"feather must be >= 0 pixels, got {self.feather}")
        if not 0.0 <= self.overlay_opacity <= 1.0:
            raise ExportError(f"overlay opacity must be in 0..1, got {self.overlay_opacity}")
        check_missing(self.missing)
        check_range(self.frames, seq.num_frames)
        declared = {o.id: o for o in seq.objects}
        if self.objects is None:
            chosen = sorted(declared)
        else:
            missing = sorted(set(self.objects) - set(declared))
            if missing:
                raise ExportError(
                    f"object id(s) {missing} are not in the project (objects: "
                    f"{sorted(declared) or 'none'}); pick ids from that list."
                )
            chosen = sorted(set(self.objects))
        if not chosen:
            raise ExportError("nothing to export: the project declares no objects.")
        return [declared[i] for i in chosen]

    @property
    def is_identity(self) -> bool:
        """True when no grow/shrink/feather is requested."""
        return self.grow == 0 and self.feather == 0


def planned(seq: MaskSequence, opts: ExportOptions) -> PlannedSequence:
    """`seq` wrapped with the plan of `opts.frames` and `opts.missing`; iterate `.plan.frames`."""
    return PlannedSequence(seq, plan_frames(seq, opts.frames, opts.missing))


def object_mattes(
    seq: MaskSequence, index: int, objects: Sequence[ObjectSpec], opts: ExportOptions, use_soft: bool
) -> dict[int, np.ndarray]:
    """Per-object (H, W) float32 mattes of one frame, each the `union_matte` of that object alone.

    Args:
        use_soft: take stored soft masks where present (alpha formats); else the hard index mask.
    """
    mask = seq.index_mask(index)
    out: dict[int, np.ndarray] = {}
    for obj in objects:
        soft = {obj.id: seq.soft_mask(index, obj.id)} if use_soft else None
        out[obj.id] = union_matte(mask, [obj.id], opts.grow, opts.feather, soft)
    return out


def hard_index(seq: MaskSequence, index: int, objects: Sequence[ObjectSpec], opts: ExportOptions) -> np.ndarray:
    """(H, W) uint8 index mask of the selected objects, matte controls applied then thresholded at 0.5.

    Where grown objects overlap, the one with the larger matte value wins (ties: lower id).
    """
    mask = seq.index_mask(index)
    ids = [o.id for o in objects]
    if opts.is_identity:
        return np.where(np.isin(mask, ids), mask, 0).astype(np.uint8)
    mattes = object_mattes(seq, index, objects, opts, use_soft=False)
    stack = np.stack([mattes[i] for i in ids])
    best = np.argmax(stack, axis=0)
    lut = np.array(ids, np.uint8)
    return np.where(stack.max(axis=0) >= 0.5, lut[best], 0).astype(np.uint8)


def combined_alpha(seq: MaskSequence, index: int, objects: Sequence[ObjectSpec], opts: ExportOptions) -> np.ndarray:
    """(H, W) float32 matte of the selected objects' union (`union_matte`), using soft masks where stored."""
    soft = {o.id: seq.soft_mask(index, o.id) for o in objects}
    return union_matte(seq.index_mask(index), [o.id for o in objects], opts.grow, opts.feather, soft)


def _log_leftover(func: object, path: str, exc_info: tuple) -> None:
    log.warning("could not remove the replaced export at %s (%s); delete it by hand", path, exc_info[1])


def is_export_folder(folder: str | Path) -> bool:
    """True if `folder` holds an earlier LLB export (its marker file), which a new export may replace."""
    return (Path(folder) / MARKER).exists()


def folder_accepts_export(folder: str | Path) -> bool:
    """True if a folder export may write `folder`: missing, empty, or an earlier LLB export (which it replaces).

    A file, or a folder that cannot be read, does not accept one (an export tried there reports why).
    """
    folder = Path(folder)
    try:
        if not folder.exists():
            return True
        return folder.is_dir() and (not any(folder.iterdir()) or is_export_folder(folder))
    except OSError:
        return False


@contextlib.contextmanager
def staged_folder(out: Path, meta: dict[str, object]) -> Iterator[Path]:
    """Yield an empty staging folder beside `out`; on success it replaces `out` atomically.

    `out` may be missing, empty, or an earlier LLB export (it holds the marker file); anything else is
    refused so a user folder is never replaced. On error or cancel the staging folder is removed and
    `out` is untouched.
    """
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise ExportError(f"{out}: exists and is a file; choose a folder path for this format.")
        if any(out.iterdir()) and not is_export_folder(out):
            raise ExportError(
                f"{out}: folder is not empty and is not an earlier LLB export; choose a new "
                "or empty folder so nothing of yours is overwritten."
            )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as err:
        blocker = next((p for p in out.parents if p.is_file()), None)
        reason = f"{blocker} is a file, where a folder is needed" if blocker else f"{err.strerror} in {out.parent}"
        raise WriteError(
            f"{out}: cannot write there ({reason}); make that folder writable or choose another destination; "
            "nothing was changed."
        ) from err
    try:
        yield stage
        atomic_write_text(stage / MARKER, json.dumps(meta, indent=1))
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            try:
                os.replace(out, old / "x")
            except OSError as err:
                shutil.rmtree(old, onerror=_log_leftover)
                raise WriteError(
                    f"{out}: the earlier export there cannot be replaced ({err.strerror}); make it writable or choose "
                    "another destination; it was left as it was."
                ) from err
            try:
                os.replace(stage, out)
            except BaseException:
                os.replace(old / "x", out)  # put the previous export back
                raise
            shutil.rmtree(old, onerror=_log_leftover)
        else:
            os.replace(stage, out)
    except WriteError as err:
        shutil.rmtree(stage, ignore_errors=True)
        if err.dest is None:  # already names `out` and the remedy
            raise
        dest = Path(str(err.dest))
        name = dest.relative_to(stage) if dest.is_relative_to(stage) else dest
        raise WriteError(
            f"{out}: could not write {name} ({err.reason}). Free disk space or choose another "
            f"folder; nothing was changed at {out}."
        ) from err
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def iterate_frames(frames: Sequence[int], progress: ProgressFn | None, cancel: CancelFlag, what: str) -> Iterator[int]:
    """Yield `frames` in order, raising `CancelledError` when cancelled and reporting progress after each one."""
    n = len(frames)
    for done, i in enumerate(frames, 1):
        check_cancel(cancel, what)
        yield i
        report(progress, done, n)


def check_file_out(out: Path, suffixes: Sequence[str], fmt: str) -> Path:
    """Validate a single-file output path's suffix."""
    out = Path(out)
    if out.suffix.lower() not in suffixes:
        raise ExportError(
            f"{out}: format {fmt!r} writes a {' or '.join(suffixes)} file; give --out a path ending in {suffixes[0]}."
        )
    if out.is_dir():
        raise ExportError(f"{out}: is a folder; give a file path ending in {suffixes[0]}.")
    return out
