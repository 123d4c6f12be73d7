"""`Project`: the on-disk project folder (manifest, index masks, soft masks) and its live state.

Layout::

    <project>/manifest.json        versioned manifest (see `Manifest`), replaced atomically by save()
    <project>/manifest.json.bak    the previously saved manifest
    <project>/journal.jsonl        manifest changes since the last save (replayed on open)
    <project>/masks/00000.png      index mask of frame 0 (DAVIS palette PNG)
    <project>/soft/<id>/00000.png  soft mask of object <id> on frame 0 (8-bit greyscale)

Every file is written atomically. Mask files are their own record (a mask exists iff its file does),
so a mask is durable as soon as `write_mask` returns; manifest changes are durable through the journal
as soon as the mutating call returns, and `save()` folds them into the manifest.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from llb_core.io._atomic import atomic_write_bytes, atomic_write_text
from llb_core.io._errors import FrameSourceError, MaskFileError
from llb_core.io._masks import (
    palette_colour,
    read_index_mask,
    read_soft_mask,
    write_index_mask,
    write_soft_mask,
)
from llb_core.io._objects import ObjectSpec
from llb_core.io._open import open_source
from llb_core.io._source import DEFAULT_CACHE_FRAMES, FrameSource
from llb_core.workspace._errors import ProjectError, SourceMismatchError
from llb_core.workspace._fingerprint import fingerprint, same_content
from llb_core.workspace._journal import Journal
from llb_core.workspace._manifest import MANIFEST_NAME, Manifest, parse_manifest

log = logging.getLogger(__name__)


def _relpath(target: Path, start: Path) -> str | None:
    try:
        return os.path.relpath(target, start)
    except ValueError:  # different drives on Windows
        return None


class Project:
    """An open project folder. Create with `Project.create`, open with `Project.open`.

    It is also a `llb_core.io.export.MaskSequence`, so it can be passed to `export()` directly.
    """

    def __init__(self, folder: Path, manifest: Manifest, recovered: list[str] | None = None) -> None:
        self.folder = Path(folder)
        self._m = manifest
        self._journal = Journal(self.folder)
        self._source: FrameSource | None = None
        self._saved_revision = manifest.revision
        self.recovered = recovered or []
        """Messages about what was recovered when opening (journal replay, backup manifest)."""

    # -- lifecycle -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        folder: str | Path,
        source: str | Path,
        objects: Sequence[ObjectSpec] = (),
        fps: float | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Project:
        """Make a new project folder for a video file or image folder and save it.

        Args:
            folder: project folder; must not exist or be empty.
            source: the clip (opened once to read frame count, fps and size).
            objects: initial objects.
            fps: frame rate for image folders (default 24); videos use their own.
            settings: initial settings.

        Raises:
            ProjectError: the folder is not empty; FrameSourceError: the clip cannot be opened.
        """
        folder = Path(folder)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise ProjectError(
                f"{folder}: already exists and is not empty; choose a new folder for the "
                "project (or open the existing project)."
            )
        src_path = Path(source).resolve()
        with open_source(src_path, fps=fps or 24.0) as src:
            names = None
            if src_path.is_dir():
                names = [src.frame_name(i) for i in range(src.num_frames)]
            manifest = Manifest(
                source_path=str(src_path),
                source_relpath=_relpath(src_path, folder.resolve()),
                fingerprint=fingerprint(src_path),
                num_frames=src.num_frames,
                fps=src.fps,
                size=src.size,
                frame_names=names,
                objects=sorted(objects, key=lambda o: o.id),
                settings=dict(settings or {}),
            )
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "masks").mkdir(exist_ok=True)
        project = cls(folder, manifest)
        project.save(force=True)
        return project

    @classmethod
    def open(cls, folder: str | Path, recover: bool = False) -> Project:
        """Open a project folder, validating the manifest and replaying the journal.

        Args:
            folder: the project folder.
            recover: if the manifest is missing or invalid, fall back to `manifest.json.bak`.

        Raises:
            ProjectError: no project there, or an invalid manifest (the message names the field).
        """
        folder = Path(folder)
        path = folder / MANIFEST_NAME
        bak = folder / (MANIFEST_NAME + ".bak")
        recovered: list[str] = []
        try:
            if not path.exists():
                raise ProjectError(
                    f"{path}: not found; {folder} is not an LLB project folder (or its manifest was deleted)."
                )
            manifest = parse_manifest(path.read_text(encoding="utf-8", errors="replace"), path)
        except ProjectError as err:
            if not recover or not bak.exists():
                hint = (
                    f" A backup exists: reopen with recover=True to use {bak.name}."
                    if bak.exists() and not recover
                    else ""
                )
                raise ProjectError(f"{err}{hint}") from err
            manifest = parse_manifest(bak.read_text(encoding="utf-8", errors="replace"), bak)
            recovered.append(f"{path.name} was unusable ({err}); restored from {bak.name}")
        project = cls(folder, manifest, recovered)
        project._replay()
        return project

    def _replay(self) -> None:
        entries = self._journal.entries_after(self._m.revision)
        for entry in entries:
            try:
                self._apply(entry)
            except (KeyError, ValueError, TypeError, ProjectError) as err:
                log.warning("%s: skipped journal entry %s (%s)", self._journal.path, entry, err)
                continue
            self._m.revision = int(entry["rev"])
        if entries:
            self.recovered.append(f"replayed {len(entries)} unsaved change(s) from {self._journal.path.name}")
            log.info("%s: %s", self.folder, self.recovered[-1])

    def save(self, force: bool = False) -> None:
        """Write the manifest atomically (previous one kept as .bak) and clear the journal.

        Cheap (one small JSON file); call it as often as you like (e.g. autosave every few seconds).
        Does nothing when there is nothing unsaved unless `force`.
        """
        if not force and not self.dirty:
            return
        path = self.folder / MANIFEST_NAME
        if path.exists():
            atomic_write_bytes(path.with_name(MANIFEST_NAME + ".bak"), path.read_bytes())
        atomic_write_text(path, self._m.to_json())
        self._journal.clear()
        self._saved_revision = self._m.revision

    @property
    def dirty(self) -> bool:
        """True if manifest changes are only in the journal (not yet folded in by `save`)."""
        return self._m.revision != self._saved_revision

    def close(self) -> None:
        """Save pending changes and release the source."""
        self.save()
        if self._source is not None:
            self._source.close()
            self._source = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- manifest changes (journaled) --------------------------------------------------------------
    def _change(self, op: str, **fields: Any) -> None:
        """Apply one manifest change and log it durably; on any failure the state is unchanged."""
        entry = {"rev": self._m.revision + 1, "op": op, **fields}
        before = copy.deepcopy(self._m)
        try:
            self._apply(entry)
            self._journal.append(entry)
        except BaseException:
            self._m = before
            raise
        self._m.revision += 1

    def _apply(self, e: dict[str, Any]) -> None:
        m, op = self._m, e["op"]
        if op == "set_object":
            obj = ObjectSpec(int(e["id"]), str(e["name"]), tuple(e["colour"]))  # type: ignore[arg-type]
            m.objects = sorted([o for o in m.objects if o.id != obj.id] + [obj], key=lambda o: o.id)
        elif op == "remove_object":
            m.objects = [o for o in m.objects if o.id != int(e["id"])]
        elif op == "add_keyframe":
            self._check_frame(int(e["frame"]))
            m.keyframes = sorted(set(m.keyframes) | {int(e["frame"])})
        elif op == "remove_keyframe":
            m.keyframes = [k for k in m.keyframes if k != int(e["frame"])]
        elif op == "set_setting":
            m.settings[str(e["key"])] = e["value"]
        elif op == "relink":
            m.source_path, m.source_relpath, m.fingerprint = e["path"], e["relpath"], e["fingerprint"]
        else:
            raise ValueError(f"unknown journal operation {op!r}")

    def add_object(
        self, name: str | None = None, colour: tuple[int, int, int] | None = None, obj_id: int | None = None
    ) -> ObjectSpec:
        """Declare an object (id: the next free one unless given) and return it."""
        taken = {o.id for o in self._m.objects}
        if obj_id is None:
            free = [i for i in range(1, 256) if i not in taken]
            if not free:
                raise ProjectError(f"{self.folder}: all 255 object ids are in use.")
            obj_id = free[0]
        elif obj_id in taken:
            raise ProjectError(f"{self.folder}: object id {obj_id} already exists; use update_object.")
        obj = ObjectSpec(obj_id, name or f"object {obj_id}", colour or palette_colour(obj_id))
        self._change("set_object", id=obj.id, name=obj.name, colour=list(obj.colour))
        return obj

    def update_object(
        self, obj_id: int, name: str | None = None, colour: tuple[int, int, int] | None = None
    ) -> ObjectSpec:
        """Rename or recolour an object."""
        old = self.object(obj_id)
        obj = ObjectSpec(obj_id, name or old.name, colour or old.colour)
        self._change("set_object", id=obj.id, name=obj.name, colour=list(obj.colour))
        return obj

    def remove_object(self, obj_id: int) -> None:
        """Undeclare an object. Its pixels stay in stored masks but are no longer exported."""
        self.object(obj_id)
        self._change("remove_object", id=obj_id)

    def object(self, obj_id: int) -> ObjectSpec:
        """The declared object with this id (ProjectError if none)."""
        for o in self._m.objects:
            if o.id == obj_id:
                return o
        raise ProjectError(f"{self.folder}: no object with id {obj_id} (objects: {[o.id for o in self._m.objects]}).")

    def add_keyframe(self, index: int) -> None:
        """Mark frame `index` as annotated by hand."""
        self._change("add_keyframe", frame=int(index))

    def remove_keyframe(self, index: int) -> None:
        """Unmark a keyframe."""
        self._change("remove_keyframe", frame=int(index))

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable setting."""
        self._change("set_setting", key=key, value=value)

    # -- read-only state -------------------------------------------------------------------------
    @property
    def manifest(self) -> Manifest:
        """The live manifest (read it; change it only through the methods above)."""
        return self._m

    @property
    def num_frames(self) -> int:
        return self._m.num_frames

    @property
    def fps(self) -> float:
        return self._m.fps

    @property
    def size(self) -> tuple[int, int]:
        return self._m.size

    @property
    def objects(self) -> Sequence[ObjectSpec]:
        return tuple(self._m.objects)

    @property
    def keyframes(self) -> list[int]:
        return list(self._m.keyframes)

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self._m.settings)

    def frame_name(self, index: int) -> str:
        """Source frame name ("00000" for videos, the image stem for folders)."""
        self._check_frame(index)
        return self._m.frame_names[index] if self._m.frame_names else f"{index:05d}"

    def _check_frame(self, index: int) -> None:
        if not 0 <= index < self._m.num_frames:
            raise ProjectError(f"{self.folder}: frame {index} out of range 0..{self._m.num_frames - 1}.")

    # -- source ----------------------------------------------------------------------------------
    @property
    def source_path(self) -> Path:
        """Where the clip is expected."""
        return Path(self._m.source_path)

    def source_status(self) -> str:
        """ "ok", "moved" (found beside the project via the relative path), "missing" or "changed"."""
        p = self.source_path
        if not p.exists():
            rel = self._relative_source()
            return "moved" if rel is not None else "missing"
        try:
            return "ok" if same_content(fingerprint(p), self._m.fingerprint) else "changed"
        except OSError:
            return "missing"

    def _relative_source(self) -> Path | None:
        if not self._m.source_relpath:
            return None
        cand = (self.folder / self._m.source_relpath).resolve()
        with contextlib.suppress(OSError):
            if cand.exists() and same_content(fingerprint(cand), self._m.fingerprint):
                return cand
        return None

    @property
    def source(self) -> FrameSource:
        """The clip, opened on first use after checking its fingerprint.

        Raises:
            SourceMismatchError: missing or changed source; call `relink(new_path)`.
        """
        if self._source is None:
            status = self.source_status()
            path = self.source_path
            if status == "moved":
                path = self._relative_source()  # type: ignore[assignment]
                self.relink(path)
            elif status == "missing":
                raise SourceMismatchError(
                    f"{path}: the project's source clip is missing. Find it and call "
                    "relink(new_path) (GUI: File > Relink source)."
                )
            elif status == "changed":
                raise SourceMismatchError(
                    f"{path}: the source clip changed since the project was made "
                    "(fingerprint differs). Relink to the original clip, or "
                    "relink(path, force=True) if it is the same footage re-encoded."
                )
            cache = int(self._m.settings.get("cache_frames", DEFAULT_CACHE_FRAMES))
            self._source = self._open_checked(path, cache)
        return self._source

    def _open_checked(self, path: Path, cache_frames: int = DEFAULT_CACHE_FRAMES) -> FrameSource:
        src = open_source(path, fps=self._m.fps, cache_frames=cache_frames)
        if (src.num_frames, src.size) != (self._m.num_frames, self._m.size):
            found = f"{src.num_frames} frames of {src.size[1]}x{src.size[0]}"
            src.close()
            raise SourceMismatchError(
                f"{path}: has {found} but the project expects {self._m.num_frames} frames of "
                f"{self._m.size[1]}x{self._m.size[0]}. Relink to the clip the project was made from."
            )
        return src

    def relink(self, new_path: str | Path, force: bool = False) -> None:
        """Point the project at a moved (or, with `force`, re-encoded) copy of its clip.

        Raises:
            SourceMismatchError: the new clip's content differs (without `force`) or its frame count /
                size differ (always).
        """
        p = Path(new_path).resolve()
        try:
            fp = fingerprint(p)
        except OSError as err:
            raise SourceMismatchError(f"{p}: cannot read the new source ({err}).") from err
        if not same_content(fp, self._m.fingerprint) and not force:
            raise SourceMismatchError(
                f"{p}: content differs from the project's original clip. Pass "
                "force=True if it is the same footage (e.g. re-encoded)."
            )
        try:
            src = self._open_checked(p)
        except FrameSourceError as err:
            raise SourceMismatchError(str(err)) from err
        if self._source is not None:
            self._source.close()
        self._source = src
        self._change("relink", path=str(p), relpath=_relpath(p, self.folder.resolve()), fingerprint=fp)

    def frame(self, index: int) -> np.ndarray:
        """Source frame as (H, W, 3) uint8 RGB."""
        return self.source.read(index)

    def frame16(self, index: int) -> np.ndarray:
        """Source frame as (H, W, 3) uint16 RGB."""
        return self.source.read16(index)

    # -- masks -----------------------------------------------------------------------------------
    def mask_path(self, index: int) -> Path:
        """Path of frame `index`'s index mask."""
        return self.folder / "masks" / f"{index:05d}.png"

    def soft_path(self, index: int, obj_id: int) -> Path:
        """Path of object `obj_id`'s soft mask on frame `index`."""
        return self.folder / "soft" / str(obj_id) / f"{index:05d}.png"

    def has_mask(self, index: int) -> bool:
        """True if frame `index` has a stored index mask."""
        return self.mask_path(index).exists()

    def mask_frames(self) -> list[int]:
        """Sorted indices of frames with a stored index mask."""
        folder = self.folder / "masks"
        if not folder.is_dir():
            return []
        return sorted(int(p.stem) for p in folder.glob("*.png") if p.stem.isdigit())

    def write_mask(self, index: int, mask: np.ndarray) -> None:
        """Store frame `index`'s (H, W) uint8 index mask (atomic; durable on return).

        Raises:
            ProjectError: wrong shape/dtype, frame out of range, or ids that are not declared objects.
        """
        self._check_frame(index)
        mask = np.asarray(mask)
        if mask.shape != self.size or mask.dtype != np.uint8:
            raise ProjectError(
                f"{self.mask_path(index)}: mask must be {self.size} uint8, got {mask.shape} {mask.dtype}."
            )
        unknown = sorted(set(np.unique(mask).tolist()) - {0} - {o.id for o in self._m.objects})
        if unknown:
            raise ProjectError(
                f"{self.mask_path(index)}: object id(s) {unknown} are not declared; call add_object first."
            )
        write_index_mask(self.mask_path(index), mask)

    def delete_mask(self, index: int) -> None:
        """Remove frame `index`'s index mask and soft masks (no error if absent)."""
        self._check_frame(index)
        with contextlib.suppress(FileNotFoundError):
            self.mask_path(index).unlink()
        for o in self._m.objects:
            with contextlib.suppress(FileNotFoundError):
                self.soft_path(index, o.id).unlink()

    def read_mask(self, index: int) -> np.ndarray | None:
        """Frame `index`'s stored (H, W) uint8 index mask, or None.

        Raises:
            MaskFileError: the stored file is unreadable or has the wrong size.
        """
        self._check_frame(index)
        path = self.mask_path(index)
        if not path.exists():
            return None
        return read_index_mask(path, self.size)

    def index_mask(self, index: int) -> np.ndarray:
        """(H, W) uint8 index mask of frame `index`, zeros if none is stored."""
        mask = self.read_mask(index)
        return np.zeros(self.size, np.uint8) if mask is None else mask

    def write_soft(self, index: int, obj_id: int, alpha: np.ndarray) -> None:
        """Store an object's (H, W) float32 [0, 1] soft mask on frame `index` (8-bit PNG, atomic)."""
        self._check_frame(index)
        self.object(obj_id)
        alpha = np.asarray(alpha)
        if alpha.shape != self.size:
            raise ProjectError(f"{self.soft_path(index, obj_id)}: soft mask must be {self.size}, got {alpha.shape}.")
        write_soft_mask(self.soft_path(index, obj_id), alpha, 8)

    def soft_mask(self, index: int, obj_id: int) -> np.ndarray | None:
        """An object's (H, W) float32 soft mask on frame `index`, or None if not stored."""
        self._check_frame(index)
        path = self.soft_path(index, obj_id)
        try:
            return read_soft_mask(path, self.size)
        except MaskFileError:
            if not path.exists():
                return None
            raise

    def __repr__(self) -> str:
        return f"Project({str(self.folder)!r}, {self.num_frames} frames, objects {[o.id for o in self._m.objects]})"
