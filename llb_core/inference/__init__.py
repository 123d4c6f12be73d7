"""The inference engine: sessions over a video, memory banks, search regions, propagation."""

from llb_core.inference.aggregation import soft_aggregate
from llb_core.inference.keyframes import Keyframe
from llb_core.inference.memory import MemoryBank, MemorySample
from llb_core.inference.results import FrameResult, MaskStore, Provenance
from llb_core.inference.session import Frames, Run, RunReport, Session
from llb_core.inference.settings import SessionSettings, select_device, select_dtype

__all__ = [
    "FrameResult",
    "Frames",
    "Keyframe",
    "MaskStore",
    "MemoryBank",
    "MemorySample",
    "Provenance",
    "Run",
    "RunReport",
    "Session",
    "SessionSettings",
    "select_device",
    "select_dtype",
    "soft_aggregate",
]
