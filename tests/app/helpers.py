"""Helpers for GUI tests: simulated mouse strokes, and waiting for the engine thread's writes."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt

from llb_core.workspace import Project


def widget_point(canvas, x: float, y: float) -> QPoint:
    """Canvas widget position of image pixel (x, y)'s centre."""
    p = canvas.to_widget(QPointF(x + 0.5, y + 0.5))
    return QPoint(round(p.x()), round(p.y()))


def stroke(qtbot, canvas, points: list[tuple[float, float]], button=Qt.MouseButton.LeftButton) -> None:
    """Press at the first image point, move through the others, release at the last."""
    qtbot.mousePress(canvas, button, pos=widget_point(canvas, *points[0]))
    for x, y in points[1:]:
        qtbot.mouseMove(canvas, widget_point(canvas, x, y))
    qtbot.mouseRelease(canvas, button, pos=widget_point(canvas, *points[-1]))


def paint_inside(qtbot, canvas, target: np.ndarray, radius: int) -> int:
    """Paint horizontal brush strokes covering the inside of the (H, W) bool `target`; returns the stroke count.

    Rows every `radius` pixels; each stroke runs between the first and last target pixel of its row, pulled
    in by the brush radius (in widget pixels the canvas scale applies, the strokes are in image pixels).
    """
    ys = np.flatnonzero(target.any(axis=1))
    count = 0
    for y in range(int(ys.min()) + radius, int(ys.max()) - radius + 1, radius):
        xs = np.flatnonzero(target[y])
        if xs.size < 2 * radius + 2:
            continue
        x0, x1 = int(xs.min()) + radius, int(xs.max()) - radius
        stroke(qtbot, canvas, [(x0, y), ((x0 + x1) / 2, y), (x1, y)])
        count += 1
    return count


def stored_masks(project: Project) -> dict[int, np.ndarray]:
    """Every index mask file of a project, read from disk."""
    return {f: project.read_mask(f) for f in project.mask_frames()}


def same_masks(a: dict[int, np.ndarray | None], b: dict[int, np.ndarray | None]) -> bool:
    """Same frames and identical arrays."""
    if set(a) != set(b):
        return False
    return all(
        (a[f] is None and b[f] is None) or (a[f] is not None and b[f] is not None and np.array_equal(a[f], b[f]))
        for f in a
    )


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0
