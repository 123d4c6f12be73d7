"""Saving and loading model checkpoints (any registered variant): config + format version + tensors, loaded strictly.

A checkpoint is a `torch.save`d dict of plain types (loaded with `weights_only=True`):
    format: "llb-checkpoint", format_version: int, config: JSON of LLBConfig,
    includes_backbone: bool, state_dict: {name: tensor}, metadata: JSON of free-form facts.
When the backbone stayed frozen at its ImageNet weights it is left out (the file holds the heads only)
and is loaded from the verified ImageNet file instead.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from llb_core.errors import new_file_mode
from llb_core.model._weights import WeightsError, compare_state
from llb_core.model.base import BackboneNet
from llb_core.model.config import LLBConfig, build_model, variant_names
from llb_core.model.llbnet import LLBNet

FORMAT = "llb-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(WeightsError):
    """A checkpoint is unreadable or does not match the model asked for."""


def save_checkpoint(
    model: BackboneNet,
    path: str | os.PathLike,
    *,
    include_backbone: bool = False,
    half: bool = False,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write `model` to `path` atomically (temporary file, then rename).

    Args:
        include_backbone: store the backbone too (needed when it was fine-tuned).
        half: store floating-point tensors as float16 (loading casts back to float32).
        metadata: JSON-serialisable facts (training recipe, iterations, scores).
    """
    if include_backbone and model.fused:
        raise ValueError("cannot save the backbone of a model fused for inference; save the unfused model")
    state = {
        name: (t.half() if half and t.is_floating_point() else t).detach().cpu().clone()
        for name, t in model.state_dict().items()
        if include_backbone or not name.startswith("backbone.")
    }
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": model.config.to_json(),
        "includes_backbone": include_backbone,
        "state_dict": state,
        "metadata": json.dumps(metadata or {}),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, new_file_mode())
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a checkpoint's envelope; returns the payload with `config` parsed to LLBConfig."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found; pass the path of an .pt file written by `llb train`")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for damaged files
        raise CheckpointError(f"{path}: not a readable checkpoint ({err}); re-export or re-download it") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an LLB checkpoint (no '{FORMAT}' header)")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {version}, this LLB Studio reads version {FORMAT_VERSION}; "
            "update LLB Studio or re-save the checkpoint"
        )
    try:
        payload["config"] = LLBConfig.from_dict(json.loads(payload["config"]))
        payload["metadata"] = json.loads(payload.get("metadata", "{}"))
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: damaged model config ({err})") from err
    return payload


def load_checkpoint(
    path: str | os.PathLike,
    *,
    variant: str | None = None,
    backbone: str | None = None,
    backbone_weights: str | os.PathLike | None = None,
) -> BackboneNet:
    """Rebuild the model a checkpoint describes and load its tensors strictly.

    Args:
        variant: if given, the checkpoint must be of this variant.
        backbone: if given, the checkpoint must use this backbone.
        backbone_weights: ImageNet weights file for checkpoints that leave the backbone out.

    Returns:
        The model in eval mode, float32, on the CPU.

    Raises:
        CheckpointError: unreadable file, other variant or backbone, missing, unexpected or mis-shaped keys.
    """
    if variant is not None and variant not in variant_names(None):
        raise CheckpointError(f"unknown model variant {variant!r}; choose one of {', '.join(variant_names(None))}")
    payload = read_checkpoint(path)
    config: LLBConfig = payload["config"]
    if variant is not None and config.variant != variant:
        raise CheckpointError(f"{path}: holds a '{config.variant}' model, but a '{variant}' model was asked for")
    if backbone is not None and config.backbone != backbone:
        raise CheckpointError(f"{path}: built on backbone '{config.backbone}', but '{backbone}' was asked for")
    model = build_model(config)
    assert isinstance(model, BackboneNet)
    includes_backbone = bool(payload["includes_backbone"])
    if not includes_backbone:
        model.load_backbone(backbone_weights)
    expected = {
        name: t for name, t in model.state_dict().items() if includes_backbone or not name.startswith("backbone.")
    }
    state: dict[str, torch.Tensor] = payload["state_dict"]
    missing, unexpected, wrong = compare_state(expected, state)
    if missing or unexpected or wrong:
        raise CheckpointError(
            f"{path}: tensors do not match a '{config.variant}' model on '{config.backbone}': "
            f"{len(missing)} missing {missing[:3]}, {len(unexpected)} unexpected {unexpected[:3]}, "
            f"{len(wrong)} of the wrong shape {wrong[:3]}; the file is damaged or from another version"
        )
    full = model.state_dict()  # the backbone's ImageNet tensors when the file leaves it out
    full.update({name: t.to(expected[name].dtype) for name, t in state.items()})
    model.load_state_dict(full, strict=True)
    return model.eval()


def add_location_prior(model: LLBNet, source: LLBNet) -> None:
    """Load `source` (the same config without the location prior) into `model` (with it).

    Every tensor is copied; each decoder level's first convolution gains one input channel, the prior,
    whose weights start at zero, so `model` gives exactly `source`'s logits until it is trained.
    """
    if source.config.location_prior or not model.config.location_prior:
        raise ValueError("add_location_prior: the source must lack the prior and the model must have it")
    state = model.state_dict()
    for name, tensor in source.state_dict().items():
        target = state[name]
        if target.shape == tensor.shape:
            target.copy_(tensor)
        elif target.dim() == 4 and target.shape[1] == tensor.shape[1] + 1 and name.startswith("decoder."):
            target.zero_()
            target[:, : tensor.shape[1]] = tensor
        else:
            raise ValueError(f"add_location_prior: {name} is {tuple(tensor.shape)}, expected {tuple(target.shape)}")
    model.load_state_dict(state)


def copy_shared_tensors(model: BackboneNet, source: BackboneNet) -> list[str]:
    """Copy into `model` every tensor `source` has under the same name and shape (another variant's
    backbone and decoder, say); returns the names copied. The rest of `model` keeps its initialisation.

    A source decoder with the location prior gives a decoder without it all but the prior's input weights
    (the last input channel of each level's first convolution)."""
    state = model.state_dict()
    prior_dropped = source.config.location_prior and not model.config.location_prior
    copied = []
    for name, tensor in source.state_dict().items():
        if name not in state:
            continue
        target = state[name]
        if target.shape == tensor.shape:
            target.copy_(tensor)
        elif (
            prior_dropped
            and name.startswith("decoder.")
            and target.dim() == 4
            and tensor.dim() == 4
            and (target.shape[1] + 1 == tensor.shape[1] and target.shape[0] == tensor.shape[0])
        ):
            target.copy_(tensor[:, :-1])
        else:
            continue
        copied.append(name)
    model.load_state_dict(state)
    return copied
