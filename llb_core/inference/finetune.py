"""Test-time fine-tuning: a few training steps on a run's keyframes before it propagates.

The network's heads (everything but the frozen backbone) are trained for `steps` Adam steps on synthetic
mini-sequences made from the keyframes themselves: each annotated object moves over its own frame with the
object painted out (the other objects stay as distractors), with the training augmentations and loss. The
person's model is never changed: a copy is tuned, and copies are cached by keyframe content, so re-running
from the same keyframes costs nothing extra.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

from llb_core.model import BackboneNet
from llb_core.train.data import SyntheticSampler, collate
from llb_core.train.losses import bce_loss, lovasz_loss
from llb_core.train.prior import simulate_priors

log = logging.getLogger(__name__)
MIN_PIXELS = 100  # objects smaller than this on a keyframe teach nothing


@dataclass(frozen=True)
class FinetuneSettings:
    """How a copy of the model is tuned on a run's keyframes."""

    steps: int = 0  # 0: off
    lr: float = 1e-4
    batch: int = 2
    size: tuple[int, int] = (256, 448)  # training crop (h, w), as the shipped weights were trained
    seed: int = 0


_CACHE: OrderedDict[tuple, tuple[weakref.ref, BackboneNet]] = OrderedDict()  # key -> (the base model, its tuned copy)
_CACHE_SIZE = 2


def _key(model: BackboneNet, examples: list[tuple[np.ndarray, np.ndarray]], settings: FinetuneSettings) -> tuple:
    digest = hashlib.blake2b(digest_size=16)
    for image, mask in examples:
        digest.update(np.ascontiguousarray(image).tobytes())
        digest.update(np.ascontiguousarray(mask).tobytes())
    return id(model), digest.hexdigest(), settings


def stills_of(examples: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(H, W, 3) uint8 frames with (H, W) uint8 index masks -> one (frame, binary mask) per visible object."""
    out = []
    for image, mask in examples:
        for obj in np.unique(mask):
            binary = (mask == obj).astype(np.uint8)
            if obj and binary.sum() >= MIN_PIXELS:
                out.append((image, binary))
    return out


def finetuned(
    model: BackboneNet,
    examples: list[tuple[np.ndarray, np.ndarray]],
    settings: FinetuneSettings,
    dtype: torch.dtype = torch.float32,
) -> BackboneNet:
    """A copy of `model` tuned on `examples` (keyframe frames and index masks), or `model` itself when
    tuning is off or no object is large enough. Cached by content (the last two results)."""
    stills = stills_of(examples)
    if settings.steps <= 0 or not stills:
        return model
    key = _key(model, examples, settings)
    if key in _CACHE and _CACHE[key][0]() is model:  # (an id can be reused once a model is gone)
        _CACHE.move_to_end(key)
        return _CACHE[key][1]
    tic = time.perf_counter()
    tuned = _tune(model, stills, settings, dtype)
    log.info(
        "fine-tuned on %d object mask(s), %d steps, in %.1f s", len(stills), settings.steps, time.perf_counter() - tic
    )
    _CACHE[key] = (weakref.ref(model), tuned)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return tuned


def _tune(
    model: BackboneNet, stills: list[tuple[np.ndarray, np.ndarray]], settings: FinetuneSettings, dtype: torch.dtype
) -> BackboneNet:
    device = next(model.parameters()).device
    tuned = copy.deepcopy(model)
    heads = [p for name, p in tuned.named_parameters() if not name.startswith("backbone.")]
    tuned.backbone.requires_grad_(False)
    sampler = SyntheticSampler(stills, settings.size, frames_per_sample=3, paste_probability=0.0)
    rng = np.random.default_rng(settings.seed)
    with torch.inference_mode(False), torch.enable_grad():
        for p in heads:
            p.requires_grad_(True)
        optimizer = torch.optim.Adam(heads, lr=settings.lr)
        for _ in range(settings.steps):
            images, masks = collate([sampler.sample(rng) for _ in range(settings.batch)])
            images, masks = images.to(device), masks.to(device)
            priors = simulate_priors(masks, rng) if tuned.config.location_prior else None
            with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
                logits = tuned(images, masks[:, 0], priors)["logits"]
            loss = 100 * lovasz_loss(torch.sigmoid(logits.float()), masks[:, 1:]) + 100 * bce_loss(logits, masks[:, 1:])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    tuned.requires_grad_(False)
    return tuned.eval()
