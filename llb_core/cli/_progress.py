"""A one-line progress bar for the command line, with rate and time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redraws `label [#####-----] done/total  fps  ETA` on a stream (stderr), at most 10 times a second.

    Args:
        label: text before the bar.
        unit: what is counted, shown with the rate ("fps" for frames).
    """

    def __init__(self, label: str, *, unit: str = "fps", stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.width = width
        self._start = time.monotonic()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        elapsed = max(now - self._start, 1e-9)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else float("inf")
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "-" * (self.width - filled)
        eta_text = f"{int(eta) // 60}:{int(eta) % 60:02d}" if eta != float("inf") else "--:--"
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total}  {rate:.2f} {self.unit}  ETA {eta_text} ")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
