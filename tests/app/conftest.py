"""Qt tests run without a display; each test gets its own QSettings storage."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402


@pytest.fixture
def qsettings(tmp_path: Path) -> QSettings:
    """A QSettings on a fresh ini file; default-constructed QSettings also land in `tmp_path`."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "qsettings"))
    return QSettings(str(tmp_path / "llb-studio.ini"), QSettings.Format.IniFormat)
