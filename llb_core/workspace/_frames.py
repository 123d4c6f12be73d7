"""What a project knows about each frame beyond its pixels, and what a change to a keyframe invalidates.

Names: a frame's *record* says whether it is a keyframe (and which objects the person annotated there), which
run produced its propagated part (`Provenance`: the keyframe the run started from and its direction) and
whether it is *stale* (a correction invalidated its propagated part; its mask is kept until a run replaces
it). `FrameRecords` holds the records of every frame; the project manifest owns the live instance
(`Manifest.frames`), changed only through `Project.set_frames`.

`FrameRecords.invalidated_by` is the one rule for what a correction invalidates: a propagated frame depended on
keyframe state at frame c if its run started at or passed through c, or if c is (or becomes) one of the
keyframes the run carries in memory (`llb_core.inference.keyframes.memory_keyframes`, the engine's rule).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from llb_core.inference.keyframes import memory_keyframes
from llb_core.inference.results import Provenance


@dataclass(frozen=True)
class FrameRecord:
    """One frame's record (see the module docstring); the default is an ordinary frame without a run."""

    annotated: frozenset[int] | None = None  # a keyframe: the objects the person's mask speaks for
    provenance: Provenance | None = None  # the run that produced its propagated part
    stale: bool = False

    @property
    def is_keyframe(self) -> bool:
        return self.annotated is not None


PLAIN = FrameRecord()


class FrameRecords:
    """Records of every frame of a clip of `num_frames` frames (frames without one are `PLAIN`)."""

    def __init__(self, num_frames: int, records: Mapping[int, FrameRecord] | None = None) -> None:
        self.num_frames = num_frames
        self._records: dict[int, FrameRecord] = {}
        self.update(records or {})

    # -- reading ---------------------------------------------------------------------------------
    def get(self, frame: int) -> FrameRecord:
        return self._records.get(frame, PLAIN)

    def items(self) -> list[tuple[int, FrameRecord]]:
        """Frames with a record other than `PLAIN`, in order."""
        return sorted(self._records.items())

    @property
    def keyframes(self) -> dict[int, frozenset[int]]:
        """Keyframe -> the objects it annotates, in frame order."""
        return {f: r.annotated for f, r in self.items() if r.annotated is not None}

    @property
    def provenance(self) -> dict[int, Provenance]:
        """Propagated frame -> the run that produced it, in frame order."""
        return {f: r.provenance for f, r in self.items() if r.provenance is not None}

    @property
    def stale(self) -> list[int]:
        return [f for f, r in self.items() if r.stale]

    def copy(self) -> FrameRecords:
        return FrameRecords(self.num_frames, self._records)

    # -- changing --------------------------------------------------------------------------------
    def check(self, changes: Mapping[int, FrameRecord], objects: Iterable[int] | None = None) -> None:
        """Raise ValueError if `changes` name a frame outside the clip, a bad direction or (given the declared
        `objects`) annotate an undeclared object."""
        declared = None if objects is None else set(objects)
        for frame, rec in changes.items():
            if not 0 <= frame < self.num_frames:
                raise ValueError(f"frame {frame} outside 0..{self.num_frames - 1}")
            if rec.provenance is not None and rec.provenance.direction not in (-1, 1):
                raise ValueError(f"frame {frame}: run direction must be +1 or -1, got {rec.provenance.direction}")
            if declared is not None and rec.annotated is not None and not rec.annotated <= declared:
                raise ValueError(f"keyframe {frame} annotates undeclared objects {sorted(rec.annotated - declared)}")

    def update(self, changes: Mapping[int, FrameRecord]) -> None:
        """Replace the records of some frames (checked first; nothing changes on error)."""
        self.check(changes)
        for frame, rec in changes.items():
            if rec == PLAIN:
                self._records.pop(frame, None)
            else:
                self._records[frame] = rec

    def without_object(self, obj_id: int) -> dict[int, FrameRecord]:
        """The changed records once `obj_id` is gone: keyframes stop annotating it (one left annotating nothing
        becomes an ordinary frame)."""
        out = {}
        for f, rec in self.items():
            if rec.annotated is not None and obj_id in rec.annotated:
                annotated = rec.annotated - {obj_id}
                out[f] = FrameRecord(annotated or None, rec.provenance, rec.stale)
        return out

    # -- the invalidation rule -------------------------------------------------------------------
    def invalidated_by(self, changed: int, after: Iterable[int], count: int) -> list[int]:
        """Propagated frames that depended on keyframe state at `changed` (see the module docstring).

        Args:
            changed: the frame whose keyframe is added, replaced or removed.
            after: the keyframes once the change is made.
            count: `SessionSettings.keyframes_in_memory`.
        """
        before, now = sorted(self.keyframes), sorted(after)
        out = []
        for f, prov in self.provenance.items():
            s, d = prov.start, prov.direction
            between = s <= changed <= f if d > 0 else f <= changed <= s
            if (
                between
                or changed in memory_keyframes(s, d, before, count)
                or changed in memory_keyframes(s, d, now, count)
            ):
                out.append(f)
        return out

    # -- manifest form ---------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """{"keyframes": {"frame": [ids]}, "provenance": [[first, last, start, direction]], "stale": [[first, last]]}
        (runs of frames with the same value are one entry)."""
        provenance: list[list[int]] = []
        for f, p in self.provenance.items():
            if provenance and provenance[-1][1] == f - 1 and provenance[-1][2:] == [p.start, p.direction]:
                provenance[-1][1] = f
            else:
                provenance.append([f, f, p.start, p.direction])
        return {
            "keyframes": {str(f): sorted(ids) for f, ids in self.keyframes.items()},
            "provenance": provenance,
            "stale": frame_ranges(self.stale),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], num_frames: int) -> FrameRecords:
        """Inverse of `to_json`. Raises ValueError naming the first malformed entry."""
        annotated: dict[int, frozenset[int]] = {}
        keyframes = doc.get("keyframes", {})
        if not isinstance(keyframes, dict):
            raise ValueError("'keyframes' must map frame numbers to lists of object ids")
        for key, ids in keyframes.items():
            if not (key.isdigit() and isinstance(ids, list) and all(_is_int(i) for i in ids)):
                raise ValueError(f"'keyframes' entry {key!r}: {ids!r} must be a frame number -> list of object ids")
            annotated[int(key)] = frozenset(ids)
        provenance: dict[int, Provenance] = {}
        for item in _list(doc, "provenance"):
            if not (isinstance(item, list) and len(item) == 4 and all(_is_int(v) for v in item)):
                raise ValueError(f"'provenance' entry {item!r} must be [first, last, start, direction]")
            first, last, start, direction = item
            provenance.update((f, Provenance(start, direction)) for f in range(first, last + 1))
        stale = set()
        for item in _list(doc, "stale"):
            if not (isinstance(item, list) and len(item) == 2 and all(_is_int(v) for v in item)):
                raise ValueError(f"'stale' entry {item!r} must be [first, last]")
            stale.update(range(item[0], item[1] + 1))
        frames = set(annotated) | set(provenance) | stale
        records = {f: FrameRecord(annotated.get(f), provenance.get(f), f in stale) for f in frames}
        return cls(num_frames, records)


def frame_ranges(frames: Iterable[int]) -> list[list[int]]:
    """Sorted frames as runs [[first, last], ...]."""
    out: list[list[int]] = []
    for f in sorted(set(frames)):
        if out and out[-1][1] == f - 1:
            out[-1][1] = f
        else:
            out.append([f, f])
    return out


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _list(doc: Mapping[str, Any], key: str) -> list:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"'{key}' must be a list")
    return value
