"""`RunRecorder`: what one propagation run changes, frame by frame, for its undo step. Qt-free.

For each frame a run delivers it keeps the state the frame had before (the stored mask the worker replaced,
which is the truth: a lazy read during the run may already have seen the new file) and the state after, with
the review stats on both sides, so undo and redo restore a run exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.engine.worker import FrameUpdate
from app.model.flags import FrameStats
from llb_core.workspace import ClipState, FrameState, States, encode_mask


@dataclass
class RunRecord:
    """A finished run's changes: frame states before / after and the stats before / after."""

    before: States = field(default_factory=dict)
    after: States = field(default_factory=dict)
    stats_before: dict[int, FrameStats] = field(default_factory=dict)
    stats_after: dict[int, FrameStats] = field(default_factory=dict)


class RunRecorder:
    """Collects a run's changes (see the module docstring); `take` hands them over and starts afresh."""

    def __init__(self) -> None:
        self._record = RunRecord()

    def frame(self, clip: ClipState, update: FrameUpdate, stats: dict[int, FrameStats]) -> FrameState:
        """Record a delivered frame (before `clip` changes); returns its state after the run."""
        f = update.frame
        rec = self._record
        if f not in rec.before:
            replaced = None if update.replaced is None else encode_mask(update.replaced)
            old = clip.state(f)
            rec.before[f] = FrameState(replaced, old.annotated, old.provenance, old.stale)
            if f in stats:
                rec.stats_before[f] = stats[f]
        after = clip.run_state(f, update.mask, update.provenance)
        rec.after[f] = after
        rec.stats_after[f] = update.stats
        return after

    def take(self) -> RunRecord:
        record, self._record = self._record, RunRecord()
        return record
