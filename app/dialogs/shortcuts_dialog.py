"""`ShortcutsDialog`: the keyboard shortcuts as a two-column table, with a filter (the main window opens it on F1)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def native_text(keys: str) -> str:
    """A portable key sequence ("Ctrl+Z") as this platform writes it ("⌘Z" on macOS); other text as given."""
    seq = QKeySequence(keys, QKeySequence.SequenceFormat.PortableText)
    shown = seq.toString(QKeySequence.SequenceFormat.NativeText)
    return shown or keys  # e.g. "Mouse wheel" is no key sequence: show it as written


class ShortcutsDialog(QDialog):
    """Read-only table of (keys, action) rows; typing in the filter hides rows matching neither column.

    Args:
        parent: owner window.
        shortcuts: (key sequence in portable text such as "Ctrl+Shift+E", description) pairs, in display order.
    """

    def __init__(self, parent: QWidget | None, shortcuts: list[tuple[str, str]]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter by key or action")
        self.filter_edit.setClearButtonEnabled(True)

        self.table = QTableWidget(len(shortcuts), 2, self)
        self.table.setHorizontalHeaderLabels(["Keys", "Action"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setStyleSheet(
            "QTableWidget::item { padding: 3px 10px; } QHeaderView::section { padding: 3px 10px; border: none; "
            "border-bottom: 1px solid palette(mid); background: palette(window); }"
        )
        for row, (keys, description) in enumerate(shortcuts):
            key_item = QTableWidgetItem(native_text(keys))
            key_item.setData(Qt.ItemDataRole.UserRole, keys)
            font = key_item.font()
            font.setBold(True)
            key_item.setFont(font)
            self.table.setItem(row, 0, key_item)
            self.table.setItem(row, 1, QTableWidgetItem(description))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.resizeRowsToContents()

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.reject)
        self.filter_edit.textChanged.connect(self._apply_filter)

        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(520, min(640, 120 + 28 * max(len(shortcuts), 4)))

    def visible_rows(self) -> list[tuple[str, str]]:
        """(shown keys, action) of the rows the filter leaves visible."""
        return [
            (self.table.item(r, 0).text(), self.table.item(r, 1).text())
            for r in range(self.table.rowCount())
            if not self.table.isRowHidden(r)
        ]

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().casefold()
        for row in range(self.table.rowCount()):
            keys = self.table.item(row, 0)
            haystack = f"{keys.text()} {keys.data(Qt.ItemDataRole.UserRole)} {self.table.item(row, 1).text()}"
            self.table.setRowHidden(row, bool(needle) and needle not in haystack.casefold())
