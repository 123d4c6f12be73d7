"""The runtime of the per-frame network parts: OpenVINO gives PyTorch's results, "auto" chooses by measuring
(once per machine, weights and size), and everything falls back to PyTorch where OpenVINO cannot apply."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from llb_core.inference import runtime
from llb_core.inference.runtime import OpenVinoRunner, TorchRunner, openvino_available, runner_for
from llb_core.inference.settings import RUNTIME_ENV
from llb_core.model import create_model

pytestmark = pytest.mark.skipif(not openvino_available(), reason="openvino is not installed")
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def small():  # noqa: ANN201
    torch.manual_seed(0)
    model = create_model("lwl", decoder_widths=(32, 16, 16, 8), location_prior=True).eval()
    model.load_backbone()
    model.fuse_for_inference()
    return model


@pytest.fixture(autouse=True)
def _no_override(monkeypatch, tmp_path):  # noqa: ANN001, ANN202
    monkeypatch.delenv(RUNTIME_ENV, raising=False)
    monkeypatch.setenv(runtime.CACHE_ENV, str(tmp_path / "default-cache"))  # never the user's cache folder


def test_openvino_computes_what_pytorch_computes(small, tmp_path):
    size = (128, 224)
    ov, _ = runner_for(small, size, CPU, torch.float32, "openvino", cache=tmp_path)
    assert isinstance(ov, OpenVinoRunner)
    reference = TorchRunner(small)
    image, prior = torch.rand(1, 3, *size), torch.rand(1, 1, *size)
    with torch.inference_mode():
        a, b = reference.encode_frame(image), ov.encode_frame(image)
        for name in ("layer1", "layer2", "layer3", "layer4"):
            assert torch.allclose(a.levels[name], b.levels[name], atol=1e-3, rtol=1e-3), name
        assert torch.allclose(a.induction, b.induction, atol=1e-4, rtol=1e-3)
        target = torch.randn(1, small.config.label_dim, *a.induction.shape[-2:])
        for p in (prior, None):
            expected, got = reference.decode(a, target, p), ov.decode(b, target, p)
            assert got.shape == expected.shape == (1, 1, *size)
            assert torch.allclose(expected, got, atol=1e-3, rtol=1e-3)
    import sys

    assert sys.modules["openvino_telemetry"] is None  # the converter ran with its no-op telemetry stub
    # the features survive the next call (the runner copies out of OpenVINO's reused buffers)
    kept = b.induction.clone()
    with torch.inference_mode():
        ov.encode_frame(torch.rand(1, 3, *size))
    assert torch.equal(kept, b.induction)


def test_the_compiled_graphs_own_their_weights(small, tmp_path):
    import copy

    twin = copy.deepcopy(small)
    ov, _ = runner_for(twin, (64, 96), CPU, torch.float32, "openvino", cache=None)
    with torch.no_grad():
        for p in twin.parameters():
            p.zero_()  # a model changed (or freed) after conversion does not reach the compiled graphs
    del twin
    image = torch.rand(1, 3, 64, 96)
    with torch.inference_mode():
        expected = TorchRunner(small).encode_frame(image).induction
        assert torch.allclose(ov.encode_frame(image).induction, expected, atol=1e-4, rtol=1e-3)


def test_a_whole_run_gives_the_same_masks_with_either_runtime(dog):
    from llb_core.inference import SessionSettings
    from tests.inference.test_session import Clip

    frames, masks = dog
    model = create_model("lwl", decoder_widths=(32, 16, 16, 8), location_prior=True).eval()
    model.load_backbone()
    results = {}
    for name in ("torch", "openvino"):
        clip = Clip(frames, model, SessionSettings(resolution=128, memory_interval=3, precision="fp32", runtime=name))
        clip.key(0, masks[0])
        clip.run(0, stop_at=6)
        assert clip.session.runtime == name
        results[name] = np.stack([clip.state.mask(f) for f in range(1, 7)])
    agree = (results["torch"] == results["openvino"]).mean()
    assert agree > 0.999


def test_auto_keeps_the_faster_and_remembers_it(small, tmp_path, monkeypatch):
    timed = []

    def fake_time(runner, model, size, dtype, repeats):  # noqa: ANN001, ANN202
        timed.append(runner.name)
        return {"torch": 50.0, "openvino": 20.0}[runner.name]

    monkeypatch.setattr(runtime, "time_runner", fake_time)
    runner, measured = runner_for(small, (96, 160), CPU, torch.float32, "auto", cache=tmp_path)
    assert runner.name == "openvino" and measured.chosen == "openvino" and sorted(timed) == ["openvino", "torch"]
    saved = json.loads((tmp_path / "choices.json").read_text())
    assert [v["chosen"] for v in saved.values()] == ["openvino"]
    assert list(tmp_path.glob("ov-*-96x160/frame.xml"))  # the converted graphs are cached for the next process

    runtime._BUILT.clear()  # as a new process: the remembered choice is used, nothing is timed again
    timed.clear()
    runner, measured = runner_for(small, (96, 160), CPU, torch.float32, "auto", cache=tmp_path)
    assert runner.name == "openvino" and timed == [] and measured.ms == {"torch": 50.0, "openvino": 20.0}

    monkeypatch.setattr(runtime, "time_runner", lambda r, *a: {"torch": 5.0, "openvino": 20.0}[r.name])
    runner, measured = runner_for(small, (64, 96), CPU, torch.float32, "auto", cache=tmp_path)
    assert runner.name == "torch" and measured.chosen == "torch"


def test_is_prepared_says_whether_a_run_would_wait(small, tmp_path, monkeypatch):
    from llb_core.inference.runtime import is_prepared

    monkeypatch.setattr(runtime, "time_runner", lambda r, *a: {"torch": 9.0, "openvino": 3.0}[r.name])
    assert not is_prepared(small, (48, 80), torch.float32, "auto")
    runner_for(small, (48, 80), CPU, torch.float32, "auto")  # the default cache folder, as the engine uses
    assert is_prepared(small, (48, 80), torch.float32, "auto")
    assert not is_prepared(small, (48, 80), torch.bfloat16, "auto")
    assert is_prepared(small, (48, 80), torch.float32, "torch")


def test_auto_works_without_a_writable_cache(small, tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "time_runner", lambda r, *a: {"torch": 9.0, "openvino": 3.0}[r.name])
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    runner, measured = runner_for(small, (64, 96), CPU, torch.float32, "auto", cache=blocked / "cache")
    assert runner.name == "openvino" and measured.chosen == "openvino"


def test_pytorch_wherever_openvino_cannot_apply(small, tmp_path, monkeypatch):
    jointformer = create_model("jointformer").eval()
    runner, measured = runner_for(jointformer, (64, 96), CPU, torch.float32, "auto", cache=tmp_path)
    assert runner.name == "torch" and measured is None
    with pytest.raises(ValueError, match="use runtime 'torch'"):
        runner_for(jointformer, (64, 96), CPU, torch.float32, "openvino", cache=tmp_path)
    runner, _ = runner_for(small, (64, 96), CPU, torch.float16, "auto", cache=tmp_path)
    assert runner.name == "torch"
    monkeypatch.setattr(runtime, "openvino_available", lambda: False)
    runner, _ = runner_for(small, (64, 96), CPU, torch.float32, "auto", cache=tmp_path)
    assert runner.name == "torch"
    with pytest.raises(ValueError, match="pip install openvino"):
        runner_for(small, (64, 96), CPU, torch.float32, "openvino", cache=tmp_path)


def test_the_environment_overrides_auto_only(small, tmp_path, monkeypatch):
    monkeypatch.setenv(RUNTIME_ENV, "torch")
    assert runner_for(small, (64, 96), CPU, torch.float32, "auto", cache=tmp_path)[0].name == "torch"
    assert runner_for(small, (64, 96), CPU, torch.float32, "openvino", cache=tmp_path)[0].name == "openvino"
    monkeypatch.setenv(RUNTIME_ENV, "fastest")
    with pytest.raises(ValueError, match="LLB_RUNTIME"):
        runner_for(small, (64, 96), CPU, torch.float32, "auto", cache=tmp_path)


def test_settings_refuse_an_unknown_runtime():
    from llb_core.inference import SessionSettings

    with pytest.raises(ValueError, match="runtime must be"):
        SessionSettings(runtime="tensorrt")
