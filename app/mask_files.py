"""The project's mask files, as the engine worker thread writes them. Qt-free.

Only the worker writes mask files (see `app/worker.py`); it reaches the project folder through the
`Project`'s path methods alone (`mask_path`, `soft_path`: path arithmetic, no manifest access), so the GUI
thread keeps sole use of the manifest.

A frame's soft masks (per-object probabilities, used by the alpha exports) belong to the index mask they
came with. When a frame's index mask is replaced, its soft masks are set aside in a bounded stash keyed by
(frame, index-mask digest); if that same index mask comes back (undo, redo), so do its soft masks, so undo
restores exports exactly.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import OrderedDict
from pathlib import Path

import numpy as np

from llb_core.io import atomic_write_bytes, read_index_mask, write_index_mask, write_soft_mask
from llb_core.workspace import Project

STASH_BYTES = 64 * 2**20  # soft masks kept for undo, at most


def digest(mask: np.ndarray) -> bytes:
    """Content digest of an index mask."""
    return hashlib.blake2b(np.ascontiguousarray(mask).tobytes(), digest_size=16).digest()


class MaskFiles:
    """Reads and writes one project's index and soft mask files (atomic writes, via `llb_core.io`)."""

    def __init__(self, project: Project, stash_bytes: int = STASH_BYTES) -> None:
        self._mask_path = project.mask_path
        self._soft_path = project.soft_path
        self._soft_root = project.folder / "soft"
        self.size = project.size
        self._stash: OrderedDict[tuple[int, bytes], dict[int, bytes]] = OrderedDict()
        self._stash_limit = stash_bytes
        self._stash_size = 0

    def read(self, frame: int) -> np.ndarray | None:
        """Frame's stored (H, W) uint8 index mask, or None."""
        path = self._mask_path(frame)
        return read_index_mask(path, self.size) if path.exists() else None

    def _soft_files(self, frame: int) -> dict[int, Path]:
        if not self._soft_root.is_dir():
            return {}
        found = {}
        for entry in self._soft_root.iterdir():
            if entry.name.isdigit():
                path = self._soft_path(frame, int(entry.name))
                if path.exists():
                    found[int(entry.name)] = path
        return found

    def _set_aside(self, frame: int) -> None:
        """Move the frame's soft masks into the stash (keyed by the index mask they belong to)."""
        files = self._soft_files(frame)
        if not files:
            return
        current = self.read(frame)
        if current is not None:
            key = (frame, digest(current))
            data = {obj: path.read_bytes() for obj, path in files.items()}
            self._stash.pop(key, None)
            self._stash[key] = data
            self._stash_size += sum(len(v) for v in data.values())
            while self._stash_size > self._stash_limit and self._stash:
                _, old = self._stash.popitem(last=False)
                self._stash_size -= sum(len(v) for v in old.values())
        for path in files.values():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def write(self, frame: int, mask: np.ndarray | None, probs: dict[int, np.ndarray] | None = None) -> None:
        """Set frame's index mask (None deletes it) and its soft masks.

        Args:
            probs: object id -> (H, W) float32 probability, written as soft masks (a propagated frame);
                None: the soft masks that came with this exact index mask before, if any are stashed.

        Raises:
            WriteError: the disk refused (full, read-only); the previous files are intact.
        """
        self._set_aside(frame)
        path = self._mask_path(frame)
        if mask is None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return
        write_index_mask(path, mask)
        if probs:
            for obj, prob in probs.items():
                write_soft_mask(self._soft_path(frame, obj), np.clip(prob, 0.0, 1.0), 8)
            return
        stashed = self._stash.get((frame, digest(mask)))
        for obj, data in (stashed or {}).items():
            atomic_write_bytes(self._soft_path(frame, obj), data)
