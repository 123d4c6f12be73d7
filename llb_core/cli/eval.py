"""`llb eval DATA_ROOT [--method llb|copy|flow] ...`: J&F of a propagation method on DAVIS-layout data."""

from __future__ import annotations

import argparse
import sys

from llb_core.cli import CliError
from llb_core.cli import _checks as checks


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `eval` subcommand."""
    p = sub.add_parser(
        "eval",
        help="score a propagation method (J&F, DAVIS protocol) on a DAVIS-layout data set",
        description="Propagates every sequence from its first frame's mask and scores it the DAVIS way: J = "
        "region IoU, F = boundary F-measure (tolerance ceil(0.008 x diagonal) px), first and last frames "
        "excluded, per object, per sequence and the mean over sequences; J&F = (J + F) / 2. DATA_ROOT holds "
        "JPEGImages/<res>/<seq>/ and Annotations/<res>/<seq>/ (<res>: 480p, 360p, 240p, ...; palette or 0/255 "
        "PNG masks). The methods copy (first mask on every frame) and flow (DIS optical-flow warping) need no "
        "weights: they are the floor. --corrections K1,K2,... adds the corrections curve: a simulated person "
        "repeatedly paints the ground truth of the worst frame as a keyframe and the engine re-propagates what "
        "depended on it; J&F after each K corrections.",
    )
    p.add_argument("root", metavar="DATA_ROOT", help="DAVIS-layout root folder")
    p.add_argument("--sequences", nargs="+", default=None, metavar="SEQ", help="sequences (default: all)")
    p.add_argument("--method", choices=("llb", "copy", "flow"), default="llb", help="propagation method")
    p.add_argument(
        "--res-folder",
        default=None,
        metavar="RES",
        help="resolution folder under JPEGImages/ and Annotations/ (default: the only one, e.g. 480p)",
    )
    p.add_argument(
        "--corrections",
        default=None,
        metavar="K1,K2,...",
        help="also report J&F after K simulated corrections of the worst frame, e.g. 0,1,2,4 (llb only)",
    )
    p.add_argument("--max-frames", type=int, default=None, metavar="N", help="only the first N frames (N >= 3)")
    p.add_argument("--weights", default=None, help="checkpoint (default: the shipped weights)")
    p.add_argument("--variant", default=None, help="require this variant (a registered name: lwl, jointformer, ...)")
    p.add_argument("--resolution", type=int, default=None, help="internal short side (default: the engine's, 320)")
    p.add_argument("--mode", choices=("crop", "full"), default=None, help="crops or full frame (default: the engine's)")
    p.add_argument("--finetune", type=int, default=0, metavar="STEPS", help="test-time fine-tuning steps (0: off)")
    p.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, cuda:1, mps")
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"))
    p.add_argument(
        "--runtime",
        default="auto",
        choices=("auto", "torch", "openvino"),
        help="backbone and decoder on the CPU: auto (the faster here, measured once), torch or openvino",
    )
    p.add_argument("--save-masks", default=None, metavar="DIR", help="write predicted masks to DIR/<seq>/")
    p.add_argument("--json", default=None, metavar="FILE", help="write the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no per-sequence lines on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from llb_core.evaluation.corrections import parse_counts
    from llb_core.evaluation.evaluate import SequenceResult, evaluate
    from llb_core.io import atomic_write_text

    counts = None
    if args.corrections is not None:
        try:
            counts = parse_counts(args.corrections)
        except ValueError as err:
            raise CliError(f"--corrections {err}") from err
        if args.method != "llb":
            raise CliError(f"--corrections needs the engine's keyframes: use --method llb, not {args.method}")
        if args.save_masks is not None:
            raise CliError("--corrections and --save-masks exclude each other: save the masks without --corrections")

    if args.finetune < 0:
        raise CliError(f"--finetune {args.finetune}: give a number of steps >= 0 (0: off)")
    if args.max_frames is not None and args.max_frames < 3:
        raise CliError(f"--max-frames {args.max_frames}: first and last frames are not scored; give at least 3")
    checks.resolution(args.resolution)
    root = checks.existing(args.root, "data root (the folder holding JPEGImages/ and Annotations/)")
    if not root.is_dir():
        raise CliError(f"{root}: is a file; give DATA_ROOT, the folder holding JPEGImages/ and Annotations/")
    if args.method == "llb":
        checks.checkpoint(args.weights)
    if args.json is not None:
        checks.output_file(args.json, "--json")
    if args.save_masks is not None:
        checks.output_folder(args.save_masks, "--save-masks")
    if args.method == "llb":
        checks.runtime_override()
        checks.device(args.device)

    def on_sequence(result: SequenceResult) -> None:
        if not args.quiet:
            sys.stderr.write(
                f"{result.name}: J {100 * result.j:.1f}  F {100 * result.f:.1f}  J&F {100 * result.jf:.1f}  "
                f"({result.frames} frames, {result.fps:.1f} fps)\n"
            )
            if result.corrections is not None:
                curve = "  ".join(f"+{k}: {100 * v:.1f}" for k, v in result.corrections.items())
                sys.stderr.write(f"{result.name}: corrections {curve} (frames {result.corrected_frames})\n")

    report = evaluate(
        args.root,
        args.sequences,
        args.method,
        max_frames=args.max_frames,
        resolution=args.resolution,
        mode=args.mode,
        weights=args.weights,
        variant=args.variant,
        device=args.device,
        precision=args.precision,
        save_masks=args.save_masks,
        on_sequence=on_sequence,
        corrections=counts,
        resolution_folder=args.res_folder,
        engine={"finetune_steps": args.finetune, "runtime": args.runtime},
    )
    sys.stdout.write(f"method: {report.method}\n")
    sys.stdout.write(report.table())
    if args.json is not None:
        atomic_write_text(args.json, report.to_json() + "\n")
    return 0
