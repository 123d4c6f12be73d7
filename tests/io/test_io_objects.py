"""`first_free_id`: the id a new object gets."""

from __future__ import annotations

import pytest

from llb_core.io import ObjectSpec, first_free_id


def test_first_free_id_is_the_smallest_gap() -> None:
    assert first_free_id([]) == 1
    assert first_free_id([1, 2, 4]) == 3
    assert first_free_id(iter([2, 3])) == 1  # any iterable, read once
    assert first_free_id([0, 1, 256, 300]) == 2  # ids outside 1..255 do not count
    assert first_free_id(o.id for o in [ObjectSpec.default(1), ObjectSpec.default(3)]) == 2


def test_first_free_id_when_one_is_left_and_when_none_is() -> None:
    assert first_free_id(i for i in range(1, 256) if i != 255) == 255
    with pytest.raises(ValueError, match="all 255 object ids are in use; remove an object first"):
        first_free_id(range(1, 256))
