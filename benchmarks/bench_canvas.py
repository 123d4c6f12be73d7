"""Canvas benchmark at 3840x2160: stroke feedback per mouse move, and how long GrabCut blocks the GUI thread.

Usage (from the repository root):

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_canvas.py [--moves 200] [--label after] [--out FILE]

Builds the app's real paint path around a one-frame 4K project (a synthetic frame, two objects): `Document`,
`FrameView`, `ToolBox` and a 1600x900 `Canvas` shown offscreen (fit: about 0.41 widget pixels per image pixel).

1. Stroke feedback: a scripted brush stroke (radius 20 image pixels) of `--moves` mouse moves; each move is
   timed from sending the move event until the event loop has painted what it scheduled (mask op, composite,
   the paint of the damaged region into the offscreen backing store). Median and p95 per move, and the
   release (the stroke's undo step and the exact image). Modes: OVERLAY (outline on), CUTOUT grow 5 feather 5.
2. GrabCut: a box (1400x1000) is dragged with the box tool; a 5 ms QTimer records the event loop's largest gap
   from the release until the proposal's undo step exists (the GUI-thread block time).

Runs on the current code and on the original commit alike (it only uses public names), so "before" is this
script run in a checkout of the commit before the change. Results are appended to `--out` when given.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEvent, QEventLoop, QObject, QPointF, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.engine.engine import Engine  # noqa: E402
from app.model.document import Document  # noqa: E402
from app.tools.toolbox import ToolBox  # noqa: E402
from app.view.canvas import Canvas  # noqa: E402
from app.view.frame_view import FrameView  # noqa: E402
from app.view.render import ViewMode, ViewState  # noqa: E402
from llb_core.workspace import Project  # noqa: E402

W, H = 3840, 2160
RADIUS = 20


def make_project(tmp: Path) -> Project:
    """One 4K frame (smooth colours and a few shapes) with two objects drawn on it."""
    yy, xx = np.mgrid[0:H, 0:W]
    rgb = np.stack([(xx * 255 // W), (yy * 255 // H), ((xx + yy) * 255 // (W + H))], axis=2).astype(np.uint8)
    cv2.circle(rgb, (1400, 1000), 420, (230, 120, 40), -1)
    cv2.rectangle(rgb, (2300, 600), (3000, 1500), (40, 160, 220), -1)
    clip = tmp / "clip"
    clip.mkdir()
    Image.fromarray(rgb).save(clip / "00000.png")
    project = Project.create(tmp / "project", clip)
    project.add_object("ball")
    project.add_object("box")
    mask = np.zeros((H, W), np.uint8)
    cv2.circle(mask, (1400, 1000), 400, 1, -1)
    cv2.rectangle(mask, (2320, 620), (2980, 1480), 2, -1)
    project.masks.write(0, mask)
    return project


class Painted(QObject):
    """Counts the canvas's paint events."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def send_mouse(canvas: Canvas, kind: QEvent.Type, pos: QPointF, button: Qt.MouseButton) -> None:
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    event = QMouseEvent(kind, pos, canvas.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas, event)


def settle(app: QApplication) -> None:
    app.processEvents()
    app.processEvents()


def bench_stroke(app: QApplication, doc: Document, canvas: Canvas, tools: ToolBox, moves: int) -> tuple:
    """Per-move times (ms) of one scripted stroke, the release time (ms) and the paint-event count."""
    tools.set_tool("brush")
    tools.set_radius(RADIUS)
    painted = Painted()
    canvas.installEventFilter(painted)
    left = Qt.MouseButton.LeftButton
    start = canvas.to_widget(QPointF(900, 400))
    points = [start + QPointF(4.0 * i, 40.0 * np.sin(i / 12.0)) for i in range(moves + 1)]
    send_mouse(canvas, QEvent.Type.MouseButtonPress, points[0], left)
    settle(app)
    times = []
    for p in points[1:]:
        t0 = time.perf_counter()
        send_mouse(canvas, QEvent.Type.MouseMove, p, left)
        settle(app)
        times.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, points[-1], left)
    settle(app)
    release = (time.perf_counter() - t0) * 1000
    canvas.removeEventFilter(painted)
    doc.undo_stack.undo()
    settle(app)
    return np.array(times), release, painted.count


def bench_grabcut(app: QApplication, doc: Document, canvas: Canvas, tools: ToolBox) -> tuple[float, float]:
    """(largest event-loop gap, time until the proposal's undo step exists), both ms, from the box's release."""
    tools.set_tool("box")
    doc.view.set_active_object(1)
    left = Qt.MouseButton.LeftButton
    a, b = canvas.to_widget(QPointF(800, 400)), canvas.to_widget(QPointF(2200, 1400))
    send_mouse(canvas, QEvent.Type.MouseButtonPress, a, left)
    send_mouse(canvas, QEvent.Type.MouseMove, b, left)
    settle(app)
    steps = doc.undo_stack.index()
    clock = QElapsedTimer()
    loop = QEventLoop()
    state = {"last": 0.0, "gap": 0.0, "done": None}

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        state["gap"] = max(state["gap"], now - state["last"])
        state["last"] = now
        if state["done"] is None and doc.undo_stack.index() != steps:
            state["done"] = now
            QTimer.singleShot(100, loop.quit)

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)

    def release() -> None:
        clock.start()
        timer.start()
        send_mouse(canvas, QEvent.Type.MouseButtonRelease, b, left)

    QTimer.singleShot(0, release)
    QTimer.singleShot(30_000, loop.quit)
    loop.exec()
    timer.stop()
    return state["gap"], state["done"] or float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--grabcut-runs", type=int, default=3)
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    lines = [f"# bench_canvas {args.label} ({W}x{H}, {args.moves} moves, load {os.getloadavg()[0]:.2f})"]
    with tempfile.TemporaryDirectory(prefix="llb-bench-canvas-") as tmp:
        project = make_project(Path(tmp))
        engine = Engine(model_loader=lambda: None)  # never propagates here
        doc = Document(project, engine)
        canvas = Canvas()
        canvas.resize(1600, 900)
        view, tools = FrameView(canvas), ToolBox(canvas)
        view.set_document(doc)
        tools.set_document(doc)
        tools.message.connect(lambda text: print("tool message:", text))
        canvas.show()
        canvas.fit()
        settle(app)
        for name, state in (
            ("OVERLAY", ViewState(ViewMode.OVERLAY)),
            ("CUTOUT grow 5 feather 5", ViewState(ViewMode.CUTOUT, grow=5, feather=5)),
        ):
            doc.view.set_view_state(state)
            settle(app)
            times, release, paints = bench_stroke(app, doc, canvas, tools, args.moves)
            lines.append(
                f"stroke {name:<24} per move: median {np.median(times):7.1f} ms  p95 {np.percentile(times, 95):7.1f}"
                f" ms  max {times.max():7.1f} ms; release {release:6.0f} ms; {paints} paint events"
            )
            print(lines[-1], flush=True)
        doc.view.set_view_state(ViewState(ViewMode.OVERLAY))
        settle(app)
        for run in range(args.grabcut_runs):
            gap, done = bench_grabcut(app, doc, canvas, tools)
            lines.append(f"grabcut run {run + 1}: largest event-loop gap {gap:6.0f} ms; applied after {done:6.0f} ms")
            print(lines[-1], flush=True)
            doc.undo_stack.undo()
            settle(app)
        canvas.close()
        engine.shutdown()
        project.close()
    if args.out:
        with args.out.open("a") as f:
            f.write("\n".join(lines) + "\n\n")


if __name__ == "__main__":
    main()
