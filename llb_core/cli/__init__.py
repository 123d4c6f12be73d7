"""The `llb` command line. Each subcommand lives in its own module with a `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from llb_core.errors import LLBError

# Subcommand modules, imported lazily so `llb --help` stays fast and one broken
# subcommand does not take the others down with it.
_SUBCOMMANDS: tuple[str, ...] = ("bench", "eval", "eval_clicks", "export", "project", "propagate", "train")


class CliError(LLBError):
    """A user-facing error of the command line (bad arguments, unusable input): exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="llb", description="LLB Studio command line")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in _SUBCOMMANDS:
        importlib.import_module(f"llb_core.cli.{name}").register(sub)
    return parser


def route_subcommand(argv: list[str]) -> list[str]:
    """`llb eval clicks ...` -> `llb eval-clicks ...` (the parser's name for it); other lines unchanged."""
    words = [i for i, a in enumerate(argv) if not a.startswith("-")]
    if len(words) >= 2 and argv[words[0]] == "eval" and argv[words[1]] == "clicks" and words[1] == words[0] + 1:
        return [*argv[: words[0]], "eval-clicks", *argv[words[1] + 1 :]]
    return argv


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `llb` console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(route_subcommand(list(sys.argv[1:] if argv is None else argv)))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    try:
        return int(args.func(args) or 0)
    except LLBError as err:
        sys.stderr.write(f"llb {args.command}: error: {' '.join(str(err).split())}\n")
        return 2
    except OSError as err:
        # A file the checks could not foresee (it changed under us, the disk filled up): still one line naming it.
        logging.getLogger(__name__).debug("llb %s failed", args.command, exc_info=True)
        where = f"{err.filename}: " if err.filename else ""
        sys.stderr.write(
            f"llb {args.command}: error: {where}{err.strerror or err}; check that the path exists and is writable "
            "and that the disk has free space (-v shows where it happened)\n"
        )
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"llb {args.command}: cancelled\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
