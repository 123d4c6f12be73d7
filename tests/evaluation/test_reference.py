"""The weight-free reference propagators and the evaluate() API on synthetic data."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from llb_core.evaluation.evaluate import evaluate
from llb_core.evaluation.reference import propagate_copy, propagate_flow, warp_mask
from llb_core.io import read_index_mask
from tests.evaluation.synthetic import moving_scene, write_root


class ListFrames:
    def __init__(self, frames: list[np.ndarray]) -> None:
        self.frames = frames

    def read(self, index: int) -> np.ndarray:
        return self.frames[index]


def test_copy_repeats_the_first_mask():
    frames, masks = moving_scene(4, step=3)
    out = list(propagate_copy(ListFrames(frames), masks[0], 4))
    assert len(out) == 4
    for mask in out:
        np.testing.assert_array_equal(mask, masks[0])


def test_warp_mask_follows_the_flow_direction():
    mask = np.zeros((20, 30), np.uint8)
    mask[5:10, 5:10] = 3
    flow = np.zeros((20, 30, 2), np.float32)
    flow[..., 0] = -4  # every pixel of the current frame came from 4 px to its left
    warped = warp_mask(mask, flow)
    expected = np.zeros_like(mask)
    expected[5:10, 9:14] = 3
    np.testing.assert_array_equal(warped, expected)


def test_flow_tracks_moving_objects_and_keeps_their_ids():
    # 2 px per frame: the copy's IoU on the last frame would be 14/34 = 0.41
    frames, masks = moving_scene(6, step=2)
    out = list(propagate_flow(ListFrames(frames), masks[0], 6))
    assert len(out) == 6
    np.testing.assert_array_equal(out[0], masks[0])
    last = out[-1]
    assert set(np.unique(last).tolist()) == {0, 1, 2}
    for obj in (1, 2):
        inter = np.count_nonzero((last == obj) & (masks[-1] == obj))
        union = np.count_nonzero((last == obj) | (masks[-1] == obj))
        assert inter / union > 0.8, f"object {obj}: IoU {inter / union:.2f} on the last frame"


def test_evaluate_synthetic_root(tmp_path):
    root = write_root(tmp_path / "data", {"moving": moving_scene(6, step=3), "still": moving_scene(5, step=0)})
    copy = evaluate(root, method="copy", save_masks=tmp_path / "masks")
    flow = evaluate(root, method="flow")
    assert [s.name for s in copy.sequences] == ["moving", "still"]
    still = copy.sequences[1]
    assert (still.j, still.f, still.jf, still.j_recall) == (1.0, 1.0, 1.0, 1.0)
    assert still.scored_frames == 3 and still.frames == 5
    assert sorted(still.objects) == [1, 2]
    assert flow.sequences[0].jf > copy.sequences[0].jf + 0.2
    assert copy.j == pytest.approx(np.mean([s.j for s in copy.sequences]))
    assert copy.jf == pytest.approx((copy.j + copy.f) / 2)
    saved = read_index_mask(tmp_path / "masks" / "moving" / "00004.png")
    np.testing.assert_array_equal(saved, read_index_mask(root / "Annotations" / "480p" / "moving" / "00000.png"))
    data = json.loads(copy.to_json())
    assert data["method"] == "copy"
    assert data["mean"]["jf"] == pytest.approx(copy.jf)
    assert data["sequences"][1]["objects"]["2"]["j"] == 1.0


def test_evaluate_excludes_first_and_last_frames(tmp_path):
    frames, masks = moving_scene(5, step=2)
    root = write_root(tmp_path / "data", {"seq": (frames, masks)})

    def perfect_inside(_frames, first, n):
        empty = np.zeros_like(first)
        return iter([empty] + masks[1 : n - 1] + [empty])

    report = evaluate(root, method="copy", propagator=perfect_inside)
    assert (report.j, report.f) == (1.0, 1.0)


def test_engine_free_modules_do_not_import_torch():
    code = (
        "import sys\n"
        "import llb_core.evaluation.metrics, llb_core.evaluation.reference, llb_core.evaluation.davis\n"
        "import llb_core.evaluation.evaluate, llb_core.cli.eval\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
