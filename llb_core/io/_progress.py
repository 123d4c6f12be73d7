"""Progress callbacks and cancel flags shared by long operations (extraction, import, export)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from llb_core.io._errors import CancelledError

ProgressFn = Callable[[int, int], None]
"""Called as `progress(done, total)` after each unit of work."""

CancelFlag = threading.Event | Callable[[], bool] | None
"""A `threading.Event` (set = cancel) or a callable returning True to cancel."""


def is_cancelled(cancel: CancelFlag) -> bool:
    """True if the flag asks to stop."""
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def check_cancel(cancel: CancelFlag, what: str) -> None:
    """Raise `CancelledError` naming `what` if the flag asks to stop."""
    if is_cancelled(cancel):
        raise CancelledError(f"{what}: cancelled; partial output was removed and earlier files are intact.")


def report(progress: ProgressFn | None, done: int, total: int) -> None:
    """Call `progress(done, total)` if a callback was given."""
    if progress is not None:
        progress(done, total)
