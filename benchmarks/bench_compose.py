"""Speed of the viewer's compose() per view mode (moved from the test suite: timing belongs here, not in tests).

Run: PYTHONPATH=. python benchmarks/bench_compose.py  (needs ../shared/data). The budget for scrubbing is 30 ms
per frame on one OpenCV thread; best of 10 runs per mode (the others include time lost to other processes).
"""

from __future__ import annotations

import time

import cv2

from app.view.render import ViewMode, ViewState, compose
from tests.conftest import load_davis_frame

BUDGET_MS = 30.0


def main() -> None:
    rgb, mask_bool = load_davis_frame("dog", 0)
    mask = mask_bool.astype("uint8")
    colours = {1: (255, 0, 0)}
    cv2.setNumThreads(1)
    for mode in ViewMode:
        state = ViewState(mode=mode, grow=5, feather=5)
        times = []
        for _ in range(10):
            t0 = time.perf_counter()
            compose(rgb, mask, colours, set(), state)
            times.append(time.perf_counter() - t0)
        best = min(times) * 1000
        print(f"{mode.name:10s} best {best:6.1f} ms  {'ok' if best < BUDGET_MS else 'OVER BUDGET'}")


if __name__ == "__main__":
    main()
