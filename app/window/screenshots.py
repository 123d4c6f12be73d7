"""`python -m app.window.screenshots OUTDIR`: drive the main window through its main states and save PNGs.

States: empty; the demo clip open with its mask and the brush over it; a propagation running (progress, fps,
ETA); review after the run: a flagged frame in cutout mode with a feathered matte, side by side with the
source, onion skin; the frames made stale by a correction; the export dialog; the click tool after a positive
and a negative click. Runs offscreen without a
display (it sets QT_QPA_PLATFORM=offscreen unless told otherwise), with preferences and projects in a
temporary folder. PNGs above `MAX_BYTES` are saved with a 256-colour palette.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

WIDTH, HEIGHT = 1280, 800
MAX_BYTES = 290_000


def _wait_until(condition: Callable[[], bool], timeout: float) -> None:
    """Let the event loop run until `condition()` holds (a script driving the app, not app code)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    timer = QTimer()
    deadline = time.monotonic() + timeout
    timer.timeout.connect(lambda: (condition() or time.monotonic() > deadline) and loop.quit())
    timer.start(50)
    loop.exec()
    timer.stop()
    if not condition():
        raise TimeoutError(f"the window did not reach the expected state within {timeout:.0f} s")


def _hover(window: object, x: float, y: float) -> None:
    """Move the pointer over image pixel (x, y) so the brush outline shows."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    canvas = window.canvas  # type: ignore[attr-defined]
    pos = canvas.to_widget(QPointF(x, y))
    event = QMouseEvent(
        QMouseEvent.Type.MouseMove, pos, canvas.mapToGlobal(pos), Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(canvas, event)


def take(out: Path, frames: int = 6) -> list[Path]:
    """Save the screenshots into `out`; returns their paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QStandardPaths
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    tmp = Path(tempfile.mkdtemp(prefix="llb-shots-"))
    QStandardPaths.setTestModeEnabled(True)
    app.setOrganizationName("LLB-screenshots")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "settings"))
    from app.window.controller import Studio
    from app.window.main_window import MainWindow

    out.mkdir(parents=True, exist_ok=True)
    studio = Studio(QSettings(), data_dir=tmp / "data")
    window = MainWindow(studio)
    window.resize(WIDTH, HEIGHT)
    window.show()
    saved: list[Path] = []

    def shot(name: str) -> None:
        app.processEvents()
        path = out / f"{name}.png"
        window.grab().save(str(path))
        if path.stat().st_size > MAX_BYTES:
            _compact(path)
        saved.append(path)

    shot("01-empty")
    if not studio.open_demo():
        raise RuntimeError("the demo clip could not be opened (see the log)")
    doc = studio.document
    assert doc is not None
    _hover(window, 760, 300)
    shot("02-demo-mask")
    done: list[int] = []
    studio.engine.frame_done.connect(lambda update: done.append(update.frame))
    studio.propagate("forward")
    _wait_until(lambda: len(done) >= frames // 2, timeout=600)
    doc.view.set_frame(done[-1])
    shot("03-propagating")
    _wait_until(lambda: len(done) >= frames, timeout=600)
    studio.cancel()
    _wait_until(lambda: not studio.busy, timeout=120)
    from app.view.render import ViewMode, ViewState

    doc.view.set_frame(0)
    window.timeline.jump_flag(1)  # the first flagged frame, if any
    review = ViewState(mode=ViewMode.CUTOUT, grow=2, feather=3)
    window.view_controls.set_state(review)
    doc.view.set_view_state(review)
    shot("04-review-cutout")
    side = ViewState(mode=ViewMode.SIDE_BY_SIDE, opacity=0.6)
    window.view_controls.set_state(side)
    doc.view.set_view_state(side)
    window.canvas.fit()
    shot("05-review-side-by-side")
    onion = ViewState(mode=ViewMode.OVERLAY, onion=True)
    window.view_controls.set_state(onion)
    doc.view.set_view_state(onion)
    doc.view.set_frame(done[-1])
    shot("06-onion-skin")
    corrected = doc.mask(done[1])
    assert corrected is not None
    corrected = corrected.copy()
    corrected[: corrected.shape[0] // 3] = 0  # a correction on an early propagated frame
    doc.commit_mask(done[1], corrected, "Correction")
    doc.view.set_frame(done[-1])  # depended on the corrected frame: kept, marked stale
    window.view_controls.set_state(ViewState())
    doc.view.set_view_state(ViewState())
    shot("07-stale-after-correction")
    from app.dialogs.export_dialog import ExportDialog

    dialog = ExportDialog(window, doc.project, review)
    dialog.show()
    app.processEvents()
    dialog.grab().save(str(out / "08-export-dialog.png"))
    saved.append(out / "08-export-dialog.png")
    dialog.close()
    from llb_core.interactive.clicks import Click

    doc.view.set_frame(60)  # the click tool on a frame of its own: the boulder as a second object
    doc.view.set_active_object(doc.add_object())
    window.actions_["click"].trigger()
    for click in (Click(1000, 390), Click(1140, 450, False)):
        window.toolbox.click_segment(click)
        _wait_until(lambda: not window.toolbox.proposing, timeout=120)
    shot("09-click-tool")
    window.close()
    return saved


def _compact(path: Path) -> None:
    """Re-save a screenshot with an adaptive 256-colour palette (UI and video frames stay readable)."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m app.window.screenshots OUTDIR\n")
        return 2
    for path in take(Path(args[0])):
        sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
