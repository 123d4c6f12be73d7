"""`app.flags`: stats, flags and navigation on hand-made masks with known answers and on DAVIS annotations."""

from __future__ import annotations

import numpy as np
import pytest
from review_helpers import davis_mask

from app.flags import FrameStats, find_flags, frame_stats, next_flag, object_confidence


def square(size: int, ids_boxes: dict[int, tuple[int, int, int, int]]) -> np.ndarray:
    """(size, size) uint8 index mask with object k filling box (y0, y1, x0, x1)."""
    m = np.zeros((size, size), np.uint8)
    for k, (y0, y1, x0, x1) in ids_boxes.items():
        m[y0:y1, x0:x1] = k
    return m


def test_frame_stats_areas():
    m = square(100, {1: (0, 10, 0, 10), 3: (50, 70, 50, 60)})
    s = frame_stats(m)
    assert s.areas == {1: 100, 3: 200}
    assert s.confidence == 1.0  # no probabilities: a hand-painted keyframe


def test_frame_stats_lists_vanished_object_with_zero_area():
    m = square(50, {1: (0, 10, 0, 10)})
    probs = {1: (m == 1).astype(np.float32), 2: np.zeros((50, 50), np.float32)}
    assert frame_stats(m, probs).areas == {1: 100, 2: 0}


def test_confidence_sharp_vs_blurry_boundary():
    m = square(64, {1: (16, 48, 16, 48)})
    sharp = (m == 1).astype(np.float32)
    assert frame_stats(m, {1: sharp}).confidence == pytest.approx(1.0)
    unsure = np.where(m == 1, 0.6, 0.4).astype(np.float32)  # |2p - 1| = 0.2 everywhere
    assert frame_stats(m, {1: unsure}).confidence == pytest.approx(0.2, abs=1e-6)


def test_confidence_is_the_worst_object():
    m = square(64, {1: (0, 20, 0, 20), 2: (40, 60, 40, 60)})
    probs = {1: (m == 1).astype(np.float32), 2: np.where(m == 2, 0.7, 0.3).astype(np.float32)}
    assert frame_stats(m, probs).confidence == pytest.approx(0.4, abs=1e-6)


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


def stats(*areas: dict[int, int], confidence: float = 1.0) -> dict[int, FrameStats]:
    return {i: FrameStats(a, confidence) for i, a in enumerate(areas)}


def test_area_jump_both_directions():
    flags = find_flags(stats({1: 1000}, {1: 1100}, {1: 520}, {1: 540}, {1: 900}))
    assert flags == {2: "object 1 area -53% vs frame 1", 4: "object 1 area +67% vs frame 3"}


def test_threshold_is_strict_and_configurable():
    seq = stats({1: 1000}, {1: 1300}, {1: 1000})
    assert find_flags(seq) == {}
    assert set(find_flags(seq, area_jump=0.25)) == {1}  # +30%, then -23%
    assert set(find_flags(seq, area_jump=0.2)) == {1, 2}


def test_vanish_and_reappear_flagged_but_first_appearance_not():
    flags = find_flags(stats({1: 1000}, {1: 1000, 2: 400}, {1: 0, 2: 400}, {1: 0, 2: 400}, {1: 950, 2: 400}))
    assert flags == {
        2: "object 1 vanished (was 1000 px on frame 1)",
        4: "object 1 reappeared (950 px; absent on frame 3)",
    }


def test_vanish_when_object_missing_from_areas():
    assert find_flags(stats({1: 800, 2: 800}, {2: 800})) == {1: "object 1 vanished (was 800 px on frame 0)"}


def test_specks_below_min_area_are_ignored():
    assert find_flags(stats({1: 20}, {1: 5}, {1: 0}, {1: 30})) == {}
    assert set(find_flags(stats({1: 20}, {1: 5}), min_area=10)) == {1}


def test_compares_with_previous_available_frame():
    s = {3: FrameStats({1: 1000}), 10: FrameStats({1: 1200}), 11: FrameStats({1: 400})}
    assert find_flags(s) == {11: "object 1 area -67% vs frame 10"}


def test_low_confidence_and_several_reasons():
    s = {0: FrameStats({1: 1000, 2: 500}), 1: FrameStats({1: 300, 2: 900}, confidence=0.3)}
    assert find_flags(s) == {1: "object 1 area -70% vs frame 0; object 2 area +80% vs frame 0; confidence 0.30 < 0.55"}
    assert find_flags(s, min_confidence=0.2, area_jump=1.0) == {}


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


def test_davis_annotations_smooth_sequence_has_no_flags_until_a_mask_goes_empty(shared_data):
    masks = {i: davis_mask("dog", i) for i in range(0, 60, 2)}
    clean = {i: frame_stats(m) for i, m in masks.items()}
    assert find_flags(clean) == {}
    broken = dict(clean)
    broken[30] = frame_stats(np.zeros_like(masks[30]), {1: np.zeros(masks[30].shape, np.float32)})
    flags = find_flags(broken)
    assert set(flags) == {30, 32}
    assert flags[30].startswith("object 1 vanished (was ")
    assert flags[32].startswith("object 1 reappeared (")


def test_davis_occlusion_is_flagged(shared_data):
    """bmx-trees: the rider passes behind a tree around frame 69; its annotated area jumps by about 50%."""
    flags = find_flags({i: frame_stats(davis_mask("bmx-trees", i)) for i in range(60, 75)})
    assert 69 in flags and "object 1 area +" in flags[69]
