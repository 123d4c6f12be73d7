"""`ObjectsPanel`: the document's objects; add, remove, rename, recolour, hide, lock, pick the active one.

The eye and lock cells are toggles only: clicking them never selects the row, so the active object (what the
next stroke paints) stays the same.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QMouseEvent, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.document import Document
from app.view import icons
from llb_core.io import ObjectSpec

ID_ROLE = Qt.ItemDataRole.UserRole
NAME, VISIBLE, LOCKED = 0, 1, 2  # columns


def swatch(colour: tuple[int, int, int], size: int = 14) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(QColor(*colour))
    return QIcon(pix)


class ObjectList(QTreeWidget):
    """The rows of objects; a left click on an eye or lock cell emits `toggled` instead of selecting the row."""

    toggled = Signal(int, int)  # object id, column (VISIBLE or LOCKED)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._toggling = False  # a press went to an icon cell: the drag and release that follow select nothing

    def _toggle_at(self, event: QMouseEvent) -> bool:
        """Emit `toggled` if `event` is a left click on an icon cell; True if it was."""
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        index = self.indexAt(event.position().toPoint())
        if not index.isValid() or index.column() not in (VISIBLE, LOCKED):
            return False
        item = self.itemFromIndex(index)
        self._toggling = True
        self.toggled.emit(int(item.data(NAME, ID_ROLE)), index.column())
        event.accept()
        return True

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if not self._toggle_at(event):
            super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - the second click toggles back
        if not self._toggle_at(event):
            super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - a drag would select the row under it
        if not self._toggling:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._toggling:
            self._toggling = False
            event.accept()
        else:
            super().mouseReleaseEvent(event)


class ObjectsPanel(QWidget):
    """The objects: double-click a name to rename; click the eye or lock column to hide or lock."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self._editable = True
        self.list = ObjectList()
        self.list.setColumnCount(3)
        self.list.setHeaderHidden(True)
        self.list.setRootIsDecorated(False)
        self.list.setIconSize(QSize(14, 14))
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        for col in (VISIBLE, LOCKED):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(col, 24)
        self.list.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.itemChanged.connect(self._renamed)
        self.list.toggled.connect(self._toggled)
        self.add_button = self._button("fa5s.plus", "Add an object (it becomes the active one)", self._add)
        self.remove_button = self._button("fa5s.trash", "Remove the selected object from every frame", self._remove)
        self.colour_button = self._button("fa5s.palette", "Change the selected object's colour", self._recolour)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button, self.colour_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.hint = QLabel("No objects yet: click + or start painting.")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(mid);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        self._refresh()

    def _button(self, icon: str, tip: str, slot: object) -> QToolButton:
        b = QToolButton()
        b.setIcon(icons.icon(icon))
        b.setToolTip(tip)
        b.setAutoRaise(True)
        b.clicked.connect(slot)
        return b

    def set_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.objects_changed.disconnect(self._refresh)
            self.document.view.active_object_changed.disconnect(self._refresh)
        self.document = document
        if document is not None:
            document.objects_changed.connect(self._refresh)
            document.view.active_object_changed.connect(self._refresh)
        self._refresh()

    def set_editable(self, editable: bool) -> None:
        """Removing objects is refused while a propagation runs (it rewrites masks the run is producing)."""
        self._editable = editable
        self._refresh()

    def selected_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(NAME, ID_ROLE))

    # -- view ------------------------------------------------------------------------------------
    def _refresh(self, *_: object) -> None:
        """Show the document's objects; rows are updated in place (never deleted while being edited)."""
        doc = self.document
        objects = doc.objects if doc is not None else []
        self.list.blockSignals(True)
        while self.list.topLevelItemCount() > len(objects):
            self.list.takeTopLevelItem(self.list.topLevelItemCount() - 1)
        while self.list.topLevelItemCount() < len(objects):
            item = QTreeWidgetItem(["", "", ""])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.list.addTopLevelItem(item)
        for row, spec in enumerate(objects):
            assert doc is not None
            self._show(self.list.topLevelItem(row), spec, spec.id in doc.view.hidden, spec.id in doc.view.locked)
            if spec.id == doc.view.active_object:
                self.list.setCurrentItem(self.list.topLevelItem(row))
        self.list.blockSignals(False)
        has_doc, selected = doc is not None, self.selected_id()
        self.add_button.setEnabled(has_doc)
        self.remove_button.setEnabled(selected is not None and self._editable)
        self.colour_button.setEnabled(selected is not None)
        self.hint.setVisible(has_doc and not objects)

    @staticmethod
    def _show(item: QTreeWidgetItem, spec: ObjectSpec, hidden: bool, locked: bool) -> None:
        item.setText(NAME, spec.name)
        item.setIcon(NAME, swatch(spec.colour))
        item.setData(NAME, ID_ROLE, spec.id)
        item.setToolTip(NAME, f"{spec.name} (id {spec.id}); double-click to rename")
        item.setForeground(NAME, QColor(140, 140, 140) if hidden else QBrush())
        item.setIcon(VISIBLE, icons.icon("fa5s.eye-slash" if hidden else "fa5s.eye", color="#888" if hidden else None))
        item.setToolTip(VISIBLE, "hidden: click to show" if hidden else "shown: click to hide")
        item.setIcon(LOCKED, icons.icon("fa5s.lock" if locked else "fa5s.lock-open", color=None if locked else "#999"))
        item.setToolTip(LOCKED, "locked: click to unlock" if locked else "unlocked: click to lock")

    # -- actions ---------------------------------------------------------------------------------
    def _current_changed(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        if self.document is not None and current is not None:
            self.document.view.set_active_object(int(current.data(NAME, ID_ROLE)))

    def _renamed(self, item: QTreeWidgetItem, column: int) -> None:
        name = item.text(NAME).strip()
        if self.document is not None and column == NAME and name:
            self.document.update_object(int(item.data(NAME, ID_ROLE)), name=name)
        else:
            self._refresh()

    def _toggled(self, obj: int, column: int) -> None:
        if self.document is None:
            return
        if column == VISIBLE:
            self.document.view.set_hidden(obj, obj not in self.document.view.hidden)
        elif column == LOCKED:
            self.document.view.set_locked(obj, obj not in self.document.view.locked)

    def _add(self) -> None:
        if self.document is not None:
            self.document.add_object()

    def _remove(self) -> None:
        obj = self.selected_id()
        if self.document is not None and obj is not None:
            self.document.remove_object(obj)

    def _recolour(self) -> None:
        obj = self.selected_id()
        if self.document is None or obj is None:
            return
        old = self.document.project.object(obj).colour
        colour = QColorDialog.getColor(QColor(*old), self, "Object colour")
        if colour.isValid():
            self.document.update_object(obj, colour=(colour.red(), colour.green(), colour.blue()))
