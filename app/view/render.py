"""Compose the viewer image of one frame from its RGB pixels and index mask. Qt-free (numpy, OpenCV).

Names: `rgb` (H, W, 3) uint8 source frame; `index` (H, W) uint8 index mask (0 = background, k = object id);
`alpha` (H, W) float32 matte in [0, 1]; `lut` a 256-entry lookup table indexed by object id.

The CUTOUT and MATTE modes build their matte with `llb_core.io.export.union_matte`, the exporters' own rule:
the visible objects are combined first (so alpha stays 1 where two objects touch), then grown and feathered once,
and quantised like the exporters do. So what the viewer shows is what `cutout`, `matte` or `prores` exports write
for the same objects, grow and feather (exporters prefer stored soft masks where a project has them; the viewer
always draws the index mask).

Speed (benchmarks/bench_review.py: 854x480, two objects, OpenCV on one thread, 2-core machine busy with a
training job; best of 30): OVERLAY, MASK, MATTE and SIDE_BY_SIDE 2-9 ms; CUTOUT 6 ms, or 14 ms with grow 5 and
feather 5 when each object was grown and blurred on its own. Growing and blurring the union once instead: MATTE and
CUTOUT 2-3 ms, 5 ms with grow 5 and feather 5 (DAVIS dog frame split in two, 2-core machine shared with 3 other
jobs, measured by hand, not with bench_review.py). The budget is
30 ms, checked by tests/app/review/test_review_render.py.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Set
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from llb_core.io import palette_colour, quantize_alpha
from llb_core.io.export import union_matte

CHECKER_SIZE = 16  # pixels per checkerboard square behind cutouts
CHECKER_GREYS = (102, 153)  # the two greys of the checkerboard


class ViewMode(enum.Enum):
    """What the viewer shows."""

    OVERLAY = "overlay"  # object colours blended over the frame
    MASK = "mask"  # object colours on black
    CUTOUT = "cutout"  # visible objects over a checkerboard, with the export matte
    MATTE = "matte"  # the export matte in grey
    SIDE_BY_SIDE = "side_by_side"  # source | overlay


@dataclass(frozen=True)
class ViewState:
    """How masks are drawn.

    Attributes:
        mode: what to show.
        opacity: object colour weight in OVERLAY, 0..1.
        grow: pixels to grow (> 0) or shrink (< 0) the matte in CUTOUT / MATTE, as the export does.
        feather: matte blur radius in pixels in CUTOUT / MATTE, as the export does.
        outline: draw a 1-pixel contour in each object's colour in OVERLAY (edges stay visible at low opacity).
        onion: onion skin: draw the previous frame's object edges, in a lighter tint of each object's colour, in
            OVERLAY, MASK and SIDE_BY_SIDE (the caller passes that frame's mask to `compose`).
    """

    mode: ViewMode = ViewMode.OVERLAY
    opacity: float = 0.5
    grow: int = 0
    feather: int = 0
    outline: bool = True
    onion: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.mode, ViewMode):
            raise ValueError(f"mode must be a ViewMode, got {self.mode!r}")
        if not 0.0 <= self.opacity <= 1.0:
            raise ValueError(f"opacity must lie in 0..1, got {self.opacity}")
        if self.feather < 0:
            raise ValueError(f"feather must be >= 0 pixels, got {self.feather}")


def _colour_image(index: np.ndarray, colours: Mapping[int, tuple[int, int, int]], visible: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8: each visible object's colour (palette colour when `colours` lacks it), black elsewhere."""
    lut = np.zeros((256, 1, 3), np.uint8)  # cv2.LUT wants (256, 1, C)
    for obj_id in np.flatnonzero(visible):
        lut[obj_id, 0] = colours.get(int(obj_id)) or palette_colour(int(obj_id))
    return cv2.LUT(cv2.merge([index, index, index]), lut)


def _visible_ids(index: np.ndarray, hidden: Set[int]) -> np.ndarray:
    """(256,) bool: ids present in `index`, not 0 and not hidden."""
    counts = cv2.calcHist([index], [0], None, [256], [0, 256]).ravel()  # (256,) float32, faster than np.bincount
    present = counts > 0
    present[0] = False
    for obj_id in hidden:
        if 0 <= obj_id < 256:
            present[obj_id] = False
    return present


def _select(index: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """(H, W) uint8, 255 where a visible object is, else 0."""
    return cv2.LUT(index, visible.astype(np.uint8) * 255)


@lru_cache(maxsize=4)
def checkerboard(height: int, width: int) -> np.ndarray:
    """(H, W, 3) uint8 grey checkerboard (read-only, cached per size)."""
    yy, xx = np.mgrid[0:height, 0:width]
    cells = ((yy // CHECKER_SIZE + xx // CHECKER_SIZE) % 2).astype(np.uint8)
    board = np.array(CHECKER_GREYS, np.uint8)[cells]
    out = np.repeat(board[:, :, None], 3, axis=2)
    out.setflags(write=False)
    return out


def visible_matte(index: np.ndarray, visible: np.ndarray, grow: int, feather: int) -> np.ndarray:
    """(H, W) float32 matte of the visible objects: `union_matte` with the export's grow/feather.

    Args:
        index: (H, W) uint8 index mask.
        visible: (256,) bool, which ids to include.
        grow: pixels to grow (> 0) or shrink (< 0) the union.
        feather: blur radius in pixels of the union's edge.
    """
    return union_matte(index, np.flatnonzero(visible).tolist(), grow, feather)


def _overlay(
    rgb: np.ndarray, index: np.ndarray, colour: np.ndarray, visible: np.ndarray, state: ViewState
) -> np.ndarray:
    """(H, W, 3) uint8: `colour` (H, W, 3) blended over `rgb` at `state.opacity` where an object is visible."""
    sel = _select(index, visible)  # (H, W) uint8 0/255
    blended = cv2.addWeighted(rgb, 1.0 - state.opacity, colour, state.opacity, 0.0)
    out = rgb.copy()
    cv2.copyTo(blended, sel, out)
    if state.outline:
        cv2.copyTo(colour, cv2.bitwise_and(_edges(index), sel), out)
    return out


def _edges(index: np.ndarray) -> np.ndarray:
    """(H, W) uint8 0/255: pixels whose 3x3 neighbourhood holds another id (there dilate != erode)."""
    kernel = np.ones((3, 3), np.uint8)
    return cv2.compare(cv2.dilate(index, kernel), cv2.erode(index, kernel), cv2.CMP_NE)


def draw_onion(
    out: np.ndarray, previous: np.ndarray, colours: Mapping[int, tuple[int, int, int]], hidden: Set[int]
) -> None:
    """Draw the edges of `previous` (H, W) uint8 index mask into `out` (H, W, 3) uint8, in place: each visible
    object's edge in its colour mixed half with white, so it reads as "where the object was"."""
    visible = _visible_ids(previous, hidden)
    tint = cv2.addWeighted(_colour_image(previous, colours, visible), 0.5, np.full_like(out, 255), 0.5, 0.0)
    cv2.copyTo(tint, cv2.bitwise_and(_edges(previous), _select(previous, visible)), out)


def compose(
    frame_rgb: np.ndarray,
    index_mask: np.ndarray | None,
    colours: Mapping[int, tuple[int, int, int]],
    hidden: Set[int],
    state: ViewState,
    previous_mask: np.ndarray | None = None,
) -> np.ndarray:
    """The viewer image of one frame.

    Args:
        frame_rgb: (H, W, 3) uint8 RGB frame.
        index_mask: (H, W) uint8 index mask, or None when the frame has no mask (treated as all background).
        colours: object id -> (R, G, B); ids missing here are drawn in their DAVIS palette colour.
        hidden: ids not to draw (as if they were background).
        state: mode, opacity, grow, feather, outline and onion skin.
        previous_mask: (H, W) uint8 index mask of the previous frame, drawn as edges when `state.onion` is on.

    Returns:
        (H, W, 3) uint8 image, or (H, 2W, 3) for SIDE_BY_SIDE (source left, overlay right). Always a new array.

    Raises:
        ValueError: wrong shapes or dtypes.
    """
    rgb = np.ascontiguousarray(frame_rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"frame must be (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    if index_mask is None:
        index = np.zeros(rgb.shape[:2], np.uint8)
    else:
        index = np.ascontiguousarray(index_mask)
        if index.shape != rgb.shape[:2] or index.dtype != np.uint8:
            raise ValueError(f"index mask must be {rgb.shape[:2]} uint8 got {index.shape} {index.dtype}")
    visible = _visible_ids(index, hidden)
    mode = state.mode
    if mode in (ViewMode.MASK, ViewMode.OVERLAY, ViewMode.SIDE_BY_SIDE):
        colour = _colour_image(index, colours, visible)
        out = colour if mode is ViewMode.MASK else _overlay(rgb, index, colour, visible, state)
        if state.onion and previous_mask is not None:
            if previous_mask.shape != index.shape or previous_mask.dtype != np.uint8:
                raise ValueError(f"previous mask must be {index.shape} uint8, got {previous_mask.shape}")
            draw_onion(out, previous_mask, colours, hidden)
        return np.hstack([rgb, out]) if mode is ViewMode.SIDE_BY_SIDE else out
    alpha8 = quantize_alpha(visible_matte(index, visible, state.grow, state.feather), 8)  # (H, W) uint8
    if mode is ViewMode.MATTE:
        return cv2.cvtColor(alpha8, cv2.COLOR_GRAY2RGB)
    if mode is ViewMode.CUTOUT:
        a = alpha8.astype(np.float32) / 255.0  # (H, W): the exported alpha channel, as a viewer reads it
        return cv2.blendLinear(rgb, checkerboard(*index.shape), a, 1.0 - a)
    raise ValueError(f"unknown view mode {mode!r}")


Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive) in frame pixels


def reach(state: ViewState) -> int:
    """How far (pixels) the composed image can change around a changed mask pixel: the outline's 3x3
    neighbourhood, or the matte's grow plus its feather window."""
    if state.mode in (ViewMode.CUTOUT, ViewMode.MATTE):
        return abs(state.grow) + state.feather + 1
    return 1


def damaged(rect: Rect, state: ViewState, size: tuple[int, int]) -> Rect:
    """The frame rectangle whose composed pixels may change when the mask changes inside `rect`.

    Args:
        rect: changed mask pixels (x0, y0, x1, y1).
        state: the view state (how far a change reaches).
        size: (width, height) of the frame.
    """
    m, (w, h) = reach(state), size
    return max(0, rect[0] - m), max(0, rect[1] - m), min(w, rect[2] + m), min(h, rect[3] + m)


def render_region(
    frame_rgb: np.ndarray,
    index_mask: np.ndarray | None,
    colours: Mapping[int, tuple[int, int, int]],
    hidden: Set[int],
    state: ViewState,
    rect: Rect,
    previous_mask: np.ndarray | None = None,
) -> np.ndarray:
    """`compose`'s pixels inside `rect` only, identical to cropping a full `compose`, at the cost of the region.

    `compose` runs on a crop around `rect`, widened by `reach` (so the outline, grow and feather see every
    pixel they read) and with its top-left corner on the checkerboard's period (so the squares line up). The
    per-pixel rules are `compose`'s own: whatever they become, the region follows.

    Args:
        frame_rgb, index_mask, colours, hidden, state, previous_mask: as for `compose`.
        rect: (x0, y0, x1, y1) in frame pixels, non-empty and inside the frame.

    Returns:
        (y1 - y0, x1 - x0, 3) uint8: `compose(...)[y0:y1, x0:x1]`; for SIDE_BY_SIDE the overlay (right) half's
        pixels at `rect`, i.e. `compose(...)[y0:y1, W + x0:W + x1]`.

    Raises:
        ValueError: an empty rectangle or one outside the frame.
    """
    h, w = frame_rgb.shape[:2]
    x0, y0, x1, y1 = rect
    if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
        raise ValueError(f"region {rect} is empty or outside the {w}x{h} frame")
    m, period = reach(state), 2 * CHECKER_SIZE
    cx0, cy0 = max(0, x0 - m) // period * period, max(0, y0 - m) // period * period
    cx1, cy1 = min(w, x1 + m), min(h, y1 + m)
    crop = None if index_mask is None else index_mask[cy0:cy1, cx0:cx1]
    before = None if previous_mask is None else previous_mask[cy0:cy1, cx0:cx1]
    part = compose(frame_rgb[cy0:cy1, cx0:cx1], crop, colours, hidden, state, before)
    left = cx1 - cx0 if state.mode is ViewMode.SIDE_BY_SIDE else 0  # the overlay half starts there
    return part[y0 - cy0 : y1 - cy0, left + x0 - cx0 : left + x1 - cx0]
