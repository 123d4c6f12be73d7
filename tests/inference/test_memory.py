"""Memory bank policy, search regions, soft aggregation, keyframe dependencies (no network)."""

from __future__ import annotations

import math

import pytest
import torch

from llb_core.inference import MemoryBank, MemorySample, SessionSettings, soft_aggregate
from llb_core.inference.keyframes import memory_keyframes
from llb_core.inference.search_region import Box, box_from_mask, search_window, update_box


def sample(frame: int, pinned: bool = False) -> MemorySample:
    z = torch.zeros(1, 1, 1)
    return MemorySample(frame, z, z, z, z, z, pinned)


def test_eviction_order_and_weights():
    bank = MemoryBank(capacity=5, update_rate=0.1)
    bank.add(sample(0, pinned=True))
    evicted = [bank.add(sample(f)) for f in range(5, 60, 5)]
    # the first 4 additions fill the bank, then the oldest unpinned sample goes each time
    assert evicted[:4] == [None] * 4
    assert evicted[4:] == [5, 10, 15, 20, 25, 30, 35]
    assert [s.frame for s in bank.samples] == [0, 40, 45, 50, 55]
    assert math.isclose(sum(bank.weights), 1.0)
    assert bank.weights[0] >= 0.25
    # unpinned weights grow by 1 / (1 - rate) from oldest to newest
    unpinned = bank.weights[1:]
    for older, newer in zip(unpinned, unpinned[1:], strict=False):
        assert math.isclose(newer / older, 1 / 0.9, rel_tol=1e-9)


def test_keyframes_are_pinned_and_never_evicted():
    bank = MemoryBank(capacity=6, update_rate=0.1)
    bank.add(sample(0, pinned=True))
    bank.add(sample(30, pinned=True))
    for f in range(1, 200):
        bank.add(sample(100 + f))
        assert {0, 30} <= {s.frame for s in bank.samples}
        assert len(bank) <= 6
        assert math.isclose(sum(bank.weights), 1.0)
        assert all(w >= 0.25 - 1e-12 for w, s in zip(bank.weights, bank.samples, strict=True) if s.pinned)
    with pytest.raises(RuntimeError, match="keyframes"):
        full = MemoryBank(capacity=2)
        full.add(sample(0, True))
        full.add(sample(1, True))
        full.add(sample(2, True))


def test_transformer_sees_keyframes_and_the_most_recent():
    bank = MemoryBank(capacity=20, transformer_samples=3)
    bank.add(sample(0, pinned=True))
    for f in range(1, 8):
        bank.add(sample(f))
    assert [bank.samples[i].frame for i in bank.transformer_indices()] == [0, 6, 7]


def test_settings_are_validated():
    with pytest.raises(ValueError, match="mode"):
        SessionSettings(mode="tiles")
    with pytest.raises(ValueError, match="pinned_floor"):
        SessionSettings(keyframes_in_memory=4, pinned_floor=0.25)


def test_soft_aggregation():
    logits = torch.tensor([[[5.0, -5.0, 0.0]], [[-5.0, -5.0, 0.0]]])  # 2 objects, 3 pixels
    q = soft_aggregate(logits)
    torch.testing.assert_close(q.sum(0), torch.ones(1, 3))
    assert q.argmax(0)[0, 0] == 1 and q.argmax(0)[0, 1] == 0
    # an annotation (logit +100) wins over anything
    assert soft_aggregate(torch.tensor([[[100.0]], [[30.0]]])).argmax(0).item() == 1


def test_search_window_geometry():
    box = Box(cx=100, cy=50, w=20, h=10)
    win = search_window(box, (480, 854), (480, 864), area_factor=25, max_zoom=100)
    assert 0 <= win.x0 < win.x1 <= 854 and 0 <= win.y0 < win.y1 <= 480
    assert math.isclose(win.width * win.height, 25 * 20 * 10, rel_tol=0.1)
    assert math.isclose(win.width / win.height, 864 / 480, rel_tol=0.1)
    # a huge box: shrunk to fit the image
    big = search_window(Box(400, 240, 800, 400), (480, 854), (480, 864))
    assert big.x0 == 0 and big.x1 == 854 and big.y0 >= 0 and big.y1 <= 480
    # near the border: shifted inside, not cut
    edge = search_window(Box(850, 470, 40, 40), (480, 854), (480, 864), max_zoom=100)
    assert edge.x1 == 854 and edge.y1 == 480 and math.isclose(edge.width / edge.height, 1.8, rel_tol=0.05)


def test_box_follows_the_mask_with_clipped_scale():
    prob = torch.zeros(100, 200)
    prob[40:60, 50:90] = 1
    box = box_from_mask(prob)
    assert box is not None and math.isclose(box.cx, 69.5) and math.isclose(box.cy, 49.5)
    assert math.isclose(box.w, 4 * math.sqrt((40**2 - 1) / 12), rel_tol=1e-4)
    small = Box(69.5, 49.5, 4.0, 4.0)
    grown = update_box(small, prob)
    assert math.isclose(math.sqrt(grown.w * grown.h / 16.0), 1.1, rel_tol=1e-6)
    tiny = torch.zeros(100, 200)
    tiny[0:5, 0:5] = 1  # 25 pixels < 100: keep the old box
    assert update_box(small, tiny) == small


def test_keyframes_a_run_carries():
    assert memory_keyframes(30, 1, [0, 10, 20, 30, 40], 3) == [30, 20, 10]
    assert memory_keyframes(30, -1, [0, 10, 20, 30, 40, 50, 60], 3) == [30, 40, 50]
