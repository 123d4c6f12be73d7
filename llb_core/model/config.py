"""The serialisable model configuration and the registry of named variants."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Variant = Literal["lwl", "joint", "llb"]


@dataclass(frozen=True)
class LLBConfig:
    """Everything needed to rebuild a model; stored as JSON inside every checkpoint.

    The variant decides the label encoder (mask CNN or BFF heads), whether the transduction
    branch exists, and the fusion (none, sum or gated).
    """

    variant: Variant = "llb"
    backbone: str = "mobilenet_v2"  # "mobilenet_v2" (ships with weights) or "resnet50" (bring your own)
    dilated: bool = True  # output stride 16: layer4 at stride 16, richer stride-16 features
    feature_level: str = "layer4"  # backbone level (at stride 16) feeding both branches
    feature_dim: int = 512  # C, adapter output channels
    label_dim: int = 32  # D, few-shot label / transformer value channels (LWL, JOINT: 16)
    proj_dim: int = 128  # query/key projection of the transformer
    temperature: float = 30.0  # cosine-attention softmax temperature
    filter_size: int = 3  # kernel of the target model tau
    init_reg: float = 0.01  # initial s, lambda = s^2
    decoder_widths: tuple[int, ...] = (256, 128, 128, 64)  # deepest to shallowest
    location_prior: bool = False  # the decoder also sees where the object was on the previous frame

    def __post_init__(self) -> None:
        if self.variant not in ("lwl", "joint", "llb"):
            raise ValueError(f"unknown variant {self.variant!r}; choose lwl, joint or llb")

    @property
    def label_encoder(self) -> Literal["mask", "bff"]:
        return "bff" if self.variant == "llb" else "mask"

    @property
    def transduction(self) -> bool:
        return self.variant != "lwl"

    @property
    def fusion(self) -> Literal["none", "sum", "gated"]:
        return {"lwl": "none", "joint": "sum", "llb": "gated"}[self.variant]  # type: ignore[return-value]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LLBConfig:
        """Rebuild from `to_dict` output; unknown keys raise ValueError."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown model config keys {unknown}")
        values = dict(data)
        if "decoder_widths" in values:
            values["decoder_widths"] = tuple(values["decoder_widths"])
        return cls(**values)


_REGISTRY: dict[str, Callable[[], LLBConfig]] = {}


def register_variant(fn: Callable[[], LLBConfig]) -> Callable[[], LLBConfig]:
    """Register a named configuration under the function's name."""
    _REGISTRY[fn.__name__] = fn
    return fn


@register_variant
def lwl() -> LLBConfig:
    """LWL (ECCV 2020): mask label encoder, induction branch only, D = 16."""
    return LLBConfig(variant="lwl", label_dim=16)


@register_variant
def joint() -> LLBConfig:
    """JOINT (ICCV 2021): mask label encoder with two heads, both branches, plain sum, D = 16."""
    return LLBConfig(variant="joint", label_dim=16)


@register_variant
def llb() -> LLBConfig:
    """LLB (AAAI 2023), the default: BFF label encoder (DLGM), both branches, gated fusion, D = 32."""
    return LLBConfig(variant="llb", label_dim=32)


def variant_names() -> list[str]:
    return sorted(_REGISTRY)


def get_config(name: str, **overrides: Any) -> LLBConfig:  # noqa: ANN401
    """The registered configuration `name`, with keyword overrides."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model variant {name!r}; choose one of {variant_names()}")
    return dataclasses.replace(_REGISTRY[name](), **overrides)
