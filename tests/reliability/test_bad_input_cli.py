"""The bad-input corpus against every `llb` subcommand: exit code 2, one line on stderr without a traceback,
naming the file (or option) and the remedy, and nothing already saved changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from llb_core.cli import main
from tests.reliability.conftest import World, llb_subprocess, read_only, small_tmpfs, snapshot

FAST = ["--resolution", "64", "--quiet"]


@dataclass(frozen=True)
class Case:
    """argv(world, tmp) -> the arguments; `says`: text the one line must hold (a file name or an option)."""

    argv: Callable[[World, Path], list[str]]
    says: Callable[[World, Path], str]
    read_only: str | None = None  # a folder under tmp made immutable for the call


def _prop(w: World, t: Path, *extra: str, src: Path | None = None, mask: str | None = None) -> list[str]:
    return ["propagate", str(src or w.clip), "--mask", mask or str(w.mask), "--out", str(t / "out"), *FAST, *extra]


def _corrupt_project(w: World, t: Path, manifest: str | None) -> Path:
    import shutil

    copy = t / "project"
    shutil.copytree(w.project, copy)
    if manifest is not None:
        (copy / "manifest.json").write_text(manifest)
        (copy / "manifest.json.bak").unlink(missing_ok=True)
    return copy


def _masks_folder(w: World, t: Path, *bad: str) -> Path:
    """A folder of keyframe masks for `project import`: the corpus files `bad`, named as frames 0, 1, ..."""
    import shutil

    folder = t / "masks"
    folder.mkdir()
    for i, name in enumerate(bad):
        shutil.copy(w.bad / name, folder / f"{i:05d}.png")
    return folder


def _import(w: World, t: Path, *bad: str, extra: tuple[str, ...] = ()) -> list[str]:
    return ["project", "import", str(_corrupt_project(w, t, None)), str(_masks_folder(w, t, *bad)), *extra]


def _export_into(fmt: str, name: str) -> Callable[[World, Path], list[str]]:
    return lambda w, t: ["export", str(w.project), "--format", fmt, "--out", str(t / name), "-q"]


CASES: dict[str, Case] = {
    # propagate: inputs
    "propagate missing input": Case(lambda w, t: _prop(w, t, src=t / "nope.mp4"), lambda w, t: "nope.mp4"),
    "propagate zero-length video": Case(lambda w, t: _prop(w, t, src=w.bad / "zero.mp4"), lambda w, t: "zero.mp4"),
    "propagate truncated video": Case(
        lambda w, t: _prop(w, t, src=w.bad / "truncated.mp4"), lambda w, t: "truncated.mp4"
    ),
    "propagate text renamed .mp4": Case(lambda w, t: _prop(w, t, src=w.bad / "text.mp4"), lambda w, t: "text.mp4"),
    "propagate folder without frames": Case(
        lambda w, t: _prop(w, t, src=w.bad / "no_frames"), lambda w, t: "no_frames"
    ),
    # propagate: masks
    "propagate missing mask": Case(lambda w, t: _prop(w, t, mask=str(t / "absent.png")), lambda w, t: "absent.png"),
    "propagate zero-length mask": Case(lambda w, t: _prop(w, t, mask=str(w.bad / "zero.png")), lambda w, t: "zero.png"),
    "propagate truncated mask": Case(
        lambda w, t: _prop(w, t, mask=str(w.bad / "truncated.png")), lambda w, t: "truncated.png"
    ),
    "propagate wrong-size mask": Case(
        lambda w, t: _prop(w, t, mask=f"{w.bad / 'wrong_size.png'}:0"), lambda w, t: "95x64 but the frames are 96x64"
    ),
    "propagate 16-bit mask": Case(
        lambda w, t: _prop(w, t, mask=f"{w.bad / 'sixteen_bit.png'}:0"), lambda w, t: "sixteen_bit.png"
    ),
    "propagate RGB mask": Case(lambda w, t: _prop(w, t, mask=f"{w.bad / 'rgb.png'}:0"), lambda w, t: "rgb.png"),
    "propagate greyscale 0/128/255 mask": Case(
        lambda w, t: _prop(w, t, mask=f"{w.bad / 'grey_0_128_255.png'}:0"), lambda w, t: "values 0, 128, 255"
    ),
    "propagate noise mask": Case(
        lambda w, t: _prop(w, t, mask=f"{w.bad / 'noise_200_ids.png'}:0"), lambda w, t: "--max-objects"
    ),
    "propagate empty mask": Case(lambda w, t: _prop(w, t, mask=f"{w.bad / 'empty.png'}:0"), lambda w, t: "empty.png"),
    "propagate mask frame outside": Case(
        lambda w, t: _prop(w, t, mask=f"{w.mask}:999"), lambda w, t: "frame 999 is outside the clip (frames 0..5)"
    ),
    "propagate all bad masks in one line": Case(
        lambda w, t: _prop(w, t, "--mask", f"{w.bad / 'rgb.png'}:1", mask=f"{w.bad / 'noise_200_ids.png'}:0"),
        lambda w, t: "2 of 2 masks refused",
    ),
    # propagate: output
    "propagate --out is a file": Case(
        lambda w, t: [*_prop(w, t)[:-4], str(w.bad / "a_file"), *FAST], lambda w, t: "a_file: is a file"
    ),
    "propagate --out below a file": Case(
        lambda w, t: [*_prop(w, t)[:-4], str(w.bad / "a_file" / "sub"), *FAST], lambda w, t: "a_file"
    ),
    "propagate --out read-only": Case(
        lambda w, t: [*_prop(w, t)[:-4], str(t / "ro"), *FAST], lambda w, t: "ro", read_only="ro"
    ),
    "propagate --out read-only/sub": Case(
        lambda w, t: [*_prop(w, t)[:-4], str(t / "ro" / "sub"), *FAST], lambda w, t: "ro/sub", read_only="ro"
    ),
    "propagate --out holds masks": Case(
        lambda w, t: [*_prop(w, t)[:-4], str(w.previous_out), *FAST], lambda w, t: "--overwrite"
    ),
    # propagate: options and engine
    "propagate --resolution 10": Case(lambda w, t: _prop(w, t, "--resolution", "10"), lambda w, t: "--resolution 10"),
    "propagate --max-frames 0": Case(lambda w, t: _prop(w, t, "--max-frames", "0"), lambda w, t: "--max-frames 0"),
    "propagate --max-objects 0": Case(lambda w, t: _prop(w, t, "--max-objects", "0"), lambda w, t: "--max-objects"),
    "propagate missing checkpoint": Case(
        lambda w, t: _prop(w, t, "--weights", str(t / "none.pt")), lambda w, t: "none.pt"
    ),
    "propagate zero-length checkpoint": Case(
        lambda w, t: _prop(w, t, "--weights", str(w.bad / "zero.pt")), lambda w, t: "zero.pt: not a PyTorch checkpoint"
    ),
    "propagate garbage checkpoint": Case(
        lambda w, t: _prop(w, t, "--weights", str(w.bad / "garbage.pt")), lambda w, t: "garbage.pt"
    ),
    "propagate truncated checkpoint": Case(
        lambda w, t: _prop(w, t, "--weights", str(w.bad / "truncated.pt")), lambda w, t: "truncated.pt"
    ),
    "propagate checkpoint is a folder": Case(
        lambda w, t: _prop(w, t, "--weights", str(w.bad / "folder.pt")), lambda w, t: "folder.pt: is a folder"
    ),
    "propagate checkpoint of another program": Case(
        lambda w, t: _prop(w, t, "--weights", str(w.bad / "whole.pt")), lambda w, t: "whole.pt"
    ),
    "propagate --from without --project": Case(lambda w, t: _prop(w, t, "--from", "2"), lambda w, t: "--from"),
    # propagate --project
    "propagate --project missing": Case(
        lambda w, t: ["propagate", "--project", str(t / "nope"), *FAST], lambda w, t: "nope"
    ),
    "propagate --project is a file": Case(
        lambda w, t: ["propagate", "--project", str(w.bad / "a_file"), *FAST], lambda w, t: "a_file"
    ),
    "propagate --project corrupt manifest": Case(
        lambda w, t: ["propagate", "--project", str(_corrupt_project(w, t, '{"format_version": 2, "sou')), *FAST],
        lambda w, t: "manifest.json",
    ),
    "propagate --project manifest of the future": Case(
        lambda w, t: ["propagate", "--project", str(_corrupt_project(w, t, '{"format_version": 99}')), *FAST],
        lambda w, t: "Update LLB Studio",
    ),
    "propagate --project with INPUT": Case(
        lambda w, t: ["propagate", str(w.clip), "--project", str(w.project), *FAST], lambda w, t: "--project"
    ),
    "propagate --project from a frame without mask": Case(
        lambda w, t: ["propagate", "--project", str(w.project), "--from", "4", *FAST], lambda w, t: "frame 4"
    ),
    # export
    "export missing project": Case(
        lambda w, t: ["export", str(t / "nope"), "--format", "davis", "--out", str(t / "o")], lambda w, t: "nope"
    ),
    "export corrupt manifest": Case(
        lambda w, t: ["export", str(_corrupt_project(w, t, "[]")), "--format", "davis", "--out", str(t / "o")],
        lambda w, t: "manifest.json",
    ),
    "export --out is a file": Case(
        lambda w, t: ["export", str(w.project), "--format", "davis", "--out", str(w.bad / "a_file")],
        lambda w, t: "a_file",
    ),
    "export into a person's folder": Case(
        lambda w, t: ["export", str(w.project), "--format", "davis", "--out", str(w.user_folder)],
        lambda w, t: "user_folder",
    ),
    "export wrong suffix": Case(
        lambda w, t: ["export", str(w.project), "--format", "prores", "--out", str(t / "x.mp4")],
        lambda w, t: ".mov",
    ),
    "export bad --range": Case(
        lambda w, t: ["export", str(w.project), "--format", "davis", "--out", str(t / "o"), "--range", "a-b"],
        lambda w, t: "--range",
    ),
    "export range outside the clip": Case(
        lambda w, t: ["export", str(w.project), "--format", "davis", "--out", str(t / "o"), "--range", "3:99"],
        lambda w, t: "99",
    ),
    **{
        f"export {fmt} into read-only{sub}": Case(
            _export_into(fmt, f"ro{sub}{suffix}"),
            lambda w, t: "ro",
            read_only="ro",
        )
        for fmt, suffix in (("davis", ""), ("alpha", ""), ("prores", ".mov"), ("coco", ".json"))
        for sub in ("", "/sub")
        if not (suffix and not sub)
    },
    "export over an earlier export made read-only": Case(
        lambda w, t: ["export", str(w.project), "--format", "davis", "--out", str(t / "ro"), "-q"],
        lambda w, t: "ro",
        read_only="ro",
    ),
    # eval
    "eval missing root": Case(lambda w, t: ["eval", str(t / "nope"), "--method", "copy"], lambda w, t: "nope"),
    "eval root is a file": Case(
        lambda w, t: ["eval", str(w.bad / "a_file"), "--method", "copy"], lambda w, t: "a_file"
    ),
    "eval root without DAVIS layout": Case(lambda w, t: ["eval", str(w.clip), "--method", "copy"], lambda w, t: "clip"),
    "eval --save-masks FILE": Case(
        lambda w, t: ["eval", str(w.root), "--method", "copy", "--save-masks", str(w.bad / "a_file")],
        lambda w, t: "a_file: is a file",
    ),
    "eval --save-masks read-only": Case(
        lambda w, t: ["eval", str(w.root), "--method", "copy", "--save-masks", str(t / "ro" / "sub")],
        lambda w, t: "ro/sub",
        read_only="ro",
    ),
    "eval --json is a folder": Case(
        lambda w, t: ["eval", str(w.root), "--method", "copy", "--json", str(w.clip)], lambda w, t: "clip: is a folder"
    ),
    "eval --max-frames 2": Case(
        lambda w, t: ["eval", str(w.root), "--method", "copy", "--max-frames", "2"], lambda w, t: "--max-frames 2"
    ),
    "eval garbage checkpoint": Case(
        lambda w, t: ["eval", str(w.root), "--weights", str(w.bad / "garbage.pt")], lambda w, t: "garbage.pt"
    ),
    "eval --resolution 10": Case(lambda w, t: ["eval", str(w.root), "--resolution", "10"], lambda w, t: "--resolution"),
    # project
    "project create from a missing clip": Case(
        lambda w, t: ["project", "create", str(t / "nope.mp4"), "--out", str(t / "p")], lambda w, t: "nope.mp4"
    ),
    "project create from a truncated video": Case(
        lambda w, t: ["project", "create", str(w.bad / "truncated.mp4"), "--out", str(t / "p")],
        lambda w, t: "truncated.mp4",
    ),
    "project create over a person's folder": Case(
        lambda w, t: ["project", "create", str(w.clip), "--out", str(w.user_folder)], lambda w, t: "user_folder"
    ),
    "project create in read-only": Case(
        lambda w, t: ["project", "create", str(w.clip), "--out", str(t / "ro" / "p")], lambda w, t: "ro", "ro"
    ),
    "project import bad masks": Case(
        lambda w, t: ["project", "import", str(_corrupt_project(w, t, None)), str(w.bad)], lambda w, t: "rejected"
    ),
    "project import greyscale 0/128/255": Case(
        lambda w, t: _import(w, t, "grey_0_128_255.png"), lambda w, t: "greyscale with values 0, 128, 255"
    ),
    "project import 200 ids of noise": Case(
        lambda w, t: _import(w, t, "noise_200_ids.png"), lambda w, t: "--max-objects"
    ),
    "project import lists every refused mask": Case(
        lambda w, t: _import(w, t, "grey_0_128_255.png", "noise_200_ids.png"), lambda w, t: "2 file(s) rejected"
    ),
    "project import --max-objects 0": Case(
        lambda w, t: _import(w, t, "empty.png", extra=("--max-objects", "0")), lambda w, t: "--max-objects 0"
    ),
    "project import into a missing project": Case(
        lambda w, t: ["project", "import", str(t / "nope"), str(w.bad)], lambda w, t: "nope"
    ),
    "project info corrupt manifest": Case(
        lambda w, t: ["project", "info", str(_corrupt_project(w, t, "{"))], lambda w, t: "manifest.json"
    ),
    # train and bench
    "train --out is a file": Case(lambda w, t: ["train", "--out", str(w.bad / "a_file")], lambda w, t: "a_file"),
    "train unknown recipe": Case(
        lambda w, t: ["train", "--recipe", "nope", "--out", str(t / "run")], lambda w, t: "no such recipe"
    ),
    "train --iterations 0": Case(
        lambda w, t: ["train", "--out", str(t / "run"), "--iterations", "0"], lambda w, t: "--iterations 0"
    ),
    "bench model --height 10": Case(lambda w, t: ["bench", "model", "--height", "10"], lambda w, t: "--height 10"),
    "bench propagate missing clip": Case(
        lambda w, t: ["bench", "propagate", "--clip", str(t / "nope")], lambda w, t: "nope"
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_and_changes_nothing(
    name: str, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CASES[name]
    before = snapshot(world.root)
    argv = case.argv(world, tmp_path)
    if case.read_only:
        if name.startswith("export over"):
            assert main(["export", str(world.project), "--format", "davis", "--out", str(tmp_path / "ro"), "-q"]) == 0
        earlier = snapshot(tmp_path / case.read_only) if (tmp_path / case.read_only).exists() else {}
        capsys.readouterr()
        with read_only(tmp_path / case.read_only):
            code = main(argv)
        assert snapshot(tmp_path / case.read_only) == earlier
    else:
        code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err and err.startswith(f"llb {argv[0]}: error: "), err
    assert case.says(world, tmp_path) in err
    assert snapshot(world.root) == before


def test_device_without_cuda_is_one_line(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA, so --device cuda is valid here")
    for argv in (_prop(world, tmp_path, "--device", "cuda"), ["eval", str(world.root), "--device", "cuda"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--device cuda" in err and "--device cpu" in err


def test_a_bad_runtime_override_is_one_line(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLB_RUNTIME", "fastest")
    for argv in (_prop(world, tmp_path), ["eval", str(world.root)], ["bench", "propagate", "--frames", "1"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "LLB_RUNTIME='fastest'" in err and "unset it" in err, err
    assert not (tmp_path / "out").exists()


def test_full_disk_export_leaves_the_earlier_export(world: World, tmp_path: Path) -> None:
    """A tmpfs too small for the export: one line, exit 2, the earlier export there untouched, no leftovers."""
    import shutil

    with small_tmpfs(tmp_path / "disk", 300) as disk:
        shutil.copytree(world.previous_export, disk / "export")
        (disk / "filler").write_bytes(b"\0" * (disk_free(disk) - 4096))
        before = snapshot(disk / "export")
        done = llb_subprocess(["export", str(world.project), "--format", "cutout", "--out", str(disk / "export"), "-q"])
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "export" in done.stderr and "Free disk space" in done.stderr
        assert snapshot(disk / "export") == before
        assert sorted(p.name for p in disk.iterdir()) == ["export", "filler"]


def disk_free(path: Path) -> int:
    import os

    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


@pytest.mark.parametrize(
    "argv",
    [
        ["propagate", "{bad}/zero.mp4", "--mask", "{mask}", "--out", "{tmp}/o"],
        ["propagate", "{clip}", "--mask", "{mask}", "--out", "{bad}/a_file"],
        ["propagate", "{clip}", "--mask", "{mask}", "--out", "{tmp}/o", "--resolution", "10"],
        ["eval", "{root}", "--method", "copy", "--save-masks", "{bad}/a_file"],
        ["export", "{tmp}/nope", "--format", "davis", "--out", "{tmp}/o"],
        ["project", "info", "{tmp}/nope"],
    ],
    ids=["propagate video", "propagate out", "propagate resolution", "eval save-masks", "export", "project info"],
)
def test_a_real_process_reports_before_importing_torch(world: World, tmp_path: Path, argv: list[str]) -> None:
    """What a person sees: exit 2, one line, no traceback, and torch never imported (so the answer is quick)."""
    fields = {"bad": world.bad, "mask": world.mask, "clip": world.clip, "root": world.root, "tmp": tmp_path}
    args = [a.format(**fields) for a in argv]
    done = llb_subprocess(["-v", *args])
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    probe = llb_subprocess_torch_check(args)
    assert probe == "torch not imported", probe


def llb_subprocess_torch_check(args: list[str]) -> str:
    import subprocess
    import sys

    from tests.reliability.conftest import REPO_ROOT

    code = (
        "import sys\nfrom llb_core.cli import main\nrc = main(sys.argv[1:])\n"
        "print('torch imported' if 'torch' in sys.modules else 'torch not imported', rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False
    )
    return done.stdout.strip().removesuffix(" 2")
