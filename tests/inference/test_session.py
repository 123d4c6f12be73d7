"""The Session on real clips: corrections, directions, cancellation, several objects, determinism."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from llb_core.inference import Session, SessionSettings
from tests.inference.conftest import ArrayFrames, multiobject

FAST = SessionSettings(resolution=128, mode="full", memory_interval=3)


def new_session(frames, model, settings=FAST) -> Session:
    session = Session(frames, model, settings)
    session.add_object("target")
    return session


def test_forward_run_fills_every_frame_and_reuses_the_memory_encoding(dog, model, monkeypatch):
    frames, masks = dog
    session = new_session(frames, model)
    session.set_keyframe(0, masks[0].astype(np.uint8))
    calls = []
    original = model.encode_memory
    monkeypatch.setattr(model, "encode_memory", lambda x: calls.append(x.shape[1]) or original(x))
    seen = []
    report = session.propagate(0, "forward", on_frame=lambda r: seen.append(r.frame))
    assert seen == list(range(1, 12)) and report.frames == 11 and not report.cancelled
    assert session.missing_frames() == []
    for f in seen:
        mask = session.mask(f)
        assert mask.shape == (480, 854) and mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1}
    # memory changes at frames 3, 6, 9 (T = 3): the encoder runs once per memory state, not per frame
    assert len(calls) == 4


def test_correction_changes_only_the_frames_after_it(dog, model):
    frames, masks = dog
    session = new_session(frames, model)
    session.set_keyframe(0, masks[0].astype(np.uint8))
    first: dict[int, dict[int, np.ndarray]] = {}
    session.propagate(0, "forward", on_frame=lambda r: first.__setitem__(r.frame, r.probs))
    before = {f: session.mask(f) for f in range(1, 12)}
    corrected = np.zeros_like(masks[5], dtype=np.uint8)
    corrected[100:300, 200:500] = 1
    stale = session.set_keyframe(5, corrected)
    assert stale == list(range(5, 12))  # frame 5 itself becomes a keyframe
    second: dict[int, dict[int, np.ndarray]] = {}
    report = session.propagate(5, "forward", on_frame=lambda r: second.__setitem__(r.frame, r.probs))
    assert sorted(second) == list(range(6, 12)) and report.frames == 6
    for f in range(1, 5):
        assert np.array_equal(session.mask(f), before[f])  # untouched, not recomputed
    assert np.array_equal(session.mask(5), corrected)
    for f in range(6, 12):
        assert session.store.provenance(f).start == 5  # recomputed from the correction ...
        assert np.abs(second[f][1] - first[f][1]).max() > 0  # ... with the corrected memory


def test_backward_and_both_directions(dog, model):
    frames, masks = dog
    session = new_session(frames, model)
    session.set_keyframe(11, masks[11].astype(np.uint8))
    order = []
    session.propagate(11, "backward", stop_at=6, on_frame=lambda r: order.append(r.frame))
    assert order == [10, 9, 8, 7, 6]
    assert all(session.store.provenance(f).direction == -1 for f in order)

    both = new_session(frames, model)
    both.set_keyframe(0, masks[0].astype(np.uint8))
    both.set_keyframe(9, masks[9].astype(np.uint8))
    runs = both.plan(0, "both")
    report = both.propagate(0, "both")
    assert report.frames == 8 and [f for f in both.missing_frames() if f < 9] == []
    starts = {f: both.store.provenance(f).start for f in range(1, 9)}
    assert starts == {1: 0, 2: 0, 3: 0, 4: 0, 5: 9, 6: 9, 7: 9, 8: 9}  # each from its nearer keyframe
    assert [(r.start, r.direction) for r in runs] == [(0, 1), (9, -1)]
    all_runs = both.plan_all(only_missing=True)
    assert [(r.start, r.direction, r.end) for r in all_runs] == [(9, 1, 11)]


def test_cancel_stops_within_a_frame_and_keeps_finished_frames(dog, model):
    frames, masks = dog
    session = new_session(frames, model)
    session.set_keyframe(0, masks[0].astype(np.uint8))
    stop = threading.Event()
    done = []

    def on_frame(result):
        done.append(result.frame)
        if len(done) == 3:
            stop.set()

    report = session.propagate(0, "forward", on_frame=on_frame, cancel=stop)
    assert report.cancelled and report.frames == 3 and done == [1, 2, 3]
    assert session.store.frames() == [1, 2, 3]
    assert all(session.mask(f).shape == (480, 854) for f in done)
    again = session.propagate_all(only_missing=True)
    assert not again.cancelled and session.missing_frames() == []


def test_same_input_same_output(dog, model):
    frames, masks = dog
    results = []
    for _ in range(2):
        session = new_session(frames, model, FAST.replace(mode="crop"))
        session.set_keyframe(0, masks[0].astype(np.uint8))
        session.propagate(0, "forward", stop_at=5)
        results.append([session.mask(f) for f in range(1, 6)])
    for a, b in zip(*results, strict=True):
        assert np.array_equal(a, b)


def test_two_objects_merge_into_one_index_mask(shared_data, model):
    frames, mask_files = multiobject("bike", 4)
    first = np.asarray(Image.open(mask_files[0]))
    ids = sorted(set(np.unique(first).tolist()) - {0})
    assert len(ids) == 2
    session = Session(frames, model, FAST)
    for obj in ids:
        session.add_object(obj_id=obj)
    session.set_keyframe(0, first)
    got = {}
    session.propagate(0, "forward", on_frame=lambda r: got.__setitem__(r.frame, r))
    for result in got.values():
        assert set(result.probs) == set(ids)
        stacked = np.stack([1 - sum(result.probs.values())] + [result.probs[i] for i in ids])
        expected = np.array([0] + ids, np.uint8)[stacked.argmax(0)]
        assert np.array_equal(result.mask, expected)  # label = argmax of the merged probabilities
        assert set(np.unique(result.mask).tolist()) <= {0, *ids}


def test_object_introduced_mid_clip_appears_from_its_first_frame(shared_data, model):
    frames, mask_files = multiobject("bike", 4)
    first = np.asarray(Image.open(mask_files[0]))
    session = Session(frames, model, FAST)
    session.add_object(obj_id=1)
    session.add_object(obj_id=2)
    only1 = np.where(first == 1, 1, 0).astype(np.uint8)
    only2 = np.where(first == 2, 2, 0).astype(np.uint8)  # object 2 "appears" on frame 2
    session.set_keyframe(0, only1, annotated={1})
    session.set_keyframe(2, only2, annotated={2})
    assert session.plan_all() and session.plan_all()[0].end == 3  # the run passes the partial keyframe
    got = {}
    session.propagate_all(on_frame=lambda r: got.__setitem__(r.frame, r))
    assert sorted(got) == [1, 2, 3]
    assert 2 not in got[1].probs and 2 not in np.unique(got[1].mask)
    assert np.array_equal(got[2].mask == 2, only2 == 2)  # the annotation, exactly
    assert set(got[3].probs) == {1, 2}


def test_bad_keyframes_are_refused(dog, model):
    frames, masks = dog
    session = new_session(frames, model)
    with pytest.raises(ValueError, match="size"):
        session.set_keyframe(0, np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="unknown object ids \\[7\\]"):
        session.set_keyframe(0, np.full((480, 854), 7, np.uint8))
    with pytest.raises(ValueError, match="no mask to propagate from"):
        session.propagate(3)


def test_a_larger_frame_source_gives_full_resolution_masks(model):
    rng = np.random.default_rng(0)
    frames = ArrayFrames([rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8) for _ in range(3)])
    session = new_session(frames, model, FAST.replace(mode="crop"))
    mask = np.zeros((720, 1280), np.uint8)
    mask[200:400, 300:600] = 1
    session.set_keyframe(0, mask)
    session.propagate(0)
    assert session.mask(2).shape == (720, 1280)
