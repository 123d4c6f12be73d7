"""Distractors pasted beside the target in training samples (llb_core.train.twins) and location priors
leaking onto other objects (llb_core.train.prior.leak_onto)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import llb_core.train.data as data
from llb_core.errors import LLBError
from llb_core.train import load_recipe
from llb_core.train.augment import AugmentConfig
from llb_core.train.data import SequenceSampler, crop_sequence, read_davis
from llb_core.train.prior import leak_onto, simulate_priors
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
    out, copies = add_twin(pairs, np.random.default_rng(seed), cfg)
    for (frame, mask), (new_frame, new_mask), pasted in zip(pairs, out, copies, strict=True):
        assert new_frame.shape == frame.shape and new_mask.dtype == np.uint8
        assert not (new_mask & (mask == 0)).any()  # the target never grows ...
        copy = red_pixels(new_frame) & (new_mask == 0)
        assert copy.sum() > 100  # ... and a red look-alike lies outside it
        assert (pasted > 0).sum() >= copy.sum() * 0.9 and not (pasted & new_mask).any()
        untouched = ~red_pixels(new_frame) & ~red_pixels(frame)
        assert (new_frame[untouched] == frame[untouched]).mean() > 0.95  # only the copy was painted
    assert out[0][1].sum() >= 0.5 * pairs[0][1].sum()  # the reference object stays mostly visible


def test_copy_only_on_later_frames_and_never_where_the_object_is_hidden():
    pairs = clip(hidden=2)
    out, copies = add_twin(pairs, np.random.default_rng(0), TwinConfig(on_reference=0.0))
    assert not copies[0].any() and not copies[2].any() and copies[1].any()
    assert out[0][0] is pairs[0][0] and out[0][1] is pairs[0][1]
    assert (out[2][0] == pairs[2][0]).all() and not out[2][1].any()
    assert (red_pixels(out[1][0]) & (out[1][1] == 0)).sum() > 100


def test_copy_behind_the_object_leaves_its_mask_whole():
    pairs = clip()
    cfg = TwinConfig(in_front=0.0, distance=(0.5, 0.6), on_reference=1.0)
    out, _ = add_twin(pairs, np.random.default_rng(1), cfg)
    for (frame, mask), (new_frame, new_mask) in zip(pairs, out, strict=True):
        assert (new_mask == mask).all()
        assert (new_frame[mask > 0] == frame[mask > 0]).all()


def test_sampler_pastes_twins_at_its_rate(shared_data, monkeypatch):
    calls = []

    def spy(pairs, rng, source=None):
        calls.append(len(pairs))
        return add_twin(pairs, rng, source=source)

    monkeypatch.setattr(data, "add_twin", spy)
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
    with pytest.raises(LLBError, match="prior_leak"):
        load_recipe("cpu-distractors", ["prior_leak=-0.1"])
    assert load_recipe("cpu-lookalikes").twin_probability == 0.3


def test_a_stranger_brings_its_own_look_and_is_reported_as_another_object():
    pairs = clip()
    stranger = np.full((100, 100, 3), 90, np.uint8)
    blue = np.zeros((100, 100), np.uint8)
    stranger[20:60, 30:50] = (20, 20, 230)
    blue[20:60, 30:50] = 1
    out, copies = add_twin(pairs, np.random.default_rng(2), TwinConfig(on_reference=1.0), source=(stranger, blue))
    for (_, mask), (new_frame, new_mask), pasted in zip(pairs, out, copies, strict=True):
        is_blue = (new_frame[..., 2] > 180) & (new_frame[..., 0] < 70)
        assert is_blue.sum() > 200 and (pasted[is_blue] == 1).mean() > 0.95  # the stranger's pixels, reported
        assert not (new_mask & (mask == 0)).any() and not (pasted & new_mask).any()
        assert not (is_blue & (pasted == 0)).any()


def test_crops_carry_the_other_objects_and_priors_leak_onto_the_nearest():
    pairs = clip()
    others = []
    for _, mask in pairs:
        other = np.zeros_like(mask)
        other[60:90, 150:175] = 1  # a neighbour to the right ...
        other[5:20, 5:20] = 1  # ... and one far away
        others.append(other)
    rng = np.random.default_rng(0)
    images, masks, rest = crop_sequence(pairs, (96, 160), rng, AugmentConfig(rotation_deg=0, log_scale=0), others)
    assert rest.shape == masks.shape and not (rest.bool() & masks.bool()).any() and rest[1:].sum() > 0
    plain = simulate_priors(masks[None], np.random.default_rng(1))
    assert torch.equal(plain, simulate_priors(masks[None], np.random.default_rng(1), others=rest[None], leak=0.0))
    leaked = simulate_priors(masks[None], np.random.default_rng(1), others=rest[None], leak=1.0)
    on_other = rest[None, 1:].bool()
    assert leaked[on_other].mean() > 0.2 > plain[on_other].mean()  # the prior spread onto the neighbour
    mask, other = np.zeros((60, 80), np.uint8), np.zeros((60, 80), np.uint8)
    mask[20:30, 20:30] = 1
    other[20:30, 32:40] = 1  # near
    other[50:58, 70:78] = 1  # far
    out = leak_onto(np.zeros((60, 80), np.float32), mask, other, np.random.default_rng(3))
    assert out[20:30, 32:40].max() > 0.3 and out[50:58, 70:78].max() < 0.05


def test_sampler_pastes_strangers_from_other_clips(shared_data):
    seqs = read_davis(shared_data / "davis2016-train", ["soccerball", "bear"])
    sampler = SequenceSampler(seqs, (64, 112), stranger_probability=1.0)
    rng = np.random.default_rng(1)
    shown = 0
    for _ in range(12):
        images, masks, others = sampler.sample_parts(rng)
        assert others.shape == masks.shape and not (others.bool() & masks.bool()).any()
        shown += bool(others.sum() > 0)
    assert shown >= 6  # most crops show the stranger (it may fall outside a crop or be hidden)
    alone = SequenceSampler(seqs[:1], (64, 112), stranger_probability=1.0)
    assert alone.sample_parts(rng)[2].sum() == 0  # no other clip: nothing pasted


def test_tracked_twins_are_reported_as_another_object_from_the_reference_frame(shared_data):
    seqs = read_davis(shared_data / "davis2016-train", ["soccerball"])  # one object: no other ids
    untracked = SequenceSampler(seqs, (64, 112), twin_probability=1.0)
    tracked = SequenceSampler(seqs, (64, 112), twin_probability=1.0, track_twins=True)
    reported = 0
    for seed in range(16):
        pick = untracked.pick(np.random.default_rng(seed))
        _, masks, others = untracked.render_parts(pick, np.random.default_rng(100 + seed))
        assert not others.any()  # a twin alone is never "another object"
        _, masks, others = tracked.render_parts(pick, np.random.default_rng(100 + seed))
        if others.any():
            reported += 1
            assert others[0].any()  # only a twin shown on the (cropped) reference frame is tracked
            assert not (others.bool() & masks.bool()).any()
    assert 2 <= reported <= 14  # TwinConfig.on_reference: about half the twins show on the reference frame
    assert load_recipe("cpu-lite2-multiobject").track_twins
    with pytest.raises(LLBError, match="track_twins needs soft_aggregation"):
        load_recipe("cpu-lite2-multiobject", ["soft_aggregation=false"])
