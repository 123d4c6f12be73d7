"""Where the core app's Qt side (document, worker, windows) imports the review modules from: rendering, flags,
preferences, dialogs, view controls. (Qt-free helpers such as `app.view_record` import `app.render` directly.)"""

from __future__ import annotations

from app.dialogs.export_dialog import ExportDialog
from app.dialogs.settings_dialog import SettingsDialog
from app.dialogs.shortcuts_dialog import ShortcutsDialog
from app.flags import FrameStats, find_flags, frame_stats
from app.render import ViewMode, ViewState, compose
from app.settings import AppSettings, add_recent, load_settings, save_settings
from app.widgets.view_controls import ViewControls

__all__ = [
    "AppSettings",
    "ExportDialog",
    "FrameStats",
    "SettingsDialog",
    "ShortcutsDialog",
    "ViewControls",
    "ViewMode",
    "ViewState",
    "add_recent",
    "compose",
    "find_flags",
    "frame_stats",
    "load_settings",
    "save_settings",
]
