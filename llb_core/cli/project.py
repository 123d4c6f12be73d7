"""`llb project create|import|info`: make a project, bring masks into it and see what it holds.

The project folder is the one the desktop app opens: a project made here continues in the app and the other way
round; `llb propagate --project P` fills it and `llb export P` writes it out.
"""

from __future__ import annotations

import argparse
import json
import sys

from llb_core.cli import CliError
from llb_core.cli import _checks as checks


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `project` subcommand with its own sub-commands."""
    p = sub.add_parser("project", help="create a project, import masks into it, show what it holds")
    actions = p.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a project folder for a video or a folder of frames")
    create.add_argument("clip", help="video file or folder of frames")
    create.add_argument("--out", required=True, help="the new project folder (must not exist or be empty)")
    create.add_argument("--fps", type=float, default=None, help="frame rate of a folder of frames (default 24)")
    create.add_argument("--object", action="append", default=[], metavar="NAME", help="declare an object")
    create.set_defaults(func=run_create)
    imp = actions.add_parser("import", help="import mask folders as keyframes (frames that depended on them go stale)")
    imp.add_argument("project", help="project folder")
    imp.add_argument("masks", nargs="+", help="folders of masks (<frame>.png or <object id>/<frame>.png)")
    imp.add_argument("--layout", choices=("auto", "index", "binary"), default="auto")
    imp.add_argument("--no-create-objects", action="store_true", help="refuse masks of undeclared objects")
    imp.add_argument("--skip-invalid", action="store_true", help="import the valid files, list the rest")
    checks.add_max_objects(imp)
    imp.set_defaults(func=run_import)
    info = actions.add_parser("info", help="objects, keyframes, propagated, stale and missing frames")
    info.add_argument("project", help="project folder")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(func=run_info)


def run_create(args: argparse.Namespace) -> int:
    from llb_core.io import ObjectSpec
    from llb_core.workspace import Project

    objects = [ObjectSpec.default(i + 1, name) for i, name in enumerate(args.object)]
    project = Project.create(args.out, args.clip, objects=objects, fps=args.fps)
    h, w = project.size
    sys.stdout.write(f"{project.folder}: project of {project.num_frames} frames of {w}x{h} from {args.clip}\n")
    project.close()
    return 0


def run_import(args: argparse.Namespace) -> int:
    from llb_core.io import DEFAULT_MAX_OBJECTS
    from llb_core.workspace import MaskImportError, Project, import_masks

    checks.at_least("--max-objects", args.max_objects, 1, "object ids one mask may hold")
    with Project.open(args.project) as project:
        for folder in args.masks:
            try:
                report = import_masks(
                    project,
                    folder,
                    layout=args.layout,
                    create_objects=not args.no_create_objects,
                    skip_invalid=args.skip_invalid,
                    max_objects=args.max_objects or DEFAULT_MAX_OBJECTS,
                )
            except MaskImportError as err:
                lines = "; ".join(str(issue) for issue in err.report.issues)
                raise CliError(
                    f"{folder}: nothing imported, {len(err.report.issues)} file(s) rejected: {lines}"
                ) from err
            new = f", new objects {report.new_objects}" if report.new_objects else ""
            sys.stdout.write(f"{folder}: {len(report.imported)} keyframe(s) imported{new}\n")
            for issue in report.issues:
                sys.stdout.write(f"  rejected {issue}\n")
    return 0


def describe(project: object) -> dict:
    """What `llb project info` shows, as JSON-ready data."""
    from llb_core.workspace import ClipState, frame_ranges

    clip = ClipState(project)  # type: ignore[arg-type]
    runs: list[list[int]] = project.frames.to_json()["provenance"]  # type: ignore[attr-defined]
    return {
        "folder": str(project.folder),  # type: ignore[attr-defined]
        "source": {"path": str(project.source_path), "status": project.source_status()},  # type: ignore[attr-defined]
        "frames": project.num_frames,  # type: ignore[attr-defined]
        "size": list(project.size),  # type: ignore[attr-defined]
        "objects": [{"id": o.id, "name": o.name, "colour": list(o.colour)} for o in project.objects],  # type: ignore[attr-defined]
        "keyframes": {str(f): sorted(ids) for f, ids in clip.keyframes.items()},
        "propagated": [{"frames": [a, b], "from": s, "direction": d} for a, b, s, d in runs],
        "stale": frame_ranges(clip.stale),
        "missing": frame_ranges(f for f in range(clip.num_frames) if not clip.has_mask(f)),
    }


def _ranges(ranges: list[list[int]]) -> str:
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges) or "none"


def run_info(args: argparse.Namespace) -> int:
    from llb_core.workspace import Project

    with Project.open(args.project) as project:
        info = describe(project)
    if args.json:
        sys.stdout.write(json.dumps(info, indent=1) + "\n")
        return 0
    out = [
        f"{info['folder']}: {info['frames']} frames of {info['size'][1]}x{info['size'][0]}",
        f"source: {info['source']['path']} ({info['source']['status']})",
        "objects: " + (", ".join(f"{o['id']} {o['name']}" for o in info["objects"]) or "none"),
        "keyframes: " + (", ".join(f"{f} (objects {ids})" for f, ids in info["keyframes"].items()) or "none"),
        "propagated: "
        + (
            ", ".join(
                f"{_ranges([r['frames']])} from {r['from']} {'forward' if r['direction'] > 0 else 'backward'}"
                for r in info["propagated"]
            )
            or "none"
        ),
        f"stale: {_ranges(info['stale'])}",
        f"without a mask: {_ranges(info['missing'])}",
    ]
    sys.stdout.write("\n".join(out) + "\n")
    return 0
