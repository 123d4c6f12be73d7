"""`llb bench propagate`'s machine line: the matmul rate it reports is a real measurement."""

from __future__ import annotations

import torch

from llb_core.evaluation.bench_propagate import matmul_gflops


def test_matmul_rate_counts_the_flops_of_the_product(monkeypatch):
    ticks = iter(float(t) for t in range(100))  # every perf_counter call advances one second
    monkeypatch.setattr("llb_core.evaluation.bench_propagate.time.perf_counter", lambda: next(ticks))
    assert matmul_gflops(torch.float32, size=64, repeats=3) == 2 * 64**3 / 1e9  # 2 n^3 flops in 1 s
    monkeypatch.undo()
    assert matmul_gflops(torch.float32, size=256, repeats=3) > 0
    assert matmul_gflops(torch.bfloat16, size=128, repeats=1) > 0
