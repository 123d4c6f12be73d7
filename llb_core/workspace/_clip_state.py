"""`ClipState`: one clip's frames as an editor sees them: masks, keyframes, provenance, stale frames, and what
an edit does to them. Qt-free; the app's document, the command line and the evaluation all edit through it.

Names: a frame's *state* is its index mask (PNG-compressed bytes, None when the frame has no mask) plus its
record (`FrameRecord`: the objects it annotates when it is a keyframe, the run that produced its propagated
part, whether it is stale). Records are owned by the clip's backing (`Project`, or `DetachedClip` for a clip
without a project folder) and changed only through `apply`; this class keeps no copy of them. Masks are read
from the backing on first use and kept (compressed) once set here, so pending background writes are never
read half-way; mask files are written by the caller through the project's `MaskStore` (`apply` returns the
frames to write).

Stale frames: where a correction invalidates propagated frames (`FrameRecords.invalidated_by`), their masks
are kept (shown, stored, exported) and marked stale; a run treats them as still to compute and replaces them.

`snapshot` is the engine-facing view: an immutable copy of what one run reads, safe to hand to another thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from llb_core.inference.keyframes import Keyframe
from llb_core.inference.results import Provenance
from llb_core.io import ObjectSpec
from llb_core.workspace._frames import FrameRecord, FrameRecords


def encode_mask(mask: np.ndarray) -> bytes:
    """(H, W) uint8 index mask -> lossless PNG bytes (fast compression; a few KB per frame)."""
    ok, data = cv2.imencode(".png", np.ascontiguousarray(mask, dtype=np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise RuntimeError("could not compress a mask")
    return data.tobytes()


def decode_mask(data: bytes) -> np.ndarray:
    """Inverse of `encode_mask`: (H, W) uint8."""
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def restrict(mask: np.ndarray, ids: Iterable[int]) -> np.ndarray:
    """`mask` with every id not in `ids` set to background."""
    return np.where(np.isin(mask, list(ids)), mask, 0).astype(np.uint8)


@dataclass(frozen=True)
class FrameState:
    """One frame's mask and record (see the module docstring)."""

    mask: bytes | None = None
    annotated: frozenset[int] | None = None
    provenance: Provenance | None = None
    stale: bool = False

    @property
    def is_keyframe(self) -> bool:
        return self.annotated is not None

    @property
    def record(self) -> FrameRecord:
        return FrameRecord(self.annotated, self.provenance, self.stale)

    def array(self) -> np.ndarray | None:
        """The (H, W) uint8 index mask, or None."""
        return None if self.mask is None else decode_mask(self.mask)


EMPTY = FrameState()
States = dict[int, FrameState]


class ClipBacking(Protocol):
    """Where a clip's records and stored masks live (`Project` implements it, as does `DetachedClip`)."""

    @property
    def num_frames(self) -> int: ...

    @property
    def size(self) -> tuple[int, int]: ...

    @property
    def objects(self) -> Sequence[ObjectSpec]: ...

    @property
    def frames(self) -> FrameRecords: ...

    def set_frames(self, changes: Mapping[int, FrameRecord]) -> None: ...

    def read_mask(self, index: int) -> np.ndarray | None: ...

    def has_mask(self, index: int) -> bool: ...


@dataclass
class DetachedClip:
    """A clip's records with no project folder behind them (evaluation, scripts): masks live in the
    `ClipState` alone."""

    num_frames: int
    size: tuple[int, int]
    objects: list[ObjectSpec] = field(default_factory=list)
    frames: FrameRecords = field(init=False)

    def __post_init__(self) -> None:
        self.frames = FrameRecords(self.num_frames)

    def set_frames(self, changes: Mapping[int, FrameRecord]) -> None:
        self.frames.check(changes, [o.id for o in self.objects])
        self.frames.update(changes)

    def read_mask(self, index: int) -> np.ndarray | None:
        return None

    def has_mask(self, index: int) -> bool:
        return False


@dataclass(frozen=True)
class ClipSnapshot:
    """What one run reads, copied (see `ClipState.snapshot`); implements `llb_core.inference.ClipView`."""

    objects: Mapping[int, str]
    keyframes: Mapping[int, frozenset[int]]
    _keyframes: Mapping[int, Keyframe]
    _masks: Mapping[int, np.ndarray | None]
    _provenance: Mapping[int, Provenance]

    def keyframe(self, frame: int) -> Keyframe | None:
        return self._keyframes.get(frame)

    def run_mask(self, frame: int) -> np.ndarray | None:
        mask = self._masks.get(frame)
        return None if mask is None else mask.copy()

    def run_provenance(self, frame: int) -> Provenance | None:
        return self._provenance.get(frame)


class ClipState:
    """Masks and records of every frame of one clip (see the module docstring).

    Args:
        backing: the project (or `DetachedClip`) that owns the records and stores the masks.
    """

    def __init__(self, backing: ClipBacking) -> None:
        self.backing = backing
        self.num_frames = backing.num_frames
        self._masks: dict[int, bytes | None] = {}

    @classmethod
    def detached(
        cls, num_frames: int, size: tuple[int, int], keyframes: Mapping[int, np.ndarray] | None = None
    ) -> ClipState:
        """A clip without a project folder (`DetachedClip`): its objects are those found in `keyframes`
        (frame -> (H, W) uint8 index mask), each keyframe annotating the objects it holds."""
        found = sorted({int(v) for m in (keyframes or {}).values() for v in np.unique(m) if v})
        clip = cls(DetachedClip(num_frames, tuple(size), [ObjectSpec.default(i) for i in found]))  # type: ignore[arg-type]
        for frame, mask in sorted((keyframes or {}).items()):
            present = {int(v) for v in np.unique(mask) if v}
            clip.apply(clip.edit(frame, np.asarray(mask), present, 1))
        return clip

    # -- reading ---------------------------------------------------------------------------------
    @property
    def records(self) -> FrameRecords:
        return self.backing.frames

    @property
    def objects(self) -> dict[int, str]:
        """Object id -> name, in id order."""
        return {o.id: o.name for o in self.backing.objects}

    def _bytes(self, frame: int) -> bytes | None:
        if frame not in self._masks:
            mask = self.backing.read_mask(frame)
            self._masks[frame] = None if mask is None else encode_mask(mask)
        return self._masks[frame]

    def mask(self, frame: int) -> np.ndarray | None:
        """Frame's (H, W) uint8 index mask as stored (stale or not), or None."""
        data = self._bytes(frame)
        return None if data is None else decode_mask(data)

    def state(self, frame: int) -> FrameState:
        rec = self.records.get(frame)
        return FrameState(self._bytes(frame), rec.annotated, rec.provenance, rec.stale)

    def states(self, frames: Iterable[int]) -> States:
        return {f: self.state(f) for f in frames}

    @property
    def keyframes(self) -> dict[int, frozenset[int]]:
        """Keyframe -> annotated objects, in frame order."""
        return self.records.keyframes

    @property
    def provenance(self) -> dict[int, Provenance]:
        return self.records.provenance

    @property
    def stale(self) -> list[int]:
        """Frames marked stale, in order."""
        return self.records.stale

    def is_stale(self, frame: int) -> bool:
        return self.records.get(frame).stale

    def has_mask(self, frame: int) -> bool:
        if frame not in self._masks:
            return self.backing.has_mask(frame)
        return self._masks[frame] is not None

    def needs_run(self, frame: int) -> bool:
        """Whether a run should (re)compute `frame`: it has no mask, or its mask is stale."""
        return self.is_stale(frame) or not self.has_mask(frame)

    def missing(self) -> list[int]:
        """Frames a fill would compute (no mask, or stale), in order."""
        return [f for f in range(self.num_frames) if self.needs_run(f)]

    def keyframe_mask(self, frame: int) -> np.ndarray:
        """What keyframe `frame` itself says: its mask restricted to the objects it annotates."""
        mask = self.mask(frame)
        if mask is None:
            raise KeyError(f"keyframe {frame} has no mask")
        return restrict(mask, self.keyframes[frame])

    # -- the engine-facing view (`llb_core.inference.ClipView`) ---------------------------------
    def keyframe(self, frame: int) -> Keyframe | None:
        annotated = self.records.get(frame).annotated
        if annotated is None or self._bytes(frame) is None:
            return None
        return Keyframe(frame, self.keyframe_mask(frame), annotated)

    def run_mask(self, frame: int) -> np.ndarray | None:
        """The mask a run may start from: the stored one unless stale (a stale keyframe gives its own
        annotation alone; a stale ordinary frame gives None)."""
        rec = self.records.get(frame)
        if rec.is_keyframe and (rec.stale or rec.provenance is None):
            return self.keyframe_mask(frame) if self._bytes(frame) is not None else None
        return None if rec.stale else self.mask(frame)

    def run_provenance(self, frame: int) -> Provenance | None:
        """The run that produced `frame`'s propagated part (None for a hand-painted keyframe)."""
        return self.records.get(frame).provenance

    def snapshot(self, frames: Iterable[int] = ()) -> ClipSnapshot:
        """An immutable copy of what a run reads: objects, keyframes, and the run masks and provenance of
        every keyframe and of `frames` (a run's start)."""
        wanted = set(self.keyframes) | set(frames)
        keyframes = {f: kf for f in self.keyframes if (kf := self.keyframe(f)) is not None}
        return ClipSnapshot(
            dict(self.objects),
            {f: k.annotated for f, k in keyframes.items()},
            keyframes,
            {f: self.run_mask(f) for f in wanted},
            {f: p for f in wanted if (p := self.records.get(f).provenance) is not None},
        )

    # -- changing --------------------------------------------------------------------------------
    def apply(self, states: Mapping[int, FrameState]) -> list[int]:
        """Set frames' states: the records through the backing (one journaled change), the masks here.

        Returns:
            The frames whose mask changed, in order: the caller writes them to the `MaskStore`.
        """
        records = {f: st.record for f, st in states.items() if self.records.get(f) != st.record}
        self.backing.set_frames(records)
        changed = []
        for frame, st in sorted(states.items()):
            if frame not in self._masks or self._masks[frame] != st.mask:  # not read yet: write it anyway
                changed.append(frame)
            self._masks[frame] = st.mask
        return changed

    def _stale_states(self, frames: Iterable[int], out: States) -> None:
        """Add the states of `frames` marked stale, masks kept (frames already stale do not change)."""
        for f in frames:
            rec = self.records.get(f)
            if f not in out and not rec.stale:
                out[f] = FrameState(self._bytes(f), rec.annotated, rec.provenance, True)

    def edit(self, frame: int, mask: np.ndarray, annotated: Iterable[int], count: int) -> States:
        """The states after a person sets `frame`'s mask: it becomes a keyframe annotating `annotated`, and
        every propagated frame that depended on it is marked stale.

        Args:
            mask: (H, W) uint8 index mask holding only objects in `annotated`.
            annotated: declared object ids the mask speaks for (objects not annotated keep their
                propagated masks on that frame).
            count: `SessionSettings.keyframes_in_memory`.

        Raises:
            ValueError: a frame outside the clip, a mask of the wrong size or type, or ids not annotated or
                not declared.
        """
        self._check_edit(frame, mask, annotated)
        after = set(self.keyframes) | {frame}
        out: States = {frame: FrameState(encode_mask(mask), frozenset(annotated), None)}
        self._stale_states(self.records.invalidated_by(frame, after, count), out)
        return out

    def _check_edit(self, frame: int, mask: np.ndarray, annotated: Iterable[int]) -> None:
        if not 0 <= frame < self.num_frames:
            raise ValueError(f"frame {frame} outside 0..{self.num_frames - 1}")
        if mask.shape != tuple(self.backing.size) or mask.dtype != np.uint8:
            raise ValueError(
                f"mask of frame {frame}: must be {tuple(self.backing.size)} uint8, got {mask.shape} {mask.dtype}"
            )
        annotated = set(annotated)
        undeclared = sorted(annotated - set(self.objects))
        if undeclared:
            raise ValueError(f"mask of frame {frame}: objects {undeclared} are not declared; add them first")
        extra = sorted({int(v) for v in np.unique(mask) if v} - annotated)
        if extra:
            raise ValueError(f"mask of frame {frame} holds objects {extra} it does not annotate")

    def unkeyframe(self, frame: int, count: int) -> States:
        """The states after keyframe `frame` becomes an ordinary frame (its hand-made mask goes unless a
        propagated part remains); the frames that depended on it are marked stale."""
        if frame not in self.keyframes:
            raise KeyError(f"frame {frame} is not a keyframe")
        after = set(self.keyframes) - {frame}
        rec = self.records.get(frame)
        own = FrameState(self._bytes(frame), None, rec.provenance, rec.stale) if rec.provenance else EMPTY
        out: States = {frame: own}
        self._stale_states(self.records.invalidated_by(frame, after, count), out)
        return out

    def without_object(self, obj_id: int) -> States:
        """The states after object `obj_id` is removed: its pixels cleared everywhere, keyframes no longer
        annotate it (a keyframe left annotating nothing becomes an ordinary frame). Reads every mask."""
        out: States = {}
        for f in range(self.num_frames):
            mask = self.mask(f)
            rec = self.records.get(f)
            has_pixels = mask is not None and bool((mask == obj_id).any())
            if not has_pixels and (rec.annotated is None or obj_id not in rec.annotated):
                continue
            annotated = None if rec.annotated is None else (rec.annotated - {obj_id} or None)
            if mask is None or (annotated is None and rec.provenance is None):
                out[f] = EMPTY
            else:
                kept = encode_mask(np.where(mask == obj_id, 0, mask).astype(np.uint8))
                out[f] = FrameState(kept, annotated, rec.provenance, rec.stale)
        return out

    def run_state(self, frame: int, mask: np.ndarray, provenance: Provenance) -> FrameState:
        """The state of `frame` once a run delivered its merged (H, W) uint8 `mask` (no longer stale)."""
        return FrameState(encode_mask(mask), self.records.get(frame).annotated, provenance)
