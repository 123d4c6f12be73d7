"""Fixtures for engine tests: small real clips in memory and one shared model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from llb_core.model import LLBNet, create_model
from tests.conftest import SHARED_DATA, load_davis_frame


class ArrayFrames:
    """Frames held in memory; counts reads."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self._frames = frames
        self.num_frames = len(frames)
        self.size = frames[0].shape[:2]
        self.reads: list[int] = []

    def read(self, index: int) -> np.ndarray:
        self.reads.append(index)
        return self._frames[index]


@pytest.fixture(scope="session")
def model() -> LLBNet:
    return create_model("llb").eval()


@pytest.fixture(scope="session")
def dog(shared_data) -> tuple[ArrayFrames, list[np.ndarray]]:
    """First 12 frames of DAVIS dog and their masks (bool)."""
    pairs = [load_davis_frame("dog", i) for i in range(12)]
    return ArrayFrames([p[0] for p in pairs]), [p[1] for p in pairs]


def multiobject(name: str, count: int) -> tuple[ArrayFrames, dict[int, Path]]:
    folder = SHARED_DATA / "multiobject"
    images = sorted((folder / "images" / name).iterdir())[:count]
    frames = [np.asarray(Image.open(p).convert("RGB")) for p in images]
    masks = {int(p.stem): p for p in (folder / "masks" / name).iterdir()}
    return ArrayFrames(frames), masks
