"""Fixtures for the workspace tests: the shared data folder and a small image clip copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def judo(data: Path, tmp_path: Path) -> Path:
    """A private copy of the 6-frame judo image folder (tests may move or alter it)."""
    dst = tmp_path / "clips" / "judo"
    shutil.copytree(data / "multiobject" / "images" / "judo", dst)
    return dst
