"""`llb propagate INPUT --mask FILE[:FRAME] ... --out DIR`: segment a whole clip from a few masks into a folder;
`llb propagate --project P`: propagate a project (what is missing or stale, or from one frame), as the app does."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from llb_core.cli import CliError
from llb_core.cli import _checks as checks

DEMO_OUT = "demo_out"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `propagate` subcommand."""
    p = sub.add_parser(
        "propagate",
        help="propagate masks through a video or a folder of frames",
        description="Masks are palette PNGs (index = object id) or greyscale 0/255 PNGs (object 1). FRAME "
        "defaults to the number in the file name. A mask speaks for the objects it contains; objects "
        "it leaves out keep being tracked. A --mask ending in .json holds clicks instead, which the click model "
        'turns into the mask: {"objects": {"1": {"positive": [[x, y]], "negative": [[x, y]], "box": [x0, y0, x1, '
        "y1]}}}. Writes one DAVIS palette PNG per frame into --out.",
    )
    p.add_argument("input", nargs="?", help="video file or folder of frames (omit with --demo)")
    p.add_argument(
        "--mask", action="append", default=[], metavar="FILE[:FRAME]", help="mask PNG or clicks JSON, repeatable"
    )
    p.add_argument("--out", help=f"output folder (default with --demo: {DEMO_OUT})")
    p.add_argument("--demo", action="store_true", help="the embedded Big Buck Bunny clip and its first-frame mask")
    p.add_argument("--soft", action="store_true", help="also write per-object soft masks (out/soft/ID/NNNNN.png)")
    p.add_argument("--max-frames", type=int, default=None, help="only the first N frames")
    p.add_argument("--weights", default=None, help="checkpoint (default: the shipped weights)")
    p.add_argument("--variant", default=None, help="require this variant (a registered name: lwl, jointformer, ...)")
    p.add_argument("--backbone-weights", default=None, help="ImageNet backbone weights file")
    p.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, cuda:1, mps")
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"))
    p.add_argument(
        "--runtime",
        default="auto",
        choices=("auto", "torch", "openvino"),
        help="backbone and decoder on the CPU: auto (the faster here, measured once), torch or openvino",
    )
    p.add_argument("--resolution", type=int, default=None, help="internal short side (default 320, see the model card)")
    p.add_argument("--mode", choices=("crop", "full"), default=None, help="search-region crops or full frame")
    p.add_argument(
        "--finetune",
        type=int,
        default=0,
        metavar="STEPS",
        help="test-time fine-tuning: train a copy of the model on the keyframes for STEPS steps first (0: off)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--project", help="a project folder: propagate what is missing or stale (or --from a frame)")
    p.add_argument("--from", dest="start", type=int, default=None, help="with --project: propagate from this frame")
    p.add_argument("--direction", choices=("forward", "backward", "both"), default="forward", help="with --from")
    p.add_argument("--overwrite", action="store_true", help="replace the masks an earlier run left in --out")
    checks.add_max_objects(p)
    p.set_defaults(func=run)


def _parse_mask_arg(text: str) -> tuple[Path, int | None]:
    """FILE[:FRAME] -> (path, frame or None); a Windows drive letter is not taken for a frame."""
    head, sep, tail = text.rpartition(":")
    if sep and tail.isdigit() and head:
        return Path(head), int(tail)
    return Path(text), None


def _settings(args: argparse.Namespace) -> object:
    from llb_core.inference import SessionSettings

    if args.finetune < 0:
        raise CliError(f"--finetune {args.finetune}: give a number of steps >= 0 (0: off)")
    settings = SessionSettings(
        device=args.device, precision=args.precision, finetune_steps=args.finetune, runtime=args.runtime
    )
    if args.resolution:
        settings = settings.replace(resolution=args.resolution)
    if args.mode:
        settings = settings.replace(mode=args.mode)
    return settings


def _model(args: argparse.Namespace) -> object:
    from llb_core.model.defaults import load_model

    return load_model(
        args.weights, variant=args.variant, backbone_weights=args.backbone_weights, allow_untrained=args.weights is None
    )


def _check_engine_args(args: argparse.Namespace) -> None:
    """Options that need no file: refused before anything is opened."""
    checks.resolution(args.resolution)
    checks.runtime_override()
    checks.at_least("--max-frames", args.max_frames, 1, "frames to propagate")
    checks.at_least("--max-objects", args.max_objects, 1, "object ids one mask may hold")
    checks.checkpoint(args.weights)
    if args.backbone_weights is not None and not Path(args.backbone_weights).is_file():
        raise CliError(f"{args.backbone_weights}: backbone weights file not found; check --backbone-weights")


def run_project(args: argparse.Namespace) -> int:
    """`--project P`: fill the missing and stale frames (or run from `--from`), writing through the project."""
    if args.input or args.mask or args.out or args.demo or args.max_frames:
        raise CliError("--project takes no INPUT, --mask, --out, --demo or --max-frames: the project has them")
    if args.overwrite or args.max_objects is not None:
        raise CliError("--project takes no --overwrite or --max-objects: it replaces only missing and stale frames")
    _check_engine_args(args)
    folder = checks.existing(args.project, "project folder")
    if not folder.is_dir():
        raise CliError(f"{folder}: is a file, not a project folder; give --project the folder that holds manifest.json")
    checks.output_folder(folder, "--project")
    from llb_core.workspace import ClipState, Project, propagate_clip

    project = Project.open(folder)
    try:
        clip = ClipState(project)
        if not clip.keyframes:
            raise CliError(
                f"{project.folder}: no keyframe yet; import masks with `llb project import {args.project} MASKS`"
            )
        if args.start is None and not clip.missing():
            sys.stderr.write(f"{project.folder}: every frame has a mask and none is stale; nothing to do\n")
            return 0
        if args.start is not None and clip.run_mask(args.start) is None:
            raise CliError(f"{project.folder}: frame {args.start} has no valid mask to propagate from")
        checks.device(args.device)
        from llb_core.cli._progress import ProgressBar
        from llb_core.inference import Session

        session = Session(project.source, _model(args), clip, _settings(args))  # type: ignore[arg-type]
        bar = None if args.quiet else ProgressBar(f"propagate {project.folder.name}")
        report = propagate_clip(
            clip, session, project.masks, start=args.start, direction=args.direction, soft=True, progress=bar
        )
        sys.stderr.write(
            f"{report.frames} frames in {report.seconds:.1f} s ({report.fps:.2f} fps) on {session.device}; "
            f"{len(clip.stale)} stale, {sum(not clip.has_mask(f) for f in range(clip.num_frames))} without a mask\n"
        )
    finally:
        project.close()  # finished frames are recorded even after Ctrl+C
    return 0


def _keyframes(masks: list[str], source: object, num_frames: int, max_objects: int) -> dict[int, np.ndarray]:
    """Read every `FILE[:FRAME]` (a mask, or a JSON of clicks that the click model turns into one); all the
    refused files are listed in one error."""
    from llb_core.io import frame_number, inspect_keyframe_mask

    size: tuple[int, int] = source.size  # type: ignore[attr-defined]
    keyframes: dict[int, np.ndarray] = {}
    problems: list[str] = []
    for text in masks:
        path, frame = _parse_mask_arg(text)
        named = frame is not None
        frame = frame if named else (frame_number(path) or 0)
        if not 0 <= frame < num_frames:
            remedy = "give a frame in that range" if named else "its name says so; give the frame as FILE:FRAME"
            problems.append(f"{path}: frame {frame} is outside the clip (frames 0..{num_frames - 1}); {remedy}")
            continue
        if path.suffix.lower() == ".json":
            keyframes[frame] = _clicked_mask(path, source, frame)
            continue
        mask, issue = inspect_keyframe_mask(path, size, max_objects)
        if issue is not None:
            problems.append(str(issue))
            continue
        keyframes[frame] = mask  # type: ignore[assignment]
    if len(problems) == 1:
        raise CliError(problems[0])
    if problems:
        raise CliError(f"{len(problems)} of {len(masks)} masks refused: " + " | ".join(problems))
    return keyframes


def _clicked_mask(path: Path, source: object, frame: int) -> np.ndarray:
    """The keyframe mask of a clicks file (`llb_core.interactive.prompts`) on `frame` of `source`."""
    if not path.is_file():
        raise CliError(f"{path}: clicks file not found; check the path given to --mask")
    from llb_core.interactive.prompts import mask_from_prompts, read_prompts
    from llb_core.interactive.session import load_click_model

    prompts = read_prompts(path, source.size)  # type: ignore[attr-defined]
    mask = mask_from_prompts(load_click_model(), source.read(frame), prompts)  # type: ignore[attr-defined]
    missing = sorted(set(prompts) - {int(v) for v in np.unique(mask)})
    if missing:
        raise CliError(f"{path}: the clicks found nothing for object(s) {missing}; click inside them or add a box")
    return mask


def _clear_old_masks(out: Path, old: list[Path]) -> None:
    """With --overwrite: remove the masks (and soft masks) an earlier run left in `out`."""
    import shutil

    for path in old:
        path.unlink(missing_ok=True)
    if (out / "soft").is_dir():
        shutil.rmtree(out / "soft")


def run(args: argparse.Namespace) -> int:
    """Propagate masks through a clip into a folder; every argument and file is checked before torch loads."""
    if args.project:
        return run_project(args)
    if args.start is not None:
        raise CliError("--from needs --project")
    _check_engine_args(args)
    if args.demo:
        if args.input or args.mask:
            raise CliError("--demo takes no INPUT and no --mask")
        from llb_core.resources import demo_clip, demo_mask

        source_path, masks = demo_clip(), [f"{demo_mask()}:0"]
        out = Path(args.out or DEMO_OUT)
    else:
        if not args.input:
            raise CliError("give an INPUT video or folder of frames, or --demo")
        if not args.mask:
            raise CliError("give at least one --mask FILE[:FRAME]")
        if not args.out:
            raise CliError("give an output folder with --out DIR")
        source_path, masks, out = Path(args.input), args.mask, Path(args.out)
    checks.output_folder(out)
    old = checks.held_masks(out)
    if old and not args.overwrite:
        raise CliError(
            f"{out}: already holds {len(old)} mask(s) from an earlier run; give --overwrite to replace them "
            "or choose a new --out folder"
        )
    from llb_core.io import DEFAULT_MAX_OBJECTS, FrameSourceError, open_source, write_index_mask, write_soft_mask
    from llb_core.io.background import BackgroundWriter

    try:
        source = open_source(source_path)
    except FrameSourceError as err:
        raise CliError(str(err)) from err
    num_frames = source.num_frames if args.max_frames is None else min(source.num_frames, args.max_frames)
    keyframes = _keyframes(masks, source, num_frames, args.max_objects or DEFAULT_MAX_OBJECTS)
    checks.device(args.device)
    from llb_core.cli._progress import ProgressBar
    from llb_core.inference import Session
    from llb_core.workspace import ClipState, propagate_clip

    clip = ClipState.detached(num_frames, source.size, keyframes)
    session = Session(_Clipped(source, num_frames), _model(args), clip, _settings(args))  # type: ignore[arg-type]
    if old:
        _clear_old_masks(out, old)
    out.mkdir(parents=True, exist_ok=True)
    names = [_frame_name(source, i) for i in range(num_frames)]
    for frame in sorted(keyframes):
        write_index_mask(out / f"{names[frame]}.png", session.mask(frame))

    writer = BackgroundWriter()  # PNG encoding and writing overlap the next frame's inference

    def on_frame(result) -> None:  # noqa: ANN001
        writer.submit(write_index_mask, out / f"{names[result.frame]}.png", clip.mask(result.frame))
        if args.soft:
            for obj, prob in result.probs.items():
                writer.submit(write_soft_mask, out / "soft" / str(obj) / f"{names[result.frame]}.png", prob)

    bar = None if args.quiet else ProgressBar(f"propagate {source_path.name}")
    with writer:
        report = propagate_clip(clip, session, None, on_frame=on_frame, progress=bar)
    sys.stderr.write(
        f"{report.frames} frames in {report.seconds:.1f} s ({report.fps:.2f} fps) on {session.device} "
        f"({str(session.dtype).removeprefix('torch.')}, {session.runtime or 'torch'}); masks in {out}\n"
    )
    return 0


def _frame_name(source: object, index: int) -> str:
    name = getattr(source, "frame_name", None)
    return name(index) if callable(name) else f"{index:05d}"


class _Clipped:
    """The first `num_frames` frames of a source."""

    def __init__(self, source: object, num_frames: int) -> None:
        self.source = source
        self.num_frames = num_frames
        self.size = source.size  # type: ignore[attr-defined]

    def read(self, index: int) -> np.ndarray:
        return self.source.read(index)  # type: ignore[attr-defined]
