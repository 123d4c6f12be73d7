"""Undo steps (QUndoCommand). Each stores the document state it replaced and the state it produced, so undo
and redo restore masks exactly; mask states are PNG-compressed (`FrameState`), a few KB per frame."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtGui import QUndoCommand

from app.model.flags import FrameStats
from llb_core.io import ObjectSpec
from llb_core.workspace import States


class Editable(Protocol):
    """What undo steps change (the document implements it)."""

    def apply_states(self, states: States, stats: dict[int, FrameStats] | None = None) -> None: ...

    def set_object_spec(self, spec: ObjectSpec) -> None: ...

    def drop_object_spec(self, obj_id: int) -> None: ...


class FrameStatesCommand(QUndoCommand):
    """Frames' masks, keyframe status and provenance changed: a stroke, a box proposal, fill holes, clear,
    keyframe removal, or a whole propagation run (with the per-frame stats the run produced).

    Args:
        applied: the change has already happened (a propagation run); the first redo does nothing.
    """

    def __init__(
        self,
        document: Editable,
        text: str,
        before: States,
        after: States,
        applied: bool = False,
        stats_before: dict[int, FrameStats] | None = None,
        stats_after: dict[int, FrameStats] | None = None,
    ) -> None:
        super().__init__(text)
        self.document = document
        self.before = before
        self.after = after
        self._skip = applied
        self._stats_before = stats_before or {}
        self._stats_after = stats_after or {}

    def redo(self) -> None:
        if self._skip:
            self._skip = False
            return
        self.document.apply_states(self.after, self._stats_after)

    def undo(self) -> None:
        self.document.apply_states(self.before, self._stats_before)


class ObjectCommand(QUndoCommand):
    """An object declared, changed (renamed, recoloured) or removed, with the frames that changed with it.

    Args:
        before / after: the object's spec before and after (None: not declared).
        states_before / states_after: frames whose masks changed with it (removal clears its pixels).
    """

    def __init__(
        self,
        document: Editable,
        text: str,
        before: ObjectSpec | None,
        after: ObjectSpec | None,
        states_before: States | None = None,
        states_after: States | None = None,
    ) -> None:
        super().__init__(text)
        self.document = document
        self.before = before
        self.after = after
        self.states_before = states_before or {}
        self.states_after = states_after or {}

    def _apply(self, spec: ObjectSpec | None, other: ObjectSpec | None, states: States) -> None:
        if spec is not None:  # declare first, so masks holding its id are valid
            self.document.set_object_spec(spec)
        if states:
            self.document.apply_states(states)
        if spec is None and other is not None:
            self.document.drop_object_spec(other.id)

    def redo(self) -> None:
        self._apply(self.after, self.before, self.states_after)

    def undo(self) -> None:
        self._apply(self.before, self.after, self.states_before)
