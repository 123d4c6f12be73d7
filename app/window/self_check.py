"""`llb-studio --self-check`: prove an installation (or a bundle) works without opening a window.

Loads the default weights, propagates the first frames of the embedded demo clip from its mask, checks the
result, and prints the device, versions and timings. Exit code 0 on success, 1 on any failure.
"""

from __future__ import annotations

import platform
import sys
import time
import traceback


def _versions() -> dict[str, str]:
    import cv2
    import numpy
    import torch

    versions = {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__}
    versions["opencv"] = cv2.__version__
    import PySide6

    versions["PySide6"] = PySide6.__version__
    return versions


def _gui_modules() -> str:
    """Import every module of the app (as starting it would) without creating a window."""
    import importlib
    import pkgutil

    import app

    names = [m.name for m in pkgutil.walk_packages(app.__path__, "app.") if m.name != "app.__main__"]
    for name in names:
        importlib.import_module(name)
    return f"{len(names)} app modules import"


def _qt_bindings() -> str:
    """Check that the Qt bindings keep reference counts (an offscreen QApplication if none exists)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.window.qt_check import bindings_problem

    _app = QApplication.instance() or QApplication([])
    problem = bindings_problem()
    if problem is not None:
        raise RuntimeError(problem)
    return "Qt bindings keep reference counts (1,000 setter calls)"


def _run(frames: int) -> list[str]:
    """Propagate `frames` frames of the demo clip; return report lines. Raises on any failure."""
    import numpy as np

    from llb_core.inference import Session, SessionSettings
    from llb_core.io import open_source, read_index_mask
    from llb_core.model.defaults import load_model
    from llb_core.resources import DEFAULT_WEIGHTS, demo_clip, demo_mask, resource
    from llb_core.workspace import ClipState

    lines = []
    t0 = time.perf_counter()
    model = load_model()
    lines.append(
        f"weights: {resource(DEFAULT_WEIGHTS)} ({model.config.variant}), loaded in {time.perf_counter() - t0:.2f} s"
    )
    t0 = time.perf_counter()
    source = open_source(demo_clip())
    mask = read_index_mask(demo_mask(), source.size)
    lines.append(
        f"demo clip: {demo_clip()} ({source.num_frames} frames, {source.size[1]}x{source.size[0]}), "
        f"opened in {time.perf_counter() - t0:.2f} s"
    )
    session = Session(source, model, ClipState.detached(source.num_frames, source.size, {0: mask}), SessionSettings())
    stop = min(frames, source.num_frames - 1)
    report = session.propagate(0, "forward", stop_at=stop)
    got = [f for f in range(1, stop + 1) if session.mask(f) is not None]
    if len(got) != stop:
        raise RuntimeError(f"propagation produced masks for {len(got)} of {stop} frames")
    areas = [int((session.mask(f) == 1).sum()) for f in got]
    if min(areas) == 0:
        raise RuntimeError(f"the object vanished during propagation (areas {areas})")
    ref = int((mask == 1).sum())
    lines.append(f"device: {session.device} ({str(session.dtype).removeprefix('torch.')})")
    lines.append(
        f"propagated {report.frames} frames in {report.seconds:.2f} s ({report.fps:.2f} fps); "
        f"object area {ref} px on frame 0, {areas[-1]} px on frame {stop}"
    )
    if not np.isfinite(report.fps):
        raise RuntimeError("timing failed")
    return lines


def self_check(frames: int = 8) -> int:
    """Run the check and print the report; 0 on success, 1 on failure."""
    out = sys.stdout
    out.write("LLB Studio self-check\n")
    try:
        for name, version in _versions().items():
            out.write(f"  {name}: {version}\n")
        out.write(f"  {_gui_modules()}\n")
        out.write(f"  {_qt_bindings()}\n")
        for line in _run(frames):
            out.write(f"  {line}\n")
    except Exception as err:  # noqa: BLE001 - reported and turned into the exit code
        traceback.print_exc()
        out.write(f"SELF-CHECK FAILED: {err}\n")
        return 1
    out.write("SELF-CHECK OK\n")
    return 0
