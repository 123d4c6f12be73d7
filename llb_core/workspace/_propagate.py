"""`propagate_clip`: one propagation over a clip's state, as the app runs it, for the command line and scripts.

Each finished frame is merged with its keyframe's annotation, written through the project's `MaskStore` (with
its soft masks) and recorded in the `ClipState` (its provenance; no longer stale). The app's engine thread
runs the same steps split across its two threads (`app/engine/worker.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from llb_core.workspace._clip_state import ClipState
from llb_core.workspace._mask_store import MaskStore

if TYPE_CHECKING:  # torch loads with the session, never with the workspace
    from llb_core.inference import Direction, FrameResult, RunReport, Session
    from llb_core.inference.session import CancelCheck


def propagate_clip(
    clip: ClipState,
    session: Session,
    store: MaskStore | None,
    *,
    start: int | None = None,
    direction: Direction = "forward",
    stop_at: int | None = None,
    soft: bool = True,
    on_frame: Callable[[FrameResult], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: CancelCheck = None,
) -> RunReport:
    """Propagate from `start` in `direction` (until `stop_at`, inclusive, if given; see `Session.propagate`),
    or (start None) fill every frame without a mask or with a stale one from the keyframes around it.

    Args:
        clip: the clip's state; `session` must read it (`Session(frames, model, clip, settings)`).
        session: a new session over the clip (a session keeps what it produced: one per call).
        store: where masks are written (None: kept in `clip` alone, e.g. a `DetachedClip`).
        soft: also write each object's soft mask.
        on_frame / progress / cancel: as `Session.run`.
    """
    runs = session.plan(start, direction, stop_at) if start is not None else session.plan_all(clip.missing())

    def deliver(result: FrameResult) -> None:
        merged = session.mask(result.frame)
        assert merged is not None
        if store is not None:
            store.write(result.frame, merged, result.probs if soft else None)
        clip.apply({result.frame: clip.run_state(result.frame, merged, result.provenance)})
        if on_frame is not None:
            on_frame(result)

    return session.run(runs, on_frame=deliver, progress=progress, cancel=cancel)
