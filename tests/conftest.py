"""Shared fixtures: the real data beside the checkout (../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# The engine's "auto" runtime times PyTorch against OpenVINO once per model and input size (seconds each); the
# tests build many small models, so they run PyTorch (also in the CLI subprocesses they start) unless a test asks
# for a runtime itself (tests/inference/test_runtime.py).
os.environ.setdefault("LLB_RUNTIME", "torch")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DAVIS = SHARED_DATA / "davis2016"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def data(shared_data: Path) -> Path:
    """The shared data folder, resolved (the I/O and workspace tests' name for it)."""
    return shared_data.resolve()


def load_davis_frame(sequence: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) uint8 RGB frame and (H, W) bool mask of a DAVIS-2016 sequence."""
    name = f"{index:05d}"
    image = np.asarray(Image.open(DAVIS / "JPEGImages" / "480p" / sequence / f"{name}.jpg").convert("RGB"))
    mask = np.asarray(Image.open(DAVIS / "Annotations" / "480p" / sequence / f"{name}.png").convert("L")) > 127
    return image.copy(), mask.copy()
