"""`llb export PROJECT --format FORMAT --out OUT`: write a project's masks in an interchange format.

`--range A:B` limits the export to frames A..B (inclusive; either end may be left out), and `--missing` says what
to do with frames in that range that have no mask: write them empty (the default), skip them, or hold the last
mask.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llb_core.cli import CliError
from llb_core.cli import _checks as checks
from llb_core.cli._progress import ProgressBar


def _parse_objects(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return tuple(int(tok) for tok in text.split(",") if tok.strip())
    except ValueError as err:
        raise CliError(f"--objects must be comma-separated object ids like 1,2 (got {text!r})") from err


def _parse_range(text: str | None) -> tuple[int | None, int | None] | None:
    """`A:B`, `A:` or `:B` -> (A or None, B or None); None when no range is given."""
    if not text:
        return None
    first, sep, last = text.partition(":")
    try:
        if not sep:
            raise ValueError(text)
        return (int(first) if first.strip() else None), (int(last) if last.strip() else None)
    except ValueError as err:
        raise CliError(f"--range must be FIRST:LAST frame indices like 0:40, 12: or :99 (got {text!r})") from err


def _resolve_range(bounds: tuple[int | None, int | None] | None, num_frames: int) -> tuple[int, int] | None:
    if bounds is None:
        return None
    first, last = bounds
    return (0 if first is None else first), (num_frames - 1 if last is None else last)


def _is_plain_mask_folder(folder: Path, manifest_name: str) -> bool:
    """True if `folder` has no manifest but holds .png files (directly or in subfolders): masks, not a project."""
    if not folder.is_dir() or (folder / manifest_name).exists():
        return False
    return any(f.suffix.lower() == ".png" for f in folder.rglob("*"))


# Formats that write one file; the others write a folder.
FILE_FORMATS = ("coco", "matte", "overlay", "prores")


def _check_out(fmt: str, out: Path) -> None:
    """The output must be writable where the export stages it: beside `out`, and `out` itself when it exists."""
    if fmt in FILE_FORMATS:
        checks.output_file(out, "--out")
        return
    checks.output_folder(out)
    if out.exists():
        checks.output_folder(out.absolute().parent)


def run(args: argparse.Namespace) -> int:
    """Open the project and export it; library errors become one-line `CliError`s."""
    from llb_core.io import LlbIoError
    from llb_core.io.export import ExportOptions, export, plan_frames
    from llb_core.workspace import MANIFEST_NAME, Project

    objects = _parse_objects(args.objects)
    bounds = _parse_range(args.range)
    folder = Path(args.project)
    if _is_plain_mask_folder(folder, MANIFEST_NAME):
        raise CliError(
            f"{folder} is a plain mask folder (PNG files, no {MANIFEST_NAME}), not an LLB project; make a project "
            f"of it with `llb project create CLIP --out P` then `llb project import P {folder}`, and export P"
        )
    _check_out(args.format, Path(args.out))
    try:
        project = Project.open(args.project)
        try:
            opts = ExportOptions(
                objects=objects,
                grow=args.grow,
                feather=args.feather,
                bit_depth=args.bit_depth,
                video_name=args.video_name,
                frames=_resolve_range(bounds, project.num_frames),
                missing=args.missing,
            )
            bar = None if args.quiet else ProgressBar(f"export {args.format}")
            out = export(project, args.format, args.out, opts, progress=bar)
            plan = plan_frames(project, opts.frames, opts.missing, project.mask_frames())
        finally:
            project.close()
    except LlbIoError as err:
        raise CliError(" ".join(str(err).split("\n")[:1])) from err
    if plan.missing:
        done = {"skip": "skipped", "empty": "written empty", "hold": "written with the last mask"}[opts.missing]
        sys.stderr.write(
            f"llb export: {len(plan.missing)} frame(s) in {plan.first}:{plan.last} have no mask; they were {done} "
            "(choose with --missing skip|empty|hold)\n"
        )
    sys.stdout.write(f"{out}\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `export` subcommand."""
    from llb_core.io.export import FORMATS, MISSING_POLICIES

    formats = "\n".join(f"  {name:8s} {desc}" for name, (_, desc) in FORMATS.items())
    p = sub.add_parser(
        "export",
        help="export a project's masks, mattes or videos",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Export a project folder's masks.\n\nformats:\n" + formats,
    )
    p.add_argument("project", help="project folder (holds manifest.json)")
    p.add_argument("--format", required=True, choices=sorted(FORMATS), help="output format (see above)")
    p.add_argument("--out", required=True, help="output folder (PNG formats) or file (videos, COCO)")
    p.add_argument("--objects", help="comma-separated object ids to export (default: all)")
    p.add_argument("--grow", type=int, default=0, help="grow (>0) or shrink (<0) mattes by N pixels")
    p.add_argument("--feather", type=int, default=0, help="feather (blur) mattes by N pixels")
    p.add_argument(
        "--bit-depth", type=int, choices=(8, 16), default=8, help="bit depth of alpha PNGs, cutouts and matte videos"
    )
    p.add_argument("--range", metavar="A:B", help="export frames A..B only, inclusive (A: or :B leave an end open)")
    p.add_argument(
        "--missing",
        choices=MISSING_POLICIES,
        default="empty",
        help="frames in the range without a mask: write them empty (default), skip them (videos get shorter), "
        "or hold the last mask",
    )
    p.add_argument("--video-name", help="video folder name for the ytvos layout (default: OUT's name)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
