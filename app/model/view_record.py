"""The view state a project remembers (current frame, active / hidden / locked objects, view mode and matte
controls), as the JSON stored in its settings under `app.view`. Qt-free."""

from __future__ import annotations

import logging
from collections.abc import Set
from dataclasses import dataclass, field

from app.view.render import ViewMode, ViewState

log = logging.getLogger(__name__)


@dataclass
class ViewRecord:
    """What is restored when a project is reopened."""

    frame: int = 0
    active: int = 0
    hidden: set[int] = field(default_factory=set)
    locked: set[int] = field(default_factory=set)
    state: ViewState = field(default_factory=ViewState)

    def to_json(self) -> dict:
        s = self.state
        return {
            "frame": self.frame,
            "active": self.active,
            "hidden": sorted(self.hidden),
            "locked": sorted(self.locked),
            "mode": s.mode.value,
            "opacity": s.opacity,
            "grow": s.grow,
            "feather": s.feather,
            "outline": s.outline,
            "onion": s.onion,
        }


def parse_view_record(raw: object, num_frames: int, ids: Set[int], where: str = "") -> ViewRecord:
    """Read a stored record, keeping only what still applies (frames in range, existing objects); anything
    malformed gives the defaults, with a logged warning naming `where`."""
    default = ViewRecord(active=min(ids, default=0))
    if not isinstance(raw, dict):
        return default
    try:
        active = int(raw.get("active", 0))
        return ViewRecord(
            frame=max(0, min(int(raw.get("frame", 0)), num_frames - 1)),
            active=active if active in ids else default.active,
            hidden={int(i) for i in raw.get("hidden", [])} & set(ids),
            locked={int(i) for i in raw.get("locked", [])} & set(ids),
            state=ViewState(
                mode=ViewMode(raw.get("mode", ViewMode.OVERLAY.value)),
                opacity=float(raw.get("opacity", 0.5)),
                grow=int(raw.get("grow", 0)),
                feather=int(raw.get("feather", 0)),
                outline=bool(raw.get("outline", True)),
                onion=bool(raw.get("onion", False)),
            ),
        )
    except (TypeError, ValueError) as err:
        log.warning("%s: ignoring the saved view state (%s)", where, err)
        return default
