"""`app.view.render.compose` on a real DAVIS frame: every mode, hidden objects, and equality with the exporters."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from app.view.render import CHECKER_GREYS, ViewMode, ViewState, checkerboard, compose
from llb_core.io import ImageFolderSource, ObjectSpec, quantize_alpha
from llb_core.io.export import ExportOptions, InMemorySequence, combined_alpha, export
from tests.io.io_helpers import decode_video

COLOURS = {1: (255, 0, 0), 2: (0, 0, 255)}


@pytest.mark.parametrize("mode", list(ViewMode))
def test_every_mode_shape_and_dtype(davis_frame, mode):
    rgb, mask = davis_frame
    h, w = mask.shape
    out = compose(rgb, mask, COLOURS, set(), ViewState(mode=mode, grow=2, feather=2))
    assert out.dtype == np.uint8
    assert out.shape == ((h, 2 * w, 3) if mode is ViewMode.SIDE_BY_SIDE else (h, w, 3))
    assert not np.shares_memory(out, rgb)


def test_overlay_blends_colours_and_leaves_background(davis_frame):
    rgb, mask = davis_frame
    out = compose(rgb, mask, COLOURS, set(), ViewState(opacity=0.5, outline=False))
    bg = mask == 0
    assert np.array_equal(out[bg], rgb[bg])
    inside = mask == 1
    expected = (rgb[inside].astype(np.float32) + np.array(COLOURS[1], np.float32)) / 2
    assert np.abs(out[inside].astype(np.float32) - expected).max() <= 1.0


def test_overlay_outline_is_one_pixel_contour_in_object_colour(davis_frame):
    rgb, mask = davis_frame
    plain = compose(rgb, mask, COLOURS, set(), ViewState(opacity=0.3, outline=False))
    lined = compose(rgb, mask, COLOURS, set(), ViewState(opacity=0.3, outline=True))
    changed = np.any(plain != lined, axis=2)
    obj = (mask == 1).astype(np.uint8)
    inner_edge = (obj - cv2.erode(obj, np.ones((3, 3), np.uint8))).astype(bool)
    assert changed[mask == 1].sum() > 0
    assert np.all(lined[inner_edge] == COLOURS[1])  # the contour is drawn in full colour...
    assert not changed[mask == 0].any()  # ...on the object's side only
    interior = cv2.erode(obj, np.ones((3, 3), np.uint8)).astype(bool)
    assert not changed[interior].any()


def test_mask_mode_colours_on_black(davis_frame):
    rgb, mask = davis_frame
    out = compose(rgb, mask, COLOURS, set(), ViewState(mode=ViewMode.MASK))
    assert np.all(out[mask == 0] == 0)
    assert np.all(out[mask == 1] == COLOURS[1])
    assert np.all(out[mask == 2] == COLOURS[2])


def test_missing_colour_falls_back_to_palette(davis_frame):
    rgb, mask = davis_frame
    out = compose(rgb, mask, {1: (255, 0, 0)}, set(), ViewState(mode=ViewMode.MASK))
    assert np.all(out[mask == 2] == (0, 128, 0))  # DAVIS palette colour of id 2


@pytest.mark.parametrize("mode", list(ViewMode))
def test_hidden_objects_are_not_drawn(davis_frame, mode):
    rgb, mask = davis_frame
    state = ViewState(mode=mode, grow=3, feather=2)
    hidden_two = compose(rgb, mask, COLOURS, {2}, state)
    only_one = compose(rgb, np.where(mask == 2, 0, mask).astype(np.uint8), COLOURS, set(), state)
    assert np.array_equal(hidden_two, only_one)
    all_hidden = compose(rgb, mask, COLOURS, {1, 2}, state)
    assert np.array_equal(all_hidden, compose(rgb, None, COLOURS, set(), state))


def test_no_mask_shows_the_frame(davis_frame):
    rgb, _ = davis_frame
    assert np.array_equal(compose(rgb, None, COLOURS, set(), ViewState()), rgb)
    side = compose(rgb, None, COLOURS, set(), ViewState(mode=ViewMode.SIDE_BY_SIDE))
    assert np.array_equal(side, np.hstack([rgb, rgb]))
    assert not compose(rgb, None, COLOURS, set(), ViewState(mode=ViewMode.MATTE)).any()


def test_side_by_side_is_source_then_overlay(davis_frame):
    rgb, mask = davis_frame
    state = ViewState(mode=ViewMode.SIDE_BY_SIDE, opacity=0.7)
    out = compose(rgb, mask, COLOURS, set(), state)
    w = rgb.shape[1]
    assert np.array_equal(out[:, :w], rgb)
    assert np.array_equal(out[:, w:], compose(rgb, mask, COLOURS, set(), ViewState(opacity=0.7)))


def test_matte_grow_adds_pixels_and_shrink_removes_them(davis_frame):
    rgb, mask = davis_frame
    nonzero = {
        g: np.count_nonzero(compose(rgb, mask, COLOURS, set(), ViewState(mode=ViewMode.MATTE, grow=g))[:, :, 0])
        for g in (-5, 0, 5)
    }
    assert nonzero[0] == np.count_nonzero(mask)
    assert nonzero[5] > nonzero[0] > nonzero[-5]


def _sequence(rgb: np.ndarray, mask: np.ndarray, tmp_path) -> InMemorySequence:
    folder = tmp_path / "frames"
    folder.mkdir()
    Image.fromarray(rgb).save(folder / "00000.png")
    return InMemorySequence(ImageFolderSource(folder), {0: mask}, [ObjectSpec.default(1), ObjectSpec.default(2)])


@pytest.mark.parametrize(("grow", "feather"), [(0, 0), (6, 0), (-4, 3), (3, 8)])
def test_matte_equals_the_export_matte(davis_frame, tmp_path, grow, feather):
    rgb, mask = davis_frame
    seq = _sequence(rgb, mask, tmp_path)
    for objects, hidden in (((1, 2), set()), ((1,), {2})):
        opts = ExportOptions(objects=objects, grow=grow, feather=feather)
        expected = quantize_alpha(combined_alpha(seq, 0, [ObjectSpec.default(i) for i in objects], opts), 8)
        out = compose(rgb, mask, COLOURS, hidden, ViewState(mode=ViewMode.MATTE, grow=grow, feather=feather))
        assert np.array_equal(out[:, :, 0], expected)
        assert np.array_equal(out[:, :, 0], out[:, :, 2])


@pytest.mark.parametrize(("grow", "feather"), [(0, 0), (-3, 4)])
def test_cutout_equals_the_exported_rgba_over_the_checkerboard(davis_frame, tmp_path, grow, feather):
    rgb, mask = davis_frame
    seq = _sequence(rgb, mask, tmp_path)
    out_dir = export(seq, "cutout", tmp_path / "cutout", ExportOptions(objects=(2,), grow=grow, feather=feather))
    rgba = np.asarray(Image.open(out_dir / "00000.png")).astype(np.float32)
    a = rgba[:, :, 3:] / 255.0
    expected = rgba[:, :, :3] * a + checkerboard(*mask.shape).astype(np.float32) * (1 - a)
    out = compose(rgb, mask, COLOURS, {1}, ViewState(mode=ViewMode.CUTOUT, grow=grow, feather=feather))
    assert np.abs(out.astype(np.float32) - expected).max() <= 1.0
    outside = rgba[:, :, 3] == 0
    assert set(np.unique(out[outside])) == set(CHECKER_GREYS)


@pytest.mark.parametrize(("grow", "feather"), [(0, 0), (0, 5), (4, 3), (-3, 4)])
def test_touching_objects_stay_opaque_along_their_seam(davis_frame, grow, feather):
    rgb, mask = davis_frame  # the dog split in two objects that touch along a column
    kernel = np.ones((3, 3), np.uint8)
    seam = (cv2.dilate(mask, kernel) == 2) & (cv2.erode(np.where(mask == 0, 255, mask).astype(np.uint8), kernel) == 1)
    reach = max(0, -grow) + feather + 1  # pixels this far inside the union are untouched by shrink and blur
    inside = cv2.erode((mask > 0).astype(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)) > 0
    assert np.count_nonzero(seam & inside) > 100
    state = ViewState(mode=ViewMode.MATTE, grow=grow, feather=feather)
    assert np.all(compose(rgb, mask, COLOURS, set(), state)[seam & inside] == 255)
    cutout = compose(rgb, mask, COLOURS, set(), ViewState(mode=ViewMode.CUTOUT, grow=grow, feather=feather))
    assert np.array_equal(cutout[seam & inside], rgb[seam & inside])


@pytest.mark.parametrize(("grow", "feather"), [(0, 0), (0, 5), (-3, 4)])
def test_viewer_shows_what_the_exported_files_hold(davis_frame, tmp_path, grow, feather):
    rgb, mask = davis_frame
    seq = _sequence(rgb, mask, tmp_path)
    opts = ExportOptions(grow=grow, feather=feather)
    matte = decode_video(export(seq, "matte", tmp_path / "m.mkv", opts), seq.size, "gray")[0, :, :, 0]
    alpha = np.asarray(Image.open(export(seq, "cutout", tmp_path / "cut", opts) / "00000.png"))[:, :, 3]
    shown = compose(rgb, mask, COLOURS, set(), ViewState(mode=ViewMode.MATTE, grow=grow, feather=feather))
    assert np.array_equal(shown[:, :, 0], matte)
    assert np.array_equal(shown[:, :, 0], alpha)


def test_rejects_mismatched_mask(davis_frame):
    rgb, mask = davis_frame
    with pytest.raises(ValueError, match="index mask must be"):
        compose(rgb, mask[:-1], COLOURS, set(), ViewState())
    with pytest.raises(ValueError, match="opacity"):
        ViewState(opacity=1.5)
