"""`llb-studio [PATH] [--demo] [--self-check]`: open the app, or check an installation without a window."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="llb-studio",
        description="LLB Studio: paint a mask on a frame, propagate it through the video, correct, export.",
    )
    p.add_argument("path", nargs="?", help="video file, folder of frames, or project folder to open")
    p.add_argument("--demo", action="store_true", help="open the embedded demo clip")
    p.add_argument(
        "--self-check",
        action="store_true",
        help="load the weights, propagate a few frames of the demo clip without a window, print timings, exit",
    )
    p.add_argument("--frames", type=int, default=8, help="frames to propagate in --self-check (default 8)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.self_check:
        from app.window.self_check import self_check

        return self_check(frames=args.frames)
    from app.window.main_window import launch

    return launch(path=args.path, demo=args.demo)


if __name__ == "__main__":
    sys.exit(main())
