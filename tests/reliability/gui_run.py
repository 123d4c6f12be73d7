"""Drive the desktop app's propagation in this process, as the GUI does (Studio -> Document -> Engine ->
EngineWorker -> the project's MaskStore), offscreen and without widgets; used by the GUI fault-injection and
soak tests, which run it as a subprocess.

    python -m tests.reliability.gui_run PROJECT --data-dir DIR [--reopen] [--rss-every N]

Prints one line per event, flushed: `saved F` once frame F's mask file is written (the worker writes before it
signals), `rss N MB` every N saved frames, `finished F` with the frames of the run, `opened K` (--reopen: open
the project through the Studio and print its frames with masks, then quit), `error MESSAGE`.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
from pathlib import Path

# The soak's engine settings: small frames, few learner steps (this tests storage and memory, not accuracy).
RESOLUTION = 64


def spawn(project: Path, data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    """Start this driver on `project` in a new process (from the checkout): its lines on a text stdout pipe,
    its stderr in `data_dir`/stderr.log."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen"}
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "stderr.log", "a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.gui_run", str(project), "--data-dir", str(data_dir), *extra],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            bufsize=1,
        )


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project")
    parser.add_argument("--data-dir", required=True, help="preferences and app data (never the user's)")
    parser.add_argument("--reopen", action="store_true", help="only open the project and list its masks")
    parser.add_argument("--rss-every", type=int, default=0, help="print resident memory every N saved frames")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.window.controller import Studio
    from llb_core.inference import SessionSettings

    app = QApplication([sys.argv[0]])
    data = Path(args.data_dir)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(data / "qsettings"))

    def load_model() -> object:
        import torch

        from llb_core.model.defaults import load_model

        torch.set_num_threads(1)  # the engine thread's kernels; see tests/reliability/test_soak.py
        return load_model(None, allow_untrained=True)

    base = SessionSettings(resolution=RESOLUTION, mode="full", init_iterations=3, update_iterations=1)
    studio = Studio(
        QSettings(str(data / "llb-studio.ini"), QSettings.Format.IniFormat),
        model_loader=load_model,  # type: ignore[arg-type]
        base_settings=base,
        data_dir=data,
    )
    studio.apply_settings(studio.settings.replace(resolution=RESOLUTION, autosave_minutes=0))
    code = 0

    def failed(title: str, message: str, _err: object) -> None:
        nonlocal code
        code = 3
        _say(f"error {title}: {message}".replace("\n", " "))
        app.quit()

    studio.error.connect(failed)
    if not studio.open_path(args.project):
        studio.shutdown()
        return 3
    doc = studio.document
    assert doc is not None
    if args.reopen:
        _say(f"opened {' '.join(str(f) for f in doc.project.mask_frames())}")
        studio.shutdown()
        return 0
    saved = 0

    def on_frame(update: object) -> None:
        nonlocal saved
        saved += 1
        _say(f"saved {update.frame}")  # type: ignore[attr-defined]
        if args.rss_every and saved % args.rss_every == 0:
            gc.collect()
            _say(f"rss {rss_mb():.1f} MB")

    def on_finished(summary: object) -> None:
        _say(f"finished {len(summary.frames)} {summary.error or ''}".strip())  # type: ignore[attr-defined]
        app.quit()

    studio.engine.frame_done.connect(on_frame)
    doc.run_recorded.connect(on_finished)
    QTimer.singleShot(0, lambda: studio.propagate("forward") or app.quit())
    app.exec()
    studio.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
