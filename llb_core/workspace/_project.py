"""`Project`: the on-disk project folder and the one owner of its state.

Layout::

    <project>/manifest.json        versioned manifest (see `Manifest`), replaced atomically by save()
    <project>/manifest.json.bak    the previously saved manifest
    <project>/journal.jsonl        manifest changes since the last save (replayed on open)
    <project>/masks/, soft/        mask files, written only through `Project.masks` (`MaskStore`)

The project owns the objects and the frames' records (keyframes with the objects each annotates, provenance,
stale frames: `FrameRecords`), changed only through its methods; every change is durable through the journal
as soon as the call returns, and `save()` folds the journal into the manifest. Mask files are their own
record (a mask exists iff its file does).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from llb_core.inference.results import Provenance
from llb_core.io import (
    DEFAULT_CACHE_FRAMES,
    FrameSource,
    FrameSourceError,
    ObjectSpec,
    atomic_write_bytes,
    atomic_write_text,
    first_free_id,
    open_source,
    palette_colour,
)
from llb_core.workspace._errors import ProjectError, SourceContentError, SourceMismatchError
from llb_core.workspace._fingerprint import fingerprint, same_content
from llb_core.workspace._frames import FrameRecord, FrameRecords
from llb_core.workspace._journal import Journal
from llb_core.workspace._manifest import LEGACY_KEYS, MANIFEST_NAME, Manifest, parse_manifest
from llb_core.workspace._mask_store import MaskStore

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
        self._saved_revision = manifest.revision if manifest.migrated_from is None else -1  # saved as v2 next
        self.recovered = recovered or []
        """Messages about what was recovered when opening (journal replay, backup manifest, migration)."""
        if manifest.migrated_from is not None:
            self.recovered.append(f"migrated from project format {manifest.migrated_from}")
        self.masks = MaskStore(self.folder, manifest.size, manifest.num_frames, lambda: [o.id for o in self._m.objects])
        """The mask files (the one writer of them)."""

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
                frames=FrameRecords(src.num_frames),
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
                self._prepare(entry)()
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
        """Check one manifest change, log it durably, then apply it; on any failure the state is unchanged."""
        entry = {"rev": self._m.revision + 1, "op": op, **fields}
        apply = self._prepare(entry)
        self._journal.append(entry)
        apply()
        self._m.revision += 1

    def _prepare(self, e: dict[str, Any]) -> Callable[[], None]:
        """Validate journal entry `e` and return the function that applies it (cannot fail)."""
        m, op = self._m, e["op"]
        if op == "set_object":
            obj = ObjectSpec(int(e["id"]), str(e["name"]), tuple(e["colour"]))  # type: ignore[arg-type]
            objects = sorted([o for o in m.objects if o.id != obj.id] + [obj], key=lambda o: o.id)
            return lambda: setattr(m, "objects", objects)
        if op == "remove_object":
            obj_id = int(e["id"])
            changes = m.frames.without_object(obj_id)
            objects = [o for o in m.objects if o.id != obj_id]
            return lambda: (setattr(m, "objects", objects), m.frames.update(changes))  # type: ignore[func-returns-value]
        if op == "frames":
            changes = _decode_changes(e["records"])
            m.frames.check(changes, [o.id for o in m.objects])
            return lambda: m.frames.update(changes)
        if op in ("add_keyframe", "remove_keyframe") or (op == "set_setting" and e["key"] in LEGACY_KEYS):
            return self._prepare_legacy(e)
        if op == "set_setting":
            key, value = str(e["key"]), e["value"]
            return lambda: m.settings.__setitem__(key, value)
        if op == "relink":
            return lambda: (
                setattr(m, "source_path", e["path"]),
                setattr(m, "source_relpath", e["relpath"]),
                setattr(m, "fingerprint", e["fingerprint"]),
            )  # type: ignore[func-returns-value]
        raise ValueError(f"unknown journal operation {op!r}")

    def _prepare_legacy(self, e: dict[str, Any]) -> Callable[[], None]:
        """Journal entries written by format 1 (replayed once, after a crash before its save)."""
        frames, op = self._m.frames, e["op"]
        if op in ("add_keyframe", "remove_keyframe"):
            f = int(e["frame"])
            self._check_frame(f)
            rec = frames.get(f)
            annotated = frozenset(o.id for o in self._m.objects) if op == "add_keyframe" else None
            change = {f: FrameRecord(annotated, rec.provenance, rec.stale)}
            return lambda: frames.update(change)
        value, n = e["value"], self._m.num_frames
        if e["key"] == "app.keyframe_objects":
            changes = {
                int(k): FrameRecord(frozenset(ids), frames.get(int(k)).provenance, frames.get(int(k)).stale)
                for k, ids in (value or {}).items()
                if frames.get(int(k)).is_keyframe
            }
        else:
            part = "provenance" if e["key"] == "app.provenance" else "stale"
            parsed = FrameRecords.from_json({part: value or []}, n)
            touched = {f for f, _ in frames.items()} | {f for f, _ in parsed.items()}
            changes = {}
            for f in touched:
                rec, new = frames.get(f), parsed.get(f)
                changes[f] = (
                    FrameRecord(rec.annotated, new.provenance, rec.stale)
                    if part == "provenance"
                    else FrameRecord(rec.annotated, rec.provenance, new.stale)
                )
        frames.check(changes)
        return lambda: frames.update(changes)

    def add_object(
        self, name: str | None = None, colour: tuple[int, int, int] | None = None, obj_id: int | None = None
    ) -> ObjectSpec:
        """Declare an object (id: the next free one unless given) and return it."""
        taken = {o.id for o in self._m.objects}
        if obj_id is None:
            try:
                obj_id = first_free_id(taken)
            except ValueError as err:
                raise ProjectError(f"{self.folder}: {err}") from err
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
        """Undeclare an object; keyframes stop annotating it. Its pixels stay in stored masks but are no
        longer exported (the app clears them first, as one undo step)."""
        self.object(obj_id)
        self._change("remove_object", id=obj_id)

    def object(self, obj_id: int) -> ObjectSpec:
        """The declared object with this id (ProjectError if none)."""
        for o in self._m.objects:
            if o.id == obj_id:
                return o
        raise ProjectError(f"{self.folder}: no object with id {obj_id} (objects: {[o.id for o in self._m.objects]}).")

    def set_frames(self, changes: Mapping[int, FrameRecord]) -> None:
        """Replace the records of some frames (keyframes, provenance, stale), as one journaled change.

        Raises:
            ProjectError: a frame outside the clip or a keyframe annotating an undeclared object.
        """
        if not changes:
            return
        try:
            self._m.frames.check(changes, [o.id for o in self._m.objects])
        except ValueError as err:
            raise ProjectError(f"{self.folder}: {err}.") from err
        self._change("frames", records=_encode_changes(changes))

    def add_keyframe(self, index: int, annotated: Iterable[int] | None = None) -> None:
        """Mark frame `index` as annotated by hand, for `annotated` (default: every declared object)."""
        self._check_frame(index)
        rec = self._m.frames.get(index)
        ids = frozenset(o.id for o in self._m.objects) if annotated is None else frozenset(annotated)
        self.set_frames({index: FrameRecord(ids, rec.provenance, rec.stale)})

    def remove_keyframe(self, index: int) -> None:
        """Unmark a keyframe (what it invalidates is for `ClipState` to decide)."""
        rec = self._m.frames.get(index)
        self.set_frames({index: FrameRecord(None, rec.provenance, rec.stale)})

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
        """Keyframe indices in order (`frames.keyframes` also says which objects each annotates)."""
        return list(self._m.frames.keyframes)

    @property
    def frames(self) -> FrameRecords:
        """The live frame records (read them; change them through `set_frames`)."""
        return self._m.frames

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
            raise SourceContentError(
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

    # -- masks (reading; `llb_core.io.export.MaskSequence`) ---------------------------------------
    def has_mask(self, index: int) -> bool:
        """True if frame `index` has a stored index mask."""
        return self.masks.has(index)

    def mask_frames(self) -> list[int]:
        """Sorted indices of frames with a stored index mask."""
        return self.masks.frames()

    def read_mask(self, index: int) -> np.ndarray | None:
        """Frame `index`'s stored (H, W) uint8 index mask, or None (MaskFileError: unreadable file)."""
        return self.masks.read(index)

    def index_mask(self, index: int) -> np.ndarray:
        """(H, W) uint8 index mask of frame `index`, zeros if none is stored."""
        mask = self.masks.read(index)
        return np.zeros(self.size, np.uint8) if mask is None else mask

    def soft_mask(self, index: int, obj_id: int) -> np.ndarray | None:
        """An object's (H, W) float32 soft mask on frame `index`, or None if not stored."""
        return self.masks.soft(index, obj_id)

    def __repr__(self) -> str:
        return f"Project({str(self.folder)!r}, {self.num_frames} frames, objects {[o.id for o in self._m.objects]})"


def _encode_changes(changes: Mapping[int, FrameRecord]) -> list[list[Any]]:
    """Journal form of record changes: [[first, last, annotated ids or None, start, direction, stale], ...],
    consecutive frames with the same record in one entry."""
    out: list[list[Any]] = []
    for f in sorted(changes):
        r = changes[f]
        value = [
            None if r.annotated is None else sorted(r.annotated),
            None if r.provenance is None else r.provenance.start,
            None if r.provenance is None else r.provenance.direction,
            r.stale,
        ]
        if out and out[-1][1] == f - 1 and out[-1][2:] == value:
            out[-1][1] = f
        else:
            out.append([f, f, *value])
    return out


def _decode_changes(records: list[list[Any]]) -> dict[int, FrameRecord]:
    """Inverse of `_encode_changes` (raises ValueError / TypeError on a malformed entry)."""
    out = {}
    for first, last, annotated, start, direction, stale in records:
        rec = FrameRecord(
            None if annotated is None else frozenset(int(i) for i in annotated),
            None if start is None else Provenance(int(start), int(direction)),
            bool(stale),
        )
        out.update((f, rec) for f in range(int(first), int(last) + 1))
    return out
