"""Fixtures of the review-tools tests: real DAVIS frames and masks, and a small project made from them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from review_helpers import davis_mask, split_in_two

from llb_core.workspace import Project
from tests.conftest import DAVIS

SEQUENCE = "dog"  # smooth motion, one large object: no area jumps between annotated frames


@pytest.fixture
def davis_frame(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) uint8 frame and (H, W) uint8 two-object index mask of DAVIS dog frame 10.

    The dog's pixels left of its centroid column are object 1, the rest object 2, so object boundaries
    touch each other as well as the background.
    """
    rgb = np.asarray(Image.open(DAVIS / "JPEGImages" / "480p" / SEQUENCE / "00010.jpg").convert("RGB")).copy()
    return rgb, split_in_two(davis_mask(SEQUENCE, 10))


@pytest.fixture
def small_project(shared_data: Path, tmp_path: Path) -> Iterator[Project]:
    """A project over a copy of the first 5 frames of DAVIS dog, with the annotations split in two objects."""
    clip = tmp_path / "clip"
    clip.mkdir()
    for i in range(5):
        shutil.copy(DAVIS / "JPEGImages" / "480p" / SEQUENCE / f"{i:05d}.jpg", clip)
    project = Project.create(tmp_path / "project", clip)
    project.add_object("front")
    project.add_object("back")
    for i in range(5):
        project.masks.write(i, split_in_two(davis_mask(SEQUENCE, i)))
    yield project
    project.close()
