"""`llb eval clicks DATA_ROOT ...`: the interactive protocol (NoC@85/90, IoU after 1/3/5 clicks) of the click model."""

from __future__ import annotations

import argparse
import sys

from llb_core.cli import CliError
from llb_core.cli import _checks as checks

COMMAND = "eval-clicks"  # `llb eval clicks` is routed here (see llb_core.cli.main)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `eval clicks` (spelt `eval-clicks` in the parser)."""
    p = sub.add_parser(
        COMMAND,
        help="score the click-to-segment model (also spelt `llb eval clicks`)",
        description="On every --every-th frame of each sequence of a DAVIS-layout root, a simulated person "
        "clicks each object: first deep inside it, then at the centre of the largest error region (positive "
        "where the object was missed, negative where background was taken), up to --max-clicks times. Reports "
        "NoC@85 / NoC@90 (clicks until IoU 85 %% / 90 %%, --max-clicks when never reached) and IoU after 1, 3 "
        "and 5 clicks, per sequence, over all objects and over sequences, with GrabCut from the true bounding "
        "box as reference. Several roots may be given; --sequences names are looked for in each.",
    )
    p.add_argument("roots", nargs="+", metavar="DATA_ROOT", help="DAVIS-layout root folder(s)")
    p.add_argument("--sequences", nargs="+", default=None, metavar="SEQ", help="sequences (default: all)")
    p.add_argument("--every", type=int, default=10, metavar="N", help="every N-th annotated frame (default 10)")
    p.add_argument("--max-clicks", type=int, default=20, metavar="K", help="clicks per object at most (default 20)")
    p.add_argument("--res-folder", default=None, metavar="RES", help="resolution folder (default: the only one)")
    p.add_argument("--weights", default=None, help="click model checkpoint (default: the shipped one)")
    p.add_argument("--no-zoom", action="store_true", help="never refine on a crop around the object")
    p.add_argument("--all-parts", action="store_true", help="keep parts of a mask that no click points at")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--json", default=None, metavar="FILE", help="write the report (every object too) as JSON")
    p.add_argument("--quiet", action="store_true", help="no per-object lines on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    checks.at_least("--every", args.every, 1, "frame step")
    checks.at_least("--max-clicks", args.max_clicks, 1, "clicks")
    checks.at_least("--threads", args.threads, 1, "CPU threads")
    for root in args.roots:
        if not checks.existing(root, "data root (the folder holding JPEGImages/ and Annotations/)").is_dir():
            raise CliError(f"{root}: is a file; give DATA_ROOT, the folder holding JPEGImages/ and Annotations/")
    checks.checkpoint(args.weights)
    if args.json is not None:
        checks.output_file(args.json, "--json")
    import torch

    from llb_core.evaluation.clicks import ObjectResult, evaluate_clicks
    from llb_core.interactive.session import load_click_model
    from llb_core.io import atomic_write_text

    if args.threads:
        torch.set_num_threads(args.threads)

    def on_object(result: ObjectResult) -> None:
        if not args.quiet:
            shown = " ".join(f"{100 * v:.0f}" for v in result.ious[:5])
            sys.stderr.write(
                f"{result.sequence} frame {result.frame} object {result.object_id}: NoC@85 "
                f"{result.noc(0.85, args.max_clicks)}  IoU {shown}  GrabCut {100 * result.grabcut:.0f}\n"
            )

    model = load_click_model(args.weights)
    report = evaluate_clicks(
        model,
        list(args.roots),
        args.sequences,
        every=args.every,
        max_clicks=args.max_clicks,
        resolution_folder=args.res_folder,
        zoom=not args.no_zoom,
        keep_clicked_parts=not args.all_parts,
        on_object=on_object,
    )
    if not report.objects:
        raise CliError(f"{' '.join(args.roots)}: no annotated object on the frames chosen; check --sequences, --every")
    sys.stdout.write(report.table())
    if args.json is not None:
        atomic_write_text(args.json, report.to_json() + "\n")
    return 0
