"""A check of the Qt bindings themselves: PySide6 / shiboken6 6.12.0 drop one reference to `None` on every
setter call (`QLabel.setText`, `QAction.setEnabled`, ...), and the interpreter aborts with
"Fatal Python error: none_dealloc" after about a thousand frame changes. pyproject.toml excludes that release;
this check catches it (or a later release with the same fault) in an installation that came by another way."""

from __future__ import annotations

import sys

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QLabel

REMEDY = "pip install 'PySide6-Essentials!=6.12.0' 'shiboken6!=6.12.0'"


def none_refcount_drift(calls: int = 1000) -> int:
    """How far `sys.getrefcount(None)` moves over `calls` rounds of common setter calls (about 0 when the
    bindings are sound, about -2 * calls with the broken release). Needs a QApplication."""
    if QApplication.instance() is None:
        raise RuntimeError("none_refcount_drift needs a QApplication")
    label, action = QLabel(), QAction()
    before = sys.getrefcount(None)
    for i in range(calls):
        label.setText(str(i))
        action.setEnabled(i % 2 == 0)
    drift = sys.getrefcount(None) - before
    label.deleteLater()
    return drift


def bindings_problem(calls: int = 1000) -> str | None:
    """None when the bindings keep reference counts; otherwise a one-line message with the remedy."""
    drift = none_refcount_drift(calls)
    if abs(drift) < calls // 2:
        return None
    import PySide6

    return (
        f"PySide6 {PySide6.__version__} loses a reference to None on every widget update ({drift:+d} over "
        f"{calls} calls) and will crash LLB Studio after about a thousand frame changes. Install another "
        f"release: {REMEDY}"
    )
