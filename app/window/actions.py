"""Every command of the main window as a QAction: text, shortcut, icon, tip. The shortcuts overview (F1) is
generated from this table, so it cannot drift from what the keys do."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from app.view import icons

# name: (menu, text, shortcuts, icon, tip)
SPECS: dict[str, tuple[str, str, tuple[str, ...], str | None, str]] = {
    "open": ("File", "&Open video…", ("Ctrl+O",), "fa5s.folder-open", "Open a video file"),
    "open_folder": ("File", "Open &folder…", ("Ctrl+Shift+O",), None, "Open a folder of frames or a project folder"),
    "demo": ("File", "Open &demo clip", (), None, "Open the bundled demo clip with a first mask"),
    "save": ("File", "&Save", ("Ctrl+S",), "fa5s.save", "Save the project (masks are saved as you work)"),
    "export": ("File", "&Export…", ("Ctrl+E",), "fa5s.file-export", "Export masks, mattes, cutouts or videos"),
    "relink": ("File", "&Relink source…", (), None, "Point the project at a moved or re-encoded copy of its clip"),
    "close": ("File", "&Close project", ("Ctrl+W",), None, "Save and close the project"),
    "quit": ("File", "&Quit", ("Ctrl+Q",), None, "Save and quit"),
    "undo": ("Edit", "&Undo", ("Ctrl+Z",), "fa5s.undo", "Undo the last edit or propagation run"),
    "redo": ("Edit", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "fa5s.redo", "Redo"),
    "remove_keyframe": ("Edit", "Remove &keyframe", ("Ctrl+K",), None, "Turn this keyframe back into a frame"),
    "settings": ("Edit", "&Settings…", ("Ctrl+,",), "fa5s.cog", "Device, precision, resolution, autosave"),
    "fit": ("View", "&Fit to window", ("Ctrl+0",), "fa5s.expand", "Show the whole frame"),
    "actual": ("View", "&1:1", ("Ctrl+1",), None, "One image pixel per screen pixel"),
    "zoom_in": ("View", "Zoom &in", ("Ctrl+=", "Ctrl++"), "fa5s.search-plus", "Zoom in (or use the wheel)"),
    "zoom_out": ("View", "Zoom &out", ("Ctrl+-",), "fa5s.search-minus", "Zoom out (or use the wheel)"),
    "view_overlay": ("View", "&Overlay", ("1",), None, "Object colours over the frame"),
    "view_mask": ("View", "&Mask", ("2",), None, "Object colours on black"),
    "view_cutout": ("View", "&Cutout", ("3",), None, "Visible objects over a checkerboard, with the export matte"),
    "view_matte": ("View", "M&atte", ("4",), None, "The export matte in grey"),
    "view_side_by_side": ("View", "&Side by side", ("5",), None, "Source and overlay side by side"),
    "onion": ("View", "O&nion skin", ("O",), None, "Show the previous frame's object edges"),
    "brush": ("Tools", "&Brush", ("B",), "fa5s.paint-brush", "Paint the active object (right button erases)"),
    "eraser": ("Tools", "&Eraser", ("E",), "fa5s.eraser", "Erase the active object"),
    "box": ("Tools", "Bo&x (GrabCut)", ("R",), "fa5s.vector-square", "Drag a box: GrabCut proposes the object"),
    "click": (
        "Tools",
        "C&lick to segment",
        ("C",),
        "fa5s.mouse-pointer",
        "Left click adds to the object, right click removes, drag a box; each click refines this frame's mask",
    ),
    "bigger": ("Tools", "Bigger brush", ("]",), None, "Brush size up (also Ctrl + wheel)"),
    "smaller": ("Tools", "Smaller brush", ("[",), None, "Brush size down (also Ctrl + wheel)"),
    "fill_holes": ("Tools", "&Fill holes", ("H",), "fa5s.fill-drip", "Fill holes inside the active object"),
    "clear_object": ("Tools", "&Clear object on frame", ("Shift+Del",), "fa5s.times-circle", "Remove it here"),
    "next_object": ("Tools", "Next object", ("Ctrl+Down",), None, "Make the next object in the list active"),
    "prev_object": ("Tools", "Previous object", ("Ctrl+Up",), None, "Make the previous object in the list active"),
    "forward": ("Propagate", "Propagate &forward", ("P",), "mdi6.arrow-right-bold", "From this frame onwards"),
    "backward": ("Propagate", "Propagate &backward", ("Shift+P",), "mdi6.arrow-left-bold", "From this frame back"),
    "both": ("Propagate", "Propagate &both ways", ("Ctrl+P",), "mdi6.arrow-left-right-bold", "Both directions"),
    "fill_missing": (
        "Propagate",
        "Fill &missing frames",
        ("Ctrl+Shift+P",),
        "mdi6.auto-fix",
        "Only frames without masks",
    ),
    "cancel": ("Propagate", "&Cancel", ("Esc",), "fa5s.stop", "Stop after the frame in progress"),
    "play": ("Navigate", "&Play / pause", ("Space",), "fa5s.play", "Play at the clip's frame rate"),
    "next_frame": ("Navigate", "Next frame", ("Right", "."), None, ""),
    "prev_frame": ("Navigate", "Previous frame", ("Left", ","), None, ""),
    "next_key": ("Navigate", "Next keyframe", ("K",), None, ""),
    "prev_key": ("Navigate", "Previous keyframe", ("Shift+K",), None, ""),
    "next_flag": ("Navigate", "Next flagged frame", ("N",), None, "Frames likely to be wrong, in frame order"),
    "prev_flag": ("Navigate", "Previous flagged frame", ("Shift+N",), None, ""),
    "first": ("Navigate", "First frame", ("Home",), None, ""),
    "last": ("Navigate", "Last frame", ("End",), None, ""),
    "shortcuts": ("Help", "&Keyboard shortcuts", ("F1",), "fa5s.keyboard", "All shortcuts"),
    "about": ("Help", "&About LLB Studio", (), None, ""),
}

POINTER_HELP = [
    ("Wheel", "Zoom about the pointer"),
    ("Ctrl / Shift + wheel", "Brush size"),
    ("Middle drag, Alt + drag", "Pan"),
    ("Right drag (brush)", "Erase the active object"),
]


def make_actions(parent: QWidget) -> dict[str, QAction]:
    """One QAction per entry of `SPECS`, parented to `parent` (add them to menus or the window)."""
    actions = {}
    for name, (_menu, text, keys, icon, tip) in SPECS.items():
        action = QAction(icons.icon(icon), text, parent) if icon else QAction(text, parent)
        action.setObjectName(f"action_{name}")
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
        shown = f" ({keys[0]})" if keys else ""
        action.setToolTip(f"{text.replace('&', '').rstrip('…')}{shown}" + (f": {tip}" if tip else ""))
        action.setStatusTip(tip)
        actions[name] = action
    return actions


def shortcut_table() -> list[tuple[str, str]]:
    """(keys, what they do) for the shortcuts overview."""
    rows = [(" / ".join(keys), text.replace("&", "").rstrip("…")) for _, text, keys, _, _ in SPECS.values() if keys]
    return rows + POINTER_HELP
