"""Frames read ahead of the engine on a background thread, so that decoding overlaps the network's work."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np


class ReadAhead:
    """Reads the frames of `order` up to `depth` ahead of the one asked for.

    The source must be safe to read from another thread (`llb_core.io.FrameSource` is). An error while
    reading comes out of `read` for that frame. Call `close` when done (pending reads are dropped).

    Args:
        frames: anything with `read(index) -> (H, W, 3) uint8`.
        order: the frame indices in the order they will be asked for.
        depth: frames decoded ahead.
    """

    def __init__(self, frames: object, order: Sequence[int], depth: int = 2) -> None:
        self.frames = frames
        self.order = list(order)
        self.position = {index: i for i, index in enumerate(self.order)}
        self.depth = depth
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="llb-read-ahead")
        self._pending: dict[int, Future] = {}
        self._next = 0  # position in `order` of the next read to schedule
        self._fill(0)

    def _fill(self, position: int) -> None:
        while self._next < len(self.order) and self._next <= position + self.depth:
            index = self.order[self._next]
            self._pending[index] = self._pool.submit(self.frames.read, index)  # type: ignore[attr-defined]
            self._next += 1

    def read(self, index: int) -> np.ndarray:
        """Frame `index` (read now if it was not scheduled)."""
        future = self._pending.pop(index, None)
        if index in self.position:
            self._fill(self.position[index])
        if future is None:
            return self.frames.read(index)  # type: ignore[attr-defined,no-any-return]
        return future.result()  # type: ignore[no-any-return]

    def close(self) -> None:
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)
