"""`WorstFrames`: the document's flagged frames as a list, worst first (frame, score, reason). Clicking a row or
pressing Enter on it shows that frame. Reads the document; writes back only the current frame."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.model.document import Document
from app.model.flags import ranked

MAX_ROWS = 200  # the worst this many; a longer list is not triaged row by row
FRAME_ROLE = Qt.ItemDataRole.UserRole


class WorstFrames(QWidget):
    """See the module docstring."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Frame", "Score", "Reason"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAllColumnsShowFocus(True)
        header = self.tree.header()
        header.setStretchLastSection(True)  # the reason takes what is left; long ones show in full as tooltips
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setToolTip("Flagged frames, the likeliest to be wrong first; click or press Enter to show one")
        self.tree.itemClicked.connect(self._go)
        self.tree.itemActivated.connect(self._go)  # Enter, or a double click
        self.summary = QLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        layout.addWidget(self.summary)
        self._refresh()

    def set_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.timeline_changed.disconnect(self._refresh)
        self.document = document
        if document is not None:
            document.timeline_changed.connect(self._refresh)
        self._refresh()

    def frames(self) -> list[int]:
        """The listed frames, top row first."""
        return [self.tree.topLevelItem(i).data(0, FRAME_ROLE) for i in range(self.tree.topLevelItemCount())]

    def _refresh(self) -> None:
        doc = self.document
        flags = ranked(doc.flags) if doc is not None else []
        current = self.tree.currentItem()
        keep = current.data(0, FRAME_ROLE) if current is not None else None
        self.tree.clear()
        for frame, flag in flags[:MAX_ROWS]:
            item = QTreeWidgetItem([str(frame), f"{flag.score:.2f}", flag.reason])
            item.setToolTip(2, flag.reason)
            item.setData(0, FRAME_ROLE, frame)
            item.setToolTip(2, flag.reason)
            item.setTextAlignment(0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
            if frame == keep:
                self.tree.setCurrentItem(item)
        shown = min(len(flags), MAX_ROWS)
        self.summary.setText(
            "No flagged frames"
            if not flags
            else f"{len(flags)} flagged" + (f", worst {shown} shown" if shown < len(flags) else "")
        )
        self.setEnabled(doc is not None)

    def _go(self, item: QTreeWidgetItem) -> None:
        if self.document is not None:
            self.document.view.set_frame(int(item.data(0, FRAME_ROLE)))
