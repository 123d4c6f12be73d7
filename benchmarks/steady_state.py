"""Frame time once every memory bank is full: the first 40 frames against frames 121-160 of a synthetic clip.

    python benchmarks/steady_state.py [--runtime auto|torch|openvino] [--precision fp32|bf16]

`llb bench propagate` times the first 30 frames, while the memory bank still fills (one sample every 5 frames,
at most 20): the few-shot learner's refits grow with the bank, so a long clip runs slower than those figures.
This prints both, with the memory stage (label encoding + refits) apart. One object, 854x480, default settings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llb_core.evaluation.bench_propagate import MovingShapes  # noqa: E402
from llb_core.inference import Session, SessionSettings  # noqa: E402
from llb_core.inference.stages import StageClock  # noqa: E402
from llb_core.model.defaults import load_model  # noqa: E402
from llb_core.workspace import ClipState  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", default="auto", choices=("auto", "torch", "openvino"))
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    args = parser.parse_args()
    shapes = MovingShapes(161)
    state = ClipState.detached(161, shapes.size, {0: shapes.mask(0)})
    session = Session(shapes, load_model(None), state, SessionSettings(precision=args.precision, runtime=args.runtime))
    clock = StageClock()
    session.clock = clock
    marks: dict[int, tuple[int, float, float]] = {}

    def on_frame(result: object) -> None:
        if result.frame in (40, 120, 160):  # type: ignore[attr-defined]
            marks[result.frame] = (clock.frames, clock.total, clock.seconds["memory"])  # type: ignore[attr-defined]

    session.propagate(0, "forward", on_frame=on_frame)
    for label, (a, b) in (("frames 1-40", (None, 40)), ("frames 121-160", (120, 160))):
        f0, t0, m0 = (0, 0.0, 0.0) if a is None else marks[a]
        f1, t1, m1 = marks[b]
        n = f1 - f0
        sys.stdout.write(
            f"{label}: {1000 * (t1 - t0) / n:.1f} ms/frame ({n / (t1 - t0):.2f} fps), memory stage "
            f"{1000 * (m1 - m0) / n:.1f} ms/frame ({session.runtime}, {args.precision})\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
