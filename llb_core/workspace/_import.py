"""Import existing masks into a project, validating every file first and reporting each problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from llb_core.inference.settings import SessionSettings
from llb_core.io._mask_checks import DEFAULT_MAX_OBJECTS, inspect_keyframe_mask
from llb_core.io._masks import MaskIssue, frame_number
from llb_core.io._progress import CancelFlag, ProgressFn, check_cancel, report
from llb_core.workspace._clip_state import ClipState, FrameState, encode_mask
from llb_core.workspace._errors import MaskImportError, ProjectError
from llb_core.workspace._import_report import ImportReport
from llb_core.workspace._project import Project


def _frame_index(project: Project, path: Path, by_name: dict[str, int]) -> int | None:
    """Frame matched by file stem (the source frame name), else by the number in the name."""
    if path.stem in by_name:
        return by_name[path.stem]
    num = frame_number(path)
    if num is not None and project.manifest.frame_names is None and 0 <= num < project.num_frames:
        return num
    return None


def _detect_layout(folder: Path) -> str:
    subdirs = [d for d in folder.iterdir() if d.is_dir() and d.name.isdigit()]
    if subdirs and any(any(d.glob("*.png")) for d in subdirs):
        return "binary"
    return "index"


def _check_index_file(
    path: Path, size: tuple[int, int], allowed: set[int] | None, max_objects: int
) -> tuple[np.ndarray | None, MaskIssue | None]:
    """The keyframe checks of `llb propagate` (no greyscale other than 0/255, at most `max_objects` ids), then
    the declared objects (`allowed`, None: any); an empty mask is a keyframe where every object is absent."""
    mask, issue = inspect_keyframe_mask(path, size, max_objects, allow_empty=True)
    if mask is None or allowed is None:
        return mask, issue
    unknown = sorted(set(np.unique(mask).tolist()) - allowed - {0})
    if unknown:
        return None, MaskIssue(
            path,
            f"holds object id(s) {unknown} that are not declared objects "
            f"({sorted(allowed) or 'none'}). Declare the objects first or fix the mask.",
        )
    return mask, None


def _read_binary(
    project: Project,
    path: Path,
    allowed: set[int] | None,
    declared: set[int],
    locate: Callable[[Path], int | None],
    masks: dict[int, np.ndarray],
    rep: ImportReport,
) -> None:
    """Validate one `<object id>/<frame>.png` file and paint it into `masks`, or record an issue."""
    obj_id = int(path.parent.name)
    if not 1 <= obj_id <= 255 or (allowed is not None and obj_id not in allowed):
        rep.issues.append(
            MaskIssue(path, f"object id {obj_id} is not a declared object ({sorted(declared)}); declare it first.")
        )
        return
    idx = locate(path)
    if idx is None:
        return
    mask, issue = inspect_keyframe_mask(path, project.size, 255, allow_empty=True)  # one object per file
    if issue is not None:
        rep.issues.append(issue)
        return
    binary = mask > 0  # type: ignore[operator]
    target = masks.setdefault(idx, np.zeros(project.size, np.uint8))
    target[binary] = obj_id


def import_masks(
    project: Project,
    folder: str | Path,
    layout: str = "auto",
    create_objects: bool = True,
    skip_invalid: bool = False,
    as_keyframes: bool = True,
    max_objects: int = DEFAULT_MAX_OBJECTS,
    progress: ProgressFn | None = None,
    cancel: CancelFlag = None,
) -> ImportReport:
    """Import a folder of masks into `project`.

    Layouts: "index" (`<frame>.png`, DAVIS palette PNG with index = object id, or greyscale 0/255 for one
    object), "binary" (`<object id>/<frame>.png`, greyscale 0/255 per object; where objects overlap, the
    higher id wins), or "auto" (binary if numbered sub-folders hold PNGs). Files match frames by the
    source frame name, else by the number in the file name.

    Every file is validated before anything is written (size, readable, frame exists, object ids
    declared unless `create_objects`), with the keyframe checks of `llb propagate`: greyscale masks must
    be 0/255, and an index mask may hold at most `max_objects` ids (more is nearly always noise). With
    problems and not `skip_invalid`, nothing is imported and
    `MaskImportError` (with `.report`) lists each bad file; with `skip_invalid`, valid files are imported
    and the report lists the rest.

    Raises:
        MaskImportError: rejected files and `skip_invalid` is False.
        ProjectError: the folder does not exist or holds no PNG masks.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ProjectError(f"{folder}: mask folder not found.")
    layout = _detect_layout(folder) if layout == "auto" else layout
    if layout not in ("index", "binary"):
        raise ProjectError(f"unknown mask layout {layout!r}; use 'index', 'binary' or 'auto'.")
    by_name = {n: i for i, n in enumerate(project.manifest.frame_names or [])}
    declared = {o.id for o in project.objects}
    allowed = None if create_objects else declared
    rep = ImportReport()
    masks: dict[int, np.ndarray] = {}
    last = f"0..{project.num_frames - 1}"

    def locate(path: Path) -> int | None:
        idx = _frame_index(project, path, by_name)
        if idx is None:
            rep.issues.append(
                MaskIssue(
                    path,
                    f"matches no frame of the clip (frames {last}); remove the file or check it belongs to this clip.",
                )
            )
        return idx

    if layout == "index":
        files = sorted(folder.glob("*.png"))
        if not files:
            raise ProjectError(f"{folder}: no .png masks found.")
        for k, path in enumerate(files):
            check_cancel(cancel, f"import from {folder}")
            idx = locate(path)
            if idx is not None:
                mask, issue = _check_index_file(path, project.size, allowed, max_objects)
                if issue is not None:
                    rep.issues.append(issue)
                elif idx in masks:
                    rep.issues.append(MaskIssue(path, f"a second mask for frame {idx}; keep one file per frame."))
                else:
                    masks[idx] = mask  # type: ignore[assignment]
            report(progress, k + 1, len(files))
    else:
        subdirs = sorted((d for d in folder.iterdir() if d.is_dir() and d.name.isdigit()), key=lambda d: int(d.name))
        files = [p for d in subdirs for p in sorted(d.glob("*.png"))]
        if not files:
            raise ProjectError(f"{folder}: no <object id>/<frame>.png masks found.")
        for k, path in enumerate(files):
            check_cancel(cancel, f"import from {folder}")
            _read_binary(project, path, allowed, declared, locate, masks, rep)
            report(progress, k + 1, len(files))
    if rep.issues and not skip_invalid:
        raise MaskImportError(
            f"{folder}: {len(rep.issues)} mask file(s) rejected, nothing imported:\n"
            + "\n".join(f"  {i}" for i in rep.issues),
            rep,
        )
    found = sorted({int(v) for m in masks.values() for v in np.unique(m)} - {0})
    for obj_id in found:
        if obj_id not in declared:
            project.add_object(obj_id=obj_id)
            rep.new_objects.append(obj_id)
    clip = ClipState(project)
    count = SessionSettings().keyframes_in_memory
    for idx in sorted(masks):
        if as_keyframes:  # a mask file speaks for every object; what it invalidates goes stale
            states = clip.edit(idx, masks[idx], [o.id for o in project.objects], count)
        else:
            states = {idx: FrameState(encode_mask(masks[idx]))}
        project.masks.write(idx, masks[idx])  # the file first: a record never names a mask not written
        clip.apply(states)  # the other frames only change records (stale), their masks are kept
        rep.imported.append(idx)
    project.save()
    return rep
