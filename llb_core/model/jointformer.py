"""JointFormer, adapted to our frozen ImageNet backbone: joint blocks over current-frame and reference
tokens, and one compressed memory token per object.

What is the paper's (Zhang et al., "Joint Modeling of Feature, Correspondence, and a Compressed Memory
for Video Object Segmentation"): reference frames carry their masks into their tokens; current and
reference tokens pass through the same joint blocks, where current tokens attend to themselves and to
every reference token while reference tokens never take information from the current frame (by
default); one memory token per object is updated inside the blocks (from the previous frame's decoder
tokens in the first two blocks, from the reference tokens in the others) and never writes into the
reference tokens; after the blocks it enhances the current tokens through a sigmoid attention (one key
per query); current and enhanced tokens are decoded with skips from the backbone.
What differs: tokens come from the frozen backbone's stride-16 features (not a ConvMAE-Base patch
embedding), the mask enters through a small trainable mask embedding, the blocks are few and narrow
(CPU budget), and the decoder is LWL's with our location prior.

Naming legend: B objects (one sequence each), N reference frames, T token channels, (h, w) the stride-16
grid of the padded crop, L = h * w tokens per frame, D target-encoding channels (decoder input).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from llb_core.model.base import BackboneNet
from llb_core.model.config import LLBConfig
from llb_core.model.decoder import Decoder

MEMORY_FROM_DECODER_BLOCKS = 2  # blocks whose memory-token update reads the previous decoder tokens


class TokenFrame(NamedTuple):
    """Per-frame features of a batch of images.

    Attributes:
        levels: backbone levels `layer1`..`layer4` of the padded image.
        size: (H, W) of the images before padding; logits come back at this size.
    """

    levels: dict[str, torch.Tensor]
    size: tuple[int, int]


@dataclass
class ReferenceState:
    """Reference tokens as every block sees them, for one memory state.

    Attributes:
        tokens: (B, N, L, T) reference tokens entering the first block.
        per_block: when reference tokens never see the current frame, each block's input reference
            tokens (B, N*L, T), computed once per memory state; None otherwise (recomputed per frame).
    """

    tokens: torch.Tensor
    per_block: list[torch.Tensor] | None


class Attention(nn.Module):
    """Multi-head attention, queries from one token set and keys/values from another.

    Args:
        dim: T, token channels.
        heads: attention heads.
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, queries: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """(B, Lq, T) queries and (B, Lk, T) context -> (B, Lq, T)."""
        b, lq, t = queries.shape
        h = self.heads
        q = self.q(queries).view(b, lq, h, t // h).transpose(1, 2)  # (B, Lq, T) -> (B, h, Lq, T/h)
        k, v = self.kv(context).view(b, -1, 2, h, t // h).permute(2, 0, 3, 1, 4)  # -> 2 x (B, h, Lk, T/h)
        x = F.scaled_dot_product_attention(q, k, v)
        return self.out(x.transpose(1, 2).reshape(b, lq, t))  # (B, h, Lq, T/h) -> (B, Lq, T)


class MLP(nn.Sequential):
    """Linear, GELU, Linear: (B, L, T) -> (B, L, T)."""

    def __init__(self, dim: int, ratio: int = 2) -> None:
        super().__init__(nn.Linear(dim, ratio * dim), nn.GELU(), nn.Linear(ratio * dim, dim))


class JointBlock(nn.Module):
    """One joint block: current tokens attend to themselves and all reference tokens; reference tokens
    attend as `reference_mode` says; the memory token reads a source it is given. One attention and one
    MLP serve current and reference tokens (they are one joint token set); the memory token has its own.

    Reference modes (the paper's four propagation modes):
        "self": each reference frame attends to its own tokens only;
        "references": reference tokens attend to all reference frames;
        "self+current" / "references+current": the same, plus the current frame's tokens.

    Args:
        dim: T, token channels.
        heads: attention heads.
        reference_mode: see above.
    """

    def __init__(self, *, dim: int, heads: int, reference_mode: str) -> None:
        super().__init__()
        self.reference_mode = reference_mode
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim)
        self.memory_norm = nn.LayerNorm(dim)
        self.source_norm = nn.LayerNorm(dim)
        self.memory_attn = Attention(dim, heads)
        self.memory_norm2 = nn.LayerNorm(dim)
        self.memory_mlp = MLP(dim)

    @property
    def references_see_current(self) -> bool:
        return self.reference_mode.endswith("+current")

    def references(self, refs: torch.Tensor, current: torch.Tensor | None = None) -> torch.Tensor:
        """Update reference tokens (B, N, L, T); `current` (B, L, T) is needed in the "+current" modes."""
        b, n, length, t = refs.shape
        x = self.norm1(refs)
        if self.reference_mode.startswith("self"):
            queries = x.reshape(b * n, length, t)  # (B, N, L, T) -> (B*N, L, T): each frame on its own
            context = queries
            if self.references_see_current:
                assert current is not None
                cur = self.norm1(current)[:, None].expand(b, n, length, t).reshape(b * n, length, t)
                context = torch.cat([queries, cur], dim=1)
        else:
            queries = x.reshape(b, n * length, t)  # (B, N, L, T) -> (B, N*L, T): all frames together
            context = queries
            if self.references_see_current:
                assert current is not None
                context = torch.cat([queries, self.norm1(current)], dim=1)
        refs = refs + self.attn(queries, context).view(b, n, length, t)
        return refs + self.mlp(self.norm2(refs))

    def current(self, current: torch.Tensor, refs: torch.Tensor) -> torch.Tensor:
        """Update current tokens (B, L, T) from themselves and the block's input references (B, N*L, T)."""
        x = self.norm1(current)
        current = current + self.attn(x, torch.cat([x, self.norm1(refs)], dim=1))
        return current + self.mlp(self.norm2(current))

    def memory(self, token: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        """Update the memory token (B, 1, T) by reading `source` (B, S, T)."""
        token = token + self.memory_attn(self.memory_norm(token), self.source_norm(source))
        return token + self.memory_mlp(self.memory_norm2(token))


class JointFormerNet(BackboneNet):
    """The JointFormer variant (see module docstring).

    Args:
        config: the model configuration; uses token_dim, joint_blocks, heads, reference_mode, label_dim (D),
            decoder_widths and location_prior.
    """

    memory_kind = "reference-tokens"

    def __init__(self, config: LLBConfig) -> None:
        super().__init__(config)
        t, d = config.token_dim, config.label_dim
        self.current_embed = nn.Conv2d(self.level_dim, t, 1)  # patch embedding of the current frame
        self.reference_embed = nn.Conv2d(self.level_dim, t, 1)  # patch embedding of reference frames
        self.mask_embed = nn.Sequential(  # (B, 1, H', W') mask -> (B, T, h, w), added to reference tokens
            nn.Conv2d(1, 16, 3, 2, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, 32, 3, 2, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, 3, 2, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, t, 3, 2, 1),
        )
        self.position = nn.Parameter(torch.randn(1, t, 16, 28) * 0.02)  # learnable, resized to the grid
        self.memory_init = nn.Parameter(torch.randn(1, 1, t) * 0.02)  # a new object's memory token
        self.blocks = nn.ModuleList(
            JointBlock(dim=t, heads=config.heads, reference_mode=config.reference_mode)
            for _ in range(config.joint_blocks)
        )
        self.current_norm = nn.LayerNorm(t)
        self.enhance_q = nn.Linear(t, t)  # sigmoid attention of current tokens to the memory token
        self.enhance_k = nn.Linear(t, t)
        self.enhance_v = nn.Linear(t, t)
        self.to_target = nn.Conv2d(2 * t, d, 1)  # [current, enhanced] -> the decoder's target encoding
        self.decoder = Decoder(
            feature_dims=self.backbone.channels,
            target_dim=d,
            widths=config.decoder_widths,
            location_prior=config.location_prior,
        )
        self.decoder_tokens = nn.Linear(config.decoder_widths[1], t)  # the decoder's fused stride-16 output

    # ---------------------------------------------------------------------------------- per frame
    def encode_frame(self, images: torch.Tensor) -> TokenFrame:
        """Backbone levels of (B, 3, H, W) RGB in [0, 1]."""
        return TokenFrame(self.backbone_levels(images), (images.shape[-2], images.shape[-1]))

    def _position(self, grid: tuple[int, int]) -> torch.Tensor:
        return F.interpolate(self.position, size=grid, mode="bilinear", align_corners=False)

    def _tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, h, w) -> (B, L, T)."""
        return x.flatten(2).transpose(1, 2)

    def current_tokens(self, frame: TokenFrame) -> torch.Tensor:
        """Current-frame tokens (B, L, T)."""
        x = frame.levels[self.config.feature_level]
        return self._tokens(self.current_embed(x) + self._position(x.shape[-2:]))

    # ------------------------------------------------------------------------------ references
    def encode_reference(self, frame: TokenFrame, masks: torch.Tensor) -> torch.Tensor:
        """Reference tokens (B, L, T) of frames with their (B, 1, H, W) soft masks in [0, 1]."""
        x = frame.levels[self.config.feature_level]
        mask = self.mask_embed(self._pad(masks).to(x.dtype))
        return self._tokens(
            self.reference_embed(x) + mask[..., : x.shape[-2], : x.shape[-1]] + self._position(x.shape[-2:])
        )

    def prepare_references(self, refs: torch.Tensor) -> ReferenceState:
        """The reference stream for a memory state: refs (B, N, L, T). When reference tokens never see the
        current frame it does not depend on the frame, so every block's input is computed here, once."""
        if self.blocks[0].references_see_current:
            return ReferenceState(refs, None)
        per_block = []
        for block in self.blocks:
            per_block.append(refs.flatten(1, 2))  # (B, N, L, T) -> (B, N*L, T)
            refs = block.references(refs)
        return ReferenceState(refs, per_block)

    def new_memory(self, batch: int) -> torch.Tensor:
        """Memory tokens (B, 1, T) of new objects."""
        return self.memory_init.expand(batch, -1, -1)

    # ------------------------------------------------------------------------------- segment
    def segment(
        self,
        frame: TokenFrame,
        references: ReferenceState,
        memory: torch.Tensor,
        decoder_tokens: torch.Tensor | None,
        prior: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Segment the current frame.

        Args:
            frame: the current frame's features.
            references: from `prepare_references`.
            memory: (B, 1, T) memory tokens.
            decoder_tokens: (B, L', T) from the previous frame's `segment`, or None (none yet: the memory
                token then reads the reference tokens in every block).
            prior: (B, 1, H, W) location prior in [0, 1] (models with `config.location_prior`), or None.

        Returns:
            logits (B, 1, H, W), the updated memory token (B, 1, T) and this frame's decoder tokens (B, L, T).
        """
        current = self.current_tokens(frame)
        refs = references.tokens
        for i, block in enumerate(self.blocks):
            if references.per_block is not None:
                ref_input = references.per_block[i]
            else:
                ref_input = refs.flatten(1, 2)  # (B, N, L, T) -> (B, N*L, T)
                refs = block.references(refs, current)
            source = decoder_tokens if i < MEMORY_FROM_DECODER_BLOCKS and decoder_tokens is not None else ref_input
            memory = block.memory(memory, source)
            current = block.current(current, ref_input)
        current = self.current_norm(current)
        t = current.shape[-1]
        score = torch.sigmoid(
            (self.enhance_q(current) * self.enhance_k(memory)).sum(-1, keepdim=True) / math.sqrt(t)
        )  # (B, L, 1): one key per query
        enhanced = score * self.enhance_v(memory)  # (B, L, T)
        grid = frame.levels[self.config.feature_level].shape[-2:]
        target = self.to_target(torch.cat([current, enhanced], dim=-1).transpose(1, 2).unflatten(2, grid))
        logits, deep = self.run_decoder(frame.levels, frame.size, target, prior)
        tokens = self.decoder_tokens(self._tokens(deep))
        return logits, memory, tokens

    # ----------------------------------------------------------------------------------- training
    def forward(
        self,
        images: torch.Tensor,
        first_mask: torch.Tensor,
        priors: torch.Tensor | None = None,
        *,
        init_iterations: int = 0,
        update_iterations: int = 0,
    ) -> dict[str, torch.Tensor | list]:
        """Training pass over mini-sequences: frame 0 and its mask are the first reference; each later
        frame is segmented, then joins the references with its detached soft prediction.

        Args:
            images: (B, Q, 3, H, W) RGB in [0, 1].
            first_mask: (B, 1, H, W) reference mask in [0, 1].
            priors: (B, Q-1, 1, H, W) location priors of frames 1..Q-1, or None.
            init_iterations, update_iterations: unused (no few-shot learner); accepted for the trainer.

        Returns:
            "logits": (B, Q-1, 1, H, W); "encodings": [] (no label encodings to keep apart).
        """
        q = images.shape[1]
        refs = [self.encode_reference(self.encode_frame(images[:, 0]), first_mask)]
        memory = self.new_memory(images.shape[0])
        decoder_tokens = None
        logits = []
        for t in range(1, q):
            frame = self.encode_frame(images[:, t])
            state = self.prepare_references(torch.stack(refs, dim=1))
            prior = None if priors is None else priors[:, t - 1]
            out, memory, decoder_tokens = self.segment(frame, state, memory, decoder_tokens, prior)
            logits.append(out)
            if t < q - 1:
                refs.append(self.encode_reference(frame, torch.sigmoid(out).detach()))
        return {"logits": torch.stack(logits, dim=1), "encodings": []}
