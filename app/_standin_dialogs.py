"""Minimal stand-in dialogs for modules built on the app-review branch; delete once they are merged.

`ShortcutsDialog(parent, shortcuts)` and `ExportDialog(parent, project)` (the real one runs the export in its
own thread with progress and cancel; this one runs it in a Python thread with a bare progress bar).
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QWidget,
)

from llb_core.io.export import FORMATS, export
from llb_core.workspace import Project


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None, shortcuts: list[tuple[str, str]]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        form = QFormLayout(self)
        for keys, what in shortcuts:
            form.addRow(QLabel(f"<b>{keys}</b>"), QLabel(what))


class ExportDialog(QDialog):
    done = Signal(object)  # Path or an exception

    def __init__(self, parent: QWidget | None, project: Project) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.project = project
        self.format = QComboBox()
        self.format.addItems(list(FORMATS))
        self.out = QLineEdit(str(project.folder.parent / f"{project.folder.stem}-export"))
        self.bar = QProgressBar()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        self.result_path: Path | None = None
        self.error: BaseException | None = None
        form = QFormLayout(self)
        form.addRow("Format", self.format)
        form.addRow("Output", self.out)
        form.addRow(self.bar)
        form.addRow(self.buttons)
        self.done.connect(self._finished)

    def start(self) -> None:
        self.buttons.setEnabled(False)
        fmt, out = self.format.currentText(), Path(self.out.text())

        def work() -> None:
            try:
                self.done.emit(export(self.project, fmt, out))
            except Exception as err:  # noqa: BLE001 - handed to the GUI thread
                self.done.emit(err)

        threading.Thread(target=work, daemon=True).start()

    def _finished(self, result: object) -> None:
        if isinstance(result, BaseException):
            self.error = result
            self.buttons.setEnabled(True)
            self.bar.setFormat(str(result))
            return
        self.result_path = Path(str(result))
        self.accept()
