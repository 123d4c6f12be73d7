"""The one place the core app imports the review modules from (rendering, flags, settings).

Until the app-review branch is merged these come from `app._standins`; afterwards from the real modules.
"""

from __future__ import annotations

from app._standins import (
    AppSettings,
    FrameStats,
    ViewMode,
    ViewState,
    add_recent,
    compose,
    find_flags,
    frame_stats,
    load_settings,
    save_settings,
)

__all__ = [
    "AppSettings",
    "FrameStats",
    "ViewMode",
    "ViewState",
    "add_recent",
    "compose",
    "find_flags",
    "frame_stats",
    "load_settings",
    "save_settings",
]
