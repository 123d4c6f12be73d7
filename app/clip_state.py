"""What an open clip's masks are, frame by frame, in memory: the app's single source of truth. Qt-free.

Names: a frame's *state* is its index mask (PNG-compressed bytes, or None when the frame has no mask), the
objects it annotates when it is a keyframe (None otherwise), the provenance of its propagated part (the
run that produced it, None for a keyframe painted by hand) and whether it is *stale*. The engine's `Session`
is rebuilt from these states for every run, so the two never drift apart; which frames a change invalidates
is decided here with the engine's own rule (`llb_core.inference.keyframes.depends_on`).

Stale frames: where the engine discards the propagated frames a correction invalidates, the app keeps their
masks (shown, stored, exported) and marks them stale, so old and new results can be compared; a run treats
them as still to compute and replaces them. The stale set is one piece of state, next to provenance.

Masks not touched in this session are read from the project folder on first use (`loader`); once a frame's
state is set here it is never read back from disk, so pending background writes cannot be read half-way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from llb_core.inference import Provenance
from llb_core.inference.keyframes import depends_on

MaskLoader = Callable[[int], np.ndarray | None]


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
    """One frame's masks (see the module docstring)."""

    mask: bytes | None = None
    annotated: frozenset[int] | None = None
    provenance: Provenance | None = None
    stale: bool = False  # a correction invalidated its propagated part; a run will replace it

    @property
    def is_keyframe(self) -> bool:
        return self.annotated is not None

    def array(self) -> np.ndarray | None:
        """The (H, W) uint8 index mask, or None."""
        return None if self.mask is None else decode_mask(self.mask)


EMPTY = FrameState()
States = dict[int, FrameState]


class ClipState:
    """Masks, keyframes and provenance of every frame of one clip.

    Args:
        num_frames: frames in the clip.
        loader: reads a frame's stored index mask (None if it has none); called at most once per frame.
        keyframes: keyframe -> the objects it annotates.
        provenance: propagated frame -> the run that produced it.
        stale: frames whose propagated part a correction invalidated (kept until a run replaces them).
        exists: whether a frame not read yet has a stored mask, without reading it (default: read it).
    """

    def __init__(
        self,
        num_frames: int,
        loader: MaskLoader,
        keyframes: Mapping[int, frozenset[int]] | None = None,
        provenance: Mapping[int, Provenance] | None = None,
        exists: Callable[[int], bool] | None = None,
        stale: Iterable[int] = (),
    ) -> None:
        self.num_frames = num_frames
        self._loader = loader
        self._exists = exists
        self._masks: dict[int, bytes | None] = {}
        self._keyframes: dict[int, frozenset[int]] = dict(keyframes or {})
        self._provenance: dict[int, Provenance] = dict(provenance or {})
        self._stale: set[int] = set(stale)

    # -- reading ---------------------------------------------------------------------------------
    def _bytes(self, frame: int) -> bytes | None:
        if frame not in self._masks:
            mask = self._loader(frame)
            self._masks[frame] = None if mask is None else encode_mask(mask)
        return self._masks[frame]

    def mask(self, frame: int) -> np.ndarray | None:
        """Frame's (H, W) uint8 index mask, or None."""
        data = self._bytes(frame)
        return None if data is None else decode_mask(data)

    def state(self, frame: int) -> FrameState:
        return FrameState(
            self._bytes(frame), self._keyframes.get(frame), self._provenance.get(frame), frame in self._stale
        )

    def states(self, frames: Iterable[int]) -> States:
        return {f: self.state(f) for f in frames}

    @property
    def keyframes(self) -> dict[int, frozenset[int]]:
        """Keyframe -> annotated objects (a copy, in frame order)."""
        return dict(sorted(self._keyframes.items()))

    @property
    def provenance(self) -> dict[int, Provenance]:
        return dict(sorted(self._provenance.items()))

    @property
    def stale(self) -> list[int]:
        """Frames marked stale, in order (see the module docstring)."""
        return sorted(self._stale)

    def is_stale(self, frame: int) -> bool:
        return frame in self._stale

    def needs_run(self, frame: int) -> bool:
        """Whether a run should (re)compute `frame`: it has no mask, or its mask is stale."""
        return frame in self._stale or not self.has_mask(frame)

    def has_mask(self, frame: int) -> bool:
        if frame not in self._masks and self._exists is not None:
            return self._exists(frame)
        return self._bytes(frame) is not None

    def keyframe_mask(self, frame: int) -> np.ndarray:
        """What keyframe `frame` itself says: its mask restricted to the objects it annotates."""
        mask = self.mask(frame)
        if mask is None:
            raise KeyError(f"keyframe {frame} has no mask")
        return restrict(mask, self._keyframes[frame])

    # -- writing ---------------------------------------------------------------------------------
    def set_states(self, states: Mapping[int, FrameState]) -> None:
        """Replace the states of some frames."""
        for frame, st in states.items():
            self._masks[frame] = st.mask
            if st.annotated is None:
                self._keyframes.pop(frame, None)
            else:
                self._keyframes[frame] = frozenset(st.annotated)
            if st.provenance is None:
                self._provenance.pop(frame, None)
            else:
                self._provenance[frame] = st.provenance
            (self._stale.add if st.stale else self._stale.discard)(frame)

    # -- what a change implies -------------------------------------------------------------------
    def _invalidated(self, changed: int, after_keyframes: list[int], count: int) -> list[int]:
        """Propagated frames that depended on keyframe state at `changed` (the engine's rule)."""
        before = sorted(self._keyframes)
        return [
            f
            for f, prov in sorted(self._provenance.items())
            if depends_on(f, prov, changed, before, after_keyframes, count)
        ]

    def _mark_stale(self, frames: Iterable[int], out: States) -> None:
        """States of `frames` marked stale, masks kept (frames already stale do not change)."""
        for f in frames:
            if f not in out and f not in self._stale:
                out[f] = FrameState(self._bytes(f), self._keyframes.get(f), self._provenance[f], True)

    def edit(self, frame: int, mask: np.ndarray, annotated: Iterable[int], count: int) -> States:
        """The states after a person sets `frame`'s mask: it becomes a keyframe annotating `annotated`, and
        every propagated frame that depended on it is marked stale.

        Args:
            count: `SessionSettings.keyframes_in_memory`.
        """
        after_kf = sorted(set(self._keyframes) | {frame})
        out: States = {frame: FrameState(encode_mask(mask), frozenset(annotated), None)}
        self._mark_stale(self._invalidated(frame, after_kf, count), out)
        return out

    def unkeyframe(self, frame: int, count: int) -> States:
        """The states after keyframe `frame` becomes an ordinary frame (its hand-made mask goes unless a
        propagated part remains); the frames that depended on it are marked stale."""
        if frame not in self._keyframes:
            raise KeyError(f"frame {frame} is not a keyframe")
        after_kf = sorted(set(self._keyframes) - {frame})
        prov = self._provenance.get(frame)
        own = FrameState(self._bytes(frame), None, prov, frame in self._stale) if prov is not None else EMPTY
        out: States = {frame: own}
        self._mark_stale(self._invalidated(frame, after_kf, count), out)
        return out

    def without_object(self, obj_id: int) -> States:
        """The states after object `obj_id` is removed: its pixels cleared everywhere, keyframes no longer
        annotate it (a keyframe left annotating nothing becomes an ordinary frame). Reads every mask."""
        out: States = {}
        for f in range(self.num_frames):
            mask = self.mask(f)
            annotated = self._keyframes.get(f)
            has_pixels = mask is not None and bool((mask == obj_id).any())
            if not has_pixels and (annotated is None or obj_id not in annotated):
                continue
            if annotated is not None:
                annotated = annotated - {obj_id} or None
            prov = self._provenance.get(f)
            if mask is None or (annotated is None and prov is None):
                out[f] = EMPTY
            else:
                kept = encode_mask(np.where(mask == obj_id, 0, mask).astype(np.uint8))
                out[f] = FrameState(kept, annotated, prov, f in self._stale)
        return out


# -- persistence of what the project manifest has no field for ----------------------------------------
def encode_provenance(provenance: Mapping[int, Provenance]) -> list[list[int]]:
    """Run-length form for the project settings: [[first, last, start, direction], ...]."""
    out: list[list[int]] = []
    for f, p in sorted(provenance.items()):
        if out and out[-1][1] == f - 1 and out[-1][2:] == [p.start, p.direction]:
            out[-1][1] = f
        else:
            out.append([f, f, p.start, p.direction])
    return out


def decode_provenance(value: Any, num_frames: int) -> dict[int, Provenance]:  # noqa: ANN401
    """Inverse of `encode_provenance`; malformed entries are skipped."""
    out: dict[int, Provenance] = {}
    for item in value if isinstance(value, list) else []:
        if not (isinstance(item, list) and len(item) == 4 and all(isinstance(v, int) for v in item)):
            continue
        first, last, start, direction = item
        if direction not in (-1, 1):
            continue
        for f in range(max(first, 0), min(last, num_frames - 1) + 1):
            out[f] = Provenance(start, direction)
    return out


def encode_frames(frames: Iterable[int]) -> list[list[int]]:
    """Run-length form of a set of frames for the project settings: [[first, last], ...]."""
    out: list[list[int]] = []
    for f in sorted(set(frames)):
        if out and out[-1][1] == f - 1:
            out[-1][1] = f
        else:
            out.append([f, f])
    return out


def decode_frames(value: Any, num_frames: int) -> set[int]:  # noqa: ANN401
    """Inverse of `encode_frames`; malformed entries are skipped, frames outside the clip dropped."""
    out: set[int] = set()
    for item in value if isinstance(value, list) else []:
        if isinstance(item, list) and len(item) == 2 and all(isinstance(v, int) for v in item):
            out.update(range(max(item[0], 0), min(item[1], num_frames - 1) + 1))
    return out


def encode_keyframes(keyframes: Mapping[int, frozenset[int]]) -> dict[str, list[int]]:
    """{"frame": [object ids]} for the project settings."""
    return {str(f): sorted(ids) for f, ids in sorted(keyframes.items())}


def decode_keyframes(
    value: Any,  # noqa: ANN401
    frames: Iterable[int],
    objects: Iterable[int],
) -> dict[int, frozenset[int]]:
    """Annotated objects of each keyframe in `frames` (the manifest's list); a keyframe the settings do not
    describe (a project made outside the app) annotates every object."""
    stored = value if isinstance(value, dict) else {}
    every = frozenset(objects)
    out: dict[int, frozenset[int]] = {}
    for f in frames:
        ids = stored.get(str(f))
        ok = isinstance(ids, list) and all(isinstance(i, int) for i in ids)
        out[f] = frozenset(ids) & every if ok else every
    return out
