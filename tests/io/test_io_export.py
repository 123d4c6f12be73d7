"""PNG and JSON exporters: every format read back and compared with the masks and source pixels."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from llb_core.io import (
    CancelledError,
    ExportError,
    ImageFolderSource,
    ObjectSpec,
    read_index_mask,
    read_soft_mask,
)
from llb_core.io.export import (
    ExportOptions,
    InMemorySequence,
    apply_matte,
    export,
    folder_accepts_export,
    is_export_folder,
)
from llb_core.io.export._common import disk


@pytest.fixture(scope="module")
def seq(bike: tuple[Path, Path]) -> InMemorySequence:
    """Bike clip, 4 frames: real masks on 0, shifted on 1 and 3, nothing on 2; a soft mask on 0."""
    src = ImageFolderSource(bike[0])
    m0 = read_index_mask(bike[1] / "00000.png", src.size)
    masks = {0: m0, 1: np.roll(m0, 12, axis=1), 3: np.roll(m0, -20, axis=0)}
    soft0 = cv2.GaussianBlur((m0 == 1).astype(np.float32), (0, 0), 3.0)
    objects = [ObjectSpec(1, "rider", (255, 0, 0)), ObjectSpec(2, "bike", (0, 255, 0))]
    return InMemorySequence(src, masks, objects, soft={(0, 1): soft0})


def _png(path: Path) -> np.ndarray:
    return np.array(Image.open(path))


def test_davis_round_trip(seq: InMemorySequence, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    out = export(seq, "davis", tmp_path / "davis", progress=lambda d, t: calls.append((d, t)))
    assert sorted(p.name for p in out.glob("*.png")) == [f"{i:05d}.png" for i in range(4)]
    for i in range(4):
        np.testing.assert_array_equal(read_index_mask(out / f"{i:05d}.png"), seq.index_mask(i))
    assert Image.open(out / "00000.png").mode == "P"
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_ytvos_layout_and_meta(seq: InMemorySequence, tmp_path: Path) -> None:
    out = export(seq, "ytvos", tmp_path / "yt", ExportOptions(video_name="bike"))
    for i in range(4):
        np.testing.assert_array_equal(read_index_mask(out / "Annotations" / "bike" / f"{i:05d}.png"), seq.index_mask(i))
    meta = json.loads((out / "meta.json").read_text())
    objs = meta["videos"]["bike"]["objects"]
    assert objs["1"] == {"category": "rider", "frames": ["00000", "00001", "00003"]}
    assert objs["2"]["category"] == "bike" and objs["2"]["frames"] == ["00000", "00001", "00003"]


def test_binary_round_trip(seq: InMemorySequence, tmp_path: Path) -> None:
    out = export(seq, "binary", tmp_path / "bin")
    for obj in (1, 2):
        for i in range(4):
            raw = _png(out / str(obj) / f"{i:05d}.png")
            assert set(np.unique(raw).tolist()) <= {0, 255}
            np.testing.assert_array_equal(raw == 255, seq.index_mask(i) == obj)


@pytest.mark.parametrize("depth", [8, 16])
def test_alpha_round_trip_uses_soft_masks(seq: InMemorySequence, tmp_path: Path, depth: int) -> None:
    out = export(seq, "alpha", tmp_path / "alpha", ExportOptions(bit_depth=depth))
    top = 255 if depth == 8 else 65535
    assert _png(out / "1" / "00000.png").dtype == (np.uint8 if depth == 8 else np.uint16)
    soft = read_soft_mask(out / "1" / "00000.png")
    assert np.abs(soft - seq.soft_mask(0, 1)).max() <= 0.5 / top + 1e-6
    assert soft[(soft > 0) & (soft < 1)].size / max((seq.index_mask(0) == 1).sum(), 1) > 0.1  # really soft
    for i in (1, 3):
        np.testing.assert_array_equal(
            read_soft_mask(out / "2" / f"{i:05d}.png"), (seq.index_mask(i) == 2).astype(np.float32)
        )


def test_cutout_rgb_equals_source_exactly(seq: InMemorySequence, tmp_path: Path) -> None:
    out = export(seq, "cutout", tmp_path / "cut", ExportOptions(objects=(2,)))
    for i in range(4):
        rgba = _png(out / f"{i:05d}.png")
        assert rgba.shape == (480, 854, 4)
        np.testing.assert_array_equal(rgba[..., :3], seq.frame(i))
        np.testing.assert_array_equal(rgba[..., 3], (seq.index_mask(i) == 2).astype(np.uint8) * 255)


def test_cutout_16_bit(seq: InMemorySequence, tmp_path: Path) -> None:
    out = export(seq, "cutout", tmp_path / "cut16", ExportOptions(bit_depth=16))
    bgra = cv2.imread(str(out / "00001.png"), cv2.IMREAD_UNCHANGED)
    rgba = cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA)
    assert rgba.dtype == np.uint16
    np.testing.assert_array_equal(rgba[..., :3], seq.frame16(1))
    np.testing.assert_array_equal(rgba[..., 3] == 65535, seq.index_mask(1) > 0)


def test_coco_decodes_to_the_same_masks(seq: InMemorySequence, tmp_path: Path) -> None:
    out = export(seq, "coco", tmp_path / "ann.json")
    coco = COCO(str(out))
    assert sorted(coco.getCatIds()) == [1, 2]
    assert coco.loadCats(1)[0]["name"] == "rider"
    assert len(coco.getImgIds()) == 4
    assert coco.getAnnIds(imgIds=[3]) == []  # frame 2 is empty
    for i in (0, 1, 3):
        for obj in (1, 2):
            (ann_id,) = coco.getAnnIds(imgIds=[i + 1], catIds=[obj])
            ann = coco.loadAnns(ann_id)[0]
            expected = seq.index_mask(i) == obj
            np.testing.assert_array_equal(coco.annToMask(ann).astype(bool), expected)
            ys, xs = np.nonzero(expected)
            assert ann["area"] == expected.sum()
            assert ann["bbox"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
            assert mask_utils.decode(ann["segmentation"]).sum() == expected.sum()


def test_object_selection(seq: InMemorySequence, tmp_path: Path) -> None:
    out = export(seq, "davis", tmp_path / "d2", ExportOptions(objects=(2,)))
    m = read_index_mask(out / "00000.png")
    assert set(np.unique(m).tolist()) == {0, 2}
    np.testing.assert_array_equal(m == 2, seq.index_mask(0) == 2)
    with pytest.raises(ExportError, match=r"object id\(s\) \[7\] are not in the project"):
        export(seq, "davis", tmp_path / "d7", ExportOptions(objects=(7,)))


def test_grow_shrink_use_a_disk(seq: InMemorySequence, tmp_path: Path) -> None:
    base = (seq.index_mask(0) == 2).astype(np.uint8)
    grown = export(seq, "binary", tmp_path / "g", ExportOptions(objects=(2,), grow=4))
    np.testing.assert_array_equal(_png(grown / "2" / "00000.png") == 255, cv2.dilate(base, disk(4)) > 0)
    shrunk = export(seq, "binary", tmp_path / "s", ExportOptions(objects=(2,), grow=-4))
    np.testing.assert_array_equal(_png(shrunk / "2" / "00000.png") == 255, cv2.erode(base, disk(4)) > 0)
    assert disk(2).tolist()[0] == [0, 0, 1, 0, 0]


def test_feather_softens_only_the_edge(seq: InMemorySequence, tmp_path: Path) -> None:
    out = export(seq, "alpha", tmp_path / "f", ExportOptions(objects=(2,), feather=6))
    alpha = read_soft_mask(out / "2" / "00001.png")
    hard = (seq.index_mask(1) == 2).astype(np.uint8)
    window = np.ones((13, 13), np.uint8)  # the blur's support: 2 * feather + 1
    inner = cv2.erode(hard, window) > 0
    outer = cv2.dilate(hard, window) == 0
    assert np.all(alpha[inner] == 1.0) and np.all(alpha[outer] == 0.0)
    edge = (alpha > 0) & (alpha < 1)
    assert edge.sum() > hard.sum() * 0.05
    as_float = hard.astype(np.float32)
    assert apply_matte(as_float, 0, 0) is as_float  # no controls: untouched


def test_cancel_keeps_previous_export(seq: InMemorySequence, tmp_path: Path) -> None:
    out = export(seq, "davis", tmp_path / "keep", ExportOptions(objects=(1,)))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    stop = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 2:
            stop.set()

    with pytest.raises(CancelledError, match="cancelled"):
        export(seq, "davis", out, progress=progress, cancel=stop)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]  # no staging folder left


def test_reexport_replaces_previous_export(seq: InMemorySequence, tmp_path: Path) -> None:
    out = export(seq, "davis", tmp_path / "again", ExportOptions(objects=(1,)))
    export(seq, "davis", out)
    assert read_index_mask(out / "00000.png").max() == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]


def test_refuses_to_replace_a_user_folder(seq: InMemorySequence, tmp_path: Path) -> None:
    user = tmp_path / "holiday"
    user.mkdir()
    (user / "photo.jpg").write_bytes(b"precious")
    with pytest.raises(ExportError, match="not an earlier LLB export"):
        export(seq, "davis", user)
    assert (user / "photo.jpg").read_bytes() == b"precious"


def test_folder_accepts_export_follows_the_exporters_rule(seq: InMemorySequence, tmp_path: Path) -> None:
    user = tmp_path / "holiday"
    user.mkdir()
    assert folder_accepts_export(tmp_path / "new") and folder_accepts_export(user)  # missing, empty
    (user / "photo.jpg").write_bytes(b"precious")
    (tmp_path / "file.png").write_bytes(b"")
    assert not folder_accepts_export(user) and not folder_accepts_export(tmp_path / "file.png")
    out = export(seq, "davis", tmp_path / "earlier")
    assert is_export_folder(out) and folder_accepts_export(out) and not is_export_folder(user)


def test_bad_format_and_options(seq: InMemorySequence, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown export format 'gif'"):
        export(seq, "gif", tmp_path / "x")
    with pytest.raises(ExportError, match="bit depth must be 8 or 16"):
        export(seq, "alpha", tmp_path / "x", ExportOptions(bit_depth=12))
    with pytest.raises(ExportError, match=r"writes a \.json file"):
        export(seq, "coco", tmp_path / "x.txt")


def test_full_disk_during_export_is_named_and_keeps_previous(
    seq: InMemorySequence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llb_core.io import WriteError

    out = export(seq, "davis", tmp_path / "d", ExportOptions(objects=(1,)))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_fsync = os.fsync
    calls = []

    def fsync_full(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_full)
    with pytest.raises(WriteError, match=r"d: could not write 00001\.png \(.*No space.*\)\. Free disk space"):
        export(seq, "davis", out)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]
