"""Fixtures for the I/O tests: the shared data folder and small derived clips."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def ffmpeg(*args: str) -> None:
    """Run the bundled ffmpeg quietly, failing the test on error."""
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True)


@pytest.fixture(scope="session")
def data() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"shared data not found at {DATA}")
    return DATA.resolve()


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
