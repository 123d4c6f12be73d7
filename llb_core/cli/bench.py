"""`llb bench`: speed benchmarks."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bench model`."""
    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="target", required=True)
    p = bench.add_parser("model", help="time and GFLOPs per network component for one frame")
    p.add_argument("--variant", default="llb", help="lwl, joint or llb (default llb)")
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--width", type=int, default=854)
    p.add_argument("--memory", type=int, default=20, help="memory samples (default 20, the bank's maximum)")
    p.add_argument("--repeats", type=int, default=3, help="timed calls per component (median reported)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--channels-last", action="store_true", help="NHWC memory format (faster on CPU)")
    p.add_argument("--backbone-weights", default=None, help="path of the ImageNet backbone weights file")
    p.set_defaults(func=run_model)


def run_model(args: argparse.Namespace) -> int:
    import torch

    from llb_core.evaluation.benchmark import benchmark_model, format_table
    from llb_core.model import create_model

    if args.threads:
        torch.set_num_threads(args.threads)
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
