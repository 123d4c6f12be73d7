"""Project folder: round trip, journal/backup recovery, crash safety, manifest validation, relink."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from llb_core.io import ObjectSpec, open_source, read_index_mask
from llb_core.workspace import (
    FORMAT_VERSION,
    MANIFEST_NAME,
    Project,
    ProjectError,
    SourceContentError,
    SourceMismatchError,
)


def _mask(size: tuple[int, int], obj: int, box: tuple[int, int, int, int]) -> np.ndarray:
    m = np.zeros(size, np.uint8)
    y0, y1, x0, x1 = box
    m[y0:y1, x0:x1] = obj
    return m


def test_project_round_trip(judo: Path, tmp_path: Path) -> None:
    p = Project.create(
        tmp_path / "proj", judo, objects=[ObjectSpec(1, "left", (255, 0, 0))], settings={"internal_resolution": 480}
    )
    assert (p.num_frames, p.size, p.fps) == (6, (480, 854), 24.0)
    p.add_object("right")
    m = _mask(p.size, 1, (10, 100, 20, 200))
    m[200:300, 300:400] = 2
    alpha = np.linspace(0, 1, 480 * 854, dtype=np.float32).reshape(480, 854)
    p.masks.write(3, m, {2: alpha})
    p.add_keyframe(3)
    p.set_setting("cache_frames", 8)
    p.close()

    q = Project.open(tmp_path / "proj")
    assert [(o.id, o.name) for o in q.objects] == [(1, "left"), (2, "right")]
    assert q.objects[1].colour == (0, 128, 0)
    assert q.keyframes == [3] and q.settings == {"internal_resolution": 480, "cache_frames": 8}
    assert q.mask_frames() == [3] and not q.has_mask(0)
    np.testing.assert_array_equal(q.read_mask(3), m)
    assert q.read_mask(0) is None and q.index_mask(0).max() == 0
    assert np.abs(q.soft_mask(3, 2) - alpha).max() <= 0.5 / 255 + 1e-6
    assert q.soft_mask(3, 1) is None
    with open_source(judo) as src:
        np.testing.assert_array_equal(q.frame(2), src.read(2))
    assert q.frame_name(5) == "00005" and q.source_status() == "ok"
    doc = json.loads((tmp_path / "proj" / MANIFEST_NAME).read_text())
    assert doc["format_version"] == FORMAT_VERSION and doc["source"]["fingerprint"]["count"] == 6
    assert Image.open(tmp_path / "proj" / "masks" / "00003.png").mode == "P"


def test_video_project_frames(data: Path, tmp_path: Path) -> None:
    p = Project.create(tmp_path / "v", data / "videos" / "street.mp4")
    assert (p.num_frames, p.fps, p.size) == (117, 25.0, (480, 640))
    assert p.frame_name(12) == "00012" and p.manifest.frame_names is None
    assert p.frame(0).shape == (480, 640, 3)
    p.close()


def test_create_refuses_a_non_empty_folder(judo: Path, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.txt").write_text("mine")
    with pytest.raises(ProjectError, match="already exists and is not empty"):
        Project.create(tmp_path / "busy", judo)


def test_unsaved_changes_survive_a_crash(judo: Path, tmp_path: Path) -> None:
    p = Project.create(tmp_path / "proj", judo)
    p.add_object("a")
    p.masks.write(1, _mask(p.size, 1, (0, 50, 0, 50)))
    p.add_keyframe(1)
    p.add_keyframe(4)
    p.remove_keyframe(4)
    # crash: no save(), no close(); a torn line is appended by an interrupted write
    with open(tmp_path / "proj" / "journal.jsonl", "a") as fh:
        fh.write('{"rev": 99, "op": "add_keyf')
    q = Project.open(tmp_path / "proj")
    assert [o.id for o in q.objects] == [1] and q.keyframes == [1]
    assert q.read_mask(1) is not None and q.read_mask(1).max() == 1
    assert any("replayed 4" in msg for msg in q.recovered)
    q.save()
    assert not (tmp_path / "proj" / "journal.jsonl").exists()
    assert Project.open(tmp_path / "proj").keyframes == [1]


def test_crash_while_writing_a_mask_keeps_the_previous_one(
    judo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = Project.create(tmp_path / "proj", judo, objects=[ObjectSpec.default(1)])
    first = _mask(p.size, 1, (0, 10, 0, 10))
    p.masks.write(2, first)

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        p.masks.write(2, _mask(p.size, 1, (100, 300, 100, 300)))
    monkeypatch.undo()
    np.testing.assert_array_equal(p.read_mask(2), first)
    assert sorted(x.name for x in (tmp_path / "proj" / "masks").iterdir()) == ["00002.png"]


def test_crash_while_saving_keeps_manifest_and_journal(
    judo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = Project.create(tmp_path / "proj", judo)
    p.add_keyframe(5)
    saved = (tmp_path / "proj" / MANIFEST_NAME).read_text()
    real_replace = os.replace

    def fail_on_manifest(src: str, dst: str) -> None:
        if Path(dst).name == MANIFEST_NAME:
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_manifest)
    with pytest.raises(OSError):
        p.save()
    monkeypatch.undo()
    assert (tmp_path / "proj" / MANIFEST_NAME).read_text() == saved
    assert Project.open(tmp_path / "proj").keyframes == [5]  # from the journal


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda d: d.pop("fps"), "field 'fps' is missing"),
        (lambda d: d.update(num_frames="six"), "field 'num_frames' must be an integer, got str"),
        (lambda d: d.update(format_version=FORMAT_VERSION + 1), "unknown project format version"),
        (lambda d: d["objects"].append({"id": 300, "name": "x", "colour": [1, 2, 3]}), r"objects\[0\]"),
        (lambda d: d["source"].pop("path"), "field 'source.path' is missing"),
        (lambda d: d.update(size=[480]), r"field 'size' must be \[height, width\]"),
        (lambda d: d.update(keyframes={"0": [], "9": []}), r"frame records are invalid: frame 9 outside 0..5"),
        (lambda d: d.update(keyframes={"0": [7]}), r"keyframe 0 annotates undeclared objects \[7\]"),
        (lambda d: d.update(provenance=[[0, 2, 0, 3]]), r"run direction must be \+1 or -1"),
    ],
)
def test_manifest_errors_are_precise(judo: Path, tmp_path: Path, edit: object, message: str) -> None:
    Project.create(tmp_path / "proj", judo).close()
    path = tmp_path / "proj" / MANIFEST_NAME
    doc = json.loads(path.read_text())
    edit(doc)  # type: ignore[operator]
    path.write_text(json.dumps(doc))
    with pytest.raises(ProjectError, match=message) as info:
        Project.open(tmp_path / "proj")
    assert str(path) in str(info.value)


def test_corrupt_manifest_recovers_from_backup(judo: Path, tmp_path: Path) -> None:
    p = Project.create(tmp_path / "proj", judo)
    p.add_object("a")
    p.save()
    p.add_keyframe(2)
    p.save()
    path = tmp_path / "proj" / MANIFEST_NAME
    path.write_text(path.read_text()[:40])  # torn by a faulty disk
    with pytest.raises(ProjectError, match=r"not valid JSON.*reopen with recover=True"):
        Project.open(tmp_path / "proj")
    q = Project.open(tmp_path / "proj", recover=True)
    assert [o.id for o in q.objects] == [1]  # the backup is the previous save
    assert any("restored from manifest.json.bak" in msg for msg in q.recovered)


def test_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="not an LLB project folder"):
        Project.open(tmp_path)


def test_relink_after_move(judo: Path, tmp_path: Path) -> None:
    p = Project.create(tmp_path / "proj", judo)
    p.close()
    moved = tmp_path / "elsewhere" / "judo_frames"
    moved.parent.mkdir()
    shutil.move(judo, moved)
    q = Project.open(tmp_path / "proj")
    assert q.source_status() == "missing"
    with pytest.raises(SourceMismatchError, match="missing.*relink"):
        q.frame(0)
    q.relink(moved)
    assert q.source_status() == "ok" and q.frame(0).shape == (480, 854, 3)
    q.close()
    assert Project.open(tmp_path / "proj").source_path == moved.resolve()


def test_changed_source_is_detected_and_needs_force(judo: Path, tmp_path: Path) -> None:
    p = Project.create(tmp_path / "proj", judo)
    frame = np.array(Image.open(judo / "00000.jpg"))
    Image.fromarray(255 - frame).save(judo / "00000.jpg", quality=90)
    assert p.source_status() == "changed"
    with pytest.raises(SourceMismatchError, match="changed since the project was made"):
        p.frame(0)
    with pytest.raises(SourceMismatchError, match="content differs"):
        p.relink(judo)
    p.relink(judo, force=True)
    assert p.source_status() == "ok"


def test_relink_to_different_content_raises_the_typed_error(judo: Path, tmp_path: Path) -> None:
    p = Project.create(tmp_path / "proj", judo)
    frame = np.array(Image.open(judo / "00000.jpg"))
    Image.fromarray(255 - frame).save(judo / "00000.jpg", quality=90)
    with pytest.raises(SourceContentError, match="content differs"):
        p.relink(judo)
    p.close()


def test_relink_rejects_a_clip_of_another_shape(judo: Path, data: Path, tmp_path: Path) -> None:
    p = Project.create(tmp_path / "proj", judo)
    with pytest.raises(SourceMismatchError, match="4 frames .* expects 6 frames"):
        p.relink(data / "multiobject" / "images" / "bike", force=True)


def test_project_moved_with_its_source_finds_it(judo: Path, tmp_path: Path) -> None:
    root = tmp_path / "clips"
    Project.create(root / "proj", judo).close()
    shutil.move(root, tmp_path / "archive")
    q = Project.open(tmp_path / "archive" / "proj")
    assert q.source_status() == "moved"
    assert q.frame(1).shape == (480, 854, 3)
    assert q.source_path == (tmp_path / "archive" / "judo").resolve()


def test_write_mask_validates(judo: Path, tmp_path: Path) -> None:
    p = Project.create(tmp_path / "proj", judo, objects=[ObjectSpec.default(1)])
    with pytest.raises(ProjectError, match=r"object id\(s\) \[3\] are not declared"):
        p.masks.write(0, _mask(p.size, 3, (0, 5, 0, 5)))
    with pytest.raises(ProjectError, match="mask must be"):
        p.masks.write(0, np.zeros((10, 10), np.uint8))
    with pytest.raises(ProjectError, match="out of range"):
        p.masks.write(6, np.zeros(p.size, np.uint8))
    assert p.mask_frames() == []
    p.masks.write(0, _mask(p.size, 1, (0, 5, 0, 5)))
    assert read_index_mask(p.masks.path(0)).sum() == 25


def test_failed_journal_write_leaves_state_unchanged(
    judo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llb_core.io import WriteError

    p = Project.create(tmp_path / "proj", judo)
    p.add_keyframe(1)

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(WriteError, match=r"journal\.jsonl: could not record the change"):
        p.add_keyframe(2)
    monkeypatch.undo()
    assert p.keyframes == [1]
    p.add_keyframe(3)
    assert Project.open(tmp_path / "proj").keyframes == [1, 3]
