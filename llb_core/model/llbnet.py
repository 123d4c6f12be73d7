"""LLBNet: one model class for the LWL, JOINT and LLB variants.

Naming legend: B sequences, N memory samples, Q frames of a training mini-sequence, C = 512 adapted
channels, D label channels, (H, W) image size, (h, w) the stride-16 grid of the padded image.

Per-frame work (`encode_frame`: backbone levels, both adapted stride-16 maps) is separate from
per-memory-sample work (`encode_label`: E1, E2, W; `encode_memory`: transformer keys per memory state;
`fit`: the target model), so an engine can cache the latter and run only `segment` per frame.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from llb_core.model.base import BackboneNet
from llb_core.model.config import LLBConfig
from llb_core.model.decoder import Decoder
from llb_core.model.fusion import GatedFusion, SumFusion
from llb_core.model.induction import FewShotLearner, InstanceL2Norm
from llb_core.model.label_encoder import BFFHeads, LabelEncoding, MaskLabelEncoder
from llb_core.model.transduction import Transduction


class FrameFeatures(NamedTuple):
    """Per-frame features of a batch of images.

    Attributes:
        levels: backbone levels `layer1`..`layer4` of the padded image.
        induction: (B, C, h, w) target-model features, instance-L2-normalised.
        transformer: (B, C, h, w) transformer features, or None without a transduction branch.
        size: (H, W) of the images before padding; logits come back at this size.
    """

    levels: dict[str, torch.Tensor]
    induction: torch.Tensor
    transformer: torch.Tensor | None
    size: tuple[int, int]


class LLBNet(BackboneNet):
    """The LLB video object segmentation network (variant chosen by `config`).

    Args:
        config: the model configuration (see `llb_core.model.config`).
    """

    memory_kind = "target-model"

    def __init__(self, config: LLBConfig) -> None:
        super().__init__(config)
        level_dim = self.level_dim
        c, d = config.feature_dim, config.label_dim
        k = config.filter_size
        self.induction_adapter = nn.Conv2d(level_dim, c, 3, 1, 1, bias=False)
        self.induction_norm = InstanceL2Norm(scale=math.sqrt(1.0 / (c * k * k)))
        self.learner = FewShotLearner(feature_dim=c, label_dim=d, filter_size=k, init_reg=config.init_reg)
        self.transformer_adapter = nn.Conv2d(level_dim, c, 3, 1, 1, bias=False) if config.transduction else None
        self.transduction = (
            Transduction(dim=c, proj_dim=config.proj_dim, temperature=config.temperature)
            if config.transduction
            else None
        )
        if config.label_encoder == "bff":
            self.label_encoder: nn.Module = BFFHeads(in_dim=level_dim, label_dim=d)
        else:
            self.label_encoder = MaskLabelEncoder(label_dim=d, with_values=config.transduction)
        self.fusion: nn.Module | None = {"none": None, "sum": SumFusion(), "gated": GatedFusion(dim=d)}[config.fusion]
        self.decoder = Decoder(
            feature_dims=self.backbone.channels,
            target_dim=d,
            widths=config.decoder_widths,
            location_prior=config.location_prior,
        )

    # ---------------------------------------------------------------------------------- per frame
    def encode_frame(self, images: torch.Tensor) -> FrameFeatures:
        """Backbone and adapters for a batch of frames: (B, 3, H, W) RGB in [0, 1] -> FrameFeatures."""
        levels = self.backbone_levels(images)
        x = levels[self.config.feature_level]
        induction = self.induction_norm(self.induction_adapter(x))
        transformer = None if self.transformer_adapter is None else self.transformer_adapter(x)
        return FrameFeatures(levels, induction, transformer, (images.shape[-2], images.shape[-1]))

    # -------------------------------------------------------------------------- per memory sample
    def encode_label(self, images: torch.Tensor, masks: torch.Tensor) -> LabelEncoding:
        """Label encodings of memory samples.

        Args:
            images: (B, 3, H, W) RGB in [0, 1] (used by the BFF encoder only).
            masks: (B, 1, H, W) soft masks in [0, 1].

        Returns:
            LabelEncoding with E2, W and E1 (None for `lwl`), each (B, D, h, w).
        """
        masks = self._pad(masks)
        if isinstance(self.label_encoder, BFFHeads):
            bff = self._pad(self.normalize(images)) * masks
            with self._backbone_context():
                features = self.backbone(bff, levels=(self.config.feature_level,))[self.config.feature_level]
            return self.label_encoder(features, masks)
        return self.label_encoder(masks)

    def fit(
        self,
        x: torch.Tensor,
        e2: torch.Tensor,
        w: torch.Tensor,
        v: torch.Tensor,
        *,
        tau: torch.Tensor | None = None,
        iterations: int,
    ) -> torch.Tensor:
        """Fit the target model on memory samples: x (N, B, C, h, w), e2 and w (N, B, D, h, w), v (N, B).

        Returns tau (B, D, C, k, k), starting from `tau` (zeros when None).
        """
        return self.learner(x, e2, w, v, tau=tau, iterations=iterations)

    def encode_memory(self, transformer_features: torch.Tensor) -> torch.Tensor | None:
        """Transformer keys for a memory state: (B, N, C, h, w) -> (B, N*h*w, P); None for `lwl`."""
        return None if self.transduction is None else self.transduction.encode_memory(transformer_features)

    # ------------------------------------------------------------------------------- per frame
    def target_encoding(
        self, frame: FrameFeatures, tau: torch.Tensor, keys: torch.Tensor | None, values: torch.Tensor | None
    ) -> torch.Tensor:
        """Fused target encoding E_tar (B, D, h, w) of the current frame.

        Args:
            frame: features of the current frame.
            tau: (B, D, C, k, k) target model.
            keys: (B, S, P) from `encode_memory` (ignored by `lwl`).
            values: (B, N, D, h, w) E1 of the memory samples (ignored by `lwl`).
        """
        e2 = self.learner.predict(frame.induction, tau)
        if self.transduction is None or self.fusion is None:
            return e2
        if keys is None or values is None or frame.transformer is None:
            raise ValueError(f"the {self.config.variant} variant needs transformer keys and values")
        e1 = self.transduction.decode(frame.transformer, keys, values)
        return self.fusion(e1, e2)

    def decode(self, frame: FrameFeatures, target: torch.Tensor, prior: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, 1, H, W) at the unpadded frame size from E_tar (B, D, h, w).

        `prior` (B, 1, H, W) in [0, 1]: the object's soft mask on the previous frame in this frame's
        coordinates, used by models with `config.location_prior` (None there: no prior known) and ignored
        by the others.
        """
        return self.run_decoder(frame.levels, frame.size, target, prior)[0]

    def segment(
        self,
        frame: FrameFeatures,
        tau: torch.Tensor,
        keys: torch.Tensor | None,
        values: torch.Tensor | None,
        prior: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One-channel logits (B, 1, H, W) for the current frame given the memory state (and the
        location prior (B, 1, H, W), see `decode`)."""
        return self.decode(frame, self.target_encoding(frame, tau, keys, values), prior)

    # ----------------------------------------------------------------------------------- training
    def forward(
        self,
        images: torch.Tensor,
        first_mask: torch.Tensor,
        priors: torch.Tensor | None = None,
        *,
        init_iterations: int = 5,
        update_iterations: int = 2,
    ) -> dict[str, torch.Tensor | list[LabelEncoding]]:
        """Unrolled training pass over mini-sequences (differentiable through the learner).

        The reference frame and its mask start the memory (`init_iterations` descent steps from zero);
        each later frame is segmented, then joins the memory with its detached soft prediction, followed
        by `update_iterations` steps. Memory samples are weighted equally.

        Args:
            images: (B, Q, 3, H, W) RGB in [0, 1]; frame 0 is the reference.
            first_mask: (B, 1, H, W) reference mask in [0, 1].
            priors: (B, Q-1, 1, H, W) location priors of frames 1..Q-1 (see `decode`), or None.

        Returns:
            "logits": (B, Q-1, 1, H, W) for frames 1..Q-1; "encodings": the Q label encodings used.
        """
        q = images.shape[1]
        frame = self.encode_frame(images[:, 0])
        label = self.encode_label(images[:, 0], first_mask)
        xs, e2s, ws, tfs, e1s = [frame.induction], [label.e2], [label.w], [frame.transformer], [label.e1]
        encodings = [label]

        def weights() -> torch.Tensor:
            n = len(xs)
            return images.new_full((n, images.shape[0]), 1.0 / n)

        tau = self.fit(torch.stack(xs), torch.stack(e2s), torch.stack(ws), weights(), iterations=init_iterations)
        logits = []
        for t in range(1, q):
            frame = self.encode_frame(images[:, t])
            keys = values = None
            if self.transduction is not None:
                keys = self.encode_memory(torch.stack(tfs, dim=1))  # type: ignore[arg-type]
                values = torch.stack(e1s, dim=1)  # type: ignore[arg-type]
            out = self.segment(frame, tau, keys, values, None if priors is None else priors[:, t - 1])
            logits.append(out)
            if t == q - 1:
                break
            label = self.encode_label(images[:, t], torch.sigmoid(out).detach())
            encodings.append(label)
            xs.append(frame.induction)
            e2s.append(label.e2)
            ws.append(label.w)
            tfs.append(frame.transformer)
            e1s.append(label.e1)
            tau = self.fit(
                torch.stack(xs), torch.stack(e2s), torch.stack(ws), weights(), tau=tau, iterations=update_iterations
            )
        return {"logits": torch.stack(logits, dim=1), "encodings": encodings}
