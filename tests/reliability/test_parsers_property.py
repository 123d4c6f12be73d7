"""Property tests of the parsers that read what a person or a crash may leave behind: mask files, manifests
and journals. Whatever the input, they return a valid value or raise the one-line error type, nothing else."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from llb_core.io import MaskFileError, inspect_keyframe_mask, read_index_mask, write_index_mask
from llb_core.workspace import Journal, ProjectError, parse_manifest

SETTINGS = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
small_masks = arrays(np.uint8, st.tuples(st.integers(1, 24), st.integers(1, 24)))


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def manifest_text(world) -> str:  # noqa: ANN001
    return (world.project / "manifest.json").read_text()


@SETTINGS
@given(mask=small_masks)
def test_index_masks_round_trip_exactly(tmp_path: Path, mask: np.ndarray) -> None:
    write_index_mask(tmp_path / "m.png", mask)
    assert np.array_equal(read_index_mask(tmp_path / "m.png", mask.shape), mask)


@SETTINGS
@given(data=st.binary(max_size=300), prefix=st.booleans())
def test_any_bytes_read_as_a_mask_or_a_mask_file_error(tmp_path: Path, data: bytes, prefix: bool) -> None:
    path = tmp_path / "m.png"
    path.write_bytes((b"\x89PNG\r\n\x1a\n" if prefix else b"") + data)
    try:
        mask = read_index_mask(path)
    except MaskFileError as err:
        assert str(path) in str(err) and "\n" not in str(err)
    else:
        assert mask.dtype == np.uint8 and mask.ndim == 2


@SETTINGS
@given(grey=small_masks)
def test_greyscale_keyframes_are_accepted_only_as_0_255(tmp_path: Path, grey: np.ndarray) -> None:
    path = tmp_path / "g.png"
    path.write_bytes(_png(Image.fromarray(grey, mode="L")))
    mask, issue = inspect_keyframe_mask(path, grey.shape)
    values = set(np.unique(grey).tolist())
    if values <= {0, 255} and 255 in values:
        assert issue is None and np.array_equal(mask, (grey == 255).astype(np.uint8))
    else:
        assert mask is None and issue is not None and issue.path == path
        assert ("greyscale with values" in issue.message) == (not values <= {0, 255})


@SETTINGS
@given(ids=st.integers(1, 120), limit=st.integers(1, 80), seed=st.integers(0, 2**16))
def test_palette_keyframes_hold_at_most_the_object_limit(tmp_path: Path, ids: int, limit: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    mask = np.concatenate([np.arange(ids + 1, dtype=np.uint8), rng.integers(0, ids + 1, 300, dtype=np.uint8)])
    mask = mask[: 16 * (len(mask) // 16)].reshape(16, -1)
    write_index_mask(tmp_path / "p.png", mask)
    found, issue = inspect_keyframe_mask(tmp_path / "p.png", mask.shape, limit)
    present = len(set(np.unique(mask).tolist()) - {0})
    assert (issue is None) == (present <= limit)
    if issue is not None:
        assert f"holds {present} object ids (limit {limit})" in issue.message
    else:
        assert np.array_equal(found, mask)


def _mutate(doc: object, path: list[int], value: object) -> object:
    """`doc` with the value at `path` (keys / indices, taken modulo what exists) replaced or deleted."""
    if not path or not isinstance(doc, dict | list) or not doc:
        return None if value is _DELETE else value
    keys = list(doc) if isinstance(doc, dict) else list(range(len(doc)))
    key = keys[path[0] % len(keys)]
    out = dict(doc) if isinstance(doc, dict) else list(doc)
    if value is _DELETE and len(path) == 1:
        del out[key]
    else:
        out[key] = _mutate(out[key], path[1:], value)
    return out


_DELETE = object()


@SETTINGS
@given(
    path=st.lists(st.integers(0, 50), min_size=1, max_size=4),
    value=json_values | st.just(_DELETE),
)
def test_a_damaged_manifest_parses_or_says_which_field(manifest_text: str, path: list[int], value: object) -> None:
    doc = _mutate(json.loads(manifest_text), path, value)
    text = json.dumps(doc)
    try:
        manifest = parse_manifest(text, Path("manifest.json"))
    except ProjectError as err:
        assert str(err).startswith("manifest.json")
    else:
        assert parse_manifest(manifest.to_json(), Path("manifest.json")).to_json() == manifest.to_json()


@SETTINGS
@given(cut=st.integers(0, 2000), noise=st.text(max_size=20))
def test_a_torn_manifest_is_refused_with_its_name(manifest_text: str, cut: int, noise: str) -> None:
    text = manifest_text[: cut % len(manifest_text)] + noise
    try:
        parse_manifest(text, Path("manifest.json"))
    except ProjectError as err:
        assert "manifest.json" in str(err)


@SETTINGS
@given(lines=st.lists(st.text(max_size=40) | json_values.map(json.dumps), max_size=8), revision=st.integers(0, 5))
def test_any_journal_reads_as_entries_in_revision_order(tmp_path: Path, lines: list[str], revision: int) -> None:
    journal = Journal(tmp_path)
    journal.path.write_text("\n".join(line.replace("\n", " ") for line in lines))
    entries = journal.entries_after(revision)
    assert all(int(e["rev"]) > revision and "op" in e for e in entries)
    revs = [int(e["rev"]) for e in entries]
    assert revs == sorted(set(revs))
