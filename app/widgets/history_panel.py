"""`HistoryDock`: the open document's undo history as a list (a `QUndoView` on its `QUndoStack`). Clicking an
entry undoes or redoes every step up to it; the first entry is the project as opened."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QUndoView, QWidget

from app.model.document import Document

EMPTY_LABEL = "Project opened"


class HistoryDock(QDockWidget):
    """See the module docstring. `toggleViewAction()` shows or hides it (View menu)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("History", parent)
        self.setObjectName("history_dock")
        self.view = QUndoView()
        self.view.setEmptyLabel(EMPTY_LABEL)
        self.view.setToolTip("Click a step to go back (or forward) to it")
        self.setWidget(self.view)
        self.toggleViewAction().setText("&History")
        self.toggleViewAction().setStatusTip("Show or hide the undo history")

    def set_document(self, document: Document | None) -> None:
        self.view.setStack(None if document is None else document.undo_stack)

    def set_editable(self, editable: bool) -> None:
        """No jumping in the history while a propagation runs (undo is refused then, too)."""
        self.view.setEnabled(editable)
