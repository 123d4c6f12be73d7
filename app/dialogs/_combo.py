"""`select_data`: choose a combo box entry by its item data, refusing unknown values."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QComboBox


def select_data(combo: QComboBox, value: object, what: str, known: Iterable[str]) -> None:
    """Make the entry whose data is `value` current; KeyError naming `what` and the `known` values otherwise."""
    index = combo.findData(value)
    if index < 0:
        raise KeyError(f"unknown {what} {value!r}; known: {', '.join(known)}")
    combo.setCurrentIndex(index)
