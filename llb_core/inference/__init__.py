"""The inference engine: sessions over a video, memory banks, search regions, propagation.

Names are imported on first use (PEP 562), so `from llb_core.inference import SessionSettings` or `Provenance`
does not import torch: the desktop app shows its window first and loads torch in the engine thread.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llb_core.inference.aggregation import soft_aggregate
    from llb_core.inference.keyframes import Keyframe
    from llb_core.inference.memory import MemoryBank, MemorySample
    from llb_core.inference.results import FrameResult, Provenance, RunResults
    from llb_core.inference.session import ClipView, Direction, Frames, Run, RunReport, Session
    from llb_core.inference.settings import SessionSettings, select_device, select_dtype

_WHERE = {
    "soft_aggregate": "aggregation",
    "Keyframe": "keyframes",
    "MemoryBank": "memory",
    "MemorySample": "memory",
    "FrameResult": "results",
    "RunResults": "results",
    "Provenance": "results",
    "ClipView": "session",
    "Direction": "session",
    "Frames": "session",
    "Run": "session",
    "RunReport": "session",
    "Session": "session",
    "SessionSettings": "settings",
    "select_device": "settings",
    "select_dtype": "settings",
}

__all__ = [
    "ClipView",
    "Direction",
    "FrameResult",
    "Frames",
    "Keyframe",
    "MemoryBank",
    "MemorySample",
    "Provenance",
    "Run",
    "RunReport",
    "RunResults",
    "Session",
    "SessionSettings",
    "select_device",
    "select_dtype",
    "soft_aggregate",
]


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
