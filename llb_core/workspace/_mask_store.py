"""`MaskStore`: the one writer of a project's mask files (layout, id checks, atomic writes, soft-mask stash).

Layout::

    <project>/masks/00000.png      index mask of frame 0 (DAVIS palette PNG; 0 = background, k = object id)
    <project>/soft/<id>/00000.png  soft mask of object <id> on frame 0 (8-bit greyscale)

A mask exists iff its file does, so a mask is durable as soon as `write` returns. Every writer (the app's
engine thread, the command line, mask import) goes through `write`; reads may come from any thread (files are
replaced atomically, never written in place).

A frame's soft masks (per-object probabilities, used by the alpha exports) belong to the index mask they came
with. When a frame's index mask is replaced, its soft masks are set aside in a bounded in-memory stash keyed by
(frame, index-mask digest); if that same index mask comes back (undo, redo), so do its soft masks, so undo
restores exports exactly.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import numpy as np

from llb_core.io import (
    MaskFileError,
    atomic_write_bytes,
    read_index_mask,
    read_soft_mask,
    write_index_mask,
    write_soft_mask,
)
from llb_core.workspace._errors import ProjectError

STASH_BYTES = 64 * 2**20  # soft masks kept for undo, at most


def digest(mask: np.ndarray) -> bytes:
    """Content digest of an index mask."""
    return hashlib.blake2b(np.ascontiguousarray(mask).tobytes(), digest_size=16).digest()


class MaskStore:
    """Index and soft mask files of one project folder (see the module docstring).

    Args:
        folder: the project folder.
        size: (H, W) of every mask.
        num_frames: frames in the clip.
        declared: the declared object ids now (a write holding another id is refused).
        stash_bytes: soft masks kept for undo, at most.
    """

    def __init__(
        self,
        folder: Path,
        size: tuple[int, int],
        num_frames: int,
        declared: Callable[[], Collection[int]],
        stash_bytes: int = STASH_BYTES,
    ) -> None:
        self.folder = Path(folder)
        self.size = size
        self.num_frames = num_frames
        self._declared = declared
        self._stash: OrderedDict[tuple[int, bytes], dict[int, bytes]] = OrderedDict()
        self._stash_limit = stash_bytes
        self._stash_size = 0

    # -- layout ----------------------------------------------------------------------------------
    def path(self, frame: int) -> Path:
        """Path of frame `frame`'s index mask."""
        return self.folder / "masks" / f"{frame:05d}.png"

    def soft_path(self, frame: int, obj_id: int) -> Path:
        """Path of object `obj_id`'s soft mask on frame `frame`."""
        return self.folder / "soft" / str(obj_id) / f"{frame:05d}.png"

    def _check_frame(self, frame: int) -> None:
        if not 0 <= frame < self.num_frames:
            raise ProjectError(f"{self.folder}: frame {frame} out of range 0..{self.num_frames - 1}.")

    # -- reading ---------------------------------------------------------------------------------
    def has(self, frame: int) -> bool:
        """True if frame `frame` has a stored index mask."""
        return self.path(frame).exists()

    def frames(self) -> list[int]:
        """Sorted frames with a stored index mask."""
        folder = self.folder / "masks"
        if not folder.is_dir():
            return []
        return sorted(int(p.stem) for p in folder.glob("*.png") if p.stem.isdigit())

    def read(self, frame: int) -> np.ndarray | None:
        """Frame's stored (H, W) uint8 index mask, or None.

        Raises:
            MaskFileError: the stored file is unreadable or has the wrong size.
        """
        self._check_frame(frame)
        path = self.path(frame)
        return read_index_mask(path, self.size) if path.exists() else None

    def soft(self, frame: int, obj_id: int) -> np.ndarray | None:
        """An object's (H, W) float32 soft mask on frame `frame`, or None if not stored."""
        self._check_frame(frame)
        path = self.soft_path(frame, obj_id)
        try:
            return read_soft_mask(path, self.size)
        except MaskFileError:
            if not path.exists():
                return None
            raise

    def soft_ids(self, frame: int) -> dict[int, Path]:
        """Object id -> soft mask file of every soft mask stored for `frame`."""
        root = self.folder / "soft"
        if not root.is_dir():
            return {}
        found = {}
        for entry in root.iterdir():
            if entry.name.isdigit() and (path := self.soft_path(frame, int(entry.name))).exists():
                found[int(entry.name)] = path
        return found

    # -- writing ---------------------------------------------------------------------------------
    def check(self, frame: int, mask: np.ndarray, objects: Collection[int] | None = None) -> None:
        """Raise ProjectError unless `mask` is an (H, W) uint8 index mask of declared objects for `frame`.

        Args:
            objects: the declared ids to check against (default: those declared now). A writer on another
                thread passes the ids declared when the write was asked for.
        """
        self._check_frame(frame)
        if mask.shape != self.size or mask.dtype != np.uint8:
            raise ProjectError(f"{self.path(frame)}: mask must be {self.size} uint8, got {mask.shape} {mask.dtype}.")
        declared = set(self._declared() if objects is None else objects)
        unknown = sorted(set(np.unique(mask).tolist()) - {0} - declared)
        if unknown:
            raise ProjectError(f"{self.path(frame)}: object id(s) {unknown} are not declared; add the object first.")

    def write(
        self,
        frame: int,
        mask: np.ndarray | None,
        probs: Mapping[int, np.ndarray] | None = None,
        objects: Collection[int] | None = None,
    ) -> None:
        """Set frame's index mask (None deletes it, with its soft masks) and its soft masks (atomic writes).

        Args:
            mask: (H, W) uint8 index mask.
            probs: object id -> (H, W) float32 probability in [0, 1], written as soft masks (a propagated
                frame); None: the soft masks that came with this exact index mask before, if any are stashed.
            objects: see `check`.

        Raises:
            ProjectError: wrong shape, dtype, frame or undeclared ids (nothing is written).
            WriteError: the disk refused (full, read-only); the previous files are intact.
        """
        if mask is not None:
            mask = np.asarray(mask)
            self.check(frame, mask, objects)
        else:
            self._check_frame(frame)
        self._set_aside(frame)
        if mask is None:
            with contextlib.suppress(FileNotFoundError):
                self.path(frame).unlink()
            return
        write_index_mask(self.path(frame), mask)
        if probs:
            for obj, prob in probs.items():
                write_soft_mask(self.soft_path(frame, obj), np.clip(prob, 0.0, 1.0), 8)
            return
        stashed = self._stash.get((frame, digest(mask)))
        for obj, data in (stashed or {}).items():
            atomic_write_bytes(self.soft_path(frame, obj), data)

    def delete(self, frame: int) -> None:
        """Remove frame's index mask and soft masks (no error if absent)."""
        self.write(frame, None)

    def _set_aside(self, frame: int) -> None:
        """Move the frame's soft masks into the stash (keyed by the index mask they belong to)."""
        files = self.soft_ids(frame)
        if not files:
            return
        current = self.read(frame) if self.has(frame) else None
        if current is not None:
            key = (frame, digest(current))
            data = {obj: path.read_bytes() for obj, path in files.items()}
            old = self._stash.pop(key, None)
            self._stash_size -= sum(len(v) for v in (old or {}).values())
            self._stash[key] = data
            self._stash_size += sum(len(v) for v in data.values())
            while self._stash_size > self._stash_limit and self._stash:
                _, dropped = self._stash.popitem(last=False)
                self._stash_size -= sum(len(v) for v in dropped.values())
        for path in files.values():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
