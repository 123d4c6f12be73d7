"""The union matte: touching objects stay opaque along their shared edge, in every matte exporter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from io_helpers import decode_video
from PIL import Image

from llb_core.io import ImageFolderSource, ObjectSpec, quantize_alpha
from llb_core.io.export import ExportOptions, InMemorySequence, apply_matte, combined_alpha, export, union_matte

SIZE = 64
TOP, BOTTOM, LEFT, SEAM, RIGHT = 16, 48, 12, 32, 52  # square rows TOP:BOTTOM, cols LEFT:RIGHT, split at SEAM
SETTINGS = [(0, 0), (0, 4), (3, 4), (-2, 3)]  # (grow, feather)


def halves() -> np.ndarray:
    """(H, W) uint8: a square, object 1 left of SEAM and object 2 right of it."""
    index = np.zeros((SIZE, SIZE), np.uint8)
    index[TOP:BOTTOM, LEFT:SEAM] = 1
    index[TOP:BOTTOM, SEAM:RIGHT] = 2
    return index


def seam_rows(grow: int, feather: int) -> slice:
    """Rows of the seam farther than the grow/shrink and the blur's reach from the square's outer edge."""
    margin = max(0, -grow) + feather + 1
    return slice(TOP + margin, BOTTOM - margin)


@pytest.fixture(scope="module")
def seq(tmp_path_factory: pytest.TempPathFactory) -> InMemorySequence:
    """Two frames of noise with the two halves on both; soft masks on frame 1 that split the square with a ramp."""
    folder = tmp_path_factory.mktemp("square")
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)).save(folder / f"{i:05d}.png")
    square = (halves() > 0).astype(np.float32)
    ramp = np.clip((SEAM + 8 - np.arange(SIZE, dtype=np.float32)) / 16.0, 0.0, 1.0)[None, :]  # 1 -> 0 over the seam
    soft = {(1, 1): square * ramp, (1, 2): square * (1.0 - ramp)}  # p1 + p2 = 1 inside the square
    objects = [ObjectSpec(1, "left", (255, 0, 0)), ObjectSpec(2, "right", (0, 255, 0))]
    return InMemorySequence(ImageFolderSource(folder, fps=24), {0: halves(), 1: halves()}, objects, soft)


@pytest.mark.parametrize(("grow", "feather"), SETTINGS)
def test_union_of_halves_is_the_matte_of_the_whole_square(grow: int, feather: int) -> None:
    index = halves()
    square = (index > 0).astype(np.uint8)
    got = union_matte(index, [1, 2], grow, feather)
    np.testing.assert_array_equal(got, union_matte(square, [1], grow, feather))
    assert np.all(quantize_alpha(got, 16)[seam_rows(grow, feather), SEAM - 1 : SEAM + 1] == 65535)  # blur: 1 - 6e-8
    if feather:  # feather softens the outer boundary only
        assert 0.0 < got[TOP, SEAM] < 1.0 and 0.0 < got[(TOP + BOTTOM) // 2, LEFT] < 1.0
        old_max = np.maximum(  # what exports wrote before: the max of each half's own matte
            apply_matte((index == 1).astype(np.float32), grow, feather),
            apply_matte((index == 2).astype(np.float32), grow, feather),
        )
        if grow <= 0:  # (grown halves overlap and hide it)
            assert old_max[(TOP + BOTTOM) // 2, SEAM] < 0.7  # the seam the test guards against


def test_soft_masks_add_up_to_an_opaque_union(seq: InMemorySequence) -> None:
    alpha = combined_alpha(seq, 1, seq.objects, ExportOptions())
    np.testing.assert_allclose(alpha, (halves() > 0).astype(np.float32), atol=1e-6)
    one = combined_alpha(seq, 1, seq.objects[:1], ExportOptions())  # one object: its own probability
    np.testing.assert_allclose(one, seq.soft_mask(1, 1), atol=1e-6)
    over = union_matte(halves(), [1, 2], soft={1: np.ones((SIZE, SIZE), np.float32)})
    assert over.max() == 1.0  # the sum is clipped


@pytest.mark.parametrize(("grow", "feather"), SETTINGS)
def test_cutout_and_matte_exports_are_opaque_along_the_seam(
    seq: InMemorySequence, tmp_path: Path, grow: int, feather: int
) -> None:
    opts = ExportOptions(grow=grow, feather=feather)
    expected = quantize_alpha(union_matte((halves() > 0).astype(np.uint8), [1], grow, feather), 8)
    cut = export(seq, "cutout", tmp_path / "cut", opts)
    mkv = export(seq, "matte", tmp_path / "m.mkv", opts)
    mattes = decode_video(mkv, seq.size, "gray")[..., 0]
    for i in range(2):
        alpha = np.asarray(Image.open(cut / f"{i:05d}.png"))[..., 3]
        for got in (alpha, mattes[i]):
            assert np.all(got[seam_rows(grow, feather), SEAM - 1 : SEAM + 1] == 255)
            if i == 0:  # index masks only: exactly the whole square's matte
                np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("feather", [0, 4])
def test_prores_alpha_is_opaque_along_the_seam(seq: InMemorySequence, tmp_path: Path, feather: int) -> None:
    out = export(seq, "prores", tmp_path / "cut.mov", ExportOptions(feather=feather))
    alpha = decode_video(out, seq.size, "rgba")[..., 3].astype(int)
    expected = quantize_alpha(union_matte(halves(), [1, 2], 0, feather), 8).astype(int)
    for i in range(2):
        assert alpha[i, seam_rows(0, feather), SEAM - 1 : SEAM + 1].min() >= 254  # ProRes: within 1 level
        assert np.abs(alpha[i] - expected).max() <= 1
