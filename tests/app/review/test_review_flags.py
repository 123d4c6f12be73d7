"""`app.model.flags`: signals, scores, flags, ranking and navigation on hand-made masks with known answers and on DAVIS
annotations."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from review_helpers import davis_mask

from app.model.flags import (
    THRESHOLD,
    Flag,
    FrameStats,
    ObjectSignals,
    areas,
    assess,
    find_flags,
    flags_from_record,
    flags_to_record,
    fragments,
    frame_stats,
    next_flag,
    object_confidence,
    ranked,
)


def square(size: int, ids_boxes: dict[int, tuple[int, int, int, int]]) -> np.ndarray:
    """(size, size) uint8 index mask with object k filling box (y0, y1, x0, x1)."""
    m = np.zeros((size, size), np.uint8)
    for k, (y0, y1, x0, x1) in ids_boxes.items():
        m[y0:y1, x0:x1] = k
    return m


def crisp(mask: np.ndarray, obj_id: int = 1) -> np.ndarray:
    """A sure probability map of one object: its mask, edges softened over a pixel or two."""
    return cv2.GaussianBlur((mask == obj_id).astype(np.float32), (3, 3), 0.5)


def test_frame_stats_areas_and_no_signals_without_probabilities():
    m = square(100, {1: (0, 10, 0, 10), 3: (50, 70, 50, 60)})
    s = frame_stats(m)
    assert s.areas == {1: 100, 3: 200} == areas(m)
    assert s.objects == {} and s.confidence == 1.0  # a hand-painted mask: nothing to judge
    assert assess(s).score == 0.0


def test_frame_stats_lists_vanished_object_with_zero_area():
    m = square(50, {1: (0, 10, 0, 10)})
    probs = {1: (m == 1).astype(np.float32), 2: np.zeros((50, 50), np.float32)}
    s = frame_stats(m, probs, previous={1: 100, 2: 400})
    assert s.objects[2].area == 0 and s.objects[2].previous_area == 400
    assert assess(s).reason == "object 2 vanished (was 400 px on the previous frame)"


def test_confidence_sharp_vs_blurry_boundary():
    m = square(64, {1: (16, 48, 16, 48)})
    assert frame_stats(m, {1: (m == 1).astype(np.float32)}).confidence == pytest.approx(1.0)
    unsure = np.where(m == 1, 0.6, 0.4).astype(np.float32)  # |2p - 1| = 0.2 everywhere
    assert frame_stats(m, {1: unsure}).confidence == pytest.approx(0.2, abs=1e-6)


def test_confidence_only_looks_at_the_boundary_band():
    m = square(100, {1: (30, 70, 30, 70)})
    p = (m == 1).astype(np.float32)
    p[0:5, 0:5] = 0.5  # far from the object: not in its band
    assert object_confidence(m == 1, p) == pytest.approx(1.0)
    p[35:65, 35:65] = 0.5  # deep inside the object: not in its band either
    assert object_confidence(m == 1, p) == pytest.approx(1.0)
    p[30, 30:70] = 0.5  # on the object's top edge
    assert 0.9 < object_confidence(m == 1, p) < 0.99


def test_absent_object_confidence():
    empty = np.zeros((20, 20), bool)
    assert object_confidence(empty, np.zeros((20, 20), np.float32)) == 1.0
    near_miss = np.zeros((20, 20), np.float32)
    near_miss[5:10, 5:10] = 0.5
    assert object_confidence(empty, near_miss) == pytest.approx(0.0)


def test_fragments():
    assert fragments(np.zeros((20, 20), bool)) == 0.0
    assert fragments(square(40, {1: (0, 10, 0, 10)}) == 1) == 0.0
    two = square(40, {1: (0, 10, 0, 10), 2: (30, 35, 30, 34)}) > 0  # 100 + 20 px, apart
    assert fragments(two) == pytest.approx(20 / 120)


def moving_square(n: int, size: int = 120) -> dict[int, tuple[np.ndarray, dict[int, np.ndarray]]]:
    """n frames of one crisp square gliding right by 2 px a frame: masks and probabilities."""
    frames = {}
    for i in range(n):
        m = square(size, {1: (40, 80, 20 + 2 * i, 60 + 2 * i)})
        frames[i] = (m, {1: crisp(m)})
    return frames


def run_stats(frames: dict[int, tuple[np.ndarray, dict[int, np.ndarray]]]) -> dict[int, FrameStats]:
    """Stats as the engine worker computes them: the previous frame and frame 0 (the keyframe) as references."""
    key = areas(frames[0][0])
    return {
        f: frame_stats(m, p, previous=areas(frames[f - 1][0]) if f else None, keyframe=key)
        for f, (m, p) in frames.items()
    }


def test_score_separates_an_obviously_bad_frame_from_good_ones():
    frames = moving_square(8)
    m, _ = frames[5]
    bad = m.copy()
    bad[40:80, 30:50] = 0  # the object torn in two ...
    bad[5:25, 90:115] = 1  # ... with a blob far away ...
    prob = cv2.GaussianBlur((bad == 1).astype(np.float32), (0, 0), 4) * 0.8 + 0.1  # ... and a vague edge
    frames[5] = (bad, {1: prob})
    scores = {f: assess(s).score for f, s in run_stats(frames).items()}
    good = [scores[f] for f in frames if f not in (5, 6)]  # 6 follows the bad frame: its area changed back
    assert max(good) < 0.1 < THRESHOLD <= scores[5]
    assert set(find_flags(run_stats(frames), keyframes={0})) <= {5, 6} and 5 in find_flags(run_stats(frames))
    assert "object 1" in assess(run_stats(frames)[5]).reason


def test_keyframes_are_never_flagged():
    frames = moving_square(4)
    stats = run_stats(frames)
    stats[2] = FrameStats({1: 5}, {1: ObjectSignals(5, 0.1, 0.6, 1600, 1600)})  # hopeless
    stats[3] = stats[2]
    assert set(find_flags(stats)) == {2, 3}
    assert set(find_flags(stats, keyframes={0, 2})) == {3}
    assert find_flags(stats, keyframes=range(4)) == {}


def unsure(confidence: float) -> FrameStats:
    return FrameStats({1: 1000}, {1: ObjectSignals(1000, confidence)})


def test_ranking_worst_first_and_frame_order_for_navigation():
    stats = {3: unsure(0.2), 8: unsure(0.1), 12: unsure(0.95), 20: unsure(0.0), 25: unsure(0.1)}
    flags = find_flags(stats)
    assert list(flags) == [3, 8, 20, 25]  # in frame order; 12 is fine
    assert [f for f, _ in ranked(flags)] == [20, 8, 25, 3]  # worst first, ties by frame
    scores = [flag.score for _, flag in ranked(flags)]
    assert scores == sorted(scores, reverse=True) and all(THRESHOLD <= s <= 1 for s in scores)
    assert flags[20].reason == "object 1: unsure boundary (confidence 0.00)"
    assert flags[20].describe().startswith(f"score {flags[20].score:.2f}: object 1")
    assert next_flag(flags, 0, +1) == 3 and next_flag(flags, 8, +1) == 20 and next_flag(flags, 20, -1) == 8


def test_threshold_is_configurable():
    stats = {1: unsure(0.2), 2: unsure(0.0)}
    low, high = assess(stats[1]).score, assess(stats[2]).score
    assert set(find_flags(stats, threshold=high)) == {2}
    assert set(find_flags(stats, threshold=low)) == {1, 2}
    with pytest.raises(ValueError, match="threshold"):
        find_flags(stats, threshold=0)


def test_specks_and_area_change_reasons():
    speck = FrameStats({1: 20}, {1: ObjectSignals(20, 1.0, 0.0, 5, 5)})
    assert assess(speck).score < 0.05  # both areas below MIN_AREA: the ratio means nothing
    shrunk = assess(FrameStats({1: 52}, {1: ObjectSignals(52, 0.8, 0.0, 1000, 1000)}))
    assert shrunk.reason == "object 1: area -95% vs the previous frame"  # the keyframe ratio weighs less
    drifted = assess(FrameStats({1: 52}, {1: ObjectSignals(52, 0.8, 0.0, 60, 1000)}))
    assert drifted.reason == "object 1: area -95% vs its keyframe"
    back = assess(FrameStats({1: 900}, {1: ObjectSignals(900, 0.8, 0.0, 0, 900)}))
    assert back.reason == "object 1 reappeared (900 px; absent on the previous frame)"


def test_next_flag():
    flags = {3: "a", 8: "b", 20: "c"}
    assert next_flag(flags, 0, +1) == 3
    assert next_flag(flags, 3, +1) == 8
    assert next_flag(flags, 20, +1) is None
    assert next_flag(flags, 8, -1) == 3
    assert next_flag(flags, 9, -1) == 8
    assert next_flag(flags, 3, -1) is None
    assert next_flag({}, 5, 1) is None
    with pytest.raises(ValueError, match="direction"):
        next_flag(flags, 3, 0)


def test_record_round_trip_drops_keyframes_legacy_and_junk():
    flags = {4: Flag(0.8123, "object 1 vanished (was 10 px on the previous frame)"), 9: Flag(0.4, "x")}
    record = flags_to_record(flags)
    assert record["4"] == {"score": 0.812, "reason": flags[4].reason}
    assert flags_from_record(record) == {4: Flag(0.812, flags[4].reason), 9: Flag(0.4, "x")}
    assert set(flags_from_record(record, exclude={9})) == {4}
    legacy = {"3": "object 1 area -48% vs frame 2", "x": {"score": 1, "reason": "r"}, "5": {"score": 7, "reason": "r"}}
    assert flags_from_record(legacy) == {} and flags_from_record(None) == {} and flags_from_record([1]) == {}


def test_davis_annotations_with_sure_probabilities_have_no_flags_until_a_mask_goes_empty(shared_data):
    frames = {i: davis_mask("dog", i) for i in range(0, 60, 2)}
    seq = {i: (m, {1: crisp(m)}) for i, m in frames.items()}
    key = areas(frames[0])
    stats = {i: frame_stats(m, p, areas(frames[max(i - 2, 0)]), key) for i, (m, p) in seq.items()}
    assert find_flags(stats, keyframes={0}) == {}
    empty = np.zeros_like(frames[30])
    stats[30] = frame_stats(empty, {1: np.zeros(empty.shape, np.float32)}, areas(frames[28]), key)
    stats[32] = frame_stats(frames[32], {1: crisp(frames[32])}, areas(empty), key)
    flags = find_flags(stats, keyframes={0})
    assert set(flags) == {30, 32}
    assert flags[30].reason.startswith("object 1 vanished (was ")
    assert flags[32].reason.startswith("object 1 reappeared (")
