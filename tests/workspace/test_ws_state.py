"""The project state: frame records (keyframes, provenance, stale), the invalidation rule, `ClipState` edits,
the manifest's typed fields and the migration of format-1 projects."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from llb_core.inference import Provenance
from llb_core.io import ObjectSpec
from llb_core.workspace import (
    MANIFEST_NAME,
    ClipState,
    DetachedClip,
    FrameRecord,
    FrameRecords,
    FrameState,
    Project,
    decode_mask,
    encode_mask,
    frame_ranges,
)

H, W, N = 8, 10, 30
COUNT = 3  # keyframes a run carries in memory


def blob(obj: int, x: int) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[2:6, x : x + 3] = obj
    return m


class StoredClip(DetachedClip):
    """A detached clip whose "stored" masks come from a dict (counting reads)."""

    def __init__(self, stored: dict[int, np.ndarray], num_frames: int = N) -> None:
        super().__init__(num_frames, (H, W), [ObjectSpec.default(1), ObjectSpec.default(2)])
        self.stored, self.reads = stored, []

    def read_mask(self, index: int) -> np.ndarray | None:
        self.reads.append(index)
        return self.stored.get(index)

    def has_mask(self, index: int) -> bool:
        return index in self.stored


def clip_with(keyframes: dict[int, int], provenance: dict[int, Provenance]) -> ClipState:
    """Keyframes (frame -> object drawn) annotating both objects, and propagated frames."""
    stored = {f: blob(obj, 1) for f, obj in keyframes.items()} | {f: blob(1, 5) for f in provenance}
    backing = StoredClip(stored)
    backing.set_frames(
        {f: FrameRecord(frozenset({1, 2}) if f in keyframes else None, provenance.get(f)) for f in stored}
    )
    return ClipState(backing)


def test_invalidation_rule():
    fwd, bwd = Provenance(0, 1), Provenance(30, -1)
    records = FrameRecords(50, {0: FrameRecord(frozenset({1}))} | {f: FrameRecord(None, fwd) for f in (5, 15)})
    # a forward run from keyframe 0 produced 5 and 15; a new keyframe at 10 invalidates only what came after it
    assert records.invalidated_by(10, [0, 10], COUNT) == [15]
    # replacing the keyframe a run started from invalidates the whole run
    assert records.invalidated_by(0, [0], COUNT) == [5, 15]
    # a backward run from 30 produced 25: a keyframe at 10 is not between and not carried; one at 40 is carried
    records = FrameRecords(50, {0: FrameRecord(frozenset({1})), 30: FrameRecord(frozenset({1}))})
    records.update({25: FrameRecord(None, bwd)})
    assert records.invalidated_by(10, [0, 10, 30], COUNT) == []
    assert records.invalidated_by(40, [0, 30, 40], COUNT) == [25]


@pytest.mark.parametrize("changed", [0, 3, 10, 12, 19, 20, 25, 29])
def test_an_edit_marks_exactly_the_dependent_frames_stale_and_keeps_their_masks(changed):
    prov = {f: Provenance(0, 1) for f in range(1, 10)}
    prov |= {f: Provenance(20, -1) for f in range(10, 20)} | {f: Provenance(20, 1) for f in range(21, 30)}
    clip = clip_with({0: 1, 20: 2}, prov)
    expected = set(clip.records.invalidated_by(changed, {0, 20, changed}, COUNT)) - {changed}
    states = clip.edit(changed, blob(1, 4), {1, 2}, COUNT)
    assert sorted(f for f, st in states.items() if st.stale) == sorted(expected)
    assert set(states) == expected | {changed}  # nothing else changes
    assert all(replace(st, stale=False) == clip.state(f) for f, st in states.items() if st.stale)
    assert states[changed].is_keyframe and states[changed].provenance is None and not states[changed].stale
    assert np.array_equal(states[changed].array(), blob(1, 4))


def test_unkeyframe():
    prov = {f: Provenance(0, 1) for f in range(1, 10)} | {f: Provenance(10, 1) for f in range(11, 20)}
    clip = clip_with({0: 1, 10: 1}, prov)
    states = clip.unkeyframe(10, COUNT)
    assert sorted(f for f, st in states.items() if st.stale) == list(range(11, 20))
    assert states[10] == FrameState()  # a keyframe without a propagated part loses its mask
    with pytest.raises(KeyError, match="not a keyframe"):
        clip.unkeyframe(5, COUNT)


def test_stale_frames_until_a_run_or_a_stroke_replaces_them_and_undo_is_exact():
    prov = {f: Provenance(0, 1) for f in range(1, 10)}
    clip = clip_with({0: 1}, prov)
    original = clip.states(range(10))
    after = clip.edit(5, blob(1, 4), {1, 2}, COUNT)
    before = clip.states(after)
    assert clip.apply(after) == [5]  # only frame 5's mask changed: the caller writes it
    assert clip.stale == list(range(6, 10)) and clip.provenance == {f: p for f, p in prov.items() if f != 5}
    assert all(np.array_equal(clip.mask(f), blob(1, 5)) for f in range(6, 10))  # their masks stay
    assert clip.needs_run(7) and not clip.needs_run(4) and not clip.is_stale(5)
    assert clip.missing() == list(range(6, 10)) + list(range(10, N))
    assert set(clip.edit(5, blob(1, 3), {1, 2}, COUNT)) == {5}  # frames already stale do not change again
    clip.apply(before)  # undo
    assert clip.states(range(10)) == original and clip.stale == []
    clip.apply(after)  # redo
    clip.apply({7: clip.run_state(7, blob(1, 6), Provenance(5, 1))})  # a run delivers frame 7
    assert clip.stale == [6, 8, 9] and clip.provenance[7] == Provenance(5, 1)
    clip.apply(clip.edit(8, blob(1, 2), {1, 2}, COUNT))  # painting a stale frame makes it a fresh keyframe
    assert not clip.is_stale(8) and 8 in clip.keyframes


def test_run_masks_and_snapshot():
    clip = clip_with({0: 1}, {f: Provenance(0, 1) for f in range(1, 5)})
    clip.apply(clip.edit(2, blob(2, 0), {2}, COUNT))  # a partial keyframe over a propagated frame
    clip.apply({2: replace(clip.state(2), mask=encode_mask(blob(1, 5) | blob(2, 0)), provenance=Provenance(0, 1))})
    clip.apply(clip.edit(0, blob(1, 2), {1, 2}, COUNT))  # frames 1..4 go stale
    assert np.array_equal(clip.run_mask(0), blob(1, 2))
    assert clip.run_mask(3) is None  # a stale ordinary frame gives nothing to start from
    assert np.array_equal(clip.run_mask(2), blob(2, 0))  # a stale keyframe gives its own annotation alone
    snap = clip.snapshot([3])
    assert snap.keyframes == clip.keyframes and snap.objects == {1: "object 1", 2: "object 2"}
    assert np.array_equal(snap.keyframe(2).mask, blob(2, 0)) and snap.keyframe(2).annotated == {2}
    assert snap.run_mask(3) is None and snap.run_provenance(2) == Provenance(0, 1)
    clip.apply(clip.edit(0, blob(1, 1), {1, 2}, COUNT))
    assert np.array_equal(snap.run_mask(0), blob(1, 2))  # a copy: later edits do not reach it


def test_masks_are_read_once_and_round_trip():
    backing = StoredClip({1: blob(1, 1)}, 5)
    clip = ClipState(backing)
    assert np.array_equal(clip.mask(1), blob(1, 1)) and clip.mask(4) is None
    clip.mask(1)
    assert backing.reads == [1, 4] and clip.has_mask(1) and not clip.has_mask(3)
    assert np.array_equal(decode_mask(encode_mask(blob(7, 2))), blob(7, 2))


def test_without_object_strips_pixels_and_annotations():
    both = blob(1, 1) | blob(2, 6)
    backing = StoredClip({0: both, 1: both, 2: blob(2, 6)}, 4)
    backing.set_frames(
        {0: FrameRecord(frozenset({1, 2})), 1: FrameRecord(None, Provenance(0, 1)), 2: FrameRecord(frozenset({2}))}
    )
    states = ClipState(backing).without_object(2)
    assert set(states) == {0, 1, 2}
    assert np.array_equal(states[0].array(), blob(1, 1)) and states[0].annotated == frozenset({1})
    assert np.array_equal(states[1].array(), blob(1, 1)) and states[1].provenance == Provenance(0, 1)
    assert states[2] == FrameState()  # a keyframe of that object alone is no longer a keyframe


def test_records_json_round_trip():
    prov = {1: Provenance(0, 1), 2: Provenance(0, 1), 3: Provenance(0, 1), 7: Provenance(9, -1), 8: Provenance(9, -1)}
    records = FrameRecords(10, {f: FrameRecord(None, p, f == 8) for f, p in prov.items()})
    records.update({0: FrameRecord(frozenset({2, 1})), 9: FrameRecord(frozenset())})
    doc = records.to_json()
    assert doc == {
        "keyframes": {"0": [1, 2], "9": []},
        "provenance": [[1, 3, 0, 1], [7, 8, 9, -1]],
        "stale": [[8, 8]],
    }
    assert FrameRecords.from_json(json.loads(json.dumps(doc)), 10).items() == records.items()
    assert frame_ranges([9, 3, 4, 5, 1]) == [[1, 1], [3, 5], [9, 9]]
    with pytest.raises(ValueError, match="must be \\[first, last, start, direction\\]"):
        FrameRecords.from_json({"provenance": [[1, 2, 3]]}, 10)


def test_records_are_journaled_and_survive_a_crash(judo: Path, tmp_path: Path) -> None:
    p = Project.create(tmp_path / "proj", judo, objects=[ObjectSpec.default(1), ObjectSpec.default(2)])
    p.set_frames({0: FrameRecord(frozenset({1})), 1: FrameRecord(None, Provenance(0, 1), True)})
    p.set_frames({2: FrameRecord(None, Provenance(0, 1))})
    # no save: the journal holds the changes
    q = Project.open(tmp_path / "proj")
    assert q.frames.keyframes == {0: frozenset({1})} and q.frames.stale == [1]
    assert q.frames.provenance == {1: Provenance(0, 1), 2: Provenance(0, 1)}
    q.remove_object(1)  # keyframes stop annotating it (one left annotating nothing is an ordinary frame)
    assert q.frames.keyframes == {}
    q.save()
    saved = json.loads((tmp_path / "proj" / MANIFEST_NAME).read_text())
    assert saved["format_version"] == 2 and saved["keyframes"] == {} and saved["stale"] == [[1, 1]]
    with pytest.raises(Exception, match="annotates undeclared objects \\[9\\]"):
        q.set_frames({3: FrameRecord(frozenset({9}))})


def test_a_format_1_project_is_migrated(judo: Path, tmp_path: Path) -> None:
    p = Project.create(tmp_path / "proj", judo, objects=[ObjectSpec.default(1), ObjectSpec.default(2)])
    p.close()
    path = tmp_path / "proj" / MANIFEST_NAME
    doc = json.loads(path.read_text())
    for key in ("provenance", "stale"):
        del doc[key]
    doc |= {"format_version": 1, "keyframes": [0, 4]}
    doc["settings"] = {
        "app.keyframe_objects": {"0": [2]},  # keyframe 4 is not described: it annotates every object
        "app.provenance": [[1, 3, 0, 1]],
        "app.stale": [[2, 3]],
        "app.view": {"frame": 2},
    }
    path.write_text(json.dumps(doc))
    # a change made by format 1 after its last save, still in the journal
    (tmp_path / "proj" / "journal.jsonl").write_text(
        json.dumps({"rev": doc["revision"] + 1, "op": "add_keyframe", "frame": 5}) + "\n"
    )
    q = Project.open(tmp_path / "proj")
    assert any("migrated from project format 1" in m for m in q.recovered)
    assert q.frames.keyframes == {0: frozenset({2}), 4: frozenset({1, 2}), 5: frozenset({1, 2})}
    assert q.frames.provenance == {f: Provenance(0, 1) for f in (1, 2, 3)} and q.frames.stale == [2, 3]
    assert q.settings == {"app.view": {"frame": 2}} and q.dirty
    q.close()
    saved = json.loads(path.read_text())
    assert saved["format_version"] == 2 and saved["keyframes"] == {"0": [2], "4": [1, 2], "5": [1, 2]}
    assert Project.open(tmp_path / "proj").frames.items() == q.frames.items()
