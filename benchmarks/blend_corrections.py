"""After one correction, should the frames before it come from the nearer run or from a blend of both runs?

    python benchmarks/blend_corrections.py [--weights W] [--sequences S ...] [--threads N]

Per validation clip: propagate forward from frame 0's ground truth, pick the worst frame c (lowest frame J&F,
as `llb eval --corrections`), paint its ground truth as a keyframe, run backward from c to frame 1 and forward
from c to the end. Frames 1..c-1 then get either the prediction of the nearer keyframe's run (what the engine's
fill does) or the mean of the forward and backward runs' probabilities weighted by nearness ((c - t) / c for
the forward run). Prints the frame-averaged J&F of the forward run alone, of the nearer rule and of the blend
(frame means over all objects: close to, but not exactly, the sequence J&F of `llb eval`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from llb_core.evaluation.davis import DavisRoot  # noqa: E402
from llb_core.evaluation.engine_method import EngineMethod  # noqa: E402
from llb_core.evaluation.metrics import boundary_tolerance, frame_scores  # noqa: E402
from llb_core.workspace import ClipState  # noqa: E402

DATA = REPO.parent / "shared" / "data"
CLIPS = [(DATA / "davis2016", s) for s in ("dog", "kite-surf", "motocross-jump", "scooter-black")]
CLIPS.append((DATA / "davis2017-multi", "dogs-jump"))


def clip_scores(method: EngineMethod, root: Path, name: str) -> list[float]:
    """Frame-averaged J&F of one clip: forward run alone, nearer rule, blend (see the module docstring)."""
    seq = DavisRoot(root).sequence(name)
    frames, n = seq.frames, seq.frames.num_frames
    first = seq.first_mask()
    ids = [int(v) for v in np.unique(first) if v]
    tolerance = boundary_tolerance(frames.size)
    truth = {t: seq.ground_truth(t) for t in range(n)}
    scored = [t for t in range(1, n - 1) if truth[t] is not None]

    def run(keys: dict[int, np.ndarray], start: int, direction: str) -> dict[int, np.ndarray]:
        """frame -> (K, H, W) object probabilities of one run."""
        clip = ClipState.detached(n, frames.size, keys)
        out: dict[int, np.ndarray] = {}
        method.new_session(frames, clip).propagate(
            start, direction, on_frame=lambda r: out.__setitem__(r.frame, np.stack([r.probs[o] for o in ids]))
        )
        return out

    def label(probs: np.ndarray) -> np.ndarray:
        background = np.clip(1 - probs.sum(0, keepdims=True), 0, 1)
        return np.array([0, *ids], np.uint8)[np.concatenate([background, probs]).argmax(0)]

    def jf(mask: np.ndarray, t: int) -> float:
        return float(np.mean([(j + f) / 2 for j, f in frame_scores(mask, truth[t], ids, tolerance).values()]))

    forward = run({0: first}, 0, "forward")
    alone = {t: jf(label(forward[t]), t) for t in scored}
    c = min(scored, key=lambda t: alone[t])
    painted = np.where(np.isin(truth[c], ids), truth[c], 0).astype(np.uint8)
    keys = {0: first, c: painted}
    backward, after = run(keys, c, "backward"), run(keys, c, "forward")
    nearer, blend = [], []
    for t in scored:
        if t >= c:
            score = jf(painted, t) if t == c else jf(label(after[t]), t)
            nearer.append(score)
            blend.append(score)
            continue
        w = (c - t) / c
        nearer.append(jf(label(forward[t] if t <= c // 2 else backward[t]), t))
        blend.append(jf(label(w * forward[t] + (1 - w) * backward[t]), t))
    row = [100 * np.mean(list(alone.values())), 100 * np.mean(nearer), 100 * np.mean(blend)]
    print(f"{name:16s} c={c:3d}/{n}  forward {row[0]:5.1f}  nearer {row[1]:5.1f}  blend {row[2]:5.1f}", flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--sequences", nargs="+", default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    method = EngineMethod(args.weights)
    rows = [clip_scores(method, root, name) for root, name in CLIPS if not args.sequences or name in args.sequences]
    mean = np.mean(rows, axis=0)
    print(f"{'mean':16s} {'':9s}  forward {mean[0]:5.1f}  nearer {mean[1]:5.1f}  blend {mean[2]:5.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
