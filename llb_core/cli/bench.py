"""`llb bench`: speed benchmarks."""

from __future__ import annotations

import argparse
import sys

from llb_core.cli import CliError
from llb_core.cli import _checks as checks


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bench model`, `bench propagate` and `bench clicks`."""
    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="target", required=True)
    p = bench.add_parser("model", help="time and GFLOPs per network component for one frame")
    p.add_argument("--variant", default="llb", help="a registered variant: lwl, joint, llb, jointformer (default llb)")
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--width", type=int, default=854)
    p.add_argument("--memory", type=int, default=20, help="memory samples (default 20, the bank's maximum)")
    p.add_argument("--repeats", type=int, default=3, help="timed calls per component (median reported)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--channels-last", action="store_true", help="NHWC memory format (faster on CPU)")
    p.add_argument("--backbone-weights", default=None, help="path of the ImageNet backbone weights file")
    p.set_defaults(func=run_model)

    q = bench.add_parser("propagate", help="engine fps (1 and 3 objects, fp32 and bf16) and memory on a long clip")
    q.add_argument(
        "--clip", default=None, help="folder of 854x480 frames (default: ../shared/data DAVIS dog, else synthetic)"
    )
    q.add_argument("--frames", type=int, default=30, help="frames per speed run (default 30)")
    q.add_argument("--long-frames", type=int, default=2000, help="length of the synthetic clip (0: skip)")
    q.add_argument("--long-resolution", type=int, default=None, help="internal resolution for the long clip")
    q.add_argument("--resolution", type=int, default=None, help="internal short side (default: the engine's)")
    q.add_argument("--mode", choices=("crop", "full"), default=None, help="default: the engine's")
    q.add_argument("--weights", default=None, help="checkpoint (default: the shipped weights)")
    q.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    q.add_argument(
        "--runtime",
        choices=("auto", "torch", "openvino", "both"),
        default="auto",
        help="runtime of the backbone and decoder (default auto: the faster on this machine; both: a row for each)",
    )
    q.add_argument("--stages", action="store_true", help="also print ms per stage of each row")
    q.add_argument("--write", action="store_true", help="write each mask as a PNG file, as llb propagate does")
    q.add_argument("--objects", default="1,3", help="object counts to time (default 1,3)")
    q.add_argument("--precisions", default="fp32,bf16", help="precisions to time (default fp32,bf16)")
    q.set_defaults(func=run_propagate)

    c = bench.add_parser("clicks", help="click tool latency: a frame's features once, then each click")
    c.add_argument("--height", type=int, default=1080, help="frame height (default 1080)")
    c.add_argument("--width", type=int, default=1920, help="frame width (default 1920)")
    c.add_argument("--clicks", type=int, default=5, help="simulated clicks per session (default 5)")
    c.add_argument("--repeats", type=int, default=3, help="sessions timed (median reported; default 3)")
    c.add_argument("--weights", default=None, help="click model checkpoint (default: the shipped one)")
    c.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    c.set_defaults(func=run_clicks)


def run_model(args: argparse.Namespace) -> int:
    """Time every model component on random input."""
    for option, value in (("--height", args.height), ("--width", args.width)):
        checks.at_least(option, value, 64, "pixels; the backbone needs at least 64")
    checks.at_least("--memory", args.memory, 1, "memory samples")
    checks.at_least("--repeats", args.repeats, 1, "timed calls")
    checks.at_least("--threads", args.threads, 1, "CPU threads")
    if args.backbone_weights is not None:
        checks.existing(args.backbone_weights, "backbone weights file")
    import torch

    from llb_core.evaluation.benchmark import benchmark_model, format_table
    from llb_core.model import create_model

    if args.threads:
        torch.set_num_threads(args.threads)
    from llb_core.model import variant_names

    if args.variant not in variant_names():
        raise CliError(f"--variant {args.variant}: unknown; choose one of {', '.join(variant_names())}")
    model = create_model(args.variant, backbone_weights=args.backbone_weights)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for device in devices:
        precisions = ("fp32", "bf16") if device.type == "cpu" else ("fp32", "fp16", "bf16")
        rows = benchmark_model(
            model,
            height=args.height,
            width=args.width,
            memory=args.memory,
            repeats=args.repeats,
            device=device,
            precisions=precisions,
            channels_last=args.channels_last,
        )
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
        title = (
            f"llb bench model: variant {args.variant}, {args.width}x{args.height}, memory {args.memory}, "
            f"{device.type} ({name}), {'channels-last' if args.channels_last else 'NCHW'}, torch {torch.__version__}"
        )
        sys.stdout.write(format_table(rows, title) + "\n\n")
    return 0


def run_propagate(args: argparse.Namespace) -> int:
    """Engine speed and memory; an explicit --clip must exist (no silent fallback to the synthetic clip)."""
    from pathlib import Path

    if args.clip is not None and not Path(args.clip).is_dir():
        raise CliError(f"{args.clip}: no such folder of frames; give --clip a folder of 854x480 frames or leave it out")
    checks.checkpoint(args.weights)
    checks.resolution(args.resolution)
    checks.resolution(args.long_resolution)
    checks.at_least("--frames", args.frames, 1, "frames per speed run")
    checks.at_least("--long-frames", args.long_frames, 0, "0 skips the long clip")
    checks.at_least("--threads", args.threads, 1, "CPU threads")
    checks.runtime_override()
    counts = _int_list("--objects", args.objects, 1, 9)
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    if not precisions or any(p not in ("fp32", "bf16") for p in precisions):
        raise CliError(f"--precisions {args.precisions}: give fp32, bf16 or both, comma-separated")
    if args.runtime in ("openvino", "both"):
        from llb_core.inference.runtime import openvino_available

        if not openvino_available():
            raise CliError(f"--runtime {args.runtime} needs the openvino package: pip install openvino")
    import tempfile

    import numpy as np
    import torch

    from llb_core.evaluation.bench_propagate import (
        MovingShapes,
        matmul_gflops,
        memory_over_long_clip,
        peak_rss_mb,
        several,
        speed,
    )
    from llb_core.inference import SessionSettings
    from llb_core.inference.settings import select_dtype
    from llb_core.inference.stages import STAGES
    from llb_core.io import open_source, read_index_mask
    from llb_core.io.background import BackgroundWriter
    from llb_core.model.defaults import load_model

    if args.threads:
        torch.set_num_threads(args.threads)
    out = sys.stdout
    model = load_model(args.weights, allow_untrained=args.weights is None)
    settings = SessionSettings()
    if args.resolution:
        settings = settings.replace(resolution=args.resolution)
    if args.mode:
        settings = settings.replace(mode=args.mode)
    clip = Path(args.clip) if args.clip else Path("../shared/data/davis2016/JPEGImages/480p/dog")
    if clip.is_dir():
        frames = open_source(clip)
        first = read_index_mask(
            clip.parent.parent.parent / "Annotations" / "480p" / clip.name / "00000.png", frames.size
        )
        name = str(clip)
    else:
        frames = MovingShapes(args.frames + 1, objects=3)
        first = (frames.mask(0) == 1).astype(np.uint8)
        name = "synthetic moving shapes"
    three = several(first, 3)
    n = min(args.frames, frames.num_frames - 1)
    out.write(f"llb bench propagate: {name}, {n} frames, {settings.mode} mode, resolution {settings.resolution}\n")
    native = select_dtype(torch.device("cpu"), "auto") == torch.bfloat16
    fp32, bf16 = matmul_gflops(torch.float32), matmul_gflops(torch.bfloat16)
    out.write(
        f"machine: {torch.get_num_threads()} threads, 2048x2048 matmul fp32 {fp32:.0f} GFLOP/s, "
        f"bf16 {bf16:.0f} GFLOP/s ({'native' if native else 'emulated'} bf16)\n"
    )
    runtimes = ("torch", "openvino") if args.runtime == "both" else (args.runtime,)
    header = f"{'objects':>8}{'precision':>11}{'runtime':>10}{'fps':>8}{'peak RSS MiB':>14}"
    if args.stages:
        header += "  ms per frame: " + " ".join(STAGES)
    out.write(header + "\n")
    with tempfile.TemporaryDirectory(prefix="llb-bench-") as tmp:
        for objects in counts if n > 0 else ():
            masks = first if objects == 1 else three if objects == 3 else several(first, objects)
            for precision in precisions:
                for runtime in runtimes:
                    writer = BackgroundWriter() if args.write else None
                    on_frame = None if writer is None else png_writer(writer, Path(tmp))
                    run_settings = settings.replace(precision=precision, runtime=runtime)
                    row = speed(model, frames, masks, run_settings, n, on_frame)
                    if writer is not None:
                        writer.close()
                    line = f"{objects:>8}{precision:>11}{row.runtime:>10}{row.fps:>8.2f}{peak_rss_mb():>14.0f}"
                    if args.stages:
                        line += "  " + " ".join(f"{k} {v:.1f}" for k, v in row.stages.items())
                    out.write(line + "\n")
                    out.flush()
    if args.long_frames:
        long_settings = settings.replace(
            resolution=args.long_resolution or settings.resolution,
            runtime="auto" if args.runtime == "both" else args.runtime,
        )
        marks = tuple(f for f in (50, 100, 200, 500, 1000, 1500, 2000) if f < args.long_frames) + (
            args.long_frames - 1,
        )
        out.write(f"long synthetic clip: {args.long_frames} frames, resolution {long_settings.resolution}\n")
        seen = memory_over_long_clip(
            model,
            long_settings,
            args.long_frames,
            marks,
            lambda f, mb: (out.write(f"  frame {f:>5}: RSS {mb:.0f} MiB\n"), out.flush()),
        )
        if 200 in seen:
            out.write(f"growth from frame 200 to {max(seen)}: {seen[max(seen)] - seen[200]:+.1f} MiB\n")
    return 0


def _int_list(option: str, text: str, low: int, high: int) -> list[int]:
    """Comma-separated integers in [low, high] (CliError naming `option` otherwise)."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(not low <= v <= high for v in values):
        raise CliError(f"{option} {text}: give comma-separated whole numbers from {low} to {high}")
    return values


def png_writer(writer: object, folder: object) -> object:
    """on_frame for the bench: the index mask written as a PNG file on the background writer."""
    from llb_core.io import write_index_mask

    def on_frame(result: object) -> None:
        path = folder / f"{result.frame:05d}.png"  # type: ignore[attr-defined,operator]
        writer.submit(write_index_mask, path, result.mask)  # type: ignore[attr-defined]

    return on_frame


def run_clicks(args: argparse.Namespace) -> int:
    """Click-tool latency with and without zoom on one frame (the DAVIS dog frame resized, if present)."""
    for option, value in (("--height", args.height), ("--width", args.width)):
        checks.at_least(option, value, 64, "pixels")
    checks.at_least("--clicks", args.clicks, 1, "clicks per session")
    checks.at_least("--repeats", args.repeats, 1, "timed sessions")
    checks.at_least("--threads", args.threads, 1, "CPU threads")
    checks.checkpoint(args.weights)
    import torch

    from llb_core.evaluation.bench_clicks import bench_frame, click_latency
    from llb_core.interactive.session import WORKING_SIDE, load_click_model

    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_click_model(args.weights)
    frame, truth, name = bench_frame(args.height, args.width)
    out = sys.stdout
    out.write(
        f"llb bench clicks: {name}, {args.clicks} simulated clicks, median of {args.repeats} sessions, "
        f"working side {WORKING_SIDE}, {torch.get_num_threads()} threads, fp32, torch {torch.__version__}\n"
    )
    out.write(f"{'zoom':<6}{'features ms':>12}{'1st click ms':>14}{'next clicks ms':>16}{'IoU':>7}\n")
    for zoom in (True, False):
        r = click_latency(model, frame, truth, clicks=args.clicks, repeats=args.repeats, zoom=zoom)
        out.write(
            f"{'on' if zoom else 'off':<6}{r.features_ms:>12.0f}{r.first_ms:>14.0f}{r.click_ms:>16.0f}"
            f"{100 * r.iou:>7.1f}\n"
        )
    return 0
