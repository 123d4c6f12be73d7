"""Click to segment: one frame's object mask from positive/negative clicks, a box and the previous mask.

from llb_core.interactive import Click, ClickSession, load_click_model
session = ClickSession(load_click_model(), frame)      # the frame's features, computed once
mask = session.predict([Click(120, 80)])               # (H, W) bool; each call refines the last
mask = session.predict([Click(120, 80), Click(300, 40, positive=False)])

One call for one mask: `llb_core.interactive.segment(frame, positive=[(x, y)], negative=[], box=None)`.
The names load lazily, so that `llb_core.interactive.grabcut` (no torch) stays cheap to import.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Click": "llb_core.interactive.clicks",
    "ClickSession": "llb_core.interactive.session",
    "load_click_model": "llb_core.interactive.session",
    "segment": "llb_core.interactive.prompts",
    "mask_from_prompts": "llb_core.interactive.prompts",
    "read_prompts": "llb_core.interactive.prompts",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:  # noqa: ANN401
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
