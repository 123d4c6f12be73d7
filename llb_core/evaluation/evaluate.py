"""Run a propagation method over DAVIS-layout sequences and score it the DAVIS way.

Each sequence is propagated from its first frame's mask. Frames 1..N-2 are scored (the first, given, and
the last frame are excluded), per object present in the first mask: J and F are averaged over the scored
frames that have a ground-truth file, then over objects for the sequence, then over sequences for the mean.
J&F = (J + F) / 2. J recall: the share of scored frames with J > 0.5.

With `corrections`, the "llb" method also reports the corrections curve (see `corrections.py`): the
sequence J&F after K simulated corrections of the worst frame, for each K asked.

Methods: "copy" and "flow" (weight-free references, see `reference.py`) and "llb" (the engine; torch is
imported only when it is chosen).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from llb_core.evaluation.corrections import CorrectionsCurve, corrections_curve
from llb_core.evaluation.davis import ClippedFrames, DavisRoot, EvalDataError
from llb_core.evaluation.metrics import boundary_tolerance, frame_scores
from llb_core.evaluation.reference import propagate_copy, propagate_flow
from llb_core.io import write_index_mask

METHODS: tuple[str, ...] = ("llb", "copy", "flow")

# (frames, first mask (H, W) uint8, number of frames) -> index masks (H, W) uint8 of frames 0..N-1
Method = Callable[[ClippedFrames, np.ndarray, int], Iterator[np.ndarray]]


@dataclass
class ObjectResult:
    """Scores of one object over the scored frames of a sequence."""

    j: float
    f: float
    j_recall: float


@dataclass
class SequenceResult:
    """Scores of one sequence.

    Attributes:
        name: sequence name.
        frames: frames propagated (frame 0 included).
        scored_frames: frames scored (1..N-2 with a ground-truth file).
        objects: object id -> its scores.
        j, f, jf, j_recall: means over objects; jf = (j + f) / 2.
        seconds: time the method took (frame reading included, scoring excluded).
        fps: propagated frames (N - 1) per second.
        tolerance_px: the boundary tolerance used.
        corrections: number of corrections -> J&F after them (None: not asked for).
        corrected_frames: the frames corrected, in order (None: not asked for).
    """

    name: str
    frames: int
    scored_frames: int
    objects: dict[int, ObjectResult]
    j: float
    f: float
    jf: float
    j_recall: float
    seconds: float
    fps: float
    tolerance_px: int
    corrections: dict[int, float] | None = None
    corrected_frames: list[int] | None = None


@dataclass
class EvalReport:
    """Per-sequence results and their means.

    Attributes:
        method: "llb", "copy" or "flow".
        root: the data root.
        sequences: per-sequence results, in evaluation order.
        settings: the evaluation settings (max_frames, resolution, mode, ...).
        weights: the checkpoint the llb method loaded (None: untrained heads, or a weight-free method).
    """

    method: str
    root: str
    sequences: list[SequenceResult]
    settings: dict[str, Any] = field(default_factory=dict)
    weights: str | None = None

    def _mean(self, attr: str) -> float:
        values = [getattr(s, attr) for s in self.sequences]
        return float(np.mean(values)) if values else float("nan")

    @property
    def j(self) -> float:
        """Mean J over sequences."""
        return self._mean("j")

    @property
    def f(self) -> float:
        """Mean F over sequences."""
        return self._mean("f")

    @property
    def jf(self) -> float:
        """Mean J&F over sequences, (J + F) / 2."""
        return (self.j + self.f) / 2

    @property
    def j_recall(self) -> float:
        """Mean J recall over sequences."""
        return self._mean("j_recall")

    @property
    def corrections(self) -> dict[int, float] | None:
        """Number of corrections -> mean J&F over sequences after them (None: not asked for)."""
        curves = [s.corrections for s in self.sequences if s.corrections is not None]
        if not curves:
            return None
        return {k: float(np.mean([c[k] for c in curves])) for k in curves[0]}

    @property
    def fps(self) -> float:
        """Propagated frames per second over every sequence together."""
        seconds = sum(s.seconds for s in self.sequences)
        frames = sum(max(s.frames - 1, 0) for s in self.sequences)
        return frames / seconds if seconds > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: method, root, weights, settings, per-sequence results, mean."""
        sequences = []
        for s in self.sequences:
            d = asdict(s)
            d["objects"] = {str(k): v for k, v in d["objects"].items()}
            if s.corrections is not None:
                d["corrections"] = {str(k): v for k, v in s.corrections.items()}
            sequences.append(d)
        mean_corrections = self.corrections
        return {
            "method": self.method,
            "root": self.root,
            "weights": self.weights,
            "settings": dict(self.settings),
            "sequences": sequences,
            "mean": {
                "j": self.j,
                "f": self.f,
                "jf": self.jf,
                "j_recall": self.j_recall,
                "fps": _finite(self.fps),
                "frames": sum(s.frames for s in self.sequences),
                "seconds": sum(s.seconds for s in self.sequences),
                **(
                    {}
                    if mean_corrections is None
                    else {"corrections": {str(k): v for k, v in mean_corrections.items()}}
                ),
            },
        }

    def to_json(self) -> str:
        """`to_dict` as indented JSON (infinite fps written as null)."""
        return json.dumps(_sanitize(self.to_dict()), indent=2)

    def table(self) -> str:
        """Plain-text table: sequence, J, F, J&F, frames, fps (scores in percent), and the mean row; with
        corrections, a J&F column per number of corrections (`+K`)."""
        names = [s.name for s in self.sequences] + ["mean"]
        width = max(8, *(len(n) for n in names))
        mean_corrections = self.corrections or {}
        extra = "".join(f"  {'+' + str(k):>6}" for k in mean_corrections)
        header = f"{'sequence':<{width}}  {'J':>6}  {'F':>6}  {'J&F':>6}  {'frames':>6}  {'fps':>8}{extra}"
        lines = [header, "-" * len(header)]
        rows = [(s.name, s.j, s.f, s.jf, s.frames, s.fps, s.corrections or {}) for s in self.sequences]
        frames_total = sum(s.frames for s in self.sequences)
        rows.append(("mean", self.j, self.f, self.jf, frames_total, self.fps, mean_corrections))
        for i, (name, j, f, jf, frames, fps, curve) in enumerate(rows):
            if i == len(rows) - 1:
                lines.append("-" * len(header))
            cells = "".join(f"  {100 * curve[k]:6.1f}" if k in curve else f"  {'':>6}" for k in mean_corrections)
            lines.append(
                f"{name:<{width}}  {100 * j:6.1f}  {100 * f:6.1f}  {100 * jf:6.1f}  {frames:6d}  {_fps_text(fps):>8}"
                + cells
            )
        return "\n".join(lines) + "\n"


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def _sanitize(obj: Any) -> Any:  # noqa: ANN401
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _sanitize(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_sanitize(v) for v in obj]
    return obj


def _fps_text(fps: float) -> str:
    return "inf" if not np.isfinite(fps) else f"{fps:.1f}"


def make_method(
    name: str,
    *,
    weights: str | os.PathLike[str] | None = None,
    variant: str | None = None,
    resolution: int | None = None,
    mode: str | None = None,
    device: str = "auto",
    precision: str = "auto",
    engine: Mapping[str, Any] | None = None,
) -> Method:
    """The propagation function for a method name; "llb" loads the model once here.

    Raises:
        ValueError: unknown method name.
    """
    if name == "copy":
        return propagate_copy
    if name == "flow":
        return propagate_flow
    if name == "llb":
        from llb_core.evaluation.engine_method import EngineMethod
        from llb_core.inference import SessionSettings

        settings = SessionSettings(device=device, precision=precision, **(engine or {}))
        if resolution is not None:
            settings = settings.replace(resolution=resolution)
        if mode is not None:
            settings = settings.replace(mode=mode)
        return EngineMethod(weights, variant, settings)
    raise ValueError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")


def score_masks(
    predictions: Iterator[np.ndarray],
    ground_truth: Callable[[int], np.ndarray | None],
    num_frames: int,
    obj_ids: list[int],
    tolerance: int,
    on_mask: Callable[[int, np.ndarray], None] | None = None,
) -> tuple[dict[int, ObjectResult], int, float]:
    """Score a stream of predicted masks against the ground truth, frames 1..N-2.

    Args:
        predictions: (H, W) uint8 index masks of frames 0..num_frames-1, in order.
        ground_truth: frame index -> (H, W) uint8 index mask, or None for a frame without annotation.
        num_frames: N, the number of frames the stream holds.
        obj_ids: objects to score.
        tolerance: boundary tolerance in pixels.
        on_mask: called with (frame, mask) for every prediction (to save it).

    Returns:
        (object id -> scores, number of scored frames, seconds spent inside the prediction stream).

    Raises:
        EvalDataError: the stream ended early.
    """
    j_values: dict[int, list[float]] = {obj: [] for obj in obj_ids}
    f_values: dict[int, list[float]] = {obj: [] for obj in obj_ids}
    scored = 0
    seconds = 0.0
    iterator = iter(predictions)
    for index in range(num_frames):
        start = time.perf_counter()
        mask = next(iterator, None)
        seconds += time.perf_counter() - start
        if mask is None:
            raise EvalDataError(f"the method produced {index} masks for a clip of {num_frames} frames")
        if on_mask is not None:
            on_mask(index, mask)
        if not 1 <= index <= num_frames - 2:
            continue
        gt = ground_truth(index)
        if gt is None:
            continue
        scored += 1
        for obj, (j, f) in frame_scores(mask, gt, obj_ids, tolerance).items():
            j_values[obj].append(j)
            f_values[obj].append(f)
    objects = {
        obj: ObjectResult(
            j=float(np.mean(j_values[obj])) if scored else float("nan"),
            f=float(np.mean(f_values[obj])) if scored else float("nan"),
            j_recall=float(np.mean(np.asarray(j_values[obj]) > 0.5)) if scored else float("nan"),
        )
        for obj in obj_ids
    }
    return objects, scored, seconds


def evaluate(
    root: str | Path,
    sequences: list[str] | None = None,
    method: str = "llb",
    *,
    max_frames: int | None = None,
    resolution: int | None = None,
    mode: str | None = None,
    weights: str | os.PathLike[str] | None = None,
    variant: str | None = None,
    device: str = "auto",
    precision: str = "auto",
    save_masks: str | Path | None = None,
    on_sequence: Callable[[SequenceResult], None] | None = None,
    propagator: Method | None = None,
    corrections: list[int] | None = None,
    resolution_folder: str | None = None,
    engine: Mapping[str, Any] | None = None,
) -> EvalReport:
    """Propagate each sequence from its first mask with `method` and score it.

    Args:
        root: DAVIS-layout root (JPEGImages/<res>, Annotations/<res>).
        sequences: names to evaluate (default: every sequence of the root).
        method: "llb", "copy" or "flow".
        max_frames: evaluate only the first N frames of each sequence (N >= 3).
        resolution, mode, weights, variant, device, precision: engine settings (method "llb" only).
        save_masks: write the predicted masks as `DIR/<seq>/<frame>.png` palette PNGs.
        on_sequence: called with each finished sequence's result (progress reports).
        propagator: use this function instead of building `method` (its name is still reported).
        corrections: also report the corrections curve at these numbers of corrections, e.g. [0, 1, 2, 4]
            (method "llb" only, through the engine's keyframes; not with `save_masks`).
        resolution_folder: the root's resolution folder (e.g. "240p"); None: the only one it holds.
        engine: further `SessionSettings` fields (method "llb"), e.g. {"finetune_steps": 20}.

    Returns:
        The report.

    Raises:
        EvalDataError: bad root, unknown sequence, missing first mask, too few frames.
        MaskFileError: unreadable mask or a mask of another size than its frames.
    """
    if max_frames is not None and max_frames < 3:
        raise EvalDataError(f"max_frames={max_frames}: the first and last frames are not scored; give at least 3")
    if corrections is not None and (method != "llb" or save_masks is not None):
        raise EvalDataError("corrections: only with the llb method (the engine's keyframes) and without saved masks")
    data = DavisRoot(root, resolution_folder)
    names = list(sequences) if sequences else data.sequences()
    data.check_names(names)
    if not names:
        raise EvalDataError(f"{data.frames_dir}: no sequences found")
    if method not in METHODS and propagator is None:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    opened = [data.sequence(name, max_frames) for name in names]
    first_masks = [seq.first_mask() for seq in opened]  # fail on a missing first mask before any work
    for seq in opened:
        if seq.num_frames < 3:
            raise EvalDataError(
                f"{data.frames_dir / seq.name}: {seq.num_frames} frames; scoring needs at least 3 "
                "(the first and last are excluded). Leave it out with --sequences."
            )
        if not any(path.is_file() for path in seq.mask_paths[1:-1]):
            raise EvalDataError(
                f"{seq.mask_paths[0].parent}: no ground-truth mask for frames 1..{seq.num_frames - 2}, so nothing "
                "to score. Add the annotations or leave the sequence out with --sequences."
            )
    run = propagator or make_method(
        method,
        weights=weights,
        variant=variant,
        resolution=resolution,
        mode=mode,
        device=device,
        precision=precision,
        engine=engine,
    )
    results = []
    for seq, first in zip(opened, first_masks, strict=True):
        obj_ids = sorted(set(np.unique(first).tolist()) - {0})
        tolerance = boundary_tolerance(seq.size)
        on_mask = None
        if save_masks is not None:
            out = Path(save_masks) / seq.name

            def on_mask(index: int, mask: np.ndarray, out: Path = out, seq: Any = seq) -> None:  # noqa: ANN401
                write_index_mask(out / seq.mask_paths[index].name, mask)

        curve: CorrectionsCurve | None = None
        if corrections is not None:
            clip = run.new_clip(seq.frames, first)  # type: ignore[attr-defined]
            sessions = partial(run.new_session, seq.frames)  # type: ignore[attr-defined]
            curve = corrections_curve(clip, sessions, seq.ground_truth, obj_ids, corrections, tolerance)
            objects, scored, seconds = _object_results(curve, obj_ids), len(curve.initial), curve.initial_seconds
        else:
            objects, scored, seconds = score_masks(
                run(seq.frames, first, seq.num_frames), seq.ground_truth, seq.num_frames, obj_ids, tolerance, on_mask
            )
        j = float(np.mean([o.j for o in objects.values()]))
        f = float(np.mean([o.f for o in objects.values()]))
        result = SequenceResult(
            name=seq.name,
            frames=seq.num_frames,
            scored_frames=scored,
            objects=objects,
            j=j,
            f=f,
            jf=(j + f) / 2,
            j_recall=float(np.mean([o.j_recall for o in objects.values()])),
            seconds=seconds,
            fps=(seq.num_frames - 1) / seconds if seconds > 0 else float("inf"),
            tolerance_px=tolerance,
            corrections=None if curve is None else dict(curve.jf),
            corrected_frames=None if curve is None else [c.frame for c in curve.corrections],
        )
        results.append(result)
        if on_sequence is not None:
            on_sequence(result)
    settings: dict[str, Any] = {"max_frames": max_frames, "sequences": names, "resolution_folder": data.resolution}
    if corrections is not None:
        settings["corrections"] = list(corrections)
    weights_path = None if weights is None else str(weights)
    if method == "llb":
        engine = getattr(run, "settings", None)  # the effective engine settings, defaults filled in
        settings.update(
            resolution=engine.resolution if engine else resolution,
            mode=engine.mode if engine else mode,
            variant=variant,
            device=device,
            precision=precision,
        )
        weights_path = getattr(run, "weights_path", weights_path)
        settings["untrained"] = weights_path is None
    return EvalReport(method=method, root=str(data.root), sequences=results, settings=settings, weights=weights_path)


def _object_results(curve: CorrectionsCurve, obj_ids: list[int]) -> dict[int, ObjectResult]:
    """Per-object scores of the propagation before any correction."""
    frames = list(curve.initial.values())
    if not frames:
        return {obj: ObjectResult(float("nan"), float("nan"), float("nan")) for obj in obj_ids}
    return {
        obj: ObjectResult(
            j=float(np.mean([s[obj][0] for s in frames])),
            f=float(np.mean([s[obj][1] for s in frames])),
            j_recall=float(np.mean([s[obj][0] > 0.5 for s in frames])),
        )
        for obj in obj_ids
    }
