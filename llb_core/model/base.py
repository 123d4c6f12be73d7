"""What every variant's network shares: the frozen ImageNet backbone, input normalisation and padding,
BatchNorm folding for inference, and training mode with BatchNorm frozen.

Naming legend: B images, (H, W) image size, (H', W') padded to a multiple of the deepest stride.
"""

from __future__ import annotations

import contextlib
import os

import torch
import torch.nn.functional as F
from torch import nn

from llb_core.model._fuse import fold_batchnorm
from llb_core.model.backbone import build_backbone, load_pretrained
from llb_core.model.config import LLBConfig


class BackboneNet(nn.Module):
    """Base of the variants' networks: owns `backbone` (levels layer1..layer4) and `config`.

    Subclasses set `memory_kind`, which tells the engine how the network keeps an object's memory
    ("target-model": LWL's few-shot learner and JOINT's transformer; "reference-tokens": JointFormer).

    Args:
        config: the model configuration (see `llb_core.model.config`).
    """

    memory_kind: str = ""

    def __init__(self, config: LLBConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone = build_backbone(config.backbone, dilated=config.dilated)
        if self.backbone.strides[config.feature_level] != 16:
            raise ValueError(
                f"feature_level {config.feature_level!r} is at stride "
                f"{self.backbone.strides[config.feature_level]}, the branches need stride 16"
            )
        self.level_dim = self.backbone.channels[config.feature_level]
        mean, std = self.backbone.input_mean, self.backbone.input_std
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.pad_multiple = max(self.backbone.strides.values())
        self.fused = False  # BatchNorm folded into the backbone's convolutions (inference only)

    def load_backbone(self, weights: str | os.PathLike | None = None) -> str:
        """Load the backbone's ImageNet weights (strict, verified); returns the file used."""
        return load_pretrained(self.backbone, weights)

    def freeze_backbone(self) -> None:
        """Stop gradients into the backbone (its activations are then computed without autograd)."""
        self.backbone.requires_grad_(False)

    def fuse_for_inference(self) -> None:
        """Fold the backbone's BatchNorm into its convolutions (faster inference; idempotent).

        A fused model can no longer be trained or saved with the backbone: load a fresh copy for that.
        """
        if not self.fused:
            fold_batchnorm(self.backbone)
            self.fused = True

    def train(self, mode: bool = True) -> BackboneNet:
        """Training mode for everything but BatchNorm, which stays frozen (eval) as in the paper."""
        if mode and getattr(self, "fused", False):
            raise RuntimeError("this model was fused for inference; load a fresh copy to train it")
        super().train(mode)
        for module in self.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
        return self

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] (B, 3, H, W) -> normalised as the backbone's ImageNet weights expect, same shape."""
        return (images - self.mean) / self.std

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        """Zero-pad bottom and right to a multiple of the deepest stride: (B, K, H, W) -> (B, K, H', W')."""
        m = self.pad_multiple
        return F.pad(x, (0, -x.shape[-1] % m, 0, -x.shape[-2] % m))

    def _backbone_context(self) -> contextlib.AbstractContextManager:
        frozen = not any(p.requires_grad for p in self.backbone.parameters())
        return torch.no_grad() if frozen and torch.is_grad_enabled() else contextlib.nullcontext()

    def run_decoder(
        self,
        levels: dict[str, torch.Tensor],
        size: tuple[int, int],
        target: torch.Tensor,
        prior: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`self.decoder` on backbone `levels` and a target encoding (B, D, h, w): logits (B, 1, H, W) cropped
        to the unpadded `size`, and the decoder's stride-16 output. `prior` (B, 1, H, W) in [0, 1], the
        object's soft mask on the previous frame in this frame's coordinates, is used by models with
        `config.location_prior` (None there: no prior known) and ignored by the others."""
        padded = levels["layer1"].shape[-2] * 4, levels["layer1"].shape[-1] * 4
        if not self.config.location_prior:
            prior = None
        elif prior is not None:
            prior = self._pad(prior)
        logits, deep = self.decoder.run(levels, target, padded, prior)
        return logits[..., : size[0], : size[1]], deep

    def backbone_levels(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Backbone levels of (B, 3, H, W) RGB in [0, 1], padded to (H', W')."""
        with self._backbone_context():
            return self.backbone(self._pad(self.normalize(images)))
