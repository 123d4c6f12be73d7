"""Mask files: palette / greyscale / RGB reading, writing, soft masks, validation, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from llb_core.io import (
    DAVIS_PALETTE,
    MaskFileError,
    atomic_write_png,
    check_index_mask,
    frame_number,
    read_index_mask,
    read_soft_mask,
    write_binary_mask,
    write_index_mask,
    write_soft_mask,
)


def test_davis_palette_standard_colours() -> None:
    pal = np.array(DAVIS_PALETTE).reshape(256, 3)
    assert pal[:5].tolist() == [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128]]
    assert pal[255].tolist() == [224, 224, 192]
    assert len({tuple(c) for c in pal}) == 256  # every id has its own colour


def test_palette_mask_reads_object_ids(bike: tuple[Path, Path]) -> None:
    mask = read_index_mask(bike[1] / "00000.png", (480, 854))
    assert mask.shape == (480, 854) and mask.dtype == np.uint8
    assert set(np.unique(mask).tolist()) == {0, 1, 2}
    np.testing.assert_array_equal(mask, np.array(Image.open(bike[1] / "00000.png")))


def test_greyscale_davis_mask_reads_as_object_one(data: Path) -> None:
    path = data / "davis2016" / "Annotations" / "480p" / "dog" / "00000.png"
    mask = read_index_mask(path)
    raw = np.array(Image.open(path))
    assert set(np.unique(mask).tolist()) == {0, 1}
    np.testing.assert_array_equal(mask, (raw == 255).astype(np.uint8))


def test_index_mask_round_trip_and_palette(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    mask = rng.integers(0, 6, (30, 40), dtype=np.uint8)
    write_index_mask(tmp_path / "m.png", mask)
    im = Image.open(tmp_path / "m.png")
    assert im.mode == "P" and im.getpalette()[:768] == list(DAVIS_PALETTE)
    np.testing.assert_array_equal(read_index_mask(tmp_path / "m.png"), mask)


def test_rgb_mask_with_palette_colours_maps_to_ids(tmp_path: Path) -> None:
    mask = np.zeros((10, 10), np.uint8)
    mask[2:5, 2:5], mask[6:, 6:] = 1, 3
    rgb = np.array(DAVIS_PALETTE, np.uint8).reshape(256, 3)[mask]
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    np.testing.assert_array_equal(read_index_mask(tmp_path / "rgb.png"), mask)
    rgb[0, 0] = (1, 2, 3)
    Image.fromarray(rgb).save(tmp_path / "bad.png")
    with pytest.raises(MaskFileError, match=r"bad\.png: colour #010203 is not a DAVIS palette colour"):
        read_index_mask(tmp_path / "bad.png")


def test_wrong_size_and_unreadable_masks_are_named(data: Path, tmp_path: Path) -> None:
    judo5 = data / "multiobject" / "masks" / "judo" / "00005.png"
    with pytest.raises(MaskFileError, match=r"00005\.png: mask is 853x480 but the frames are 854x480"):
        read_index_mask(judo5, (480, 854))
    junk = tmp_path / "00001.png"
    junk.write_bytes(b"\x89PNG garbage")
    with pytest.raises(MaskFileError, match=r"00001\.png: not a readable image"):
        read_index_mask(junk)


def test_check_index_mask_reports_undeclared_ids(bike: tuple[Path, Path]) -> None:
    path = bike[1] / "00000.png"
    mask, issue = check_index_mask(path, (480, 854), {1})
    assert mask is None and "object id(s) [2]" in str(issue) and str(path) in str(issue)
    mask, issue = check_index_mask(path, (480, 854), {1, 2})
    assert issue is None and mask is not None and mask.max() == 2


@pytest.mark.parametrize("depth,top", [(8, 255), (16, 65535)])
def test_soft_mask_round_trip(tmp_path: Path, depth: int, top: int) -> None:
    alpha = np.linspace(0, 1, 64 * 48, dtype=np.float32).reshape(48, 64)
    write_soft_mask(tmp_path / "s.png", alpha, depth)
    back = read_soft_mask(tmp_path / "s.png")
    assert back.dtype == np.float32 and back.shape == (48, 64)
    assert np.abs(back - alpha).max() <= 0.5 / top + 1e-6
    raw = np.array(Image.open(tmp_path / "s.png"))
    assert raw.dtype == (np.uint8 if depth == 8 else np.uint16)


def test_binary_mask_is_0_255(tmp_path: Path) -> None:
    m = np.zeros((5, 5), bool)
    m[1:3, 1:3] = True
    write_binary_mask(tmp_path / "b.png", m)
    raw = np.array(Image.open(tmp_path / "b.png"))
    assert Image.open(tmp_path / "b.png").mode == "L" and set(np.unique(raw).tolist()) == {0, 255}
    np.testing.assert_array_equal(raw == 255, m)


def test_crash_during_write_keeps_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "00000.png"
    first = np.ones((8, 8), np.uint8)
    write_index_mask(path, first)

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="No space left"):
        write_index_mask(path, np.full((8, 8), 2, np.uint8))
    monkeypatch.undo()
    np.testing.assert_array_equal(read_index_mask(path), first)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00000.png"]  # temp file cleaned up


def test_sixteen_bit_rgba_png_written_exactly(tmp_path: Path) -> None:
    import cv2

    rgba = np.random.default_rng(2).integers(0, 65536, (6, 7, 4), dtype=np.uint16)
    atomic_write_png(tmp_path / "x.png", rgba)
    back = cv2.cvtColor(cv2.imread(str(tmp_path / "x.png"), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2RGBA)
    np.testing.assert_array_equal(back, rgba)


def test_frame_number_parses_last_number() -> None:
    assert frame_number("frame_00012.png") == 12
    assert frame_number("cam2_take3_0041.png") == 41
    assert frame_number("mask.png") is None
