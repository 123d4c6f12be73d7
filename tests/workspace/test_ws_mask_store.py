"""`MaskStore`: the one writer of a project's mask files (checks, soft masks, the stash that makes undo exact)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llb_core.io import ObjectSpec
from llb_core.workspace import Project, ProjectError


def test_soft_masks_are_stashed_for_undo(judo: Path, tmp_path: Path) -> None:
    project = Project.create(tmp_path / "p.llbproj", judo, objects=[ObjectSpec.default(1)])
    store = project.masks
    h, w = project.size
    propagated = np.zeros((h, w), np.uint8)
    propagated[100:200, 100:300] = 1
    store.write(1, propagated, {1: propagated.astype(np.float32) * 0.9})
    soft = store.soft_path(1, 1)
    original = soft.read_bytes()
    assert np.allclose(project.soft_mask(1, 1), propagated * 0.9, atol=1 / 255)
    painted = propagated.copy()
    painted[100:120] = 0
    store.write(1, painted)  # a stroke: the propagated soft mask no longer matches
    assert not soft.exists() and np.array_equal(project.read_mask(1), painted)
    store.write(1, propagated)  # undo: the same index mask again, so its soft mask comes back
    assert soft.read_bytes() == original
    store.delete(1)
    assert project.read_mask(1) is None and not soft.exists() and store.frames() == []


def test_a_writer_on_another_thread_checks_the_ids_declared_when_it_was_asked(judo: Path, tmp_path: Path) -> None:
    project = Project.create(tmp_path / "p.llbproj", judo, objects=[ObjectSpec.default(1)])
    mask = np.zeros(project.size, np.uint8)
    mask[:10, :10] = 2
    with pytest.raises(ProjectError, match=r"object id\(s\) \[2\] are not declared"):
        project.masks.write(0, mask)
    project.masks.write(0, mask, objects={1, 2})  # object 2 existed when the write was queued
    assert project.masks.frames() == [0]
