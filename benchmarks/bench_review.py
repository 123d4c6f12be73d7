"""Review-tools benchmark: viewer compositing time per mode, and calibration of the flags' confidence.

Usage (from the repository root):

    python benchmarks/bench_review.py [--sequences dog bmx-trees motocross-jump] [--frames 40]

1. Times `app.render.compose` per view mode on DAVIS dog frame 10 (854x480, the mask split in two touching
   objects), OpenCV on one thread, best and median of 30 runs.
2. Propagates each DAVIS sequence from its frame-0 annotation with the shipped weights and default engine
   settings, and prints per frame the `app.flags` confidence next to the IoU against the ground truth, then
   the correlation and how many good (IoU >= 0.5) and bad frames a few thresholds would flag.
Nothing is written to the repository.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.flags import frame_stats  # noqa: E402
from app.render import ViewMode, ViewState, compose  # noqa: E402

DAVIS = ROOT.parent / "shared" / "data" / "davis2016"


def gt_mask(seq: str, i: int) -> np.ndarray:
    path = DAVIS / "Annotations" / "480p" / seq / f"{i:05d}.png"
    return (np.asarray(Image.open(path).convert("L")) > 127).astype(np.uint8)


def bench_render() -> None:
    rgb = np.asarray(Image.open(DAVIS / "JPEGImages" / "480p" / "dog" / "00010.jpg").convert("RGB")).copy()
    mask = gt_mask("dog", 10)
    mask[:, int(np.nonzero(mask)[1].mean()) :] *= 2
    cv2.setNumThreads(1)
    colours = {1: (255, 0, 0), 2: (0, 0, 255)}
    print("compose, 854x480, two objects, one OpenCV thread (best / median of 30):")
    for mode in ViewMode:
        for grow, feather in ((0, 0), (5, 5)):
            state = ViewState(mode=mode, grow=grow, feather=feather)
            times = []
            for _ in range(30):
                t0 = time.perf_counter()
                compose(rgb, mask, colours, set(), state)
                times.append((time.perf_counter() - t0) * 1000)
            print(f"  {mode.name:<13} grow {grow} feather {feather}: {min(times):5.1f} / {np.median(times):5.1f} ms")


def calibrate(sequences: list[str], frames: int) -> None:
    import torch

    from llb_core.inference import Session, SessionSettings
    from llb_core.io import open_source
    from llb_core.model.defaults import load_model

    torch.set_num_threads(1)
    model = load_model()
    conf, iou = [], []
    for seq in sequences:
        source = open_source(DAVIS / "JPEGImages" / "480p" / seq)
        session = Session(source, model, SessionSettings())
        session.add_object("target", obj_id=1)
        session.set_keyframe(0, gt_mask(seq, 0), annotated={1})

        def record(result: object, seq: str = seq) -> None:
            stats = frame_stats(result.mask, result.probs)
            truth, pred = gt_mask(seq, result.frame).astype(bool), result.mask == 1
            conf.append(stats.confidence)
            iou.append((truth & pred).sum() / max((truth | pred).sum(), 1))
            print(f"  {seq} frame {result.frame:3d}: confidence {conf[-1]:.3f}  IoU {iou[-1]:.3f}")

        session.propagate(0, "forward", on_frame=record, stop_at=min(source.num_frames - 1, frames))
    c, j = np.array(conf), np.array(iou)
    print(f"{len(c)} frames; correlation(confidence, IoU) = {np.corrcoef(c, j)[0, 1]:.2f}")
    for t in (0.5, 0.55, 0.58, 0.6):
        flagged = c < t
        print(
            f"  threshold {t:.2f}: flags {flagged.sum():3d} frames, {(flagged & (j < 0.5)).sum()} of {(j < 0.5).sum()}"
            f" bad (IoU < 0.5), {(flagged & (j >= 0.5)).sum()} good"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sequences", nargs="+", default=["dog", "bmx-trees", "motocross-jump"])
    p.add_argument("--frames", type=int, default=40)
    args = p.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"# python benchmarks/bench_review.py ({os.cpu_count()} CPU cores, load: {load})")
    bench_render()
    calibrate(args.sequences, args.frames)


if __name__ == "__main__":
    main()
