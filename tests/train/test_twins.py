"""Look-alike copies pasted beside the target in training samples (llb_core.train.twins)."""

from __future__ import annotations

import numpy as np
import pytest

import llb_core.train.data as data
from llb_core.errors import LLBError
from llb_core.train import load_recipe
from llb_core.train.data import SequenceSampler, read_davis
from llb_core.train.twins import TwinConfig, add_twin

RED = np.array([230, 20, 20], np.uint8)


def clip(frames: int = 4, hidden: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """A red square (the target) moving right over grey, optionally absent from frame `hidden`."""
    pairs = []
    for t in range(frames):
        frame = np.full((160, 240, 3), 90, np.uint8)
        mask = np.zeros((160, 240), np.uint8)
        if t != hidden:
            frame[60:90, 100 + 3 * t : 130 + 3 * t] = RED
            mask[60:90, 100 + 3 * t : 130 + 3 * t] = 1
        pairs.append((frame, mask))
    return pairs


def red_pixels(frame: np.ndarray) -> np.ndarray:
    return (frame[..., 0] > 180) & (frame[..., 1] < 70) & (frame[..., 2] < 70)


@pytest.mark.parametrize("seed", range(6))
def test_the_copy_looks_like_the_object_and_is_background(seed):
    pairs = clip()
    cfg = TwinConfig(on_reference=1.0)
    out = add_twin(pairs, np.random.default_rng(seed), cfg)
    for (frame, mask), (new_frame, new_mask) in zip(pairs, out, strict=True):
        assert new_frame.shape == frame.shape and new_mask.dtype == np.uint8
        assert not (new_mask & (mask == 0)).any()  # the target never grows ...
        copy = red_pixels(new_frame) & (new_mask == 0)
        assert copy.sum() > 100  # ... and a red look-alike lies outside it
        untouched = ~red_pixels(new_frame) & ~red_pixels(frame)
        assert (new_frame[untouched] == frame[untouched]).mean() > 0.95  # only the copy was painted
    assert out[0][1].sum() >= 0.5 * pairs[0][1].sum()  # the reference object stays mostly visible


def test_copy_only_on_later_frames_and_never_where_the_object_is_hidden():
    pairs = clip(hidden=2)
    out = add_twin(pairs, np.random.default_rng(0), TwinConfig(on_reference=0.0))
    assert out[0][0] is pairs[0][0] and out[0][1] is pairs[0][1]
    assert (out[2][0] == pairs[2][0]).all() and not out[2][1].any()
    assert (red_pixels(out[1][0]) & (out[1][1] == 0)).sum() > 100


def test_copy_behind_the_object_leaves_its_mask_whole():
    pairs = clip()
    cfg = TwinConfig(in_front=0.0, distance=(0.5, 0.6), on_reference=1.0)
    out = add_twin(pairs, np.random.default_rng(1), cfg)
    for (frame, mask), (new_frame, new_mask) in zip(pairs, out, strict=True):
        assert (new_mask == mask).all()
        assert (new_frame[mask > 0] == frame[mask > 0]).all()


def test_sampler_pastes_twins_at_its_rate(shared_data, monkeypatch):
    calls = []
    monkeypatch.setattr(data, "add_twin", lambda pairs, rng: calls.append(len(pairs)) or add_twin(pairs, rng))
    seqs = read_davis(shared_data / "davis2016-train", ["soccerball"])
    sampler = SequenceSampler(seqs, (64, 112), twin_probability=0.3)
    rng = np.random.default_rng(0)
    pick = sampler.pick(rng)
    for _ in range(200):
        images, masks = sampler.render(pick, rng)
        assert images.shape == (4, 3, 64, 112) and masks[0].sum() > 0
    assert 40 <= len(calls) <= 80 and set(calls) == {4}
    assert not SequenceSampler(seqs, (64, 112)).twin_probability
    with pytest.raises(LLBError, match="twin_probability"):
        load_recipe("cpu-lookalikes", ["twin_probability=1.5"])
    assert load_recipe("cpu-lookalikes").twin_probability == 0.3
