"""The project: its state and its folder. No Qt.

Who owns what: `Project` owns the objects and the frames' records (`FrameRecords`: keyframes with the objects
each annotates, provenance, stale frames) in its manifest, journaled on every change; `MaskStore`
(`Project.masks`) is the one writer of mask files; `FrameRecords.invalidated_by` decides what a correction
invalidates; `ClipState` is the editing model over them (masks, edits, the engine-facing snapshot), and
`propagate_clip` runs the engine over it.
"""

from llb_core.workspace._clip_state import (
    EMPTY,
    ClipBacking,
    ClipSnapshot,
    ClipState,
    DetachedClip,
    FrameState,
    States,
    decode_mask,
    encode_mask,
    restrict,
)
from llb_core.workspace._errors import MaskImportError, ProjectError, SourceContentError, SourceMismatchError
from llb_core.workspace._fingerprint import fingerprint, same_content
from llb_core.workspace._frames import PLAIN, FrameRecord, FrameRecords, frame_ranges
from llb_core.workspace._import import import_masks
from llb_core.workspace._import_report import ImportReport
from llb_core.workspace._journal import JOURNAL_NAME, Journal
from llb_core.workspace._manifest import FORMAT_VERSION, MANIFEST_NAME, Manifest, parse_manifest
from llb_core.workspace._mask_store import MaskStore
from llb_core.workspace._project import Project
from llb_core.workspace._propagate import propagate_clip

__all__ = [
    "EMPTY",
    "FORMAT_VERSION",
    "PLAIN",
    "ClipBacking",
    "ClipSnapshot",
    "ClipState",
    "DetachedClip",
    "FrameRecord",
    "FrameRecords",
    "FrameState",
    "MaskStore",
    "States",
    "decode_mask",
    "encode_mask",
    "frame_ranges",
    "propagate_clip",
    "restrict",
    "JOURNAL_NAME",
    "MANIFEST_NAME",
    "ImportReport",
    "Journal",
    "Manifest",
    "MaskImportError",
    "Project",
    "ProjectError",
    "SourceContentError",
    "SourceMismatchError",
    "fingerprint",
    "import_masks",
    "parse_manifest",
    "same_content",
]
