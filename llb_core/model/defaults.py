"""Loading the model the app and CLI use: given weights, else the shipped default weights."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from llb_core.model.base import BackboneNet
from llb_core.model.checkpoint import load_checkpoint
from llb_core.resources import DEFAULT_WEIGHTS, resource

log = logging.getLogger(__name__)


def load_model(
    weights: str | os.PathLike | None = None,
    *,
    variant: str | None = None,
    backbone_weights: str | os.PathLike | None = None,
    allow_untrained: bool = False,
) -> BackboneNet:
    """The model for inference, in eval mode.

    Args:
        weights: a checkpoint written by `llb train`; default: the shipped `resources/weights/default.pt`.
        variant: require this variant (lwl, joint, llb).
        backbone_weights: ImageNet backbone file, for checkpoints that leave the backbone out.
        allow_untrained: when no checkpoint exists at all, build `variant` with untrained heads (for
            benchmarks and tests of the machinery; its masks are meaningless) instead of raising.

    Raises:
        CheckpointError / WeightsError: missing or mismatched weights.
    """
    from llb_core.model import CheckpointError, create_model

    path = weights if weights is not None else resource(DEFAULT_WEIGHTS)
    if weights is None and not os.path.isfile(path):
        if not allow_untrained:
            raise CheckpointError(f"{path}: default weights not found; pass --weights FILE or reinstall LLB Studio")
        log.warning("no trained weights at %s: using untrained heads, masks will be meaningless", path)
        return create_model(variant or "llb", backbone_weights=backbone_weights).eval()
    model = load_checkpoint(path, variant=variant, backbone_weights=backbone_weights)
    if model.config.spec.task != "vos":
        raise CheckpointError(
            f"{path}: holds the '{model.config.variant}' model, which segments single frames from clicks and "
            "cannot propagate; pass the weights of a video model (resources/weights/*.pt)"
        )
    return model


def shipped_models() -> dict[str, Path]:
    """The shipped weight files by name: `resources/weights/NAME.pt` ("default", plus other variants trained
    and measured here, e.g. "jointformer"; MODEL_CARD.md has their numbers)."""
    return {p.stem: p for p in sorted(resource(DEFAULT_WEIGHTS).parent.glob("*.pt"))}


def load_shipped(name: str) -> BackboneNet:
    """The shipped model `name` (see `shipped_models`), in eval mode.

    Raises:
        CheckpointError: no such shipped model, or its file does not load.
    """
    from llb_core.model import CheckpointError

    models = shipped_models()
    if name not in models:
        raise CheckpointError(
            f"{resource(DEFAULT_WEIGHTS).parent / (name + '.pt')}: no shipped model {name!r} "
            f"(shipped: {', '.join(models) or 'none'}); choose another in the preferences or reinstall LLB Studio"
        )
    return load_model(models[name])


def describe_shipped(name: str) -> str:
    """One line on the shipped model `name`: its variant's summary and backbone (or why the file does not load)."""
    from llb_core.model import CheckpointError, read_checkpoint
    from llb_core.model.backbone import BACKBONES

    path = shipped_models().get(name)
    if path is None:
        return f"{name}: not installed"
    try:
        config = read_checkpoint(path)["config"]
    except CheckpointError as err:
        return f"{name}: unreadable ({err})"
    backbone = BACKBONES[config.backbone].title if config.backbone in BACKBONES else config.backbone
    return f"{name}: {config.spec.summary}; {backbone} backbone"
