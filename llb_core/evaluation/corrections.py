"""The corrections curve: J&F after K simulated corrections, through the app's own keyframe path.

A simulated person watches a clip propagated from frame 0's ground truth, picks the worst frame (the lowest
per-frame J&F among the scored frames that are not keyframes yet), paints its ground truth as a keyframe
(`ClipState.edit`, which marks stale exactly the propagated frames that depended on that frame, by
`FrameRecords.invalidated_by`) and lets the engine fill the stale frames again (`propagate_clip` without a
start, what the GUI's Fill missing frames runs after a correction). The curve is the
sequence J&F (per object over the scored frames, corrected ones included, then over objects) after 0, 1,
2, ... corrections.

Naming: t a frame index, c a corrected frame, scores[t][obj] = (J, F) of one object on frame t.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from llb_core.evaluation.metrics import frame_scores
from llb_core.workspace import ClipState, propagate_clip

if TYPE_CHECKING:  # torch stays unimported until the engine is used
    from llb_core.inference import FrameResult, Session

SessionFactory = Callable[[ClipState], "Session"]

FrameScores = dict[int, dict[int, tuple[float, float]]]  # frame -> object id -> (J, F)


@dataclass
class Correction:
    """One simulated correction.

    Attributes:
        frame: the corrected frame (its ground truth became a keyframe).
        jf_before: that frame's J&F before the correction.
        invalidated: propagated frames the correction made stale.
        recomputed: frames the re-propagation produced, in the order it produced them.
        seconds: time of the re-propagation.
    """

    frame: int
    jf_before: float
    invalidated: list[int]
    recomputed: list[int]
    seconds: float


@dataclass
class CorrectionsCurve:
    """Sequence J&F after each requested number of corrections.

    Attributes:
        jf: number of corrections -> sequence J&F (J and F averaged per object, then over objects).
        j, f: the same for J and F alone.
        corrections: the corrections made, in order (fewer than asked when every scored frame got one).
        initial: per-frame scores of the propagation from frame 0 alone (before any correction).
        initial_seconds: time of that propagation.
    """

    jf: dict[int, float] = field(default_factory=dict)
    j: dict[int, float] = field(default_factory=dict)
    f: dict[int, float] = field(default_factory=dict)
    corrections: list[Correction] = field(default_factory=list)
    initial: FrameScores = field(default_factory=dict)
    initial_seconds: float = 0.0


def parse_counts(text: str) -> list[int]:
    """ "0,1,2,4" -> [0, 1, 2, 4] (sorted, unique); raises ValueError on anything else."""
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as err:
        raise ValueError(f"{text!r}: give numbers of corrections separated by commas, e.g. 0,1,2,4") from err
    if not counts or counts[0] < 0:
        raise ValueError(f"{text!r}: give numbers of corrections >= 0 separated by commas, e.g. 0,1,2,4")
    return counts


def sequence_means(scores: FrameScores, obj_ids: list[int]) -> tuple[float, float]:
    """(J, F) of a sequence: each object's mean over the scored frames, then the mean over objects."""
    if not scores:
        return float("nan"), float("nan")
    j = np.mean([np.mean([s[obj][0] for s in scores.values()]) for obj in obj_ids])
    f = np.mean([np.mean([s[obj][1] for s in scores.values()]) for obj in obj_ids])
    return float(j), float(f)


def _frame_jf(score: dict[int, tuple[float, float]]) -> float:
    return float(np.mean([(j + f) / 2 for j, f in score.values()]))


def corrections_curve(
    clip: ClipState,
    new_session: SessionFactory,
    ground_truth: Callable[[int], np.ndarray | None],
    obj_ids: list[int],
    counts: list[int],
    tolerance: int,
) -> CorrectionsCurve:
    """Propagate from the clip's keyframes, then correct the worst frame `max(counts)` times.

    Args:
        clip: a clip whose objects and frame-0 keyframe are set and which has nothing propagated.
        new_session: a new session (one run) reading the clip.
        ground_truth: frame -> (H, W) uint8 index mask, or None for a frame without annotation.
        obj_ids: the objects scored (ground-truth ids outside it are painted as background on corrections).
        counts: numbers of corrections to report, sorted ascending (e.g. [0, 1, 2, 4]).
        tolerance: boundary tolerance in pixels.

    Returns:
        The curve; frames 1..N-2 with a ground-truth file are scored, as in `evaluate`.
    """
    n = clip.num_frames
    truth = {t: gt for t in range(1, n - 1) if (gt := ground_truth(t)) is not None}
    scores: FrameScores = {}

    def score(t: int) -> None:
        mask = clip.mask(t)
        if mask is None or clip.is_stale(t):
            raise RuntimeError(f"the engine left frame {t} without a mask")
        scores[t] = frame_scores(mask, truth[t], obj_ids, tolerance)

    report = propagate_clip(clip, new_session(clip), None)
    for t in truth:
        score(t)
    curve = CorrectionsCurve(initial={t: dict(s) for t, s in scores.items()}, initial_seconds=report.seconds)

    def record(count: int) -> None:
        j, f = sequence_means(scores, obj_ids)
        curve.j[count], curve.f[count], curve.jf[count] = j, f, (j + f) / 2

    for count in range(max(counts) + 1):
        if count:
            candidates = [t for t in scores if t not in clip.keyframes]
            if candidates:
                c = min(candidates, key=lambda t: (_frame_jf(scores[t]), t))
                curve.corrections.append(_correct(clip, new_session, c, truth[c], obj_ids, _frame_jf(scores[c])))
                for t in {c, *curve.corrections[-1].invalidated} & truth.keys():
                    score(t)
        if count in counts:
            record(count)
    return curve


def _correct(
    clip: ClipState, new_session: SessionFactory, c: int, gt: np.ndarray, obj_ids: list[int], jf_before: float
) -> Correction:
    """Paint frame `c`'s ground truth as a keyframe and re-propagate what the change made stale."""
    mask = np.where(np.isin(gt, obj_ids), gt, 0).astype(np.uint8)
    session = new_session(clip)
    states = clip.edit(c, mask, obj_ids, session.settings.keyframes_in_memory)
    clip.apply(states)
    invalidated = sorted(f for f, st in states.items() if st.stale)
    recomputed: list[int] = []

    def on_frame(result: FrameResult) -> None:
        recomputed.append(result.frame)

    report = propagate_clip(clip, session, None, on_frame=on_frame)
    return Correction(c, jf_before, invalidated, recomputed, report.seconds)
