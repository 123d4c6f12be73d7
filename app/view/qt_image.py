"""numpy images -> `QImage`, with a deep copy so the QImage never points into freed numpy memory."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

_FORMATS = {1: QImage.Format.Format_Grayscale8, 3: QImage.Format.Format_RGB888, 4: QImage.Format.Format_RGBA8888}


def to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage owning a copy of `rgb`.

    Args:
        rgb: (H, W, 3) uint8 RGB, (H, W, 4) uint8 RGBA (straight alpha) or (H, W) uint8 grey.

    Raises:
        ValueError: another shape or dtype.
    """
    channels = 1 if rgb.ndim == 2 else (rgb.shape[2] if rgb.ndim == 3 else 0)
    if rgb.dtype != np.uint8 or channels not in _FORMATS:
        raise ValueError(f"expected (H, W), (H, W, 3) or (H, W, 4) uint8, got {rgb.shape} {rgb.dtype}")
    data = np.ascontiguousarray(rgb)
    h, w = data.shape[:2]
    # The QImage below only borrows `data`; copy() detaches it before `data` can be freed.
    return QImage(data.data, w, h, data.strides[0], _FORMATS[channels]).copy()
