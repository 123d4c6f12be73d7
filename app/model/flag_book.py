"""`FlagBook`: the per-frame stats of this session's runs and the review flags they raise. Qt-free.

Stats come from the engine worker with each propagated frame (`FrameStats`); a person's mask gets full
confidence. Flags are recomputed from the stats (`find_flags`); flags loaded with the project stay for frames
without stats that have not changed since, so a reopened project keeps its review list.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

import numpy as np

from app.model.flags import Flag, FrameStats, find_flags, flags_from_record, flags_to_record, frame_stats


class FlagBook:
    """Stats and flags of one open project (see the module docstring).

    Args:
        record: the flags stored in the project's settings (`flags_to_record`), or None.
        keyframes: frames never flagged.
    """

    def __init__(self, record: object, keyframes: Collection[int]) -> None:
        self.flags: dict[int, Flag] = flags_from_record(record, exclude=keyframes)
        self.stats: dict[int, FrameStats] = {}

    def forget(self, frames: Iterable[int]) -> None:
        """Those frames changed: their stats no longer hold."""
        for frame in frames:
            self.stats.pop(frame, None)

    def painted(self, frame: int, mask: np.ndarray) -> None:
        """A person's (H, W) uint8 mask on `frame`: full confidence, its areas."""
        self.stats[frame] = frame_stats(mask)

    def update(self, stats: Mapping[int, FrameStats]) -> None:
        self.stats.update(stats)

    def refresh(
        self, keyframes: Collection[int], has_mask: Callable[[int], bool], changed: Collection[int] = ()
    ) -> None:
        """Recompute the flags (frames in `changed` lose a flag loaded with the project)."""
        kept = {f: r for f, r in self.flags.items() if f not in self.stats and f not in changed and f not in keyframes}
        fresh = find_flags(self.stats, keyframes) if self.stats else {}
        self.flags = dict(sorted({**kept, **{f: r for f, r in fresh.items() if has_mask(f)}}.items()))

    def record(self) -> dict:
        """The flags as stored in the project's settings."""
        return flags_to_record(self.flags)
