"""Small helpers shared by the dialogs: a muted explanatory label; choosing a combo box entry by its data."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QComboBox, QLabel, QWidget


def select_data(combo: QComboBox, value: object, what: str, known: Iterable[str]) -> None:
    """Make the entry whose data is `value` current; KeyError naming `what` and the `known` values otherwise."""
    index = combo.findData(value)
    if index < 0:
        raise KeyError(f"unknown {what} {value!r}; known: {', '.join(known)}")
    combo.setCurrentIndex(index)


def muted_label(parent: QWidget) -> QLabel:
    """A word-wrapped label drawn in the muted text colour, for explanations beside controls."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setEnabled(False)  # drawn in the muted text colour
    return label
