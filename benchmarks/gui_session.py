"""A long session of real input events: the desktop app under Xvfb, driven by xdotool as an editor would.

Starts Xvfb at 1920x1080, opens CLIP in `llb-studio`, and for `--minutes` sends a random but seeded mix of
frame steps, playback, brush strokes on the canvas, undo / redo, view-mode and onion-skin keys, object
switching, short propagation runs (cancelled or finished) and saves. Every `--sample` seconds it records the
app's resident memory; at the end it checks the app is still alive and writes a report (and screenshots).

Needs Debian's xvfb, xdotool and imagemagick (for screenshots):
    apt-get install xvfb xdotool imagemagick
    python benchmarks/gui_session.py CLIP --minutes 60 --out /tmp/gui_session
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZE = (1920, 1080)
# keys and how often they are pressed (relative weights); strokes and runs are added in `step`
KEYS = {
    "Right": 30,
    "Left": 15,
    "period": 5,
    "space": 3,
    "Home": 1,
    "End": 1,
    "1": 2,
    "2": 1,
    "3": 2,
    "4": 1,
    "5": 1,
    "o": 2,
    "ctrl+z": 4,
    "ctrl+shift+z": 3,
    "n": 2,
    "shift+n": 1,
    "k": 1,
    "ctrl+Down": 2,
    "ctrl+Up": 1,
    "bracketright": 1,
    "bracketleft": 1,
    "ctrl+s": 1,
}


def xdo(display: str, *args: str) -> str:
    env = dict(os.environ, DISPLAY=display)
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=30).stdout.strip()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def screenshot(display: str, path: Path) -> None:
    if shutil.which("import"):
        subprocess.run(["import", "-display", display, "-window", "root", str(path)], timeout=60, check=False)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clip", type=Path)
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--sample", type=float, default=60.0, help="seconds between memory samples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("gui_session"))
    p.add_argument("--display", default=":97")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    xvfb = subprocess.Popen(["Xvfb", args.display, "-screen", "0", f"{SIZE[0]}x{SIZE[1]}x24", "-nolisten", "tcp"])
    time.sleep(2)
    env = dict(os.environ, DISPLAY=args.display, XDG_CONFIG_HOME=str(args.out / "config"))
    env.pop("QT_QPA_PLATFORM", None)
    log = open(args.out / "app.log", "w")  # noqa: SIM115 - open for the app's whole life
    app = subprocess.Popen([sys.executable, "-m", "app", str(args.clip)], cwd=REPO, env=env, stdout=log, stderr=log)
    counts: dict[str, int] = {}
    samples: list[tuple[float, float]] = []
    try:
        window = ""
        for _ in range(60):
            window = xdo(args.display, "search", "--name", "LLB Studio").split("\n")[0]
            if window:
                break
            time.sleep(1)
        if not window:
            raise SystemExit("the window did not appear; see app.log")
        xdo(args.display, "windowsize", window, str(SIZE[0]), str(SIZE[1]))
        xdo(args.display, "windowmove", window, "0", "0")
        time.sleep(8)  # the clip opens and the model loads
        screenshot(args.display, args.out / "start.png")
        t0 = last_sample = time.monotonic()
        end = t0 + args.minutes * 60
        while time.monotonic() < end:
            if app.poll() is not None:
                break
            r = rng.random()
            if r < 0.12:  # a brush stroke on the canvas (the frame fills the middle of the window)
                x, y = rng.randint(500, 1300), rng.randint(300, 700)
                xdo(args.display, "key", "b")
                xdo(args.display, "mousemove", str(x), str(y), "mousedown", "1")
                for _ in range(rng.randint(5, 25)):
                    x, y = x + rng.randint(-25, 25), y + rng.randint(-25, 25)
                    xdo(args.display, "mousemove", str(x), str(y))
                xdo(args.display, "mouseup", "1")
                counts["stroke"] = counts.get("stroke", 0) + 1
            elif r < 0.14:  # a short run: propagate, let it go a few seconds, often cancel
                xdo(args.display, "key", "p")
                time.sleep(rng.uniform(2, 8))
                if rng.random() < 0.7:
                    xdo(args.display, "key", "Escape")
                time.sleep(2)
                counts["run"] = counts.get("run", 0) + 1
            else:
                key = rng.choices(list(KEYS), weights=list(KEYS.values()))[0]
                xdo(args.display, "key", key)
                counts[key] = counts.get(key, 0) + 1
                if key == "space":
                    time.sleep(rng.uniform(1, 4))
                    xdo(args.display, "key", "space")
            time.sleep(rng.uniform(0.02, 0.12))
            now = time.monotonic()
            if now - last_sample >= args.sample:
                samples.append((round((now - t0) / 60, 2), round(rss_mib(app.pid), 1)))
                last_sample = now
                if len(samples) % 10 == 1:
                    screenshot(args.display, args.out / f"at-{len(samples):03d}min.png")
        alive = app.poll() is None
        screenshot(args.display, args.out / "end.png")
        report = {
            "minutes": round((time.monotonic() - t0) / 60, 1),
            "alive_at_end": alive,
            "exit_code": app.returncode,
            "events": counts,
            "total_events": sum(counts.values()),
            "rss_mib": samples,
        }
        (args.out / "report.json").write_text(json.dumps(report, indent=1))
        print(json.dumps({k: v for k, v in report.items() if k != "rss_mib"}, indent=1))
        if samples:
            print(f"RSS first sample {samples[0][1]} MiB, last {samples[-1][1]} MiB, max {max(s[1] for s in samples)}")
        return 0 if alive else 1
    finally:
        if app.poll() is None:
            xdo(args.display, "key", "ctrl+q")
            try:
                app.wait(30)
            except subprocess.TimeoutExpired:
                app.kill()
        xvfb.terminate()


if __name__ == "__main__":
    sys.exit(main())
