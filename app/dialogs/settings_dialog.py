"""`SettingsDialog`: edit the `AppSettings` preferences (engine device and precision, quality, caches, autosave)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.window.settings import PRECISIONS, RUNTIMES, AppSettings, available_devices

PRECISION_LABELS = {
    "auto": "Automatic (bf16 on CPUs that support it, fp16 on CUDA)",
    "fp32": "fp32: full precision, slowest",
    "bf16": "bf16: faster on recent CPUs and GPUs",
    "fp16": "fp16: fastest on CUDA GPUs",
}

RUNTIME_LABELS = {
    "auto": "Automatic (the faster on this computer, measured once)",
    "torch": "PyTorch",
    "openvino": "OpenVINO",
}


def device_label(device: str) -> str:
    """Human name of a device setting ("cuda:0" -> "CUDA GPU 0: <name>")."""
    if device == "auto":
        return "Automatic (CUDA GPU, then Apple GPU, then CPU)"
    if device == "cpu":
        return "CPU"
    if device == "mps":
        return "Apple GPU (MPS)"
    if device.startswith("cuda"):
        import torch

        index = int(device.partition(":")[2] or 0)
        name = torch.cuda.get_device_name(index) if torch.cuda.is_available() else "not available"
        return f"CUDA GPU {index}: {name}" if ":" in device else f"CUDA GPU ({name})"
    return device


class SettingsDialog(QDialog):
    """Preferences. Read the edited settings with `result_settings()` after `exec()` returns Accepted.

    Recent files are not shown and pass through unchanged.
    """

    def __init__(self, parent: QWidget | None, settings: AppSettings) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._initial = settings

        self.model_combo = QComboBox(self)
        for name, label in model_choices().items():
            self.model_combo.addItem(label, name)

        self.device_combo = QComboBox(self)
        devices = available_devices()
        for device in devices:
            self.device_combo.addItem(device_label(device), device)
        if settings.device not in devices:  # chosen on another machine: keep it, and say so
            self.device_combo.addItem(f"{settings.device} (not available on this computer)", settings.device)
        self.precision_combo = QComboBox(self)
        for precision in PRECISIONS:
            self.precision_combo.addItem(PRECISION_LABELS[precision], precision)
        self.runtime_combo = QComboBox(self)
        for runtime in RUNTIMES:
            self.runtime_combo.addItem(RUNTIME_LABELS[runtime], runtime)
        self.resolution_spin = _spin(64, 4096, " px", self)
        self.resolution_spin.setSingleStep(32)
        self.memory_interval_spin = _spin(1, 100, " frames", self)
        self.finetune_spin = _spin(0, 500, " steps", self)
        self.finetune_spin.setSingleStep(10)
        self.finetune_spin.setSpecialValueText("Off")
        self.cache_spin = _spin(1, 4096, " frames", self)
        self.autosave_spin = _spin(0, 120, " min", self)
        self.autosave_spin.setSpecialValueText("Off")

        engine = QGroupBox("Segmentation engine", self)
        form = QFormLayout(engine)
        form.addRow("M&odel:", self.model_combo)
        form.addRow("&Device:", self.device_combo)
        form.addRow("&Precision:", self.precision_combo)
        form.addRow("R&untime:", self.runtime_combo)
        form.addRow("&Resolution:", self.resolution_spin)
        form.addRow("&Memory update every:", self.memory_interval_spin)
        form.addRow("&Learn each keyframe:", self.finetune_spin)
        note = QLabel("Engine changes apply from the next propagation run.", engine)
        note.setEnabled(False)  # drawn in the muted text colour
        form.addRow(note)
        self.resolution_spin.setToolTip(
            "Short side, in pixels, at which the network sees frames (default 320, the measured best for the shipped "
            "weights); higher follows fine detail better but is slower and needs more memory."
        )
        self.model_combo.setToolTip(
            "The network that propagates masks. The default is the most accurate measured here; the model card "
            "(MODEL_CARD.md) compares them clip by clip. Changing it loads the new model now."
        )
        self.runtime_combo.setToolTip(
            "What computes the network on the CPU. Automatic times PyTorch and OpenVINO on the clip's size the first "
            "time and keeps the faster (the choice is remembered); both give the same masks."
        )
        self.memory_interval_spin.setToolTip(
            "A new memory sample is taken every this many frames. Smaller adapts faster to changing "
            "appearance but costs more time per frame."
        )

        self.finetune_spin.setToolTip(
            "Before a run, train a copy of the network on its keyframes for this many steps (about 0.6-0.8 s each "
            "on a 2-core CPU, once per run start: every correction waits for it). 20 steps: +1.6 J&F on the "
            "validation clips with the default weights, at every number of corrections, but slightly worse among "
            "look-alikes; many more steps can make masks jump among look-alikes. Off by default (it delays every "
            "run start); the model card has the numbers."
        )

        app_box = QGroupBox("Application", self)
        app_form = QFormLayout(app_box)
        app_form.addRow("&Frame cache:", self.cache_spin)
        app_form.addRow("&Autosave every:", self.autosave_spin)
        self.cache_spin.setToolTip("Decoded frames kept in memory for scrubbing (a 1080p frame takes about 6 MB).")
        self.autosave_spin.setToolTip("Minutes between automatic saves of the project; Off saves only on request.")

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            parent=self,
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        restore = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.clicked.connect(lambda: self.show_settings(AppSettings(recent_files=self._initial.recent_files)))
        self.buttons = buttons

        # Same label column width in both boxes, so their fields line up.
        engine_fields = (
            self.model_combo,
            self.device_combo,
            self.precision_combo,
            self.runtime_combo,
            self.resolution_spin,
            self.memory_interval_spin,
            self.finetune_spin,
        )
        labels = [form.labelForField(w) for w in engine_fields]
        labels += [app_form.labelForField(w) for w in (self.cache_spin, self.autosave_spin)]
        width = max(label.sizeHint().width() for label in labels)
        for label in labels:
            label.setMinimumWidth(width)

        layout = QVBoxLayout(self)
        layout.addWidget(engine)
        layout.addWidget(app_box)
        layout.addWidget(buttons)
        self.show_settings(settings)

    def show_settings(self, settings: AppSettings) -> None:
        """Set every widget from `settings`."""
        self.model_combo.setCurrentIndex(max(self.model_combo.findData(settings.model), 0))
        self.device_combo.setCurrentIndex(self.device_combo.findData(settings.device))
        self.precision_combo.setCurrentIndex(self.precision_combo.findData(settings.precision))
        self.runtime_combo.setCurrentIndex(self.runtime_combo.findData(settings.runtime))
        self.resolution_spin.setValue(settings.resolution)
        self.memory_interval_spin.setValue(settings.memory_interval)
        self.finetune_spin.setValue(settings.finetune_steps)
        self.cache_spin.setValue(settings.cache_size)
        self.autosave_spin.setValue(settings.autosave_minutes)

    def result_settings(self) -> AppSettings:
        """The settings the widgets show (recent files as given)."""
        return AppSettings(
            model=self.model_combo.currentData(),
            device=self.device_combo.currentData(),
            precision=self.precision_combo.currentData(),
            runtime=self.runtime_combo.currentData(),
            resolution=self.resolution_spin.value(),
            memory_interval=self.memory_interval_spin.value(),
            finetune_steps=self.finetune_spin.value(),
            cache_size=self.cache_spin.value(),
            autosave_minutes=self.autosave_spin.value(),
            recent_files=self._initial.recent_files,
        )


def model_choices() -> dict[str, str]:
    """Shipped model name -> label: "default" first, then the others with their variant."""
    from llb_core.model.defaults import describe_shipped, shipped_models

    labels = {"default": "Default (the most accurate measured here)"}
    for name in shipped_models():
        if name != "default":
            labels[name] = describe_shipped(name)
    return labels


def _spin(lo: int, hi: int, suffix: str, parent: QWidget) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(lo, hi)
    spin.setSuffix(suffix)
    spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    spin.setMinimumWidth(110)
    return spin
