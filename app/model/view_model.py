"""`ViewModel`: where the person is looking in the open project: the current frame, the active object, hidden
and locked objects, the view state. Holds no project state; the document stores it in the project's settings
(`ViewRecord`) on save. Widgets read it and subscribe to its signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.model.view_record import ViewRecord
from app.view.render import ViewState


class ViewModel(QObject):
    """See the module docstring.

    Args:
        num_frames: frames in the clip (the current frame is clamped to them).
        record: the state to start from (what the project remembered).
    """

    frame_changed = Signal(int)
    active_object_changed = Signal(int)  # 0: none
    visibility_changed = Signal()  # an object was hidden, shown, locked or unlocked
    view_changed = Signal(object)  # ViewState

    def __init__(self, num_frames: int, record: ViewRecord) -> None:
        super().__init__()
        self.num_frames = num_frames
        self.current_frame = record.frame
        self.active_object = record.active
        self.hidden, self.locked = set(record.hidden), set(record.locked)
        self.view_state = record.state

    def set_frame(self, frame: int) -> None:
        frame = max(0, min(int(frame), self.num_frames - 1))
        if frame != self.current_frame:
            self.current_frame = frame
            self.frame_changed.emit(frame)

    def set_active_object(self, obj_id: int) -> None:
        if obj_id != self.active_object:
            self.active_object = obj_id
            self.active_object_changed.emit(obj_id)

    def set_hidden(self, obj_id: int, hidden: bool) -> None:
        (self.hidden.add if hidden else self.hidden.discard)(obj_id)
        self.visibility_changed.emit()

    def set_locked(self, obj_id: int, locked: bool) -> None:
        (self.locked.add if locked else self.locked.discard)(obj_id)
        self.visibility_changed.emit()

    def set_view_state(self, state: ViewState) -> None:
        if state != self.view_state:
            self.view_state = state
            self.view_changed.emit(state)

    def forget_object(self, obj_id: int, remaining: list[int]) -> None:
        """An object was removed: drop it from hidden / locked; another becomes active if it was."""
        self.hidden.discard(obj_id)
        self.locked.discard(obj_id)
        if self.active_object == obj_id:
            self.set_active_object(remaining[0] if remaining else 0)

    def record(self) -> ViewRecord:
        return ViewRecord(self.current_frame, self.active_object, self.hidden, self.locked, self.view_state)
