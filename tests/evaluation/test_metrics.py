"""J and F on hand-made masks with answers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from llb_core.evaluation.evaluate import score_masks
from llb_core.evaluation.metrics import boundary_map, boundary_tolerance, f_measure, frame_scores, jaccard


def square(size: int = 100, top: int = 40, left: int = 40, side: int = 20) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    mask[top : top + side, left : left + side] = True
    return mask


def test_tolerance_is_ceil_of_diagonal_fraction():
    # 854x480: diagonal 979.65 px, 0.8 % of it is 7.84 -> 8
    assert boundary_tolerance((480, 854)) == 8
    # 100x100: 141.4 * 0.008 = 1.13 -> 2
    assert boundary_tolerance((100, 100)) == 2
    assert boundary_tolerance((100, 100)) == math.ceil(0.008 * math.hypot(100, 100))


def test_boundary_map_of_a_small_square():
    mask = np.zeros((8, 8), bool)
    mask[2:5, 2:5] = True
    expected = np.zeros((8, 8), bool)
    # outside pixels whose right / bottom / bottom-right neighbour is inside
    expected[1, 1:5] = True
    expected[2:5, 1] = True
    # inside pixels whose right / bottom neighbour is outside
    expected[4, 2:5] = True
    expected[2:4, 4] = True
    np.testing.assert_array_equal(boundary_map(mask), expected)


def test_boundary_map_of_uniform_masks_is_empty():
    assert not boundary_map(np.zeros((10, 12), bool)).any()
    assert not boundary_map(np.ones((10, 12), bool)).any()


def test_identical_masks_score_one():
    mask = square()
    assert jaccard(mask, mask) == 1.0
    assert f_measure(mask, mask) == 1.0


def test_disjoint_masks_score_zero():
    a = square(top=5, left=5, side=10)
    b = square(top=70, left=70, side=10)
    assert jaccard(a, b) == 0.0
    assert f_measure(a, b) == 0.0


def test_one_pixel_shift_within_tolerance():
    gt = square()
    pred = np.roll(gt, 1, axis=1)
    # the 20x20 squares share 19 columns: 380 pixels; the union holds 21 columns: 420
    assert jaccard(pred, gt) == pytest.approx(380 / 420)
    assert boundary_tolerance(gt.shape) == 2
    assert f_measure(pred, gt) == 1.0


def test_shift_beyond_tolerance_lowers_f():
    gt = square()
    pred = np.roll(gt, 5, axis=1)  # 5 px > the 2 px tolerance
    f = f_measure(pred, gt)
    assert 0.0 < f < 1.0
    # with a tolerance of the shift, the same pair matches completely
    assert f_measure(pred, gt, tolerance=5) == 1.0
    # the left and right edges stay out of reach however far the shift goes, the top and bottom do not
    assert f > f_measure(np.roll(gt, 30, axis=1), gt)


def test_empty_mask_conventions():
    empty = np.zeros((50, 50), bool)
    full = square(size=50, top=10, left=10, side=10)
    assert jaccard(empty, empty) == 1.0
    assert f_measure(empty, empty) == 1.0
    assert jaccard(full, empty) == 0.0
    assert jaccard(empty, full) == 0.0
    assert f_measure(full, empty) == 0.0
    assert f_measure(empty, full) == 0.0


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shape"):
        jaccard(np.zeros((4, 5), bool), np.zeros((5, 4), bool))


def test_frame_scores_per_object():
    gt = np.zeros((100, 100), np.uint8)
    gt[square()] = 1
    gt[square(top=5, left=5, side=10)] = 2
    pred = gt.copy()
    pred[pred == 2] = 0  # object 2 lost
    scores = frame_scores(pred, gt, [1, 2])
    assert scores[1] == (1.0, 1.0)
    assert scores[2] == (0.0, 0.0)


def test_first_and_last_frames_are_excluded():
    gt = np.zeros((60, 60), np.uint8)
    gt[20:40, 20:40] = 1
    wrong = np.zeros_like(gt)
    wrong[0:10, 0:10] = 1
    n = 6
    preds = [wrong] + [gt] * (n - 2) + [wrong]
    objects, scored, _ = score_masks(iter(preds), lambda i: gt, n, [1], tolerance=2)
    assert scored == n - 2
    assert (objects[1].j, objects[1].f, objects[1].j_recall) == (1.0, 1.0, 1.0)
    # one wrong frame inside the scored range does count: J = F = 3/4, recall 3/4
    preds[2] = wrong
    objects, scored, _ = score_masks(iter(preds), lambda i: gt, n, [1], tolerance=2)
    assert objects[1].j == pytest.approx(3 / 4)
    assert objects[1].f == pytest.approx(3 / 4)
    assert objects[1].j_recall == pytest.approx(3 / 4)


def test_frames_without_ground_truth_are_skipped():
    gt = np.zeros((60, 60), np.uint8)
    gt[20:40, 20:40] = 1
    preds = [gt] * 5
    objects, scored, _ = score_masks(iter(preds), lambda i: gt if i == 2 else None, 5, [1], tolerance=2)
    assert scored == 1
    assert objects[1].j == 1.0
