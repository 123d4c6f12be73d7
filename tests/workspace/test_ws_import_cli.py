"""Mask import (palette, greyscale, per-object binary; malformed input) and the `llb export` CLI."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from llb_core.cli import main
from llb_core.io import ObjectSpec, read_index_mask
from llb_core.io.export import export
from llb_core.workspace import MaskImportError, Project, import_masks


def test_import_rejects_malformed_judo_masks_file_by_file(judo: Path, data: Path, tmp_path: Path) -> None:
    p = Project.create(tmp_path / "proj", judo)
    masks = data / "multiobject" / "masks" / "judo"
    with pytest.raises(MaskImportError) as info:
        import_masks(p, masks)
    issues = {i.path.name: i.message for i in info.value.report.issues}
    assert set(issues) == {"00005.png", "00008.png", "00013.png"}
    assert "853x480 but the frames are 854x480" in issues["00005.png"]
    assert "matches no frame of the clip (frames 0..5)" in issues["00008.png"]
    assert "00013.png" in str(info.value)
    assert p.mask_frames() == [] and p.objects == ()  # all or nothing

    report = import_masks(p, masks, skip_invalid=True)
    assert report.imported == [0] and report.new_objects == [1] and len(report.issues) == 3
    np.testing.assert_array_equal(p.read_mask(0), read_index_mask(masks / "00000.png"))
    assert p.keyframes == [0]


def test_import_undeclared_ids_when_objects_are_fixed(data: Path, tmp_path: Path) -> None:
    p = Project.create(tmp_path / "proj", data / "multiobject" / "images" / "bike", objects=[ObjectSpec.default(1)])
    with pytest.raises(MaskImportError, match=r"00000\.png: holds object id\(s\) \[2\]"):
        import_masks(p, data / "multiobject" / "masks" / "bike", create_objects=False)
    report = import_masks(p, data / "multiobject" / "masks" / "bike")
    assert report.new_objects == [2] and [o.id for o in p.objects] == [1, 2]


def test_import_greyscale_davis_annotations(data: Path, tmp_path: Path) -> None:
    ann = data / "davis2016" / "Annotations" / "480p" / "dog"
    few = tmp_path / "ann"
    few.mkdir()
    for name in ("00000.png", "00010.png", "00059.png"):
        shutil.copy(ann / name, few / name)
    p = Project.create(tmp_path / "proj", data / "davis2016" / "JPEGImages" / "480p" / "dog")
    report = import_masks(p, few)
    assert report.ok and report.imported == [0, 10, 59]
    raw = np.array(Image.open(ann / "00059.png"))
    np.testing.assert_array_equal(p.read_mask(59), (raw == 255).astype(np.uint8))


def test_binary_folders_round_trip_through_export(data: Path, tmp_path: Path) -> None:
    images = data / "multiobject" / "images" / "bike"
    a = Project.create(tmp_path / "a", images)
    import_masks(a, data / "multiobject" / "masks" / "bike")
    shifted = np.roll(a.read_mask(0), 30, axis=1)
    a.masks.write(2, shifted)
    export(a, "binary", tmp_path / "bin")
    b = Project.create(tmp_path / "b", images)
    report = import_masks(b, tmp_path / "bin")  # auto-detects <id>/<frame>.png
    assert report.ok and report.imported == [0, 1, 2, 3]
    for i in range(4):
        np.testing.assert_array_equal(b.index_mask(i), a.index_mask(i))


def test_cli_export_writes_and_reports_progress(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = Project.create(tmp_path / "proj", data / "multiobject" / "images" / "bike")
    import_masks(p, data / "multiobject" / "masks" / "bike")
    p.close()
    out = tmp_path / "out"
    rc = main(
        ["export", str(tmp_path / "proj"), "--format", "davis", "--out", str(out), "--objects", "2", "--grow", "2"]
    )
    captured = capsys.readouterr()
    assert rc == 0 and str(out) in captured.out
    assert "4/4" in captured.err and "export davis [" in captured.err
    m = read_index_mask(out / "00000.png")
    assert set(np.unique(m).tolist()) == {0, 2}
    assert (m == 2).sum() > (p.index_mask(0) == 2).sum()  # grown


@pytest.mark.parametrize(
    "args,message",
    [
        (["--format", "davis"], "not an LLB project folder"),
        (["--format", "prores", "--objects", "1"], r"writes a \.mov file"),
        (["--format", "davis", "--objects", "x"], "--objects must be comma-separated"),
        (["--format", "davis", "--objects", "9"], r"object id\(s\) \[9\]"),
    ],
)
def test_cli_export_bad_input_is_one_line(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    proj = tmp_path / "proj"
    if "not an LLB" not in message:
        Project.create(proj, data / "multiobject" / "images" / "bike", objects=[ObjectSpec.default(1)]).close()
    rc = main(["export", str(proj), "--out", str(tmp_path / "out.txt"), *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("llb export: error: ") and err.count("\n") == 1
    assert re.search(message, err)


@pytest.mark.parametrize("layout", ["00000.png", "1/00000.png"])
def test_cli_export_of_a_plain_mask_folder_says_how_to_make_a_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], layout: str
) -> None:
    masks = tmp_path / "propagated"
    (masks / layout).parent.mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(masks / layout)
    rc = main(["export", str(masks), "--format", "davis", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("llb export: error: ") and err.count("\n") == 1
    assert f"{masks} is a plain mask folder" in err
    assert "`llb project create CLIP --out P` then `llb project import P " + str(masks) + "`" in err
    assert not (tmp_path / "out").exists()


def test_binary_folder_issues_are_per_file(data: Path, tmp_path: Path) -> None:
    p = Project.create(tmp_path / "proj", data / "multiobject" / "images" / "bike", objects=[ObjectSpec.default(1)])
    good = np.zeros(p.size, np.uint8)
    good[10:50, 10:50] = 255
    folder = tmp_path / "bin"
    for obj, name, arr in [
        (1, "00000.png", good),
        (1, "00001.png", good[:, :-1]),
        (4, "00002.png", good),
        (1, "00009.png", good),
    ]:
        (folder / str(obj)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(folder / str(obj) / name)
    with pytest.raises(MaskImportError) as info:
        import_masks(p, folder, create_objects=False)
    issues = {f"{i.path.parent.name}/{i.path.name}": i.message for i in info.value.report.issues}
    assert set(issues) == {"1/00001.png", "4/00002.png", "1/00009.png"}
    assert "853x480" in issues["1/00001.png"] and "object id 4" in issues["4/00002.png"]
    report = import_masks(p, folder, create_objects=False, skip_invalid=True)
    assert report.imported == [0] and p.read_mask(0)[20, 20] == 1 and p.read_mask(0).sum() == 40 * 40
