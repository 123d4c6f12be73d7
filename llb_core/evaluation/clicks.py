"""The standard interactive-segmentation protocol on frames of a DAVIS-layout root.

For every `every`-th frame and every object on it, a simulated person clicks (first deep inside the object,
then at the centre of the largest error region, positive or negative accordingly) up to `max_clicks` times;
the model refines its last mask at each click. Reported per object, then averaged per sequence and over all
objects: NoC@85 / NoC@90 (clicks until IoU >= 85 % / 90 %; `max_clicks` when never reached) and IoU after
1, 3 and 5 clicks. The reference row is GrabCut started from the ground truth's bounding box.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from llb_core.errors import LLBError
from llb_core.interactive.clicks import Click, iou, mask_box, next_click
from llb_core.interactive.grabcut import grabcut_box
from llb_core.interactive.session import ClickSession
from llb_core.io import davis_folders, davis_sequences
from llb_core.model.clicknet import ClickNet
from llb_core.train.data import read_davis

THRESHOLDS = (0.85, 0.90)
REPORTED_CLICKS = (1, 3, 5)


@dataclass
class ObjectResult:
    """One object on one frame: IoU after each click (index k: after k + 1 clicks) and GrabCut's IoU."""

    sequence: str
    frame: int
    object_id: int
    ious: list[float]
    grabcut: float
    seconds_per_click: float

    def noc(self, threshold: float, max_clicks: int) -> int:
        """Clicks needed to reach `threshold` IoU (`max_clicks` when never reached)."""
        for k, value in enumerate(self.ious, start=1):
            if value >= threshold:
                return k
        return max_clicks

    def iou_at(self, clicks: int) -> float:
        """IoU after `clicks` clicks (the last reached value if the person stopped earlier: a perfect mask)."""
        return self.ious[min(clicks, len(self.ious)) - 1]


@dataclass
class ClickReport:
    """Every object's result and the averages (`rows`: per sequence, "mean" over all objects and, with several
    sequences, "clip mean" over sequences)."""

    max_clicks: int
    objects: list[ObjectResult] = field(default_factory=list)

    def summary(self, results: list[ObjectResult]) -> dict[str, float]:
        row: dict[str, float] = {"objects": float(len(results))}
        for t in THRESHOLDS:
            row[f"noc@{round(100 * t)}"] = float(np.mean([r.noc(t, self.max_clicks) for r in results]))
        for k in REPORTED_CLICKS:
            row[f"iou@{k}"] = float(np.mean([r.iou_at(k) for r in results]))
        row["grabcut"] = float(np.mean([r.grabcut for r in results]))
        row["ms_per_click"] = 1000 * float(np.mean([r.seconds_per_click for r in results]))
        return row

    def rows(self) -> dict[str, dict[str, float]]:
        names = list(dict.fromkeys(r.sequence for r in self.objects))
        out = {n: self.summary([r for r in self.objects if r.sequence == n]) for n in names}
        if self.objects:
            out["mean"] = self.summary(self.objects)
            if len(names) > 1:  # every sequence weighs the same, however many objects and frames it has
                out["clip mean"] = {k: float(np.mean([out[n][k] for n in names])) for k in out["mean"]}
                out["clip mean"]["objects"] = out["mean"]["objects"]
        return out

    def table(self) -> str:
        """The report as a fixed-width table (IoU in %)."""
        head = f"{'sequence':<16}{'objects':>8}{'NoC@85':>8}{'NoC@90':>8}"
        head += "".join(f"{'IoU@' + str(k):>8}" for k in REPORTED_CLICKS) + f"{'GrabCut':>9}{'ms/click':>10}\n"
        lines = [head]
        for name, row in self.rows().items():
            line = f"{name:<16}{int(row['objects']):>8}{row['noc@85']:>8.2f}{row['noc@90']:>8.2f}"
            line += "".join(f"{100 * row[f'iou@{k}']:>8.1f}" for k in REPORTED_CLICKS)
            lines.append(line + f"{100 * row['grabcut']:>9.1f}{row['ms_per_click']:>10.0f}\n")
        return "".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {"max_clicks": self.max_clicks, "rows": self.rows(), "objects": [asdict(r) for r in self.objects]},
            indent=1,
        )


def click_object(session: ClickSession, truth: np.ndarray, max_clicks: int) -> tuple[list[float], list[float]]:
    """Run the simulated person on one object; returns the IoU and the seconds of each click.

    The person stops early once the mask is exact (no error region left)."""
    session.reset()
    prediction = np.zeros_like(truth)
    clicks: list[Click] = []
    ious: list[float] = []
    seconds: list[float] = []
    for _ in range(max_clicks):
        click = next_click(prediction, truth)
        if click is None:
            break
        clicks.append(click)
        tic = time.perf_counter()
        prediction = session.predict(clicks)
        seconds.append(time.perf_counter() - tic)
        ious.append(iou(prediction, truth))
    return ious or [1.0], seconds


def evaluate_clicks(
    model: ClickNet,
    roots: str | list[str],
    sequences: list[str] | None = None,
    *,
    every: int = 10,
    max_clicks: int = 20,
    resolution_folder: str | None = None,
    zoom: bool = True,
    keep_clicked_parts: bool = True,
    on_object: Callable[[ObjectResult], None] | None = None,
) -> ClickReport:
    """The protocol of the module docstring on one or more DAVIS-layout roots (frames 0, every, 2 x every,
    ... of each sequence). With several roots, each `sequences` name is looked for in every root.

    Raises:
        LLBError: not a DAVIS root, a sequence in none of the roots.
    """
    roots = [roots] if isinstance(roots, str) else roots
    chosen: list[tuple[str, list[str] | None]] = []
    found: set[str] = set()
    for root in roots:
        names = davis_sequences(davis_folders(root, resolution_folder)[0])
        if sequences is None:
            chosen.append((root, None))
            continue
        here = [n for n in sequences if n in names]
        found |= set(here)
        if here:
            chosen.append((root, here))
    missing = [n for n in sequences or [] if n not in found]
    if missing:
        raise LLBError(f"{', '.join(roots)}: no sequence {missing} there; check --sequences")
    report = ClickReport(max_clicks)
    for root, names in chosen:
        for seq in read_davis(root, names, resolution=resolution_folder):
            for index in seq.annotated()[::every]:
                frame, mask = seq.load(index)
                ids = [int(v) for v in np.unique(mask) if v]
                if not ids:
                    continue
                session = ClickSession(model, frame, zoom=zoom, keep_clicked_parts=keep_clicked_parts)
                for obj in ids:
                    result = _score_object(session, frame, mask == obj, max_clicks, (seq.name, index, obj))
                    report.objects.append(result)
                    if on_object is not None:
                        on_object(result)
    return report


def _score_object(
    session: ClickSession, frame: np.ndarray, truth: np.ndarray, max_clicks: int, where: tuple[str, int, int]
) -> ObjectResult:
    ious, seconds = click_object(session, truth, max_clicks)
    box = mask_box(truth)
    assert box is not None
    try:
        reference = iou(grabcut_box(frame, (int(box[0]), int(box[1]), int(box[2]), int(box[3]))), truth)
    except ValueError:  # a box under 4 px a side: GrabCut cannot start
        reference = 0.0
    return ObjectResult(*where, ious, reference, float(np.mean(seconds or [0.0])))
