"""The Session on real clips, driven as the app drives it (a `ClipState`, one session per run): corrections,
directions, cancellation, several objects, determinism."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from llb_core.inference import Session, SessionSettings
from llb_core.io import ObjectSpec
from llb_core.workspace import ClipState, DetachedClip, propagate_clip
from tests.inference.conftest import ArrayFrames, multiobject

FAST = SessionSettings(resolution=128, mode="full", memory_interval=3)


class Clip:
    """A detached clip state over `frames` with objects `ids`; `run` makes a new session per call."""

    def __init__(self, frames, model, settings=FAST, ids=(1,)) -> None:  # noqa: ANN001
        self.frames, self.model, self.settings = frames, model, settings
        self.state = ClipState(DetachedClip(frames.num_frames, frames.size, [ObjectSpec.default(i) for i in ids]))
        self.session: Session | None = None

    def key(self, frame: int, mask: np.ndarray, annotated=None) -> list[int]:  # noqa: ANN001
        """Make `frame` a keyframe; returns the frames the change made stale."""
        ids = list(self.state.objects) if annotated is None else annotated
        states = self.state.edit(frame, mask.astype(np.uint8), ids, self.settings.keyframes_in_memory)
        self.state.apply(states)
        return sorted(f for f, st in states.items() if st.stale)

    def new_session(self) -> Session:
        self.session = Session(self.frames, self.model, self.state, self.settings)
        return self.session

    def run(self, start=None, direction="forward", **kwargs):  # noqa: ANN001, ANN201
        return propagate_clip(self.state, self.new_session(), None, start=start, direction=direction, **kwargs)


def test_forward_run_fills_every_frame_and_reuses_the_memory_encoding(dog, model, monkeypatch):
    frames, masks = dog
    clip = Clip(frames, model)
    clip.key(0, masks[0])
    calls = []
    original = model.encode_memory
    monkeypatch.setattr(model, "encode_memory", lambda x: calls.append(x.shape[1]) or original(x))
    seen = []
    report = clip.run(0, on_frame=lambda r: seen.append(r.frame))
    assert seen == list(range(1, 12)) and report.frames == 11 and not report.cancelled
    assert clip.state.missing() == []
    for f in seen:
        mask = clip.state.mask(f)
        assert mask.shape == (480, 854) and mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1}
        assert np.array_equal(mask, clip.session.mask(f))
    # memory changes at frames 3, 6, 9 (T = 3): the encoder runs once per memory state, not per frame
    assert len(calls) == 4


def test_correction_changes_only_the_frames_after_it(dog, model):
    frames, masks = dog
    clip = Clip(frames, model)
    clip.key(0, masks[0])
    first: dict[int, dict[int, np.ndarray]] = {}
    clip.run(0, on_frame=lambda r: first.__setitem__(r.frame, r.probs))
    before = {f: clip.state.mask(f) for f in range(1, 12)}
    corrected = np.zeros_like(masks[5], dtype=np.uint8)
    corrected[100:300, 200:500] = 1
    assert clip.key(5, corrected) == list(range(6, 12))  # frame 5 itself becomes a keyframe
    assert clip.state.missing() == list(range(6, 12))  # stale: kept, shown, to be recomputed
    second: dict[int, dict[int, np.ndarray]] = {}
    report = clip.run(on_frame=lambda r: second.__setitem__(r.frame, r.probs))  # fill, as after a correction
    assert sorted(second) == list(range(6, 12)) and report.frames == 6
    for f in range(1, 5):
        assert np.array_equal(clip.state.mask(f), before[f])  # untouched, not recomputed
    assert np.array_equal(clip.state.mask(5), corrected)
    for f in range(6, 12):
        assert clip.state.provenance[f].start == 5 and not clip.state.is_stale(f)  # recomputed from the correction
        assert np.abs(second[f][1] - first[f][1]).max() > 0  # ... with the corrected memory


def test_backward_and_both_directions(dog, model):
    frames, masks = dog
    clip = Clip(frames, model)
    clip.key(11, masks[11])
    order = []
    clip.run(11, "backward", stop_at=6, on_frame=lambda r: order.append(r.frame))
    assert order == [10, 9, 8, 7, 6]
    assert all(clip.state.provenance[f].direction == -1 for f in order)

    both = Clip(frames, model)
    both.key(0, masks[0])
    both.key(9, masks[9])
    runs = both.new_session().plan(0, "both")
    report = both.run(0, "both")
    assert report.frames == 8 and [f for f in both.state.missing() if f < 9] == []
    starts = {f: both.state.provenance[f].start for f in range(1, 9)}
    assert starts == {1: 0, 2: 0, 3: 0, 4: 0, 5: 9, 6: 9, 7: 9, 8: 9}  # each from its nearer keyframe
    assert [(r.start, r.direction) for r in runs] == [(0, 1), (9, -1)]
    fill = both.new_session().plan_all(both.state.missing())
    assert [(r.start, r.direction, r.end) for r in fill] == [(9, 1, 11)]


def test_cancel_stops_within_a_frame_and_keeps_finished_frames(dog, model):
    frames, masks = dog
    clip = Clip(frames, model)
    clip.key(0, masks[0])
    stop = threading.Event()
    done = []

    def on_frame(result):
        done.append(result.frame)
        if len(done) == 3:
            stop.set()

    report = clip.run(0, on_frame=on_frame, cancel=stop)
    assert report.cancelled and report.frames == 3 and done == [1, 2, 3]
    assert sorted(clip.state.provenance) == [1, 2, 3]
    assert all(clip.state.mask(f).shape == (480, 854) for f in done)
    again = clip.run()
    assert not again.cancelled and clip.state.missing() == []


def test_same_input_same_output(dog, model):
    frames, masks = dog
    results = []
    for _ in range(2):
        clip = Clip(frames, model, FAST.replace(mode="crop"))
        clip.key(0, masks[0])
        clip.run(0, stop_at=5)
        results.append([clip.state.mask(f) for f in range(1, 6)])
    for a, b in zip(*results, strict=True):
        assert np.array_equal(a, b)


def test_two_objects_merge_into_one_index_mask(shared_data, model):
    frames, mask_files = multiobject("bike", 4)
    first = np.asarray(Image.open(mask_files[0]))
    ids = sorted(set(np.unique(first).tolist()) - {0})
    assert len(ids) == 2
    clip = Clip(frames, model, ids=ids)
    clip.key(0, first)
    got = {}
    clip.run(0, on_frame=lambda r: got.__setitem__(r.frame, r))
    for result in got.values():
        assert set(result.probs) == set(ids)
        stacked = np.stack([1 - sum(result.probs.values())] + [result.probs[i] for i in ids])
        expected = np.array([0] + ids, np.uint8)[stacked.argmax(0)]
        assert np.array_equal(result.mask, expected)  # label = argmax of the merged probabilities
        assert set(np.unique(result.mask).tolist()) <= {0, *ids}


def test_object_introduced_mid_clip_appears_from_its_first_frame(shared_data, model):
    frames, mask_files = multiobject("bike", 4)
    first = np.asarray(Image.open(mask_files[0]))
    clip = Clip(frames, model, ids=(1, 2))
    only1 = np.where(first == 1, 1, 0).astype(np.uint8)
    only2 = np.where(first == 2, 2, 0).astype(np.uint8)  # object 2 "appears" on frame 2
    clip.key(0, only1, annotated={1})
    clip.key(2, only2, annotated={2})
    plan = clip.new_session().plan_all()
    assert plan and plan[0].end == 3  # the run passes the partial keyframe
    got = {}
    clip.run(on_frame=lambda r: got.__setitem__(r.frame, r))
    assert sorted(got) == [1, 2, 3]
    assert 2 not in got[1].probs and 2 not in np.unique(got[1].mask)
    assert np.array_equal(clip.state.mask(2) == 2, only2 == 2)  # the annotation, exactly
    assert set(got[3].probs) == {1, 2}


def test_bad_keyframes_are_refused(dog, model):
    frames, masks = dog
    clip = Clip(frames, model)
    with pytest.raises(ValueError, match="must be \\(480, 854\\) uint8"):
        clip.key(0, np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="holds objects \\[7\\] it does not annotate"):
        clip.key(0, np.full((480, 854), 7, np.uint8))
    with pytest.raises(ValueError, match="objects \\[7\\] are not declared"):
        clip.key(0, np.full((480, 854), 7, np.uint8), annotated={7})
    with pytest.raises(ValueError, match="no mask to propagate from"):
        clip.run(3)


def test_a_larger_frame_source_gives_full_resolution_masks(model):
    rng = np.random.default_rng(0)
    frames = ArrayFrames([rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8) for _ in range(3)])
    clip = Clip(frames, model, FAST.replace(mode="crop"))
    mask = np.zeros((720, 1280), np.uint8)
    mask[200:400, 300:600] = 1
    clip.key(0, mask)
    clip.run(0)
    assert clip.state.mask(2).shape == (720, 1280)
