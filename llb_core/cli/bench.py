"""`llb bench`: speed benchmarks (placeholder until the model lands)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `bench` subcommand."""
    p = sub.add_parser("bench", help="benchmarks")
    p.set_defaults(func=lambda args: 0)
