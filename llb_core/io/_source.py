"""The `FrameSource` base class: random access to RGB frames with a bounded LRU cache."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import numpy as np

DEFAULT_CACHE_FRAMES = 32


class FrameCache:
    """A least-recently-used cache of decoded frames holding at most `capacity` frames.

    Memory is bounded by `capacity * H * W * 3` bytes whatever the clip length.
    """

    def __init__(self, capacity: int = DEFAULT_CACHE_FRAMES) -> None:
        if capacity < 0:
            raise ValueError(f"cache capacity must be >= 0, got {capacity}")
        self.capacity = capacity
        self._items: OrderedDict[int, np.ndarray] = OrderedDict()

    def get(self, index: int) -> np.ndarray | None:
        """The cached frame or None; a hit makes it most recently used."""
        frame = self._items.get(index)
        if frame is not None:
            self._items.move_to_end(index)
        return frame

    def put(self, index: int, frame: np.ndarray) -> None:
        """Insert a frame, evicting the least recently used ones beyond capacity."""
        if self.capacity == 0:
            return
        self._items[index] = frame
        self._items.move_to_end(index)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def clear(self) -> None:
        """Drop every cached frame."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, index: object) -> bool:
        return index in self._items


class FrameSource(ABC):
    """A clip: a video file or a folder of images, read as (H, W, 3) uint8 RGB frames.

    Subclasses implement `_decode(i)`; this class adds bounds checks, caching, iteration, locking
    (one reader at a time, so a GUI worker thread may share the source) and the context manager.
    Frames returned are read-only views shared with the cache: copy before modifying.
    """

    _fps: float  # set by the subclass while opening
    _size: tuple[int, int]

    def __init__(self, path: Path, cache_frames: int = DEFAULT_CACHE_FRAMES) -> None:
        self._path = Path(path)
        self.cache = FrameCache(cache_frames)
        self._lock = threading.RLock()

    # -- metadata --------------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The video file or image folder."""
        return self._path

    @property
    @abstractmethod
    def num_frames(self) -> int:
        """Number of frames."""

    @property
    def fps(self) -> float:
        """Frames per second (image folders: the value given when opening). Subclasses set `_fps`."""
        return self._fps

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of every frame, after any rotation metadata is applied. Subclasses set `_size`."""
        return self._size

    @property
    def bit_depth(self) -> int:
        """Bits per sample of the stored frames: 8, or 16 for 16-bit images / >8-bit video."""
        return 8

    def frame_name(self, index: int) -> str:
        """Name of frame `index` without extension, used to number exported files ("00000", ...)."""
        self._check(index)
        return f"{index:05d}"

    # -- access ----------------------------------------------------------------------------------
    def read(self, index: int) -> np.ndarray:
        """Frame `index` as (H, W, 3) uint8 RGB (read-only)."""
        self._check(index)
        with self._lock:
            frame = self.cache.get(index)
            if frame is None:
                frame = self._decode(index)
                frame.flags.writeable = False
                self.cache.put(index, frame)
            return frame

    def read16(self, index: int) -> np.ndarray:
        """Frame `index` as (H, W, 3) uint16 RGB at full precision (8-bit sources are scaled by 257)."""
        return self.read(index).astype(np.uint16) * 257

    @abstractmethod
    def _decode(self, index: int) -> np.ndarray:
        """Decode frame `index` (already bounds-checked) as a fresh (H, W, 3) uint8 RGB array."""

    def _check(self, index: int) -> None:
        if not isinstance(index, (int, np.integer)) or not 0 <= index < self.num_frames:
            raise IndexError(f"frame {index} out of range 0..{self.num_frames - 1} in {self.path}")

    def close(self) -> None:
        """Release decoders and the cache. Safe to call twice."""
        self.cache.clear()

    # -- protocol sugar --------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.num_frames

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(self.num_frames):
            yield self.read(i)

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        h, w = self.size
        name = type(self).__name__
        return f"{name}({str(self.path)!r}, {self.num_frames} frames, {w}x{h}, {self.fps:g} fps)"
