"""Source fingerprints: detect that a project's video or image folder moved or changed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from llb_core.io._images import list_images

CHUNK = 1 << 20  # bytes hashed at each end of a file


def _hash_ends(path: Path, h: hashlib._Hash) -> None:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        h.update(fh.read(CHUNK))
        if size > CHUNK:
            fh.seek(max(CHUNK, size - CHUNK))
            h.update(fh.read(CHUNK))


def fingerprint(path: str | Path) -> dict[str, object]:
    """A cheap content fingerprint of a video file or image folder.

    File: size, mtime and SHA-256 of the first and last MiB. Folder: image count, total size, SHA-256
    of the file names plus the ends of the first and last image. Reads at most ~4 MiB.

    Raises:
        OSError: the path cannot be read.
    """
    p = Path(path)
    h = hashlib.sha256()
    if p.is_dir():
        files = list_images(p)
        for f in files:
            h.update(f.name.encode("utf-8") + b"\0")
        for f in files[:1] + files[-1:]:
            _hash_ends(f, h)
        total = sum(f.stat().st_size for f in files)
        return {
            "kind": "folder",
            "count": len(files),
            "size": total,
            "mtime_ns": p.stat().st_mtime_ns,
            "sha256": h.hexdigest(),
        }
    st = os.stat(p)
    h.update(str(st.st_size).encode())
    _hash_ends(p, h)
    return {"kind": "file", "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": h.hexdigest()}


def same_content(a: dict[str, object], b: dict[str, object]) -> bool:
    """True if two fingerprints describe the same content (mtime is ignored: copies change it)."""
    keys = ("kind", "size", "sha256", "count")
    return all(a.get(k) == b.get(k) for k in keys)
