"""Write-ahead journal of manifest changes made since the last save (`journal.jsonl`).

Each change is one JSON line, flushed and fsynced before the change is reported done, so a crash
between saves loses nothing: opening the project replays the lines newer than the saved revision.
A torn last line (crash mid-append) is ignored.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from llb_core.io._errors import WriteError

log = logging.getLogger(__name__)

JOURNAL_NAME = "journal.jsonl"


class Journal:
    """Append-only change log beside the manifest."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / JOURNAL_NAME

    def append(self, entry: dict[str, Any]) -> None:
        """Durably append one change (must hold "rev" and "op")."""
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        size = self.path.stat().st_size if self.path.exists() else 0
        try:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as err:
            # Take the unacknowledged line back out; if even that fails, replay keeps only the last
            # entry of each revision, so a later acknowledged change still wins.
            with contextlib.suppress(OSError):
                os.truncate(self.path, size)
            failure = WriteError(
                f"{self.path}: could not record the change ({err}). Free disk space or "
                "check the project folder is writable; earlier changes are intact."
            )
            failure.dest, failure.reason = self.path, str(err)
            raise failure from err

    def entries_after(self, revision: int) -> list[dict[str, Any]]:
        """Changes with "rev" > `revision`, in order; a malformed trailing line is skipped with a warning."""
        if not self.path.exists():
            return []
        out: list[dict[str, Any]] = []
        lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        for k, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                rev = int(entry["rev"])
                entry["op"]  # noqa: B018 - presence check
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                log.warning("%s: line %d is incomplete (interrupted write); ignored", self.path, k + 1)
                continue
            if rev > revision:
                while out and int(out[-1]["rev"]) >= rev:  # a failed append was retried at this rev
                    out.pop()
                out.append(entry)
        return out

    def clear(self) -> None:
        """Drop all entries (after the manifest holding them was saved)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
