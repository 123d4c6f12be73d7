"""The project soak of `tests/reliability/test_soak.py`, with its log: a long looped clip (48x64) propagated
through a project; prints resident memory every 100 frames and the frame rate, and exits 1 if memory after
warm-up grows by more than 10%.

Run: PYTHONPATH=. python benchmarks/soak_propagate.py [--frames 2000] [--threads 1] [--soft]
(`--threads 2` on a busy 2-core machine shows what thread contention costs: 40-100x per frame.)
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--soft", action="store_true", help="also write soft masks, as the app does")
    args = parser.parse_args()
    import torch

    from llb_core.inference import Session
    from llb_core.model.defaults import load_model
    from llb_core.workspace import ClipState, Project, propagate_clip
    from tests.reliability.test_soak import SAMPLE_EVERY, SETTINGS, flat, rss_mb, soak_project

    torch.set_num_threads(args.threads)
    samples: list[float] = []
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % SAMPLE_EVERY == 0:
            gc.collect()
            samples.append(rss_mb())
            rate = done / (time.perf_counter() - t0)
            sys.stdout.write(f"frame {done:6d}/{total}  RSS {samples[-1]:7.1f} MB  {rate:6.1f} frames/s\n")
            sys.stdout.flush()

    with tempfile.TemporaryDirectory(prefix="llb-soak-") as tmp:
        project = soak_project(Path(tmp), args.frames)
        try:
            clip = ClipState(project)
            session = Session(project.source, load_model(None, allow_untrained=True), clip, SETTINGS)
            t0 = time.perf_counter()
            report = propagate_clip(clip, session, project.masks, soft=args.soft, progress=progress)
        finally:
            project.close()
        with Project.open(Path(tmp) / "project") as reopened:
            stored = len(reopened.mask_frames())
    seconds = time.perf_counter() - t0
    problem = flat(samples)
    sys.stdout.write(
        f"{report.frames} frames in {seconds:.1f} s ({report.frames / seconds:.1f} frames/s), {stored} masks stored; "
        f"memory {'flat within 10%' if problem is None else 'NOT flat: ' + problem}\n"
    )
    return 0 if problem is None and stored == args.frames else 1


if __name__ == "__main__":
    sys.exit(main())
