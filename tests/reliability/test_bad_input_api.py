"""The bad-input corpus against the Project API (what the app and scripts call): every case raises one
`LLBError` whose message names the file (one line; a mask import lists every refused file, a line each), and
leaves everything already saved as it was."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from llb_core.errors import LLBError
from llb_core.io.export import export
from llb_core.workspace import MANIFEST_NAME, Project, import_masks
from tests.reliability.conftest import World, read_only, snapshot


def _copy_project(world: World, tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    shutil.copytree(world.project, folder)
    return folder


def _damage_manifest(folder: Path, text: str) -> Path:
    (folder / MANIFEST_NAME).write_text(text)
    for backup in folder.glob(f"{MANIFEST_NAME}*"):
        if backup.name != MANIFEST_NAME:
            backup.unlink()  # no backup to recover from
    return folder


def _open_damaged(world: World, tmp_path: Path, text: str) -> Callable[[], object]:
    folder = _damage_manifest(_copy_project(world, tmp_path), text)
    return lambda: Project.open(folder)


def _create(world: World, tmp_path: Path, source: str) -> Callable[[], object]:
    return lambda: Project.create(tmp_path / "new", world.bad / source)


def _import(world: World, tmp_path: Path, mask: str) -> tuple[Callable[[], object], Path]:
    folder = _copy_project(world, tmp_path)
    masks = tmp_path / "masks"
    masks.mkdir()
    shutil.copy(world.bad / mask, masks / "00002.png")

    def call() -> None:
        with Project.open(folder) as project:
            import_masks(project, masks)

    return call, folder


CASES = {
    "create from an empty video": lambda w, t: (_create(w, t, "zero.mp4"), w.bad / "zero.mp4", w.bad),
    "create from a truncated video": lambda w, t: (_create(w, t, "truncated.mp4"), w.bad / "truncated.mp4", w.bad),
    "create from a text file named .mp4": lambda w, t: (_create(w, t, "text.mp4"), w.bad / "text.mp4", w.bad),
    "create from a folder without frames": lambda w, t: (_create(w, t, "no_frames"), w.bad / "no_frames", w.bad),
    "create into a non-empty folder": lambda w, t: (
        lambda: Project.create(w.user_folder, w.clip),
        w.user_folder,
        w.user_folder,
    ),
    "open a folder that is not a project": lambda w, t: (lambda: Project.open(w.clip), w.clip, w.clip),
    "open a file": lambda w, t: (lambda: Project.open(w.bad / "a_file"), w.bad / "a_file", w.bad),
    "open a missing folder": lambda w, t: (lambda: Project.open(t / "nowhere"), t / "nowhere", w.root / "clip"),
    "open a manifest that is not JSON": lambda w, t: (
        _open_damaged(w, t, "{ damaged"),
        t / "project" / MANIFEST_NAME,
        t / "project",
    ),
    "open a manifest of another format": lambda w, t: (
        _open_damaged(w, t, '{"format": "something else"}'),
        t / "project" / MANIFEST_NAME,
        t / "project",
    ),
    "import a mask of the wrong size": lambda w, t: (*_import(w, t, "wrong_size.png")[:1], t / "masks", t / "project"),
    "import a 16-bit mask": lambda w, t: (*_import(w, t, "sixteen_bit.png")[:1], t / "masks", t / "project"),
    "import an RGB image as a mask": lambda w, t: (*_import(w, t, "rgb.png")[:1], t / "masks", t / "project"),
    "import a 0/128/255 greyscale mask": lambda w, t: (
        *_import(w, t, "grey_0_128_255.png")[:1],
        t / "masks",
        t / "project",
    ),
    "import a noise mask with 200 ids": lambda w, t: (
        *_import(w, t, "noise_200_ids.png")[:1],
        t / "masks",
        t / "project",
    ),
    "import a truncated PNG": lambda w, t: (*_import(w, t, "truncated.png")[:1], t / "masks", t / "project"),
    "import an empty file": lambda w, t: (*_import(w, t, "zero.png")[:1], t / "masks", t / "project"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_raises_one_line_and_changes_nothing(world: World, tmp_path: Path, case: str) -> None:
    call, named, guarded = CASES[case](world, tmp_path)
    before = snapshot(guarded)
    with pytest.raises(LLBError) as caught:
        call()
    message = str(caught.value)
    lines = message.strip().splitlines()
    assert "Traceback" not in message and all("/" in line for line in lines), message  # each line names a file
    assert len(lines) == 1 or case.startswith("import"), message
    assert str(named) in message or named.name in message, f"{case}: {message!r} does not name {named}"
    assert snapshot(guarded) == before, f"{case}: something already saved changed"


def test_export_into_a_read_only_folder_keeps_the_earlier_export(world: World, tmp_path: Path) -> None:
    folder = _copy_project(world, tmp_path)
    out = tmp_path / "locked" / "export"
    with Project.open(folder) as project:
        export(project, "davis", out)
    before = snapshot(out.parent)
    with read_only(out.parent), Project.open(folder) as project, pytest.raises(LLBError) as caught:
        export(project, "davis", out)
    assert str(out) in str(caught.value) and "\n" not in str(caught.value).strip()
    assert snapshot(out.parent) == before
