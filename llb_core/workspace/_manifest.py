"""The project manifest (`manifest.json`): schema, validation with precise messages, serialisation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llb_core.io._objects import ObjectSpec
from llb_core.workspace._errors import ProjectError

FORMAT_VERSION = 1
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
        keyframes: frame indices the user annotated by hand, sorted.
        settings: free-form JSON values (internal resolution, cache size, ...).
        revision: bumped by every change; the journal replays changes newer than the saved revision.
    """

    source_path: str
    source_relpath: str | None
    fingerprint: dict[str, Any]
    num_frames: int
    fps: float
    size: tuple[int, int]
    frame_names: list[str] | None = None
    objects: list[ObjectSpec] = field(default_factory=list)
    keyframes: list[int] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    revision: int = 0

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
            "keyframes": self.keyframes,
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
    if version != FORMAT_VERSION:
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
    keyframes = chk.get(doc, "keyframes", list)
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n for v in keyframes):
        raise chk.fail("field 'keyframes'", f"must list frame indices in 0..{n - 1}")
    settings = chk.get(doc, "settings", dict)
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
        keyframes=sorted(set(keyframes)),
        settings=settings,
        revision=revision,
    )
