"""The one place the core app imports the review modules from (rendering, flags, settings).

Until the app-review branch is merged these come from `app._standins`; afterwards from the real modules.
"""

from __future__ import annotations

from app._standin_dialogs import ExportDialog, ShortcutsDialog
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

SettingsDialog = None  # app.dialogs.settings_dialog.SettingsDialog once merged (Edit ▸ Settings is hidden till then)
ViewControls = None  # app.widgets.view_controls.ViewControls once merged

__all__ = [
    "AppSettings",
    "ExportDialog",
    "SettingsDialog",
    "ShortcutsDialog",
    "ViewControls",
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
