"""Engine settings, and the choice of device and precision.

Importing this module does not import torch (the desktop app shows its window before torch is loaded);
`select_device` and `select_dtype` import it when called.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import torch

Mode = Literal["crop", "full"]
RUNTIMES = ("auto", "torch", "openvino")  # what computes the backbone and decoder (llb_core/inference/runtime.py)
RUNTIME_ENV = "LLB_RUNTIME"  # overrides "auto" (e.g. LLB_RUNTIME=torch), never an explicit choice
Precision = Literal["auto", "fp32", "bf16", "fp16"]


@dataclass(frozen=True)
class SessionSettings:
    """Everything that changes how a video is segmented; validated on construction."""

    # Defaults chosen for the shipped default weights (lwl, trained on 256x448 crops; resources/MODEL_CARD.md):
    # J&F search-region crops 61.6 / 63.9 / 63.3 at 256 / 320 / 400 rows, full frame 59.9 / 62.5 / 62.8.
    # Full frame is faster with several objects (one backbone pass shared by all of them).
    resolution: int = 320  # internal short side of the network input (the paper: 480)
    mode: Mode = "crop"  # "crop": per-object search regions; "full": the whole frame, shared by all objects
    memory_interval: int = 5  # T: a new memory sample every T frames
    memory_capacity: int = 20  # samples per object
    update_rate: float = 0.1  # decay of the temporal weights
    pinned_floor: float = 0.25  # minimum weight of each keyframe sample
    keyframes_in_memory: int = 3  # keyframes a run carries: its start plus the nearest behind it
    transformer_samples: int = 5  # samples the transformer attends to (encoder cost ~ samples^2)
    init_iterations: int = 20  # few-shot steps when a run starts
    update_iterations: int = 3  # few-shot steps per memory update
    search_area: float = 25.0  # crop window area / target box area
    max_zoom: float = 2.0  # crops never upsample more than this
    device: str = "auto"  # "auto" (CUDA, then MPS, then CPU), or a torch device string
    precision: Precision = "auto"  # autocast precision; "auto": bf16 on CPUs with native bf16, fp16 on CUDA
    channels_last: bool = True  # NHWC convolutions (faster on CPU and recent GPUs)
    prior_flow: bool = False  # location-prior models: move the previous mask along DIS optical flow first
    finetune_steps: int = 0  # test-time fine-tuning: training steps on a run's keyframes first (0: off)
    finetune_lr: float = 1e-4
    runtime: str = "auto"  # backbone + decoder on the CPU: "auto" (the faster here, measured), "torch", "openvino"

    def __post_init__(self) -> None:
        checks = {
            "resolution must be between 64 and 4096": 64 <= self.resolution <= 4096,
            "mode must be 'crop' or 'full'": self.mode in ("crop", "full"),
            "memory_interval must be >= 1": self.memory_interval >= 1,
            "memory_capacity must exceed keyframes_in_memory": self.memory_capacity > self.keyframes_in_memory >= 1,
            "update_rate must lie in (0, 1)": 0 < self.update_rate < 1,
            "keyframes_in_memory * pinned_floor must stay below 1": self.keyframes_in_memory * self.pinned_floor < 1,
            "transformer_samples must be >= 1": self.transformer_samples >= 1,
            "precision must be auto, fp32, bf16 or fp16": self.precision in ("auto", "fp32", "bf16", "fp16"),
            "runtime must be auto, torch or openvino": self.runtime in RUNTIMES,
            "finetune_steps must be >= 0 and finetune_lr > 0": self.finetune_steps >= 0 and self.finetune_lr > 0,
        }
        failed = [message for message, ok in checks.items() if not ok]
        if failed:
            raise ValueError("; ".join(failed))

    def replace(self, **changes: Any) -> SessionSettings:  # noqa: ANN401
        return dataclasses.replace(self, **changes)


def resolve_runtime(runtime: str) -> str:
    """`runtime`, or for "auto" the $LLB_RUNTIME override when set (ValueError naming a bad value)."""
    if runtime == "auto":
        override = os.environ.get(RUNTIME_ENV, "").strip().lower()
        if override:
            if override not in RUNTIMES:
                raise ValueError(f"{RUNTIME_ENV}={override!r}: choose one of {', '.join(RUNTIMES)}, or unset it")
            return override
    return runtime


def select_device(preference: str = "auto") -> torch.device:
    """CUDA, then MPS, then CPU for "auto"; otherwise the named device (checked to exist)."""
    import torch

    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {preference!r} asked for, but PyTorch sees no CUDA GPU; use --device cpu")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {preference!r} asked for, but MPS is not available; use --device cpu")
    return device


def _cpu_has_native_bf16() -> bool:
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def select_dtype(device: torch.device, precision: Precision = "auto") -> torch.dtype:
    """The autocast dtype: float32 means no autocast."""
    import torch

    if precision == "auto":
        if device.type == "cuda":
            return torch.float16
        if device.type == "cpu" and _cpu_has_native_bf16():
            return torch.bfloat16
        return torch.float32
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
