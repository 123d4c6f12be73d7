"""Minimal stand-ins for modules built on another branch (app-review); delete this file once they are merged.

Each name here is imported in exactly one place (`app/hooks.py`), which switches to the real module:
`app.render` (ViewMode, ViewState, compose), `app.flags` (FrameStats, frame_stats, find_flags),
`app.settings` (AppSettings, load_settings, save_settings, add_recent).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings

from llb_core.inference import SessionSettings
from llb_core.io import palette_colour


class ViewMode(enum.Enum):
    OVERLAY = "overlay"


@dataclass(frozen=True)
class ViewState:
    mode: ViewMode = ViewMode.OVERLAY
    opacity: float = 0.5
    grow: int = 0
    feather: int = 0


def compose(
    frame_rgb: np.ndarray,
    index_mask: np.ndarray | None,
    colours: Mapping[int, tuple[int, int, int]],
    hidden: Set[int],
    state: ViewState,
) -> np.ndarray:
    """Object colours blended over the frame: (H, W, 3) uint8."""
    if index_mask is None:
        return frame_rgb
    lut = np.zeros((256, 3), np.float32)
    alpha = np.zeros(256, np.float32)
    for obj in np.unique(index_mask):
        if obj and int(obj) not in hidden:
            lut[obj] = colours.get(int(obj)) or palette_colour(int(obj))
            alpha[obj] = state.opacity
    a = alpha[index_mask][..., None]
    return (frame_rgb * (1 - a) + lut[index_mask] * a).astype(np.uint8)


@dataclass(frozen=True)
class FrameStats:
    areas: dict[int, int] = field(default_factory=dict)
    confidence: float = 1.0


def frame_stats(mask: np.ndarray, probs: Mapping[int, np.ndarray] | None = None) -> FrameStats:
    counts = np.bincount(mask.ravel(), minlength=256)
    return FrameStats({int(i): int(counts[i]) for i in np.flatnonzero(counts) if i})


def find_flags(stats: Mapping[int, FrameStats]) -> dict[int, str]:
    return {}


@dataclass(frozen=True)
class AppSettings:
    device: str = "auto"
    precision: str = "auto"
    resolution: int = 256
    memory_interval: int = 5
    cache_size: int = 32
    autosave_minutes: int = 2
    recent_files: tuple[str, ...] = ()

    def session_settings(self, base: SessionSettings | None = None) -> SessionSettings:
        return (base or SessionSettings()).replace(
            device=self.device, precision=self.precision, resolution=self.resolution,
            memory_interval=self.memory_interval,
        )  # fmt: skip

    def replace(self, **changes: Any) -> AppSettings:  # noqa: ANN401
        return dataclasses.replace(self, **changes)


def load_settings(qs: QSettings) -> AppSettings:
    raw = qs.value("preferences/recent_files", "[]")
    try:
        recent = tuple(str(p) for p in json.loads(str(raw)))
    except ValueError:
        recent = ()
    return AppSettings(recent_files=recent)


def save_settings(qs: QSettings, settings: AppSettings) -> None:
    qs.setValue("preferences/recent_files", json.dumps(list(settings.recent_files)))
    qs.sync()


def add_recent(settings: AppSettings, path: str, limit: int = 10) -> AppSettings:
    rest = [p for p in settings.recent_files if p != path]
    return settings.replace(recent_files=tuple([path, *rest][:limit]))
