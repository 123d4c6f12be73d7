"""Mask edits (brush, eraser, fill holes, GrabCut) and where projects are made."""

from __future__ import annotations

import numpy as np
import pytest

from app.model.project_files import candidates, demo_folder, open_or_create
from app.tools.mask_ops import clear_object, fill_holes, paint_segment
from llb_core.interactive.grabcut import grabcut_box
from llb_core.workspace import Project
from tests.app.helpers import iou


def test_brush_paints_a_round_swept_band_and_respects_locked_objects():
    mask = np.zeros((60, 80), np.uint8)
    mask[:, 40:] = 3  # a locked object on the right half
    rect = paint_segment(mask, (10.5, 30.5), (60.5, 30.5), 5, 1, protect={3})
    assert rect[0] <= 5 and rect[2] >= 41
    assert mask[30, 10] == 1 and mask[30, 39] == 1 and mask[30, 50] == 3  # locked pixels kept
    assert mask[30 + 5, 20] == 1 and mask[30 + 7, 20] == 0  # radius 5 about the centre line
    assert mask[30, 4] == 0  # round cap: nothing beyond the radius before the start
    paint_segment(mask, (10.5, 30.5), (60.5, 30.5), 5, 2)  # unprotected: object 2 takes object 1's pixels
    assert mask[30, 20] == 2 and mask[30, 50] == 2


def test_eraser_clears_only_the_active_object():
    mask = np.ones((20, 20), np.uint8)
    mask[:, 10:] = 2
    paint_segment(mask, (0, 10), (20, 10), 3, 1, erase=True)
    assert mask[10, 5] == 0 and mask[10, 15] == 2 and mask[2, 5] == 1


def test_fill_holes_and_clear():
    mask = np.zeros((40, 40), np.uint8)
    mask[5:35, 5:35] = 1
    mask[15:25, 15:25] = 0  # a hole
    mask[18:22, 18:22] = 2  # another object inside the hole stays
    mask[0:10, 36:40] = 0
    filled = fill_holes(mask, 1)
    assert filled[16, 16] == 1 and filled[20, 20] == 2 and filled[0, 0] == 0
    assert not (clear_object(filled, 1) == 1).any() and (clear_object(filled, 1) == 2).sum() == 16


def test_grabcut_finds_an_object_in_a_box():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 60, (120, 160, 3), dtype=np.uint8)  # dark noisy background
    truth = np.zeros((120, 160), bool)
    truth[40:90, 50:110] = True
    image[truth] = (230, 40, 40)
    found = grabcut_box(image, (42, 32, 120, 98))
    assert iou(found, truth) > 0.9
    assert not found[:, :42].any()  # never outside the box
    with pytest.raises(ValueError, match="too small"):
        grabcut_box(image, (10, 10, 12, 12))


def test_project_beside_the_clip_then_reused(make_clip, tmp_path):
    clip = make_clip(2)
    folder, create = open_or_create(clip, tmp_path / "data")
    assert create and folder == clip.parent / f"{clip.name}.llbproj"
    Project.create(folder, clip).close()
    assert open_or_create(clip, tmp_path / "data") == (folder, False)
    assert open_or_create(folder, tmp_path / "data") == (folder, False)  # the project folder itself
    assert demo_folder(tmp_path / "data") == tmp_path / "data" / "projects" / "demo.llbproj"


def test_read_only_clip_folder_puts_the_project_in_the_data_folder(make_clip, tmp_path, monkeypatch):
    clip = make_clip(2)
    monkeypatch.setattr("app.model.project_files._writable", lambda folder: False)  # tests may run as root
    folder, create = open_or_create(clip, tmp_path / "data")
    assert create and folder.parent == tmp_path / "data" / "projects"
    assert folder.name.startswith(clip.name + "-") and folder.suffix == ".llbproj"
    assert candidates(clip, tmp_path / "data")[0] == folder  # the same clip always maps to the same name


def test_a_project_of_another_clip_is_not_reused(make_clip, tmp_path):
    clip, other = make_clip(2), make_clip(3)
    taken = clip.parent / f"{clip.name}.llbproj"
    Project.create(taken, other).close()
    folder, create = open_or_create(clip, tmp_path / "data")
    assert create and folder == clip.parent / f"{clip.name}-2.llbproj"
