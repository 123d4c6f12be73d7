"""Loading the model the app and CLI use: given weights, else the shipped default weights."""

from __future__ import annotations

import logging
import os

from llb_core.model.checkpoint import load_checkpoint
from llb_core.model.llbnet import LLBNet
from llb_core.resources import DEFAULT_WEIGHTS, resource

log = logging.getLogger(__name__)


def load_model(
    weights: str | os.PathLike | None = None,
    *,
    variant: str | None = None,
    backbone_weights: str | os.PathLike | None = None,
    allow_untrained: bool = False,
) -> LLBNet:
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
    return load_checkpoint(path, variant=variant, backbone_weights=backbone_weights)
