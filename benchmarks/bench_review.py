"""Review-tools benchmark: viewer compositing time per mode, and calibration of the review flags' score.

Usage (from the repository root):

    python benchmarks/bench_review.py [--cache /tmp/bench_review_runs.npz] [--no-render]

1. Times `app.view.render.compose` per view mode on DAVIS dog frame 10 (854x480, the mask split in two touching
   objects), OpenCV on one thread, best and median of 30 runs.
2. Propagates the validation clips (`CLIPS`) forward from frame 0's ground truth with the shipped weights and
   the engine defaults (one torch thread; `--cache` keeps the masks and probabilities, about 370 MB, so the
   score can be redesigned without propagating again), computes every propagated frame's `app.model.flags` stats
   the way the engine worker does and its J (the worst object's), then prints: the time of `frame_stats`,
   the logistic fit behind `app.model.flags.WEIGHTS`, the shipped score's catches and false flags by threshold
   next to those of fits that left the scored clip out, the threshold rule's choice, and the numbers per clip
   at `app.model.flags.THRESHOLD`.
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

from app.model.flags import BIAS, THRESHOLD, WEIGHTS, FrameStats, areas, assess, frame_stats, signals  # noqa: E402
from app.view.render import ViewMode, ViewState, compose  # noqa: E402
from llb_core.evaluation.metrics import jaccard  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DAVIS = DATA / "davis2016"


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


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


CLIPS = (  # (data folder, resolution folder, sequence): the validation clips the flags are calibrated on
    ("davis2016", "480p", "dog"),
    ("davis2016", "480p", "kite-surf"),
    ("davis2016", "480p", "motocross-jump"),
    ("davis2016", "480p", "scooter-black"),
    ("davis2017-multi", "240p", "dogs-jump"),
)


def propagate_clip(model: object, folder: str, res: str, seq: str) -> dict[str, np.ndarray]:
    """Propagate `seq` forward from its frame-0 annotation with the engine defaults.

    Returns:
        ids (K,) object ids; masks (N, H, W) uint8 (frame 0: the annotation); probs (N, K, H, W) float16
        (frame 0: the annotation as 0/1); truth (N, H, W) uint8 ground truth.
    """
    from llb_core.inference import Session, SessionSettings
    from llb_core.io import open_source, read_index_mask
    from llb_core.workspace import ClipState

    root = DATA / folder
    source = open_source(root / "JPEGImages" / res / seq)
    truth = np.stack(
        [
            read_index_mask(root / "Annotations" / res / seq / f"{i:05d}.png", source.size)
            for i in range(source.num_frames)
        ]
    )
    ids = np.array(sorted(set(np.unique(truth[0]).tolist()) - {0}), np.uint8)
    masks = np.zeros_like(truth)
    masks[0] = truth[0]
    probs = np.zeros((len(truth), len(ids), *truth.shape[1:]), np.float16)
    probs[0] = truth[0][None] == ids[:, None, None]
    clip = ClipState.detached(source.num_frames, source.size, {0: truth[0]})
    session = Session(source, model, clip, SessionSettings())

    def record(result: object) -> None:
        masks[result.frame] = session.mask(result.frame)
        for k, obj_id in enumerate(ids):
            probs[result.frame, k] = result.probs[int(obj_id)]

    t0 = time.perf_counter()
    session.propagate(0, "forward", on_frame=record)
    log(f"  propagated {seq}: {len(truth) - 1} frames in {time.perf_counter() - t0:.0f} s")
    return {"ids": ids, "masks": masks, "probs": probs, "truth": truth}


def load_runs(cache: Path | None) -> dict[str, dict[str, np.ndarray]]:
    """Per clip the arrays of `propagate_clip`, read from `cache` (an .npz) when it exists, else computed
    (with the shipped weights, one torch thread) and written there."""
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            runs: dict[str, dict[str, np.ndarray]] = {}
            for key in z.files:
                seq, name = key.split("/")
                runs.setdefault(seq, {})[name] = z[key]
        print(f"propagation results read from {cache} (written by an earlier run of this script)")
        return runs
    import torch

    from llb_core.model.defaults import load_model

    torch.set_num_threads(1)
    model = load_model()
    runs = {seq: propagate_clip(model, folder, res, seq) for folder, res, seq in CLIPS}
    if cache is not None:
        np.savez(cache, **{f"{seq}/{k}": v for seq, arrays in runs.items() for k, v in arrays.items()})
    return runs


def clip_stats(run: dict[str, np.ndarray]) -> tuple[dict[int, FrameStats], dict[int, float]]:
    """`app.model.flags` stats of each propagated frame, computed as the engine worker does (previous frame of the
    run and keyframe 0 as references), and each frame's J: the lowest over the objects of frame 0."""
    ids, masks, probs, truth = run["ids"], run["masks"], run["probs"], run["truth"]
    keyframe = areas(masks[0])
    stats, j = {}, {}
    for f in range(1, len(masks)):
        prob = {int(o): probs[f, k].astype(np.float32) for k, o in enumerate(ids)}
        stats[f] = frame_stats(masks[f], prob, previous=areas(masks[f - 1]), keyframe=keyframe)
        j[f] = min(jaccard(masks[f] == o, truth[f] == o) for o in ids)
    return stats, j


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 1e-2) -> np.ndarray:
    """Weighted L2-regularised logistic regression by Newton steps; returns (weights..., bias)."""
    xb = np.c_[x, np.ones(len(x))]
    beta = np.zeros(xb.shape[1])
    reg = l2 * np.r_[np.ones(x.shape[1]), 0.0]
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-xb @ beta))
        grad = xb.T @ (w * (p - y)) + reg * beta
        hess = (xb * (w * p * (1 - p))[:, None]).T @ xb + np.diag(reg)
        beta -= np.linalg.solve(hess, grad)
    return beta


def fit_clips(stats: dict[str, dict[int, FrameStats]], j_obj: dict[str, dict[tuple[int, int], float]]) -> np.ndarray:
    """Fit the object score on every (clip, frame, object): label J < 0.5, clips weighted equally."""
    x, y, w = [], [], []
    for seq, frames in stats.items():
        n = sum(len(s.objects) for s in frames.values())
        for f, s in frames.items():
            for obj_id, obj in s.objects.items():
                x.append([signals(obj)[k] for k in WEIGHTS])
                y.append(float(j_obj[seq][f, obj_id] < 0.5))
                w.append(1.0 / n)
    w_arr = np.array(w) * len(w) / len(stats)
    return fit_logistic(np.array(x), np.array(y), w_arr)


def score_with(beta: np.ndarray, s: FrameStats) -> float:
    z = [beta[-1] + sum(b * signals(o)[k] for b, k in zip(beta, WEIGHTS, strict=False)) for o in s.objects.values()]
    return 1.0 / (1.0 + np.exp(-max(z))) if z else 0.0


def _share(flagged: np.ndarray, among: np.ndarray) -> str:
    n = (flagged & among).sum()
    return f"{n:3d}/{among.sum():3d}" + (f" ({n / among.sum():4.0%})" if among.any() else "       ")


def counts(scores: np.ndarray, j: np.ndarray, t: float) -> str:
    """How many bad (J < 0.5), good (J >= 0.8) and in-between frames score at least `t`."""
    flagged, bad, good = scores >= t, j < 0.5, j >= 0.8
    return (
        f"bad caught {_share(flagged, bad)}  good flagged {_share(flagged, good)}"
        f"  between flagged {_share(flagged, ~bad & ~good)}  all {flagged.sum():3d}/{len(j)}"
    )


def calibrate(cache: Path | None) -> None:
    runs = load_runs(cache)
    stats, j, j_obj = {}, {}, {}
    for seq, run in runs.items():
        stats[seq], j[seq] = clip_stats(run)
        j_obj[seq] = {
            (f, int(o)): jaccard(run["masks"][f] == o, run["truth"][f] == o) for f in stats[seq] for o in run["ids"]
        }
    cv2.setNumThreads(1)
    times = []
    for run in runs.values():
        if run["masks"].shape[1:] == (480, 854):
            for f in range(1, 11):
                mask, prev = run["masks"][f], areas(run["masks"][f - 1])
                prob = {1: run["probs"][f, 0].astype(np.float32)}
                t0 = time.perf_counter()
                frame_stats(mask, prob, prev, prev)
                times.append((time.perf_counter() - t0) * 1000)
    print(
        f"frame_stats, 854x480, one object, one OpenCV thread: {min(times):.1f} / {np.median(times):.1f} ms"
        f" (best / median of {len(times)} frames)"
    )
    beta = fit_clips(stats, j_obj)
    print("logistic fit of the object score on all clips (clips weighted equally):")
    print("  " + ", ".join(f"{k} {b:.2f}" for k, b in zip(WEIGHTS, beta, strict=False)) + f", bias {beta[-1]:.2f}")
    print(f"shipped app.model.flags: WEIGHTS {WEIGHTS}, BIAS {BIAS}, THRESHOLD {THRESHOLD}")
    shipped = {seq: np.array([assess(s).score for s in frames.values()]) for seq, frames in stats.items()}
    jj = {seq: np.array(list(v.values())) for seq, v in j.items()}
    all_s, all_j = np.concatenate(list(shipped.values())), np.concatenate(list(jj.values()))
    old = np.concatenate([[1.0 if s.confidence < 0.55 else 0.0 for s in frames.values()] for frames in stats.values()])
    loco = {}
    for seq in stats:  # fitted on the other clips, scored on this one: an estimate for unseen footage
        beta_out = fit_clips({k: v for k, v in stats.items() if k != seq}, {k: v for k, v in j_obj.items() if k != seq})
        loco[seq] = (beta_out, np.array([score_with(beta_out, s) for s in stats[seq].values()]))
    loco_s = np.concatenate([v[1] for v in loco.values()])
    print("frames: bad = J < 0.5 (the worst object), good = J >= 0.8; by threshold, shipped score / left-out fits:")
    best = None
    for t in np.round(np.arange(0.05, 0.96, 0.05), 2):
        print(f"  {t:.2f}: {counts(all_s, all_j, t)}")
        print(f"        {counts(loco_s, all_j, t)}")
        caught, false = (loco_s >= t)[all_j < 0.5].mean(), (loco_s >= t)[all_j >= 0.8].mean()
        if caught >= 0.7 and false <= 0.1:
            best = float(t)
    print(f"rule: the highest threshold where the left-out fits catch >= 70% of bad frames, <= 10% of good: {best}")
    print(f"at THRESHOLD {THRESHOLD:.2f}, per clip:")
    for seq in shipped:
        print(f"  {seq:<15} {counts(shipped[seq], jj[seq], THRESHOLD)}")
    print(f"  {'overall':<15} {counts(all_s, all_j, THRESHOLD)}")
    print(f"  previous flags (confidence < 0.55 alone), overall: {counts(old, all_j, 0.5)}")
    for seq, (beta_out, scores) in loco.items():
        fitted = ", ".join(f"{x:.2f}" for x in beta_out)
        print(f"  fitted without {seq:<15} ({fitted}), on it: {counts(scores, jj[seq], THRESHOLD)}")
    print(f"  {'left-out fits, overall':<15} {counts(loco_s, all_j, THRESHOLD)}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", type=Path, help="an .npz of the propagation results, read if present, else written")
    p.add_argument("--no-render", action="store_true", help="skip the compositing times")
    args = p.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    command = " ".join(["python benchmarks/bench_review.py", *sys.argv[1:]])
    print(f"# {command} ({os.cpu_count()} CPU cores, load: {load})")
    if not args.no_render:
        bench_render()
    calibrate(args.cache)


if __name__ == "__main__":
    main()
