"""Training recipes: TOML files under `recipes/`, loaded into a validated, frozen dataclass."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llb_core.errors import LLBError

RECIPES_DIR = Path(__file__).parent / "recipes"


@dataclass(frozen=True)
class Recipe:
    """All settings of a training run (see recipes/cpu-default.toml for their meaning)."""

    variant: str
    decoder_widths: tuple[int, ...]
    root: str
    train_sequences: tuple[str, ...]
    validation_sequences: tuple[str, ...]
    size: tuple[int, int]
    frames_per_sample: int
    window: int
    still_every: int
    synthetic_iterations: int
    iterations: int
    batch: int
    lr: float
    milestones: tuple[int, ...]
    gamma: float
    init_iterations: int
    update_iterations: int
    lovasz: float
    bce: float
    cosine: float
    precision: str
    freeze_backbone: bool
    checkpoint_minutes: float
    log_every: int
    seed: int

    def __post_init__(self) -> None:
        if self.variant not in ("lwl", "joint", "llb"):
            raise LLBError(f"recipe: unknown variant {self.variant!r} (lwl, joint or llb)")
        if self.size[0] % 16 or self.size[1] % 16:
            raise LLBError(f"recipe: size {self.size} must be multiples of 16")
        if set(self.train_sequences) & set(self.validation_sequences):
            raise LLBError("recipe: a sequence is in both the training and the validation split")
        if self.precision not in ("fp32", "bf16", "fp16"):
            raise LLBError(f"recipe: precision {self.precision!r} must be fp32, bf16 or fp16")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    def replace(self, **changes: Any) -> Recipe:  # noqa: ANN401
        return dataclasses.replace(self, **changes)


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for section in data.values():
        if not isinstance(section, dict):
            raise LLBError("recipe: every setting must sit in a [section]")
        for key, value in section.items():
            if key in flat:
                raise LLBError(f"recipe: setting {key!r} appears twice")
            flat[key] = value
    return flat


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    names = {f.name: f for f in dataclasses.fields(Recipe)}
    unknown = sorted(set(values) - set(names))
    missing = sorted(set(names) - set(values))
    if unknown or missing:
        raise LLBError(f"recipe: unknown settings {unknown}, missing settings {missing}")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def load_recipe(name_or_path: str, overrides: list[str] | None = None) -> Recipe:
    """A recipe by name (`cpu-default`, `paper`) or TOML path, with `key=value` overrides (TOML values).

    Raises:
        LLBError: unknown recipe, unreadable TOML, unknown or missing settings.
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = RECIPES_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in RECIPES_DIR.glob("*.toml"))
        raise LLBError(f"{path}: no such recipe; choose one of {known} or give a .toml path")
    try:
        values = _flatten(tomllib.loads(path.read_text()))
        for item in overrides or []:
            key, sep, text = item.partition("=")
            if not sep:
                raise LLBError(f"--set {item!r}: write key=value, e.g. iterations=500")
            values[key.strip()] = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError as err:
        raise LLBError(f"{path}: not valid TOML ({err})") from err
    return Recipe(**_coerce(values))
