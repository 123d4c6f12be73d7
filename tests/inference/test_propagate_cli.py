"""`llb propagate` on real clips: one mask per frame, clear refusals of bad input, the demo."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from llb_core.cli import main
from tests.conftest import DAVIS, SHARED_DATA

FAST = ["--resolution", "128", "--mode", "full", "--quiet"]


def test_folder_of_frames_gives_one_palette_mask_per_frame(shared_data, tmp_path, capsys):
    frames = DAVIS / "JPEGImages" / "480p" / "dog"
    mask = DAVIS / "Annotations" / "480p" / "dog" / "00000.png"
    out = tmp_path / "out"
    code = main(
        ["propagate", str(frames), "--mask", str(mask), "--out", str(out), "--max-frames", "6", "--soft", *FAST]
    )
    assert code == 0, capsys.readouterr().err
    written = sorted(p.name for p in out.glob("*.png"))
    assert written == [f"{i:05d}.png" for i in range(6)]
    first = Image.open(out / "00000.png")
    assert first.mode == "P" and first.size == (854, 480)
    assert np.array_equal(np.asarray(first) > 0, np.asarray(Image.open(mask).convert("L")) > 127)
    assert sorted(p.name for p in (out / "soft" / "1").glob("*.png")) == [f"{i:05d}.png" for i in range(1, 6)]
    assert "fps" in capsys.readouterr().err


def test_video_file_with_a_mask_on_a_later_frame(shared_data, tmp_path, capsys):
    video = SHARED_DATA / "videos" / "street.mp4"
    mask = np.zeros((480, 640), np.uint8)
    mask[200:300, 250:350] = 1
    Image.fromarray(mask * 255).save(tmp_path / "m.png")
    out = tmp_path / "out"
    code = main(
        ["propagate", str(video), "--mask", f"{tmp_path / 'm.png'}:2", "--out", str(out), "--max-frames", "5", *FAST]
    )
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.glob("*.png")) == [f"{i:05d}.png" for i in range(5)]


@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing input", "no such file or folder"),
        ("missing mask", "mask file not found"),
        ("wrong size", "853x480 but the frames are 854x480"),
        ("empty mask", "holds no object"),
        ("frame outside", "outside the clip"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(shared_data, tmp_path, capsys, case, expected):
    judo = SHARED_DATA / "multiobject"
    frames = judo / "images" / "judo"
    args = {
        "missing input": [str(tmp_path / "nope.mp4"), "--mask", str(judo / "masks" / "judo" / "00000.png")],
        "missing mask": [str(frames), "--mask", str(tmp_path / "absent.png")],
        "wrong size": [str(frames), "--mask", str(judo / "masks" / "judo" / "00005.png")],
        "empty mask": [str(frames), "--mask", str(tmp_path / "empty.png")],
        "frame outside": [str(frames), "--mask", f"{judo / 'masks' / 'judo' / '00000.png'}:99"],
    }[case]
    Image.fromarray(np.zeros((480, 854), np.uint8)).save(tmp_path / "empty.png")
    code = main(["propagate", *args, "--out", str(tmp_path / "out"), *FAST])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err and err.count("\n") == 1 and err.startswith("llb propagate: error:")


def test_demo_runs_without_input(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["propagate", "--demo", "--out", str(out), "--max-frames", "3", *FAST]) == 0
    masks = sorted(out.glob("*.png"))
    assert len(masks) == 3
    assert np.asarray(Image.open(masks[0])).shape == (720, 1280)
