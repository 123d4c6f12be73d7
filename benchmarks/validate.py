"""The accuracy issue's validation: the five held-out clips, per clip and their mean, for one set of weights.

    python benchmarks/validate.py [--weights W] [--corrections 0,1] [--method llb|copy|flow] [--set KEY=VALUE]
                                  [--sequences S ...] [--json F]

Clips: dog, kite-surf, motocross-jump, scooter-black (../shared/data/davis2016, 480p) and dogs-jump
(../shared/data/davis2017-multi, 240p, three look-alike dogs). The model card's validation rows come from here.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from llb_core.evaluation.corrections import parse_counts  # noqa: E402
from llb_core.evaluation.evaluate import evaluate  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SPLITS = (
    (DATA / "davis2016", ["dog", "kite-surf", "motocross-jump", "scooter-black"]),
    (DATA / "davis2017-multi", ["dogs-jump"]),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--method", default="llb", choices=["llb", "copy", "flow"])
    parser.add_argument("--corrections", default=None, help="e.g. 0,1,2,4")
    parser.add_argument("--resolution", type=int, default=None)
    parser.add_argument("--mode", default=None, choices=["crop", "full"])
    parser.add_argument("--precision", default="auto")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="engine setting, e.g. prior_flow=true"
    )
    parser.add_argument("--sequences", nargs="+", default=None, help="a subset of the five clips")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    counts = None if args.corrections is None else parse_counts(args.corrections)
    engine = {k: tomllib.loads(f"v = {v}")["v"] for k, _, v in (item.partition("=") for item in args.set)}
    rows: dict[str, dict[str, float]] = {}
    for root, sequences in SPLITS:
        sequences = [s for s in sequences if args.sequences is None or s in args.sequences]
        if not sequences:
            continue
        report = evaluate(
            root,
            sequences,
            args.method,
            weights=args.weights,
            resolution=args.resolution,
            mode=args.mode,
            precision=args.precision,
            corrections=counts,
            engine=engine,
        )
        for seq in report.sequences:
            row = {"J": 100 * seq.j, "F": 100 * seq.f, "J&F": 100 * seq.jf, "fps": seq.fps}
            for k, v in (seq.corrections or {}).items():
                row[f"+{k}"] = 100 * v
            rows[seq.name] = row
            print(f"{seq.name:16s} " + "  ".join(f"{k} {v:5.1f}" for k, v in row.items()), flush=True)
    keys = list(next(iter(rows.values())))
    mean = {k: sum(r[k] for r in rows.values()) / len(rows) for k in keys}
    print(f"{'mean of 5':16s} " + "  ".join(f"{k} {v:5.1f}" for k, v in mean.items()))
    print(f"{'lowest':16s} J&F {min(r['J&F'] for r in rows.values()):5.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"weights": args.weights, "clips": rows, "mean": mean}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
