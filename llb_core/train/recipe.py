"""Training recipes: TOML files under `recipes/`, loaded into a validated, frozen dataclass.

Training data are one or more `[[data.sources]]` (DAVIS-layout roots, each with a sampling weight and a
choice of sequences) plus `stills` (folders of images/ + masks/ for the synthetic stage 1). Recipes of the
older form, one `root` with `train_sequences` in `[data]`, still load: they become a single source (and
`--set root=...` / `--set train_sequences=[...]` replace the sources the same way).
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llb_core.errors import LLBError
from llb_core.model import variant_names
from llb_core.model.backbone import BACKBONES

RECIPES_DIR = Path(__file__).parent / "recipes"


@dataclass(frozen=True)
class Source:
    """One DAVIS-layout training root.

    Attributes:
        root: the root folder (relative paths: from the working directory).
        weight: its share of the real samples, relative to the other sources' weights; within a source every
            sequence is equally likely.
        sequences: the sequences to use (empty: every sequence of the root but `exclude`).
        exclude: sequences to leave out (only with `sequences` empty).
        resolution: the resolution folder ("480p", "360p", ...); None: the only one the root holds.
    """

    root: str
    weight: float = 1.0
    sequences: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    resolution: str | None = None

    def __post_init__(self) -> None:
        if not self.weight > 0:
            raise LLBError(f"recipe: source {self.root}: weight {self.weight} must be > 0")
        if self.sequences and self.exclude:
            raise LLBError(f"recipe: source {self.root}: give sequences or exclude, not both")


@dataclass(frozen=True)
class Recipe:
    """All settings of a training run (see recipes/cpu-default.toml for their meaning)."""

    variant: str
    decoder_widths: tuple[int, ...]
    sources: tuple[Source, ...]
    stills: tuple[str, ...]
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
    backbone: str = "mobilenet_v2"  # model: the frozen ImageNet backbone (llb_core.model.backbone.BACKBONES)
    location_prior: bool = False  # model: the decoder sees the previous frame's mask (simulated in training)
    twin_probability: float = 0.0  # data: share of real samples with a look-alike copy of the object (twins.py)
    stranger_probability: float = 0.0  # data: share of real samples with another clip's object beside it
    prior_leak: float = 0.0  # location prior: share of test frames whose prior leaks onto a nearby other object
    soft_aggregation: bool = False  # a sample's other objects are tracked too; logits merged before the loss
    track_twins: bool = False  # data: a twin on the reference frame is another (tracked) object, see SequenceSampler
    init_average: float = 0.0  # > 0: export (1 - x) trained + x --init weights (weight-space averaging)
    ema: float = 0.0  # > 0: export an exponential moving average of the weights with this decay per step
    # token models (jointformer) only, see LLBConfig:
    reference_mode: str = "self"
    joint_blocks: int = 3
    token_dim: int = 128

    def __post_init__(self) -> None:
        if self.variant not in variant_names():
            raise LLBError(f"recipe: unknown variant {self.variant!r} ({', '.join(variant_names())})")
        if self.backbone not in BACKBONES:
            raise LLBError(f"recipe: unknown backbone {self.backbone!r} ({', '.join(BACKBONES)})")
        if self.size[0] % 16 or self.size[1] % 16:
            raise LLBError(f"recipe: size {self.size} must be multiples of 16")
        if not self.sources:
            raise LLBError("recipe: no [[data.sources]]; give at least one training root")
        for source in self.sources:
            if set(source.sequences) & set(self.validation_sequences):
                raise LLBError(
                    f"recipe: a sequence is in both the training and the validation split "
                    f"({sorted(set(source.sequences) & set(self.validation_sequences))} of {source.root})"
                )
        for name in ("twin_probability", "stranger_probability", "prior_leak"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise LLBError(f"recipe: {name} {getattr(self, name)} must lie in [0, 1]")
        if self.track_twins and not self.soft_aggregation:
            raise LLBError("recipe: track_twins needs soft_aggregation = true (a twin is tracked, never leaked onto)")
        if not 0.0 <= self.init_average < 1.0:
            raise LLBError(f"recipe: init_average {self.init_average} must lie in [0, 1) (0: off)")
        if not 0.0 <= self.ema < 1.0:
            raise LLBError(f"recipe: ema {self.ema} must lie in [0, 1) (0: off)")
        if self.precision not in ("fp32", "bf16", "fp16"):
            raise LLBError(f"recipe: precision {self.precision!r} must be fp32, bf16 or fp16")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @staticmethod
    def completed(saved: dict[str, Any]) -> dict[str, Any]:
        """A recipe's JSON dict as saved by an older version, with settings added since at their defaults."""
        defaults = {f.name: f.default for f in dataclasses.fields(Recipe) if f.default is not dataclasses.MISSING}
        return {**defaults, **saved}

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


SOURCE_KEYS = frozenset(f.name for f in dataclasses.fields(Source))


def _source(value: Any) -> Source:  # noqa: ANN401
    if not isinstance(value, dict) or "root" not in value:
        raise LLBError(f"recipe: a source must be a table with a root, got {value!r}")
    unknown = sorted(set(value) - SOURCE_KEYS)
    if unknown:
        raise LLBError(f"recipe: unknown source settings {unknown} (known: {sorted(SOURCE_KEYS)})")
    return Source(**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})


def _legacy(values: dict[str, Any]) -> dict[str, Any]:
    """`root` + `train_sequences` (the older form, or --set overrides) -> a single source."""
    if "root" not in values and "train_sequences" not in values:
        return values
    values = dict(values)
    sources = values.pop("sources", [])
    root = values.pop("root", None)
    sequences = values.pop("train_sequences", None)
    if root is None:
        if len(sources) != 1:
            raise LLBError("recipe: train_sequences without root needs exactly one source; give root as well")
        root = sources[0]["root"]
    values["sources"] = [{"root": root, "sequences": list(sequences or [])}]
    values.setdefault("stills", [])
    return values


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    values = _legacy(values)
    names = {f.name: f for f in dataclasses.fields(Recipe)}
    unknown = sorted(set(values) - set(names))
    missing = sorted(n for n, f in names.items() if n not in values and f.default is dataclasses.MISSING)
    if unknown or missing:
        raise LLBError(f"recipe: unknown settings {unknown}, missing settings {missing}")
    out = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    out["sources"] = tuple(_source(v) for v in values["sources"])
    return out


def recipe_path(name_or_path: str) -> Path:
    """The TOML file of a recipe name (`recipes/NAME.toml`) or path.

    Raises:
        LLBError: no such file (naming the known recipes).
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = RECIPES_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in RECIPES_DIR.glob("*.toml"))
        raise LLBError(f"{path}: no such recipe; choose one of {known} or give a .toml path")
    return path


def load_recipe(name_or_path: str, overrides: list[str] | None = None) -> Recipe:
    """A recipe by name (`cpu-default`, `cpu-more-data`, `paper`) or TOML path, with `key=value` overrides
    (TOML values, e.g. `sources=[{root="data/x", weight=2}]`).

    Raises:
        LLBError: unknown recipe, unreadable TOML, unknown or missing settings.
    """
    path = recipe_path(name_or_path)
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
