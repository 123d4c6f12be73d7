"""ClipState: what a change invalidates must match the engine's own Session, frame for frame; the app keeps
those frames' masks and marks them stale where the engine discards them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from app.clip_state import (
    ClipState,
    FrameState,
    decode_frames,
    decode_keyframes,
    decode_mask,
    decode_provenance,
    encode_frames,
    encode_keyframes,
    encode_mask,
    encode_provenance,
)
from llb_core.inference import Provenance, Session, SessionSettings

H, W, N = 8, 10, 30


class _Frames:
    num_frames = N
    size = (H, W)

    def read(self, index: int) -> np.ndarray:
        return np.zeros((H, W, 3), np.uint8)


class _Model:  # Session only moves and fuses the model before a run; no run happens here
    def to(self, *args: object, **kwargs: object) -> _Model:
        return self

    def eval(self) -> _Model:
        return self

    def fuse_for_inference(self) -> None:
        pass


def blob(obj: int, x: int) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[2:6, x : x + 3] = obj
    return m


def both(keyframes: dict[int, int], provenance: dict[int, Provenance]) -> tuple[Session, ClipState]:
    """The same state in a Session and a ClipState: keyframes (frame -> object drawn) and propagated frames."""
    session = Session(_Frames(), _Model(), SessionSettings())
    session.add_object("a", 1)
    session.add_object("b", 2)
    for f, obj in keyframes.items():
        session.set_keyframe(f, blob(obj, 1))
    for f, prov in provenance.items():
        session.store.put(f, blob(1, 5), prov)
    stored = {f: blob(obj, 1) for f, obj in keyframes.items()} | {f: blob(1, 5) for f in provenance}
    clip = ClipState(N, stored.get, dict.fromkeys(keyframes, frozenset({1, 2})), provenance)
    return session, clip


def marked_stale(states: dict[int, FrameState]) -> list[int]:
    return sorted(f for f, st in states.items() if st.stale)


def kept(clip: ClipState, states: dict[int, FrameState]) -> bool:
    """Every frame marked stale keeps its mask, keyframe status and provenance exactly."""
    return all(replace(st, stale=False) == clip.state(f) for f, st in states.items() if st.stale)


@pytest.mark.parametrize("changed", [0, 3, 10, 12, 19, 20, 25, 29])
def test_invalidation_matches_the_session(changed):
    prov = {f: Provenance(0, 1) for f in range(1, 10)}
    prov |= {f: Provenance(20, -1) for f in range(10, 20)} | {f: Provenance(20, 1) for f in range(21, 30)}
    session, clip = both({0: 1, 20: 2}, prov)
    count = session.settings.keyframes_in_memory
    states = clip.edit(changed, blob(1, 4), {1, 2}, count)
    stale = session.set_keyframe(changed, blob(1, 4))
    assert marked_stale(states) == sorted(set(stale) - {changed})
    assert set(states) == set(stale) | {changed}  # nothing else changes
    assert kept(clip, states)
    assert states[changed].is_keyframe and states[changed].provenance is None and not states[changed].stale
    assert np.array_equal(states[changed].array(), blob(1, 4))


def test_unkeyframe_matches_the_session():
    prov = {f: Provenance(0, 1) for f in range(1, 10)} | {f: Provenance(10, 1) for f in range(11, 20)}
    session, clip = both({0: 1, 10: 1}, prov)
    states = clip.unkeyframe(10, session.settings.keyframes_in_memory)
    stale = session.remove_keyframe(10)
    assert marked_stale(states) == sorted(stale) and kept(clip, states)
    assert states[10] == FrameState()  # a keyframe without a propagated part loses its mask
    assert not states[10].is_keyframe


def test_stale_frames_until_a_run_or_a_stroke_replaces_them_and_undo_is_exact():
    prov = {f: Provenance(0, 1) for f in range(1, 10)}
    session, clip = both({0: 1}, prov)
    count = session.settings.keyframes_in_memory
    original = clip.states(range(10))
    after = clip.edit(5, blob(1, 4), {1, 2}, count)
    before = clip.states(after)
    clip.set_states(after)
    assert clip.stale == list(range(6, 10)) and clip.provenance == {f: p for f, p in prov.items() if f != 5}
    assert all(np.array_equal(clip.mask(f), blob(1, 5)) for f in range(6, 10))  # their masks stay
    assert clip.needs_run(7) and not clip.needs_run(4) and not clip.is_stale(5)
    again = clip.edit(5, blob(1, 3), {1, 2}, count)
    assert set(again) == {5}  # frames already stale do not change again
    clip.set_states(before)  # undo
    assert clip.states(range(10)) == original and clip.stale == []
    clip.set_states(after)  # redo
    assert clip.stale == list(range(6, 10))
    clip.set_states({7: FrameState(encode_mask(blob(1, 6)), None, Provenance(5, 1))})  # a run delivers frame 7
    assert clip.stale == [6, 8, 9] and clip.provenance[7] == Provenance(5, 1)
    clip.set_states(clip.edit(8, blob(1, 2), {1, 2}, count))  # painting a stale frame makes it a fresh keyframe
    assert not clip.is_stale(8) and 8 in clip.keyframes


def test_states_round_trip_and_lazy_loading():
    loads: list[int] = []

    def loader(f: int) -> np.ndarray | None:
        loads.append(f)
        return blob(1, f % 5) if f < 3 else None

    clip = ClipState(5, loader)
    assert np.array_equal(clip.mask(1), blob(1, 1)) and clip.mask(4) is None
    clip.mask(1)
    assert loads == [1, 4]  # each frame read once
    clip.set_states({1: FrameState(encode_mask(blob(2, 0)), frozenset({2}), None)})
    assert clip.keyframes == {1: frozenset({2})} and np.array_equal(clip.mask(1), blob(2, 0))
    assert np.array_equal(decode_mask(encode_mask(blob(7, 2))), blob(7, 2))


def test_without_object_strips_pixels_and_annotations():
    both_objects = blob(1, 1) | blob(2, 6)
    stored = {0: both_objects, 1: both_objects, 2: blob(2, 6)}
    clip = ClipState(4, stored.get, {0: frozenset({1, 2}), 2: frozenset({2})}, {1: Provenance(0, 1)})
    states = clip.without_object(2)
    assert set(states) == {0, 1, 2}
    assert np.array_equal(states[0].array(), blob(1, 1)) and states[0].annotated == frozenset({1})
    assert np.array_equal(states[1].array(), blob(1, 1)) and states[1].provenance == Provenance(0, 1)
    assert states[2] == FrameState()  # a keyframe of that object alone is no longer a keyframe


def test_settings_encodings_round_trip():
    prov = {1: Provenance(0, 1), 2: Provenance(0, 1), 3: Provenance(0, 1), 7: Provenance(9, -1), 8: Provenance(9, -1)}
    assert encode_provenance(prov) == [[1, 3, 0, 1], [7, 8, 9, -1]]
    assert decode_provenance(encode_provenance(prov), 10) == prov
    assert decode_provenance([[1, 2, 0, 5], "x", [8, 20, 9, -1]], 10) == {8: Provenance(9, -1), 9: Provenance(9, -1)}
    assert encode_frames([9, 3, 4, 5, 1]) == [[1, 1], [3, 5], [9, 9]]
    assert decode_frames(encode_frames([9, 3, 4, 5, 1]), 10) == {1, 3, 4, 5, 9}
    assert decode_frames([[8, 12], "x", [3], [2.0, 3]], 10) == {8, 9}
    kf = {0: frozenset({1}), 5: frozenset({1, 2})}
    assert decode_keyframes(encode_keyframes(kf), [0, 5, 9], [1, 2]) == kf | {9: frozenset({1, 2})}


def test_view_record_round_trip_and_malformed_input():
    from app.render import ViewMode, ViewState
    from app.view_record import ViewRecord, parse_view_record

    record = ViewRecord(7, 2, {2}, {1, 3}, ViewState(mode=ViewMode.MATTE, grow=-2, feather=4, outline=False))
    back = parse_view_record(record.to_json(), 10, {1, 2})
    assert (back.frame, back.active, back.hidden, back.locked, back.state) == (7, 2, {2}, {1}, record.state)
    assert parse_view_record(record.to_json(), 5, {1}).frame == 4  # clamped to the clip, unknown ids dropped
    assert parse_view_record({"mode": "sepia"}, 5, {1, 2}) == ViewRecord(active=1)
    assert parse_view_record("nonsense", 5, set()) == ViewRecord()
