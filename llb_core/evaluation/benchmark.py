"""`llb bench model`: time and GFLOPs per network component for one frame.

Components follow the engine's split: per-frame work (backbone, adapters, transformer decoding, fusion,
decoder) and per-memory-update work (label encoding of one sample, fitting the target model, encoding
the transformer memory), each timed in float32 and under bfloat16 autocast (fp16 on CUDA). Token models
(JointFormer) list their own: reference encoding and the reference stream per memory update, joint blocks
and decoder per frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from llb_core.model import BackboneNet, LLBNet
from llb_core.model.jointformer import JointFormerNet


@dataclass
class BenchRow:
    """One component: GFLOPs per call and milliseconds per call per precision (None: not run)."""

    name: str
    gflops: float
    ms: dict[str, float | None]


def _autocast(device: torch.device, precision: str) -> torch.autocast:
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
    return torch.autocast(device.type, dtype=dtype, enabled=precision != "fp32")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn: Callable[[], object], device: torch.device, precision: str, repeats: int) -> float:
    """Median milliseconds of `fn` after one warm-up call."""
    with torch.inference_mode(), _autocast(device, precision):
        fn()
        _sync(device)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            _sync(device)
            times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[len(times) // 2]


def _gflops(fn: Callable[[], object]) -> float:
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        fn()
    return counter.get_total_flops() / 1e9


def benchmark_model(
    model: BackboneNet,
    *,
    height: int = 480,
    width: int = 854,
    memory: int = 20,
    repeats: int = 3,
    device: torch.device | None = None,
    precisions: tuple[str, ...] = ("fp32", "bf16"),
    channels_last: bool = False,
) -> list[BenchRow]:
    """Time every component on one random frame of `height` x `width` with `memory` memory samples
    (references, for token models).

    With `channels_last` the model and the frame use the NHWC memory format (faster convolutions on CPU).

    Returns:
        Rows in pipeline order, plus "frame (steady state)" (the per-frame path) last.
    """
    device = device or torch.device("cpu")
    model = model.to(device).eval()
    torch.manual_seed(0)
    image = torch.rand(1, 3, height, width, device=device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        image = image.contiguous(memory_format=torch.channels_last)
    mask = torch.zeros(1, 1, height, width, device=device)
    mask[..., height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = 1
    if isinstance(model, JointFormerNet):
        components = _token_components(model, image, mask, memory)
    elif isinstance(model, LLBNet):
        components = _target_model_components(model, image, mask, memory)
    else:
        raise TypeError(f"no benchmark for {type(model).__name__}")
    rows = []
    for name, fn in components:
        rows.append(BenchRow(name, _gflops(fn), {p: _time(fn, device, p, repeats) for p in precisions}))
    return rows


Components = list[tuple[str, Callable[[], object]]]


def _token_components(model: JointFormerNet, image: torch.Tensor, mask: torch.Tensor, n: int) -> Components:
    with torch.inference_mode():
        frame = model.encode_frame(image)
        refs = model.encode_reference(frame, mask)[:, None].expand(-1, n, -1, -1)  # (1, L, T) -> (1, N, L, T)
        references = model.prepare_references(refs)
        memory = model.new_memory(1)
        _, memory, tokens = model.segment(frame, references, memory, None)
    return [
        ("backbone", lambda: model.backbone(model._pad(model.normalize(image)))),
        ("reference encoding (1 frame)", lambda: model.encode_reference(frame, mask)),
        (f"reference stream ({n} references)", lambda: model.prepare_references(refs)),
        (f"joint blocks + decoder ({n} refs)", lambda: model.segment(frame, references, memory, tokens)),
        ("frame (steady state)", lambda: model.segment(model.encode_frame(image), references, memory, tokens)),
    ]


def _target_model_components(model: LLBNet, image: torch.Tensor, mask: torch.Tensor, n: int) -> Components:
    device = image.device
    with torch.inference_mode():
        frame = model.encode_frame(image)
        label = model.encode_label(image, mask)
    xs = frame.induction[None].expand(n, -1, -1, -1, -1)
    e2s, ws = label.e2[None].expand(n, -1, -1, -1, -1), label.w[None].expand(n, -1, -1, -1, -1)
    v = torch.full((n, 1), 1.0 / n, device=device)
    with torch.inference_mode():
        tau = model.fit(xs[:1], e2s[:1], ws[:1], v[:1], iterations=20)
    keys = values = None
    tf_mem = None
    if model.transduction is not None:
        assert frame.transformer is not None and label.e1 is not None
        tf_mem = frame.transformer[:, None].expand(-1, n, -1, -1, -1)
        values = label.e1[:, None].expand(-1, n, -1, -1, -1)
        with torch.inference_mode():
            keys = model.encode_memory(tf_mem)
    level = model.config.feature_level
    components: list[tuple[str, Callable[[], object]]] = [
        ("backbone", lambda: model.backbone(model._pad(model.normalize(image)))),
        (
            "adapters",
            lambda: (
                model.induction_norm(model.induction_adapter(frame.levels[level])),
                None if model.transformer_adapter is None else model.transformer_adapter(frame.levels[level]),
            ),
        ),
        ("label encoder (1 sample)", lambda: model.encode_label(image, mask)),
        ("few-shot fit (1 sample, 20 it)", lambda: model.fit(xs[:1], e2s[:1], ws[:1], v[:1], iterations=20)),
        (f"few-shot fit ({n} samples, 3 it)", lambda: model.fit(xs, e2s, ws, v, tau=tau, iterations=3)),
        ("few-shot predict", lambda: model.learner.predict(frame.induction, tau)),
    ]
    if model.transduction is not None and tf_mem is not None:
        transduction = model.transduction
        assert frame.transformer is not None
        current = frame.transformer
        components += [
            (f"transformer encode ({n} samples)", lambda: model.encode_memory(tf_mem)),
            (f"transformer decode ({n} samples)", lambda: transduction.decode(current, keys, values)),
        ]
    target = model.target_encoding(frame, tau, keys, values) if model.fusion is None else None
    if model.fusion is not None:
        with torch.inference_mode():
            target = model.target_encoding(frame, tau, keys, values)
        e = label.e2
        components.append(("fusion", lambda: model.fusion(e, e)))
    assert target is not None
    components += [
        ("decoder", lambda: model.decode(frame, target)),
        ("frame (steady state)", lambda: model.segment(model.encode_frame(image), tau, keys, values)),
    ]
    return components


def format_table(rows: list[BenchRow], title: str) -> str:
    """A plain-text table: component, GFLOPs, ms per precision, GFLOP/s of the first precision."""
    precisions = list(rows[0].ms) if rows else []
    head = f"{'component':<36}{'GFLOPs':>9}" + "".join(f"{p + ' ms':>11}" for p in precisions)
    head += f"{'GFLOP/s':>10}"
    lines = [title, head, "-" * len(head)]
    for row in rows:
        cells = "".join(f"{row.ms[p]:>11.1f}" if row.ms[p] is not None else f"{'-':>11}" for p in precisions)
        first = row.ms[precisions[0]] if precisions else None
        rate = f"{row.gflops / (first / 1000):>10.0f}" if first else f"{'-':>10}"
        lines.append(f"{row.name:<36}{row.gflops:>9.2f}{cells}{rate}")
    return "\n".join(lines)
