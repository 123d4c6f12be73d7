"""Fixtures for the I/O tests: the shared data folder and small derived clips."""

from __future__ import annotations

from pathlib import Path

import pytest
from io_helpers import ffmpeg


@pytest.fixture(scope="session")
def bike(data: Path) -> tuple[Path, Path]:
    """(images folder, masks folder) of the 4-frame, two-object bike clip."""
    return data / "multiobject" / "images" / "bike", data / "multiobject" / "masks" / "bike"


@pytest.fixture(scope="session")
def short_clip(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-frame cut of street.mp4 (stream copy, so frames are those of the original)."""
    out = tmp_path_factory.mktemp("clips") / "street40.mp4"
    ffmpeg("-i", str(data / "videos" / "street.mp4"), "-frames:v", "40", "-c", "copy", str(out))
    return out
