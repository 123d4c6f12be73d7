"""`icon(name, **options)`: a qtawesome icon rendered once into pixmaps, cached by name and options.

qtawesome's icons paint through a Python `QIconEngine`, so every repaint of a toolbar or list calls back into
Python; with PySide6 6.11.3 each of those calls leaks a reference to None (measured by tests/app/test_soak.py:
about 6 per repaint of a disabled button). Pixmap icons paint in C++ only, and faster.
"""

from __future__ import annotations

from functools import lru_cache

import qtawesome as qta
from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

SIZES = (16, 20, 24, 32, 48)  # toolbar, menu and list sizes at 1x and 2x
MODES = (QIcon.Mode.Normal, QIcon.Mode.Disabled, QIcon.Mode.Active, QIcon.Mode.Selected)


@lru_cache(maxsize=256)
def _icon(name: str, options: tuple[tuple[str, object], ...]) -> QIcon:
    source = qta.icon(name, **dict(options))
    out = QIcon()
    for size in SIZES:
        for mode in MODES:
            out.addPixmap(source.pixmap(QSize(size, size), mode), mode)
    return out


def icon(name: str, **options: object) -> QIcon:
    """The qtawesome icon `name` (e.g. "fa5s.play"; options such as color=...) as a pixmap icon."""
    return QIcon(_icon(name, tuple(sorted(options.items()))))
