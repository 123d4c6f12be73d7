"""Every failure the person should know about goes through here: logged (with the traceback when there is
one) and shown as a non-blocking dialog naming the file and the remedy.

Dialogs are opened with `QMessageBox.open()` (window-modal, no nested event loop), so a failure reported
from a signal never blocks the engine thread's results, and tests can find and close the dialog.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger("app")


def show_error(parent: QWidget | None, title: str, message: str, exc: BaseException | None = None) -> QMessageBox:
    """Log and show an error; returns the (already open) dialog."""
    if exc is not None:
        log.error("%s: %s", title, message, exc_info=(type(exc), exc, exc.__traceback__))
    else:
        log.error("%s: %s", title, message)
    return _box(parent, QMessageBox.Icon.Critical, title, message)


def show_info(parent: QWidget | None, title: str, message: str) -> QMessageBox:
    """Log and show a notice (e.g. what crash recovery restored)."""
    log.info("%s: %s", title, message)
    return _box(parent, QMessageBox.Icon.Information, title, message)


def _box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, message: str) -> QMessageBox:
    box = QMessageBox(icon, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("llb-message")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def ask(parent: QWidget | None, title: str, question: str) -> bool:
    """A yes/no question (blocking; used only before anything is opened, e.g. to restore a backup)."""
    answer = QMessageBox.question(parent, title, question)
    return answer == QMessageBox.StandardButton.Yes
