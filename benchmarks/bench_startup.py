"""Start-up of the desktop app: seconds from process start to a shown window with the clip open, and to the
model being ready (loaded in the engine thread).

Each run is a fresh process (`python -c ...`, offscreen Qt) that builds the window the way `llb-studio CLIP`
does and prints a line when the window is shown with the clip and when the engine reports the model; the parent
timestamps the lines. Medians over `--runs` runs. `--cold` empties the page cache before each run (needs root:
`echo 3 > /proc/sys/vm/drop_caches`), as after a reboot.

    python benchmarks/bench_startup.py [--clip PATH] [--runs 5] [--cold]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = REPO.parent / "shared" / "data" / "davis2016" / "JPEGImages" / "480p" / "dog"

CHILD = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
app.setOrganizationName("LLB")
app.setApplicationName("LLB Studio bench")
from app.window.main_window import open_window
window = open_window(sys.argv[1])  # as `llb-studio CLIP` does
print("shown", flush=True)
window.studio.document_changed.connect(lambda doc: doc is None or print("clip", flush=True))
engine = window.studio.engine
engine.model_ready.connect(lambda: (print("model", flush=True), QTimer.singleShot(0, window.close)))
engine.model_failed.connect(lambda m: (print("failed", m, flush=True), window.close()))
app.exec()
"""


def one_run(clip: Path, data: Path, cold: bool) -> tuple[float, float, float]:
    """Seconds to the shown (empty) window, to the window with the clip, to the model (nan: not reported)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(data), XDG_CONFIG_HOME=str(data))
    if cold:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(clip)], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    shown = window = model = float("nan")
    assert proc.stdout is not None
    for line in proc.stdout:
        now = time.perf_counter() - t0
        if line.startswith("shown"):
            shown = now
        elif line.startswith("clip"):
            window = now
        elif line.startswith("model"):
            model = now
        elif line.startswith("failed"):
            raise SystemExit(f"the model did not load: {line}")
    proc.wait(timeout=120)
    return shown, window, model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--cold", action="store_true", help="drop the page cache before each run (root)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / args.clip.name  # a copy: the app makes its project folder beside the clip
        if args.clip.is_dir():
            shutil.copytree(args.clip, clip)
        else:
            shutil.copy2(args.clip, clip)
        runs = [one_run(clip, Path(tmp), args.cold) for _ in range(args.runs)]
    print(f"clip: {args.clip} ({args.runs} {'cold' if args.cold else 'warm'} runs, seconds from process start)")
    for i, what in enumerate(("window shown", "window with the clip", "model ready")):
        xs = [r[i] for r in runs]
        print(f"{what:>21}: median {statistics.median(xs):.2f} s (min {min(xs):.2f}, max {max(xs):.2f})")


if __name__ == "__main__":
    main()
