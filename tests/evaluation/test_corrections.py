"""The corrections curve: through the engine's keyframes, on real clips at low resolution, and `llb eval`."""

from __future__ import annotations

import json
from functools import partial

import pytest

from llb_core.cli import main
from llb_core.evaluation.corrections import corrections_curve, parse_counts
from llb_core.evaluation.davis import DavisRoot
from llb_core.evaluation.engine_method import EngineMethod
from llb_core.evaluation.metrics import boundary_tolerance, frame_scores
from llb_core.inference import SessionSettings
from llb_core.inference.results import Provenance
from tests.conftest import DAVIS, SHARED_DATA


@pytest.fixture(scope="module")
def engine() -> EngineMethod:
    return EngineMethod(settings=SessionSettings(resolution=128, precision="fp32"))


def test_one_correction_goes_through_the_keyframes(shared_data, engine):
    seq = DavisRoot(DAVIS).sequence("motocross-jump", max_frames=14)
    first = seq.first_mask()
    clip = engine.new_clip(seq.frames, first)
    tolerance = boundary_tolerance(seq.size)
    curve = corrections_curve(clip, partial(engine.new_session, seq.frames), seq.ground_truth, [1], [0, 1], tolerance)
    assert curve.jf[1] >= curve.jf[0]  # (a)
    (fix,) = curve.corrections
    c = fix.frame
    worst = min(curve.initial, key=lambda t: sum(j + f for j, f in curve.initial[t].values()))
    assert c == worst and list(clip.keyframes) == [0, c]
    j, f = frame_scores(clip.mask(c), seq.ground_truth(c), [1], tolerance)[1]  # (b)
    assert j == pytest.approx(1.0) and f == pytest.approx(1.0) and fix.jf_before < 0.99
    # (c) frames before c came from the run from frame 0 and did not depend on c: untouched
    assert fix.invalidated == list(range(c + 1, seq.num_frames))  # the frames after it went stale
    assert fix.recomputed == fix.invalidated and c > 3 and clip.stale == []
    for t in range(1, c):
        assert clip.provenance[t] == Provenance(0, 1)
    for t in range(c + 1, seq.num_frames):
        assert clip.provenance[t] == Provenance(c, 1)


def test_curve_on_a_multi_object_clip_at_240p(shared_data, engine):
    data = DavisRoot(SHARED_DATA / "davis2017-multi")
    assert data.resolution == "240p"
    seq = data.sequence("dogs-jump", max_frames=8)
    first = seq.first_mask()
    assert sorted(set(first.ravel()) - {0}) == [1, 2, 3]
    clip = engine.new_clip(seq.frames, first)
    sessions = partial(engine.new_session, seq.frames)
    curve = corrections_curve(clip, sessions, seq.ground_truth, [1, 2, 3], [0, 1, 2], boundary_tolerance(seq.size))
    assert list(curve.jf) == [0, 1, 2] and curve.jf[2] >= curve.jf[0]
    assert len({c.frame for c in curve.corrections}) == 2
    for c in curve.corrections:
        scores = frame_scores(clip.mask(c.frame), seq.ground_truth(c.frame), [1, 2, 3])
        assert all(j == pytest.approx(1.0) for j, _ in scores.values())


def test_parse_counts():
    assert parse_counts("4,0, 2,1,1") == [0, 1, 2, 4]
    for bad in ("", "a,b", "-1,2"):
        with pytest.raises(ValueError, match="separated by commas"):
            parse_counts(bad)


def test_llb_eval_corrections_json(capsys, tmp_path, shared_data):
    out = tmp_path / "corr.json"
    args = ["eval", str(SHARED_DATA / "davis2017-multi"), "--sequences", "dogs-jump", "--max-frames", "6"]
    args += ["--resolution", "96", "--precision", "fp32", "--corrections", "0,1", "--json", str(out)]
    assert main(args) == 0
    report = json.loads(out.read_text())
    (seq,) = report["sequences"]
    assert set(seq["objects"]) == {"1", "2", "3"} and len(seq["corrected_frames"]) == 1
    assert set(seq["corrections"]) == {"0", "1"} and seq["corrections"]["0"] == pytest.approx(seq["jf"])
    assert report["mean"]["corrections"] == seq["corrections"]
    assert report["settings"]["resolution_folder"] == "240p" and report["settings"]["corrections"] == [0, 1]
    assert "+1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "flow", "--corrections", "0,1"], "use --method llb"),
        (["--corrections", "x"], "separated by commas"),
        (["--corrections", "1", "--save-masks", "masks"], "exclude each other"),
        (["--res-folder", "480p"], "480p: folder not found"),
    ],
)
def test_llb_eval_corrections_errors(capsys, shared_data, extra, message):
    assert main(["eval", str(SHARED_DATA / "davis2017-multi"), *extra]) == 2
    assert message in capsys.readouterr().err
