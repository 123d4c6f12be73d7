"""Which frames an export writes: the in/out range, and what to do with frames that have no mask.

Names: a "masked" frame has a stored index mask (`MaskSequence.has_mask`); a "missing" frame lies in the
range without one. Policies for missing frames (`MISSING_POLICIES`):
  skip   not written (image sequences keep the frame names, so numbering has gaps; videos get shorter),
  empty  written with no object (transparent cutouts, black mattes),
  hold   written with the masks (index and soft) of the nearest earlier masked frame, even one before the
         range; empty when there is none.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from llb_core.io._errors import ExportError

if TYPE_CHECKING:
    from llb_core.io.export._sequence import MaskSequence

MISSING_POLICIES = ("skip", "empty", "hold")


def masked_frames(seq: MaskSequence) -> list[int]:
    """Sorted indices of the frames of `seq` that have a stored mask."""
    return [i for i in range(seq.num_frames) if seq.has_mask(i)]


def check_missing(missing: str) -> str:
    """`missing` if it is one of `MISSING_POLICIES`, else `ExportError`."""
    if missing not in MISSING_POLICIES:
        raise ExportError(f"missing-frame policy must be one of {', '.join(MISSING_POLICIES)}, got {missing!r}")
    return missing


def check_range(frames: tuple[int, int] | None, num_frames: int) -> tuple[int, int]:
    """The inclusive (first, last) range `frames` names (None: the whole clip), checked against the clip.

    Raises:
        ExportError: the range is reversed or leaves the clip.
    """
    if frames is None:
        return 0, num_frames - 1
    first, last = (int(v) for v in frames)
    if not 0 <= first <= last < num_frames:
        raise ExportError(
            f"frame range {first}:{last} is not inside the clip (frames 0..{num_frames - 1}); "
            "give first:last with first <= last."
        )
    return first, last


@dataclass(frozen=True)
class FramePlan:
    """The frames one export writes.

    Attributes:
        first: first frame of the range.
        last: last frame of the range (inclusive).
        frames: frame indices written, in order.
        missing: frames of the range without a mask (written or not, depending on the policy).
        held: written frame -> the earlier frame whose masks it shows (policy "hold").
    """

    first: int
    last: int
    frames: tuple[int, ...]
    missing: tuple[int, ...]
    held: Mapping[int, int]


def plan_frames(
    seq: MaskSequence,
    frames: tuple[int, int] | None = None,
    missing: str = "empty",
    masked: Sequence[int] | None = None,
) -> FramePlan:
    """Plan an export of the range `frames` of `seq` with policy `missing` for frames without a mask.

    Args:
        seq: the sequence.
        frames: inclusive (first, last) frame indices; None: every frame.
        missing: one of `MISSING_POLICIES`.
        masked: sorted indices of the masked frames, when the caller knows them (default: asks `seq`).

    Raises:
        ExportError: unknown policy, bad range, or nothing left to write.
    """
    check_missing(missing)
    first, last = check_range(frames, seq.num_frames)
    masked = list(masked) if masked is not None else masked_frames(seq)
    have = set(masked)
    span = range(first, last + 1)
    absent = tuple(i for i in span if i not in have)
    held: dict[int, int] = {}
    if missing == "hold":
        for i in absent:
            k = bisect.bisect_left(masked, i)
            if k > 0:
                held[i] = masked[k - 1]
    written = tuple(i for i in span if i in have) if missing == "skip" else tuple(span)
    if not written:
        raise ExportError(
            f"nothing to export: no frame in {first}:{last} has a mask; choose another range, or write the "
            "frames without masks as empty frames."
        )
    return FramePlan(first, last, written, absent, held)


class PlannedSequence:
    """`seq` as a plan exports it: held frames read the masks of the frame they hold, the rest pass through."""

    def __init__(self, seq: MaskSequence, plan: FramePlan) -> None:
        self._seq = seq
        self.plan = plan

    def __getattr__(self, name: str) -> object:
        return getattr(self._seq, name)

    def _source(self, index: int) -> int:
        return self.plan.held.get(index, index)

    def has_mask(self, index: int) -> bool:
        return self._seq.has_mask(self._source(index))

    def index_mask(self, index: int) -> np.ndarray:
        return self._seq.index_mask(self._source(index))

    def soft_mask(self, index: int, obj_id: int) -> np.ndarray | None:
        return self._seq.soft_mask(self._source(index), obj_id)
