"""Where a propagated frame's time goes: ms per stage for 1 and 3 objects, crop and full mode, each runtime.

    python benchmarks/profile_propagate.py [--frames 30] [--precisions fp32,bf16] [--runtimes torch,openvino]

Runs the engine on DAVIS dog (854x480, ../shared/data) with its default settings, writing every mask as a PNG
file on the background writer as `llb propagate` does, and prints one markdown table (the README's "Where the
time goes"), after the machine's matmul rates so that tables from different machines can be compared. Stages
are described in llb_core/inference/stages.py. The same rows, one at a time: `llb bench propagate --stages`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from llb_core.cli.bench import png_writer  # noqa: E402
from llb_core.evaluation.bench_propagate import matmul_gflops, several, speed  # noqa: E402
from llb_core.inference import SessionSettings  # noqa: E402
from llb_core.inference.runtime import openvino_available  # noqa: E402
from llb_core.inference.settings import select_dtype  # noqa: E402
from llb_core.inference.stages import STAGES  # noqa: E402
from llb_core.io import open_source, read_index_mask  # noqa: E402
from llb_core.io.background import BackgroundWriter  # noqa: E402
from llb_core.model.defaults import load_model  # noqa: E402

DOG = REPO.parent / "shared" / "data" / "davis2016"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--runtimes", default="torch,openvino")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    runtimes = [r for r in args.runtimes.split(",") if r != "openvino" or openvino_available()]
    frames = open_source(DOG / "JPEGImages" / "480p" / "dog")
    first = read_index_mask(DOG / "Annotations" / "480p" / "dog" / "00000.png", frames.size)
    model = load_model(None)
    native = select_dtype(torch.device("cpu"), "auto") == torch.bfloat16
    out = sys.stdout
    out.write(
        f"{torch.get_num_threads()} threads, 2048x2048 matmul fp32 {matmul_gflops(torch.float32):.0f} GFLOP/s, "
        f"bf16 {matmul_gflops(torch.bfloat16):.0f} GFLOP/s ({'native' if native else 'emulated'} bf16); "
        f"DAVIS dog 854x480, {args.frames} frames, resolution 320, masks written as PNG files\n\n"
    )
    out.write("| objects | mode | precision | runtime | fps | " + " | ".join(STAGES) + " |\n")
    out.write("|---" * (5 + len(STAGES)) + "|\n")
    with tempfile.TemporaryDirectory(prefix="llb-profile-") as tmp:
        for objects in (1, 3):
            masks = several(first, objects)
            for mode in ("crop", "full"):
                for precision in args.precisions.split(","):
                    for runtime in runtimes:
                        settings = SessionSettings(mode=mode, precision=precision, runtime=runtime)
                        with BackgroundWriter() as writer:
                            row = speed(model, frames, masks, settings, args.frames, png_writer(writer, Path(tmp)))
                        cells = " | ".join(f"{row.stages[s]:.1f}" for s in STAGES)
                        out.write(f"| {objects} | {mode} | {precision} | {row.runtime} | {row.fps:.2f} | {cells} |\n")
                        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
