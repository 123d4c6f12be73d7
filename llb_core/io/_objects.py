"""`ObjectSpec`: an annotated object's id, name and display colour; `first_free_id` for a new object."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from llb_core.io._masks import palette_colour

MAX_OBJECT_ID = 255


def first_free_id(taken: Iterable[int]) -> int:
    """The smallest object id in 1..255 not in `taken` (ids outside that range are ignored).

    Raises:
        ValueError: every id 1..255 is taken.
    """
    used = set(taken)
    for obj_id in range(1, MAX_OBJECT_ID + 1):
        if obj_id not in used:
            return obj_id
    raise ValueError(f"all {MAX_OBJECT_ID} object ids are in use; remove an object first")


@dataclass(frozen=True)
class ObjectSpec:
    """One object of a project.

    Attributes:
        id: object id, 1..255 (the value in index masks).
        name: display / category name.
        colour: (R, G, B) display colour, 0..255 each.
    """

    id: int
    name: str
    colour: tuple[int, int, int]

    def __post_init__(self) -> None:
        if not isinstance(self.id, int) or not 1 <= self.id <= 255:
            raise ValueError(f"object id must be an int in 1..255, got {self.id!r}")
        if len(self.colour) != 3 or not all(isinstance(c, int) and 0 <= c <= 255 for c in self.colour):
            raise ValueError(f"object colour must be three ints in 0..255, got {self.colour!r}")

    @classmethod
    def default(cls, obj_id: int, name: str | None = None) -> ObjectSpec:
        """An object named "object <id>" (unless `name` is given) with its DAVIS palette colour."""
        return cls(obj_id, name or f"object {obj_id}", palette_colour(obj_id))
