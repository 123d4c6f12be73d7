"""`llb project import` applies the keyframe checks of `llb propagate`: greyscale other than 0/255 and masks
with more than 50 ids (`--max-objects` to change) are refused, every bad file listed in one message, nothing
imported; an empty mask (every object absent) is still a valid keyframe to import."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from llb_core.cli import main
from llb_core.io import ObjectSpec, write_index_mask
from llb_core.workspace import MaskImportError, Project, import_masks

H, W = 32, 48


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    clip = tmp_path / "clip"
    clip.mkdir()
    for i in range(4):
        Image.fromarray(np.full((H, W, 3), 30 * i, np.uint8)).save(clip / f"{i:05d}.png")
    p = Project.create(tmp_path / "project", clip, objects=[ObjectSpec.default(1)])
    yield p
    p.close()


def grey_0_128_255(path: Path) -> None:
    grey = np.zeros((H, W), np.uint8)
    grey[2:10, 2:20], grey[12:30, 20:40] = 128, 255
    Image.fromarray(grey).save(path)


def noise_ids(path: Path, ids: int) -> None:
    """A palette mask holding object ids 1..`ids` (one pixel run each)."""
    mask = np.zeros((H, W), np.uint8)
    mask.flat[: ids * 2] = np.repeat(np.arange(1, ids + 1, dtype=np.uint8), 2)
    write_index_mask(path, mask)


def square(path: Path) -> None:
    mask = np.zeros((H, W), np.uint8)
    mask[8:24, 8:24] = 1
    write_index_mask(path, mask)


def test_every_bad_keyframe_is_listed_and_nothing_is_imported(project: Project, tmp_path: Path) -> None:
    masks = tmp_path / "masks"
    masks.mkdir()
    square(masks / "00000.png")
    grey_0_128_255(masks / "00001.png")
    noise_ids(masks / "00002.png", 60)
    with pytest.raises(MaskImportError) as info:
        import_masks(project, masks)
    issues = {i.path.name: i.message for i in info.value.report.issues}
    assert set(issues) == {"00001.png", "00002.png"}
    assert "greyscale with values 0, 128, 255" in issues["00001.png"]
    assert "60 object ids (limit 50)" in issues["00002.png"] and "--max-objects" in issues["00002.png"]
    assert project.mask_frames() == [] and [o.id for o in project.objects] == [1]


def test_max_objects_raises_and_lowers_the_limit(project: Project, tmp_path: Path) -> None:
    masks = tmp_path / "masks"
    masks.mkdir()
    noise_ids(masks / "00000.png", 3)
    with pytest.raises(MaskImportError, match=r"3 object ids \(limit 2\)"):
        import_masks(project, masks, max_objects=2)
    noise_ids(masks / "00001.png", 60)
    report = import_masks(project, masks, max_objects=60)
    assert report.imported == [0, 1] and len(project.objects) == 60


def test_an_empty_mask_imports_as_a_keyframe(project: Project, tmp_path: Path) -> None:
    masks = tmp_path / "masks"
    masks.mkdir()
    write_index_mask(masks / "00002.png", np.zeros((H, W), np.uint8))
    assert import_masks(project, masks).imported == [2]
    assert project.keyframes == [2] and not project.read_mask(2).any()


def test_binary_layout_refuses_greyscale_other_than_0_255(project: Project, tmp_path: Path) -> None:
    masks = tmp_path / "binary"
    (masks / "1").mkdir(parents=True)
    grey_0_128_255(masks / "1" / "00000.png")
    with pytest.raises(MaskImportError, match="greyscale with values 0, 128, 255"):
        import_masks(project, masks)
    assert project.mask_frames() == []


def test_cli_lists_all_refused_files_in_one_line_and_takes_max_objects(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project.folder
    project.close()
    masks = tmp_path / "masks"
    masks.mkdir()
    grey_0_128_255(masks / "00001.png")
    noise_ids(masks / "00002.png", 60)
    assert main(["project", "import", str(folder), str(masks)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "2 file(s) rejected" in err, err
    assert "00001.png" in err and "00002.png" in err and "--max-objects" in err
    assert main(["project", "import", str(folder), str(masks), "--max-objects", "0"]) == 2
    assert "--max-objects 0: give at least 1" in capsys.readouterr().err
    (masks / "00001.png").unlink()
    assert main(["project", "import", str(folder), str(masks), "--max-objects", "60"]) == 0
    with Project.open(folder) as reopened:
        assert reopened.keyframes == [2] and len(reopened.objects) == 60
