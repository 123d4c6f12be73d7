"""`llb eval clicks`, clicks from scripts (`--mask clicks.json`) and the shipped click model on real frames."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from llb_core.cli import main, route_subcommand
from llb_core.evaluation.clicks import ClickReport, ObjectResult, evaluate_clicks
from llb_core.interactive.clicks import Click, iou, mask_box, next_click
from llb_core.interactive.grabcut import grabcut_box
from llb_core.interactive.prompts import PromptError, mask_from_prompts, read_prompts, segment
from llb_core.interactive.session import ClickSession, load_click_model
from tests.conftest import load_davis_frame
from tests.evaluation.synthetic import moving_scene, write_root


@pytest.fixture(scope="module")
def model():
    return load_click_model()


def test_noc_and_iou_at_follow_the_protocol():
    r = ObjectResult("s", 0, 1, [0.5, 0.86, 0.91], 0.7, 0.1)
    assert r.noc(0.85, 20) == 2 and r.noc(0.90, 20) == 3 and r.noc(0.95, 20) == 20
    assert r.iou_at(1) == 0.5 and r.iou_at(5) == 0.91  # a person who stopped keeps the last mask
    report = ClickReport(20, [r, ObjectResult("t", 0, 1, [0.9], 0.5, 0.1)])
    rows = report.rows()
    assert rows["mean"]["noc@85"] == pytest.approx(1.5) and rows["s"]["grabcut"] == pytest.approx(0.7)
    assert "NoC@85" in report.table() and json.loads(report.to_json())["rows"]["t"]["objects"] == 1


def test_the_shipped_model_beats_grabcut_within_three_clicks_on_a_real_frame(model):
    frame, truth = load_davis_frame("dog", 30)
    session = ClickSession(model, frame)
    prediction, clicks = np.zeros_like(truth), []
    for _ in range(3):
        clicks.append(next_click(prediction, truth))
        prediction = session.predict(clicks)
    x0, y0, x1, y1 = (int(v) for v in mask_box(truth))
    reference = iou(grabcut_box(frame, (x0, y0, x1, y1)), truth)
    assert iou(prediction, truth) > max(0.85, reference)
    assert iou(segment(frame, [(clicks[0].x, clicks[0].y)], model=model), truth) > 0.7  # the one-call API


def test_eval_clicks_cli_reports_every_object(tmp_path, capsys):
    root = write_root(tmp_path / "data", {"squares": moving_scene(4, 3)})
    assert route_subcommand(["-v", "eval", "clicks", "X"]) == ["-v", "eval-clicks", "X"]
    assert route_subcommand(["eval", "clicks-root"]) == ["eval", "clicks-root"]
    out = tmp_path / "report.json"
    code = main(["eval", "clicks", str(root), "--every", "2", "--max-clicks", "3", "--json", str(out), "--quiet"])
    assert code == 0
    data = json.loads(out.read_text())
    assert data["rows"]["mean"]["objects"] == 4  # frames 0 and 2, two objects each
    for obj in data["objects"]:
        assert 1 <= len(obj["ious"]) <= 3 and all(0 <= v <= 1 for v in obj["ious"])
    assert "GrabCut" in capsys.readouterr().out
    assert main(["eval", "clicks", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err
    other = write_root(tmp_path / "more", {"dots": moving_scene(2, 2)})
    both = tmp_path / "both.json"
    args = ["eval", "clicks", str(root), str(other), "--sequences", "squares", "dots", "--json", str(both)]
    assert main([*args, "--every", "2", "--max-clicks", "2", "--quiet"]) == 0
    rows = json.loads(both.read_text())["rows"]
    assert set(rows) == {"squares", "dots", "mean", "clip mean"} and rows["mean"]["objects"] == 4 + 2
    assert main(["eval", "clicks", str(root), "--sequences", "cats", "--quiet"]) == 2
    assert "cats" in capsys.readouterr().err


def test_evaluate_clicks_without_zoom_uses_the_whole_frame(tmp_path, model):
    root = write_root(tmp_path / "data", {"squares": moving_scene(2, 3)})
    report = evaluate_clicks(model, str(root), every=1, max_clicks=2, zoom=False)
    assert len(report.objects) == 4 and {r.object_id for r in report.objects} == {1, 2}


def test_clicks_file_becomes_a_keyframe(tmp_path, model):
    frame, truth = load_davis_frame("dog", 0)
    c = next_click(np.zeros_like(truth), truth)
    path = tmp_path / "clicks.json"
    path.write_text(json.dumps({"objects": {"3": {"positive": [[c.x, c.y]]}}}))
    prompts = read_prompts(path, truth.shape)
    assert prompts[3].clicks == (Click(c.x, c.y, True),)
    mask = mask_from_prompts(model, frame, prompts)
    assert set(np.unique(mask)) == {0, 3} and iou(mask == 3, truth) > 0.7
    for bad, said in [
        ("{", "not a readable clicks file"),
        ('{"objects": {"1": {"positive": [[5000, 1]]}}}', "outside the 854x480 frame"),
        ('{"objects": {"0": {"positive": [[5, 1]]}}}', "from 1 to 255"),
        ('{"objects": {"1": {"negative": [[5, 1]]}}}', "positive click or a box"),
        ('{"objects": {"1": {"box": [9, 9, 3, 3]}}}', "x0 < x1"),
    ]:
        path.write_text(bad)
        with pytest.raises(PromptError, match=said):
            read_prompts(path, truth.shape)


def test_propagate_takes_a_clicks_file_for_frame_zero(tmp_path, shared_data, capsys):
    frame, truth = load_davis_frame("dog", 0)
    c = next_click(np.zeros_like(truth), truth)
    clicks = tmp_path / "clicks.json"
    clicks.write_text(json.dumps({"objects": {"1": {"positive": [[c.x, c.y]]}}}))
    clip = shared_data / "davis2016" / "JPEGImages" / "480p" / "dog"
    out = tmp_path / "out"
    assert (
        main(["propagate", str(clip), "--mask", f"{clicks}:0", "--out", str(out), "--max-frames", "3", "--quiet"]) == 0
    )
    first = np.asarray(Image.open(out / "00000.png")) == 1
    assert iou(first, truth) > 0.7 and (out / "00002.png").is_file()
    clicks.write_text('{"objects": {"1": {"positive": [[9999, 1]]}}}')
    assert main(["propagate", str(clip), "--mask", f"{clicks}:0", "--out", str(tmp_path / "o2"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "clicks.json" in err and "outside" in err and "Traceback" not in err


def test_bench_clicks_reports_both_modes(capsys):
    assert main(["bench", "clicks", "--height", "120", "--width", "200", "--repeats", "1", "--clicks", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "120" in lines[0] and lines[2].startswith("on") and lines[3].startswith("off")
    assert main(["bench", "clicks", "--clicks", "0"]) == 2
