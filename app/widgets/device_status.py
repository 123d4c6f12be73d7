"""`DeviceStatus`: the status-bar label with the inference device and the memory in use (refreshed every 2 s).

It never imports torch itself: until the engine thread has loaded it (`sys.modules`), the device reads
"starting"; the main window calls `set_device` again when the model is ready."""

from __future__ import annotations

import os
import resource
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from llb_core.inference import select_device, select_dtype

REFRESH_MS = 2000


def process_memory() -> int:
    """Resident memory of this process in bytes (Linux: current; elsewhere: peak)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


class DeviceStatus(QLabel):
    """ "Device: cpu (bf16) · RAM 1.2 GB" (plus the GPU memory PyTorch holds on CUDA)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._device = "auto"
        self._precision = "auto"
        self._described = ""
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(REFRESH_MS)
        self.set_device("auto", "auto")

    def set_device(self, device: str, precision: str) -> None:
        """What the settings ask for; shows what it resolves to (or the problem)."""
        self._device, self._precision = device, precision
        if "torch" not in sys.modules:  # importing it here would block the window for seconds
            self._described = f"{device} (starting…)"
            self.refresh()
            return
        try:
            dev = select_device(device)
            dtype = str(select_dtype(dev, precision)).removeprefix("torch.")  # type: ignore[arg-type]
            short = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}.get(dtype, dtype)
            self._described = f"{dev.type} ({short})"
        except ValueError as err:
            self._described = f"{device}: unavailable"
            self.setToolTip(str(err))
        self.refresh()

    def refresh(self) -> None:
        text = f"Device: {self._described} · RAM {gib(process_memory())}"
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
            text += f" · GPU {gib(torch.cuda.memory_allocated())}"
        self.setText(text)
