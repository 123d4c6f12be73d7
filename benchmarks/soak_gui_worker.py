"""The desktop app's engine-worker soak of `tests/reliability/test_gui_soak.py`, longer and with its log: a
looped 48x64 clip propagated through the GUI's run path (Studio -> Document -> Engine -> EngineWorker) in a
subprocess; prints resident memory every 100 frames and exits 1 if it grows by more than 10% after warm-up.

Run: PYTHONPATH=. python benchmarks/soak_gui_worker.py [--frames 5000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tests.reliability.test_gui_soak import gui_soak
from tests.reliability.test_soak import SAMPLE_EVERY, flat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=5000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="llb-gui-soak-") as tmp:
        samples, out = gui_soak(Path(tmp), args.frames)
    seconds = time.perf_counter() - t0
    for k, mb in enumerate(samples, 1):
        sys.stdout.write(f"frame {k * SAMPLE_EVERY:6d}  RSS {mb:7.1f} MB\n")
    problem = flat(samples)
    done = f"finished {args.frames - 1}" in out
    sys.stdout.write(
        f"{args.frames - 1} frames {'propagated' if done else 'NOT all propagated'} in {seconds:.1f} s "
        f"(with start-up); memory {'flat within 10%' if problem is None else 'NOT flat: ' + problem}\n"
    )
    return 0 if done and problem is None else 1


if __name__ == "__main__":
    sys.exit(main())
