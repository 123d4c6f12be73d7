"""`app.view.render.render_region`: a region equals the same pixels of a full `compose`, in every mode."""

from __future__ import annotations

import numpy as np
import pytest

from app.view.render import ViewMode, ViewState, compose, damaged, render_region

COLOURS = {1: (255, 0, 0), 2: (0, 0, 255)}
STATES = [
    ViewState(ViewMode.OVERLAY),
    ViewState(ViewMode.OVERLAY, opacity=0.3, outline=False),
    ViewState(ViewMode.MASK),
    ViewState(ViewMode.SIDE_BY_SIDE),
    ViewState(ViewMode.CUTOUT),
    ViewState(ViewMode.CUTOUT, grow=5, feather=5),
    ViewState(ViewMode.MATTE, grow=-3, feather=7),
    ViewState(ViewMode.OVERLAY, onion=True),
    ViewState(ViewMode.SIDE_BY_SIDE, onion=True),
]


@pytest.mark.parametrize("state", STATES, ids=lambda s: f"{s.mode.name}-g{s.grow}-f{s.feather}-o{int(s.onion)}")
def test_regions_equal_the_full_render(davis_frame, state):
    rgb, mask = davis_frame
    h, w = mask.shape
    previous = np.roll(mask, 15, axis=1)  # the onion skin's "previous frame"
    full = compose(rgb, mask, COLOURS, {2} if state.mode is ViewMode.MASK else set(), state, previous)
    if state.mode is ViewMode.SIDE_BY_SIDE:
        full = full[:, w:]  # render_region gives the overlay half
    ys, xs = np.nonzero(mask)
    rng = np.random.default_rng(7)
    rects = [(0, 0, w, h), (0, 0, 1, 1), (w - 40, h - 30, w, h), (int(xs.min()), int(ys.min()), int(xs.max()), 200)]
    for _ in range(12):  # around the objects' edges, where outline, grow and feather matter
        x, y = int(rng.integers(xs.min(), xs.max())), int(rng.integers(ys.min(), ys.max()))
        rects.append(damaged((x, y, x + int(rng.integers(1, 90)), y + int(rng.integers(1, 90))), state, (w, h)))
    for rect in rects:
        x0, y0, x1, y1 = rect
        hidden = {2} if state.mode is ViewMode.MASK else set()
        region = render_region(rgb, mask, COLOURS, hidden, state, rect, previous)
        assert np.array_equal(region, full[y0:y1, x0:x1]), rect


def test_no_mask_and_bad_regions(davis_frame):
    rgb, _ = davis_frame
    state = ViewState(ViewMode.CUTOUT, feather=3)
    full = compose(rgb, None, COLOURS, set(), state)
    assert np.array_equal(render_region(rgb, None, COLOURS, set(), state, (10, 20, 90, 60)), full[20:60, 10:90])
    for rect in ((5, 5, 5, 9), (-1, 0, 4, 4), (0, 0, rgb.shape[1] + 1, 4)):
        with pytest.raises(ValueError):
            render_region(rgb, None, COLOURS, set(), state, rect)


def test_damage_reaches_as_far_as_grow_and_feather():
    size = (100, 80)
    assert damaged((10, 10, 20, 20), ViewState(ViewMode.OVERLAY), size) == (9, 9, 21, 21)  # the outline
    assert damaged((10, 10, 20, 20), ViewState(ViewMode.CUTOUT, grow=-4, feather=3), size) == (2, 2, 28, 28)
    assert damaged((0, 0, 100, 80), ViewState(ViewMode.MATTE, grow=2), size) == (0, 0, 100, 80)
