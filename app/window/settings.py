"""App preferences: a frozen, validated schema stored in `QSettings`, field by field.

`load_settings` never fails: a stored value that cannot be parsed or fails validation is logged and replaced by
its default, so one bad entry (a hand-edited ini file, a setting from a newer version) costs only that entry.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings

from llb_core.inference.settings import SessionSettings
from llb_core.io import DEFAULT_CACHE_FRAMES

log = logging.getLogger(__name__)

_ENGINE_DEFAULTS = SessionSettings()
DEVICE_RE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
RUNTIMES = ("auto", "torch", "openvino")  # SessionSettings.runtime
GROUP = "preferences"  # QSettings group holding the fields below


@dataclass(frozen=True)
class AppSettings:
    """Preferences of LLB Studio; validated on construction (ValueError naming every bad field).

    Attributes:
        model: which shipped weights propagate: "default" or another file in resources/weights by name
            (`llb_core.model.defaults.shipped_models`, e.g. "jointformer").
        device: "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:N" or "mps".
        precision: autocast precision, "auto", "fp32", "bf16" or "fp16".
        runtime: what runs the network on the CPU, "auto" (the faster here, measured once), "torch" or "openvino"
            (SessionSettings.runtime).
        resolution: internal short side of the network input, 64..4096 (SessionSettings.resolution).
        memory_interval: frames between memory updates, 1..100 (SessionSettings.memory_interval, T).
        finetune_steps: test-time fine-tuning on the keyframes before a run, 0 (off) .. 500 steps
            (SessionSettings.finetune_steps).
        cache_size: decoded frames kept in memory, 1..4096.
        autosave_minutes: minutes between autosaves, 0 (off) .. 120.
        recent_files: recently opened paths, most recent first.
    """

    model: str = "default"
    device: str = "auto"
    precision: str = _ENGINE_DEFAULTS.precision
    runtime: str = _ENGINE_DEFAULTS.runtime
    resolution: int = _ENGINE_DEFAULTS.resolution
    memory_interval: int = _ENGINE_DEFAULTS.memory_interval
    finetune_steps: int = _ENGINE_DEFAULTS.finetune_steps
    cache_size: int = DEFAULT_CACHE_FRAMES
    autosave_minutes: int = 2
    recent_files: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = [msg for name in _FIELDS if (msg := _check(name, getattr(self, name))) is not None]
        if problems:
            raise ValueError("invalid settings: " + "; ".join(problems))

    def session_settings(self, base: SessionSettings | None = None) -> SessionSettings:
        """Engine settings with these preferences applied on top of `base` (default: the engine defaults)."""
        return (base or SessionSettings()).replace(
            device=self.device,
            precision=self.precision,
            runtime=self.runtime,
            resolution=self.resolution,
            memory_interval=self.memory_interval,
            finetune_steps=self.finetune_steps,
        )

    def replace(self, **changes: Any) -> AppSettings:
        """A copy with `changes` applied (validated)."""
        return dataclasses.replace(self, **changes)


def _int_in(lo: int, hi: int) -> Any:
    def check(value: Any) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            return f"must be a whole number in {lo}..{hi}, got {value!r}"
        return None

    return check


def _check_model(value: Any) -> str | None:
    from llb_core.model.defaults import shipped_models

    if value == "default":
        return None
    names = shipped_models()
    if not isinstance(value, str) or value not in names:
        return f"must name a shipped model ({', '.join(names) or 'default'}), got {value!r}"
    return None


def _check_device(value: Any) -> str | None:
    if not isinstance(value, str) or not DEVICE_RE.fullmatch(value):
        return f"must be auto, cpu, cuda, cuda:N or mps, got {value!r}"
    return None


def _check_precision(value: Any) -> str | None:
    if value not in PRECISIONS:
        return f"must be one of {', '.join(PRECISIONS)}, got {value!r}"
    return None


def _check_runtime(value: Any) -> str | None:
    if value not in RUNTIMES:
        return f"must be one of {', '.join(RUNTIMES)}, got {value!r}"
    return None


def _check_recent(value: Any) -> str | None:
    if not isinstance(value, tuple) or not all(isinstance(p, str) and p for p in value):
        return f"must be a tuple of non-empty path strings, got {value!r}"
    return None


_CHECKS = {
    "model": _check_model,
    "device": _check_device,
    "precision": _check_precision,
    "runtime": _check_runtime,
    "resolution": _int_in(64, 4096),
    "memory_interval": _int_in(1, 100),
    "finetune_steps": _int_in(0, 500),
    "cache_size": _int_in(1, 4096),
    "autosave_minutes": _int_in(0, 120),
    "recent_files": _check_recent,
}
_FIELDS = tuple(f.name for f in dataclasses.fields(AppSettings))
if set(_CHECKS) != set(_FIELDS):
    raise RuntimeError(f"AppSettings fields {sorted(set(_FIELDS) ^ set(_CHECKS))} lack a check or a field")


def _check(name: str, value: Any) -> str | None:
    message = _CHECKS[name](value)
    return None if message is None else f"{name} {message}"


def _parse(name: str, raw: Any) -> Any:
    """The stored value of field `name` in its Python type (ValueError / TypeError when it cannot be)."""
    default = getattr(AppSettings(), name)
    if name == "recent_files":
        paths = json.loads(raw)  # stored as JSON: QSettings turns a one-item list into a plain string
        if not isinstance(paths, list):
            raise ValueError(f"expected a JSON list, got {raw!r}")
        return tuple(paths)
    if isinstance(default, int):
        text = str(raw).strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError(f"not a whole number: {raw!r}")
        return int(text)
    return str(raw)


def load_settings(qs: QSettings) -> AppSettings:
    """Read preferences from `qs`; missing entries get defaults, invalid ones too (with a logged warning)."""
    values: dict[str, Any] = {}
    qs.beginGroup(GROUP)
    try:
        for name in _FIELDS:
            if not qs.contains(name):
                continue
            raw = qs.value(name)
            try:
                value = _parse(name, raw)
            except (ValueError, TypeError) as err:
                where = qs.fileName()
                log.warning("%s: ignoring stored %s/%s=%r (%s); using the default", where, GROUP, name, raw, err)
                continue
            problem = _check(name, value)
            if problem is not None:
                log.warning("%s: ignoring stored %s/%s: %s; using the default", qs.fileName(), GROUP, name, problem)
                continue
            values[name] = value
    finally:
        qs.endGroup()
    return AppSettings(**values)


def save_settings(qs: QSettings, settings: AppSettings) -> None:
    """Write every field of `settings` to `qs` and flush it to storage."""
    qs.beginGroup(GROUP)
    try:
        for name in _FIELDS:
            value = getattr(settings, name)
            qs.setValue(name, json.dumps(list(value)) if name == "recent_files" else value)
    finally:
        qs.endGroup()
    qs.sync()
    if qs.status() != QSettings.Status.NoError:
        raise OSError(f"{qs.fileName()}: could not save preferences ({qs.status().name}); check that it is writable.")


def add_recent(settings: AppSettings, path: str, limit: int = 10) -> AppSettings:
    """`settings` with `path` first in the recent files (moved there if listed already), at most `limit` kept."""
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    rest = [p for p in settings.recent_files if p != path]
    return settings.replace(recent_files=tuple([path, *rest][:limit]))


def available_devices() -> list[str]:
    """Devices PyTorch can use here, for the preferences: "auto", "cpu", then "cuda" / "cuda:N" and "mps"."""
    import torch

    devices = ["auto", "cpu"]
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        devices += ["cuda"] + ([f"cuda:{i}" for i in range(count)] if count > 1 else [])
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices
