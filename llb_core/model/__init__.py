"""The LLB network and its variants.

from llb_core.model import create_model
model = create_model("llb", pretrained_backbone=True)
"""

from __future__ import annotations

import os
from typing import Any

from llb_core.model._weights import WeightsError
from llb_core.model.base import BackboneNet
from llb_core.model.checkpoint import (
    CheckpointError,
    add_location_prior,
    copy_shared_tensors,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from llb_core.model.config import (
    LLBConfig,
    VariantSpec,
    build_model,
    get_config,
    register_variant,
    variant_names,
    variant_spec,
)
from llb_core.model.label_encoder import LabelEncoding
from llb_core.model.llbnet import FrameFeatures, LLBNet


def create_model(
    variant: str = "llb",
    *,
    pretrained_backbone: bool = True,
    backbone_weights: str | os.PathLike | None = None,
    **overrides: Any,  # noqa: ANN401
) -> BackboneNet:
    """Build a registered variant (config overrides as keywords), with ImageNet backbone weights loaded."""
    model = build_model(get_config(variant, **overrides))
    assert isinstance(model, BackboneNet)
    if pretrained_backbone:
        model.load_backbone(backbone_weights)
    return model


__all__ = [
    "BackboneNet",
    "VariantSpec",
    "build_model",
    "variant_spec",
    "CheckpointError",
    "FrameFeatures",
    "LLBConfig",
    "LLBNet",
    "LabelEncoding",
    "WeightsError",
    "add_location_prior",
    "copy_shared_tensors",
    "create_model",
    "get_config",
    "load_checkpoint",
    "read_checkpoint",
    "register_variant",
    "save_checkpoint",
    "variant_names",
]
