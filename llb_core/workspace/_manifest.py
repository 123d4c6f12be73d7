"""The project manifest (`manifest.json`): schema, validation with precise messages, serialisation.

Format versions: 2 holds the frames' records as typed fields (`keyframes` maps each keyframe to the objects it
annotates, `provenance` and `stale` are run-length lists; see `FrameRecords.to_json`). Version 1 listed only
keyframe numbers and kept the rest in free-form settings (`app.keyframe_objects`, `app.provenance`,
`app.stale`); `parse_manifest` migrates it (a keyframe the settings did not describe annotates every object)
and the next save writes version 2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llb_core.io import ObjectSpec
from llb_core.workspace._errors import ProjectError
from llb_core.workspace._frames import FrameRecord, FrameRecords

FORMAT_VERSION = 2
LEGACY_KEYS = ("app.keyframe_objects", "app.provenance", "app.stale")  # version 1 settings, migrated
MANIFEST_NAME = "manifest.json"


@dataclass
class Manifest:
    """Everything about a project that is not pixels. `Project` owns the single live instance.

    Attributes:
        source_path: absolute path of the video file or image folder.
        source_relpath: the same path relative to the project folder (finds a source moved with it).
        fingerprint: `fingerprint()` of the source when it was last linked.
        num_frames: frame count of the source.
        fps: frames per second.
        size: (H, W) of frames and masks.
        frame_names: per-frame names for image folders (None for videos: "00000", "00001", ...).
        objects: declared objects in id order.
        frames: keyframes (with the objects each annotates), provenance and stale frames (`FrameRecords`).
        settings: free-form JSON values (internal resolution, cache size, ...).
        revision: bumped by every change; the journal replays changes newer than the saved revision.
        migrated_from: the format version read, when older than `FORMAT_VERSION` (not saved).
    """

    source_path: str
    source_relpath: str | None
    fingerprint: dict[str, Any]
    num_frames: int
    fps: float
    size: tuple[int, int]
    frame_names: list[str] | None = None
    objects: list[ObjectSpec] = field(default_factory=list)
    frames: FrameRecords = field(default_factory=lambda: FrameRecords(0))
    settings: dict[str, Any] = field(default_factory=dict)
    revision: int = 0
    migrated_from: int | None = None

    def to_json(self) -> str:
        """Serialise (format version included) as pretty JSON."""
        doc = {
            "format_version": FORMAT_VERSION,
            "source": {"path": self.source_path, "relpath": self.source_relpath, "fingerprint": self.fingerprint},
            "num_frames": self.num_frames,
            "fps": self.fps,
            "size": list(self.size),
            "frame_names": self.frame_names,
            "objects": [{"id": o.id, "name": o.name, "colour": list(o.colour)} for o in self.objects],
            **self.frames.to_json(),
            "settings": self.settings,
            "revision": self.revision,
        }
        return json.dumps(doc, indent=1)


def _type_name(value: object) -> str:
    return type(value).__name__


class _Checker:
    """Reads fields out of a parsed document, raising ProjectError that names file, field and fix."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, what: str) -> ProjectError:
        return ProjectError(
            f"{self.path}: {where} {what}. Fix the file by hand or restore "
            f"{self.path.name}.bak (Project.open(..., recover=True))."
        )

    def get(
        self, doc: dict[str, Any], key: str, types: type | tuple[type, ...], where: str = "", optional: bool = False
    ) -> Any:
        name = f"{where}{key}"
        if key not in doc:
            if optional:
                return None
            raise self.fail(f"field '{name}'", "is missing")
        value = doc[key]
        if value is None and optional:
            return None
        if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
            raise self.fail(f"field '{name}'", f"must be {self._names(types)}, got bool")
        if not isinstance(value, types):
            raise self.fail(
                f"field '{name}'", f"must be {self._names(types)}, got {_type_name(value)} ({json.dumps(value)[:40]})"
            )
        return value

    @staticmethod
    def _names(types: type | tuple[type, ...]) -> str:
        ts = types if isinstance(types, tuple) else (types,)
        return " or ".join(
            {"int": "an integer", "float": "a number", "str": "a string", "list": "a list", "dict": "an object"}.get(
                t.__name__, t.__name__
            )
            for t in ts
        )


def parse_manifest(text: str, path: Path) -> Manifest:
    """Validate and parse manifest JSON.

    Raises:
        ProjectError: invalid JSON, unknown format version, missing field or wrong type; the message
            names the field.
    """
    chk = _Checker(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise chk.fail("is not valid JSON:", f"{err.msg} at line {err.lineno} column {err.colno}") from err
    if not isinstance(doc, dict):
        raise chk.fail("top level", f"must be an object, got {_type_name(doc)}")
    version = chk.get(doc, "format_version", int)
    if version not in (1, FORMAT_VERSION):
        newer = version > FORMAT_VERSION
        raise ProjectError(
            f"{path}: unknown project format version {version} (this LLB reads version {FORMAT_VERSION}). "
            + ("Update LLB Studio to open it." if newer else "The file is damaged; restore a backup.")
        )
    src = chk.get(doc, "source", dict)
    spath = chk.get(src, "path", str, "source.")
    rel = chk.get(src, "relpath", str, "source.", optional=True)
    fp = chk.get(src, "fingerprint", dict, "source.")
    n = chk.get(doc, "num_frames", int)
    if n <= 0:
        raise chk.fail("field 'num_frames'", f"must be positive, got {n}")
    fps = float(chk.get(doc, "fps", (int, float)))
    if fps <= 0:
        raise chk.fail("field 'fps'", f"must be positive, got {fps}")
    size = chk.get(doc, "size", list)
    if len(size) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size):
        raise chk.fail("field 'size'", f"must be [height, width] positive integers, got {size}")
    names = chk.get(doc, "frame_names", list, optional=True)
    if names is not None and (len(names) != n or not all(isinstance(v, str) for v in names)):
        raise chk.fail("field 'frame_names'", f"must list {n} strings (one per frame)")
    objects = []
    for k, raw in enumerate(chk.get(doc, "objects", list)):
        where = f"objects[{k}]."
        if not isinstance(raw, dict):
            raise chk.fail(f"field 'objects[{k}]'", f"must be an object, got {_type_name(raw)}")
        oid = chk.get(raw, "id", int, where)
        name = chk.get(raw, "name", str, where)
        colour = chk.get(raw, "colour", list, where)
        try:
            objects.append(ObjectSpec(oid, name, tuple(colour)))  # type: ignore[arg-type]
        except ValueError as err:
            raise chk.fail(f"field 'objects[{k}]'", str(err)) from err
    ids = [o.id for o in objects]
    if len(set(ids)) != len(ids):
        dup = sorted(i for i in set(ids) if ids.count(i) > 1)
        raise chk.fail("field 'objects'", f"has duplicate ids {dup}")
    settings = chk.get(doc, "settings", dict)
    frames = _parse_frames(chk, doc, n, ids) if version == FORMAT_VERSION else _migrate_frames(chk, doc, settings, ids)
    revision = chk.get(doc, "revision", int)
    return Manifest(
        source_path=spath,
        source_relpath=rel,
        fingerprint=fp,
        num_frames=n,
        fps=fps,
        size=(size[0], size[1]),
        frame_names=names,
        objects=sorted(objects, key=lambda o: o.id),
        frames=frames,
        settings=settings,
        revision=revision,
        migrated_from=None if version == FORMAT_VERSION else version,
    )


def _parse_frames(chk: _Checker, doc: dict[str, Any], n: int, ids: list[int]) -> FrameRecords:
    chk.get(doc, "keyframes", dict)
    try:
        frames = FrameRecords.from_json(doc, n)
        frames.check(dict(frames.items()), ids)
    except ValueError as err:
        raise chk.fail("frame records", f"are invalid: {err}") from err
    return frames


def _migrate_frames(chk: _Checker, doc: dict[str, Any], settings: dict[str, Any], ids: list[int]) -> FrameRecords:
    """Version 1: keyframe numbers in `keyframes`, the rest in settings (removed from `settings` here).
    Malformed legacy settings are dropped (they were never validated); the keyframe list is checked."""
    n = doc["num_frames"]
    keyframes = chk.get(doc, "keyframes", list)
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n for v in keyframes):
        raise chk.fail("field 'keyframes'", f"must list frame indices in 0..{n - 1}")
    legacy = {key: settings.pop(key, None) for key in LEGACY_KEYS}
    described = legacy["app.keyframe_objects"] if isinstance(legacy["app.keyframe_objects"], dict) else {}
    try:
        parsed = FrameRecords.from_json(
            {"provenance": legacy["app.provenance"] or [], "stale": legacy["app.stale"] or []}, n
        )
    except ValueError:
        parsed = FrameRecords(n)
    every = frozenset(ids)
    records = {f: rec for f, rec in parsed.items() if 0 <= f < n}
    for f in keyframes:
        objs = described.get(str(f))
        ok = isinstance(objs, list) and all(isinstance(i, int) for i in objs)
        annotated = frozenset(objs) & every if ok else every
        rec = records.get(f, FrameRecord())
        records[f] = FrameRecord(annotated, rec.provenance, rec.stale)
    return FrameRecords(n, records)
