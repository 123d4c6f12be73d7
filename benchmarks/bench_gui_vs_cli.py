"""The desktop app's propagation speed against `llb propagate` on the same clip, machine and settings.

    python benchmarks/bench_gui_vs_cli.py [--frames 59] [--clip ../shared/data/davis2016/JPEGImages/480p/dog]

GUI: the app's own path (Studio -> Document -> Engine thread -> EngineWorker -> the project's MaskStore),
offscreen, default preferences and shipped weights; fps from the first to the last `frame_done` signal.
CLI: `llb propagate CLIP --mask FIRST:0 --max-frames N+1` in a subprocess, its printed fps (first frame to
last, masks written). Both runs start from frame 0's ground truth; each is run twice, the faster kept.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DOG = REPO.parent / "shared" / "data" / "davis2016" / "JPEGImages" / "480p" / "dog"


def gui_fps(clip: Path, first_mask: Path, frames: int, work: Path) -> float:
    """fps of one forward run in the app's own propagation path (offscreen)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.window.controller import Studio
    from llb_core.workspace import Project, import_masks

    app = QApplication.instance() or QApplication([sys.argv[0]])
    project_path = work / f"clip-{time.monotonic_ns()}.llbproj"
    project = Project.create(project_path, clip)
    masks = work / f"masks-{time.monotonic_ns()}"
    masks.mkdir()
    (masks / "00000.png").write_bytes(first_mask.read_bytes())
    import_masks(project, masks)
    project.close()
    data = work / "appdata"
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(data / "qsettings"))
    studio = Studio(QSettings(str(data / "llb-studio.ini"), QSettings.Format.IniFormat), data_dir=data)
    studio.apply_settings(studio.settings.replace(autosave_minutes=0))
    if not studio.open_path(str(project_path)):
        raise SystemExit(f"could not open {project_path}")
    stamps: list[float] = []

    def on_frame(update: object) -> None:
        stamps.append(time.perf_counter())
        if len(stamps) == frames:
            studio.cancel()

    studio.engine.frame_done.connect(on_frame)
    studio.document.run_recorded.connect(lambda summary: app.quit())  # type: ignore[union-attr]
    QTimer.singleShot(0, lambda: studio.propagate("forward") or app.quit())
    app.exec()
    studio.shutdown()
    stamps = stamps[:frames]
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0


def cli_fps(clip: Path, first_mask: Path, frames: int, work: Path) -> float:
    out = work / f"cli-{time.monotonic_ns()}"
    done = subprocess.run(
        [
            "llb",
            "propagate",
            str(clip),
            "--mask",
            f"{first_mask}:0",
            "--out",
            str(out),
            "--max-frames",
            str(frames + 1),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(re.search(r"\(([\d.]+) fps\)", done.stderr).group(1))  # type: ignore[union-attr]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default=str(DOG))
    parser.add_argument("--frames", type=int, default=59, help="frames to propagate (dog has 60)")
    args = parser.parse_args()
    clip = Path(args.clip)
    first_mask = clip.parent.parent.parent / "Annotations" / "480p" / clip.name / "00000.png"
    with tempfile.TemporaryDirectory(prefix="llb-gui-vs-cli-") as tmp:
        work = Path(tmp)
        cli = max(cli_fps(clip, first_mask, args.frames, work) for _ in range(2))
        gui = max(gui_fps(clip, first_mask, args.frames, work) for _ in range(2))
    sys.stdout.write(
        f"{clip.name}, {args.frames} frames, default settings: CLI {cli:.2f} fps, GUI {gui:.2f} fps "
        f"(GUI/CLI {gui / cli:.2f})\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
