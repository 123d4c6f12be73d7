"""The serialisable model configuration and the registry of named variants.

A variant is one `register_variant` call: its name, the configuration it starts from, the nn.Module class
built from that configuration ("module:Class", imported when first built) and its traits (label encoder,
branches, fusion). Nothing else lists variant names: the CLI, recipes, checkpoints and the app ask the
registry.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from torch import nn

ReferenceMode = Literal["self", "references", "self+current", "references+current"]
REFERENCE_MODES: tuple[str, ...] = ("self", "references", "self+current", "references+current")


@dataclass(frozen=True)
class LLBConfig:
    """Everything needed to rebuild a model; stored as JSON inside every checkpoint.

    The variant decides the label encoder (mask CNN or BFF heads), whether the transduction
    branch exists, and the fusion (none, sum or gated).
    """

    variant: str = "llb"  # a registered variant name (`variant_names()`)
    backbone: str = "mobilenet_v2"  # "mobilenet_v2", "efficientnet_lite2" (pip packages) or "resnet50" (your own)
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
    # Token models (jointformer) only:
    token_dim: int = 128  # T, channels of the patch tokens and of the compressed memory token
    joint_blocks: int = 3  # joint blocks (transformer blocks over current and reference tokens)
    heads: int = 4  # attention heads per block
    reference_mode: ReferenceMode = "self"  # what reference tokens attend to (see jointformer.JointBlock)

    def __post_init__(self) -> None:
        if self.variant not in _REGISTRY:
            raise ValueError(f"unknown variant {self.variant!r}; choose one of {variant_names(None)}")
        if self.reference_mode not in REFERENCE_MODES:
            raise ValueError(f"reference_mode {self.reference_mode!r}: choose one of {list(REFERENCE_MODES)}")
        if self.token_dim % self.heads:
            raise ValueError(f"token_dim {self.token_dim} must be a multiple of heads {self.heads}")

    @property
    def spec(self) -> VariantSpec:
        """The registry entry of this config's variant."""
        return _REGISTRY[self.variant]

    @property
    def label_encoder(self) -> Literal["mask", "bff", "tokens"]:
        return self.spec.label_encoder

    @property
    def transduction(self) -> bool:
        return self.spec.transduction

    @property
    def fusion(self) -> Literal["none", "sum", "gated"]:
        return self.spec.fusion

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


@dataclass(frozen=True)
class VariantSpec:
    """One registered variant.

    Attributes:
        name: the variant's name (stored in checkpoints).
        summary: one line for help texts and the app's preferences.
        model: "module:Class" of the nn.Module built from the config (its constructor takes the config).
        defaults: the config fields this variant sets (label_dim, token sizes, ...).
        label_encoder: "mask" (small CNN on the mask), "bff" (backbone on the background-filtered frame) or
            "tokens" (mask embedding added to reference tokens).
        transduction: the model has JOINT's transformer branch.
        fusion: how the branches are merged ("none" for single-branch models).
        task: "vos" (propagates masks through a video; the engine's models) or "clicks" (segments one frame
            from clicks and a box; `llb_core.interactive`).
    """

    name: str
    summary: str
    model: str
    defaults: dict[str, Any]
    label_encoder: Literal["mask", "bff", "tokens"] = "mask"
    transduction: bool = False
    fusion: Literal["none", "sum", "gated"] = "none"
    task: Literal["vos", "clicks"] = "vos"

    def config(self, **overrides: Any) -> LLBConfig:  # noqa: ANN401
        """The variant's configuration with keyword overrides."""
        return LLBConfig(**{**self.defaults, **overrides, "variant": self.name})

    def model_class(self) -> Callable[[LLBConfig], nn.Module]:
        """The nn.Module class of this variant (imported on first use)."""
        module, _, name = self.model.partition(":")
        return getattr(importlib.import_module(module), name)


_REGISTRY: dict[str, VariantSpec] = {}


def register_variant(spec: VariantSpec) -> VariantSpec:
    """Add a variant to the registry (a second spec under one name raises ValueError)."""
    if spec.name in _REGISTRY and _REGISTRY[spec.name] != spec:
        raise ValueError(f"variant {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


_LLBNET = "llb_core.model.llbnet:LLBNet"
register_variant(
    VariantSpec("lwl", "LWL (ECCV 2020): mask label encoder, few-shot learner only, D = 16", _LLBNET, {"label_dim": 16})
)
register_variant(
    VariantSpec(
        "joint",
        "JOINT (ICCV 2021): mask label encoder with two heads, learner + transformer, plain sum, D = 16",
        _LLBNET,
        {"label_dim": 16},
        transduction=True,
        fusion="sum",
    )
)
register_variant(
    VariantSpec(
        "llb",
        "LLB (AAAI 2023): BFF label encoder (DLGM), learner + transformer, gated fusion, D = 32",
        _LLBNET,
        {"label_dim": 32},
        label_encoder="bff",
        transduction=True,
        fusion="gated",
    )
)
register_variant(
    VariantSpec(
        "jointformer",
        "JointFormer, adapted: joint blocks over current and reference tokens, a memory token per object",
        "llb_core.model.jointformer:JointFormerNet",
        {"label_dim": 16},
        label_encoder="tokens",
    )
)


register_variant(
    VariantSpec(
        "clicks",
        "Click to segment: one frame from positive/negative clicks, a box and the previous mask",
        "llb_core.model.clicknet:ClickNet",
        {"label_dim": 16, "decoder_widths": (96, 64, 48, 32)},
        task="clicks",
    )
)


def variant_names(task: str | None = "vos") -> list[str]:
    """The registered variants of `task` ("vos": the video models; "clicks"; None: all)."""
    return sorted(name for name, spec in _REGISTRY.items() if task is None or spec.task == task)


def variant_spec(name: str) -> VariantSpec:
    """The registry entry `name` (ValueError naming the choices when unknown)."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model variant {name!r}; choose one of {variant_names(None)}")
    return _REGISTRY[name]


def get_config(name: str, **overrides: Any) -> LLBConfig:  # noqa: ANN401
    """The registered configuration `name`, with keyword overrides."""
    return variant_spec(name).config(**overrides)


def build_model(config: LLBConfig) -> nn.Module:
    """An untrained model of `config`'s variant (backbone without ImageNet weights)."""
    return config.spec.model_class()(config)
