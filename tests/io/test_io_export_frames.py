"""Frame range and missing-frame policy of the exporters (`ExportOptions.frames` / `.missing`) and `llb export`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from io_helpers import decode_video
from PIL import Image

from llb_core.cli import main
from llb_core.io import ExportError, ImageFolderSource, ObjectSpec, read_index_mask, read_soft_mask
from llb_core.io.export import ExportOptions, InMemorySequence, export, plan_frames
from llb_core.io.export._common import MARKER as MARKER_NAME
from llb_core.workspace import Project

MASKED = (1, 2, 4)  # frames 0, 3 and 5 of the 6-frame clip have no mask


def _mask(i: int) -> np.ndarray:
    """A different (32, 48) two-object mask on every frame."""
    m = np.zeros((32, 48), np.uint8)
    m[4 : 12 + i, 4 + 2 * i : 20 + 2 * i] = 1
    m[16:28, 24 + i : 40] = 2
    return m


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("frames")
    rng = np.random.default_rng(1)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)).save(folder / f"{i:05d}.png")
    return folder


@pytest.fixture(scope="module")
def seq(frames: Path) -> InMemorySequence:
    soft = {(2, 1): (_mask(2) == 1) * np.float32(0.75)}
    objects = [ObjectSpec(1, "a", (255, 0, 0)), ObjectSpec(2, "b", (0, 255, 0))]
    return InMemorySequence(ImageFolderSource(frames, fps=24), {i: _mask(i) for i in MASKED}, objects, soft)


def _names(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.png"))


def test_plan_of_each_policy(seq: InMemorySequence) -> None:
    skip = plan_frames(seq, (1, 5), "skip")
    assert (skip.frames, skip.missing, dict(skip.held)) == ((1, 2, 4), (3, 5), {})
    empty = plan_frames(seq, (1, 5), "empty")
    assert (empty.frames, empty.missing, dict(empty.held)) == ((1, 2, 3, 4, 5), (3, 5), {})
    hold = plan_frames(seq, None, "hold")
    assert (hold.first, hold.last, hold.frames) == (0, 5, tuple(range(6)))
    assert dict(hold.held) == {3: 2, 5: 4}  # frame 0: no earlier mask to hold, written empty
    assert plan_frames(seq, (3, 5), "hold").held == {3: 2, 5: 4}  # holds a mask from before the range


@pytest.mark.parametrize(
    ("policy", "written"),
    [("skip", ["00001", "00002", "00004"]), ("empty", ["00001", "00002", "00003", "00004", "00005"])],
)
def test_davis_writes_the_range_with_the_policy(
    seq: InMemorySequence, tmp_path: Path, policy: str, written: list[str]
) -> None:
    calls: list[tuple[int, int]] = []
    out = export(seq, "davis", tmp_path / "d", ExportOptions(frames=(1, 5), missing=policy), lambda *a: calls.append(a))
    assert _names(out) == written
    assert calls[-1] == (len(written), len(written))
    for name in written:
        i = int(name)
        expected = _mask(i) if i in MASKED else np.zeros((32, 48), np.uint8)
        np.testing.assert_array_equal(read_index_mask(out / f"{name}.png"), expected)
    meta = json.loads((out / MARKER_NAME).read_text())
    assert (meta["frames"], meta["range"], meta["missing"]) == (len(written), [1, 5], policy)


def test_hold_repeats_the_last_mask_and_its_soft_masks(seq: InMemorySequence, tmp_path: Path) -> None:
    opts = ExportOptions(frames=(0, 5), missing="hold")
    davis = export(seq, "davis", tmp_path / "d", opts)
    assert _names(davis) == [f"{i:05d}" for i in range(6)]
    np.testing.assert_array_equal(read_index_mask(davis / "00000.png"), np.zeros((32, 48), np.uint8))
    for frame, last in ((3, 2), (5, 4)):
        np.testing.assert_array_equal(read_index_mask(davis / f"{frame:05d}.png"), _mask(last))
    alpha = export(seq, "alpha", tmp_path / "a", opts)
    np.testing.assert_allclose(read_soft_mask(alpha / "1" / "00003.png"), seq.soft_mask(2, 1), atol=1 / 255)
    cut = export(seq, "cutout", tmp_path / "c", opts)
    rgba = np.asarray(Image.open(cut / "00003.png"))
    np.testing.assert_array_equal(rgba[..., :3], seq.frame(3))  # the frame's own pixels, the held matte
    np.testing.assert_array_equal(rgba[..., 3], np.asarray(Image.open(cut / "00002.png"))[..., 3])


@pytest.mark.parametrize(("policy", "count"), [("skip", 3), ("empty", 6), ("hold", 6)])
def test_matte_video_frame_counts(seq: InMemorySequence, tmp_path: Path, policy: str, count: int) -> None:
    out = export(seq, "matte", tmp_path / "m.mkv", ExportOptions(objects=(2,), missing=policy))
    got = decode_video(out, seq.size, "gray")[..., 0]
    assert got.shape[0] == count
    if policy == "skip":
        np.testing.assert_array_equal(got, np.stack([(_mask(i) == 2) * 255 for i in MASKED]))
    if policy == "hold":
        np.testing.assert_array_equal(got[3], got[2])


def test_coco_skip_lists_only_masked_frames(seq: InMemorySequence, tmp_path: Path) -> None:
    out = export(seq, "coco", tmp_path / "a.json", ExportOptions(frames=(0, 4), missing="skip"))
    doc = json.loads(out.read_text())
    assert [im["frame_index"] for im in doc["images"]] == [1, 2, 4]


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        (ExportOptions(frames=(4, 2)), r"frame range 4:2 is not inside the clip \(frames 0..5\)"),
        (ExportOptions(frames=(0, 6)), "not inside the clip"),
        (ExportOptions(missing="drop"), "must be one of skip, empty, hold"),
        (ExportOptions(frames=(5, 5), missing="skip"), "no frame in 5:5 has a mask"),
    ],
)
def test_bad_range_or_policy(seq: InMemorySequence, tmp_path: Path, opts: ExportOptions, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        export(seq, "davis", tmp_path / "d", opts)
    assert not (tmp_path / "d").exists()


def test_cli_range_and_missing(frames: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Project.create(tmp_path / "proj", frames) as p:
        p.add_object("a")
        p.add_object("b")
        for i in MASKED:
            p.masks.write(i, _mask(i))
        p.save()
    out = tmp_path / "out"
    assert main(["export", str(tmp_path / "proj"), "--format", "davis", "--out", str(out), "--range", "2:"]) == 0
    assert _names(out) == ["00002", "00003", "00004", "00005"]
    assert "2 frame(s) in 2:5 have no mask; they were written empty" in capsys.readouterr().err
    args = ["--format", "davis", "--out", str(out), "--range", ":4", "--missing", "hold", "-q"]
    assert main(["export", str(tmp_path / "proj"), *args]) == 0
    assert _names(out) == [f"{i:05d}" for i in range(5)]
    np.testing.assert_array_equal(read_index_mask(out / "00003.png"), _mask(2))
    assert main(["export", str(tmp_path / "proj"), "--format", "davis", "--out", str(out), "--range", "x"]) == 2
    assert "--range must be FIRST:LAST" in capsys.readouterr().err
