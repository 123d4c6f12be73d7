"""File writes on a background thread, so that encoding and writing masks overlaps the engine's next frame."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

_STOP = object()


class BackgroundWriter:
    """Runs submitted write calls in order on one background thread.

    At most `depth` calls wait (`submit` blocks beyond that, so memory stays bounded). The first error a call
    raises is raised again from the next `submit` or from `close`, and later calls are not run: nothing fails
    silently. Use as a context manager, or call `close` (which waits for every submitted write).

    Args:
        depth: queued calls before `submit` blocks.
    """

    def __init__(self, depth: int = 8) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="llb-writer", daemon=True)
        self._thread.start()
        self._closed = False

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is None:
                func, args = item
                try:
                    func(*args)
                except BaseException as err:  # handed to the caller by submit/close
                    self._error = err

    def _raise_error(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def submit(self, func: Callable[..., Any], *args: Any) -> None:  # noqa: ANN401
        """Queue `func(*args)`; raises the error of an earlier call, if one failed."""
        if self._closed:
            raise RuntimeError("this writer is closed")
        self._raise_error()
        self._queue.put((func, args))

    def close(self) -> None:
        """Wait for every queued write; raises the first error among them. Safe to call twice."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join()
        self._raise_error()

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
            return
        # an error is already on its way out: still finish (or stop) the writes queued before it
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()
