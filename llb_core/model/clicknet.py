"""The click-to-segment network: one frame, positive and negative clicks, an optional box and an optional
previous mask -> the object's mask.

It shares the VOS models' frozen ImageNet backbone (a frame's levels are computed once and reused for every
click) and their decoder. What the VOS models get from their memory, the target encoding, comes here from
the guidance maps: a small strided CNN brings them to stride 16, where they meet the deepest backbone level
in a stack of dilated convolutions (a receptive field over the whole working image). The decoder also sees
the guidance maps at every level, as the VOS decoder sees its location prior.

Naming legend: B images, (H, W) image size, (H', W') padded to a multiple of 16, G guidance channels
(`GUIDANCE_CHANNELS`), D target-encoding channels (`config.label_dim`).
"""

from __future__ import annotations

import torch
from torch import nn

from llb_core.interactive.clicks import GUIDANCE_CHANNELS
from llb_core.model.base import BackboneNet
from llb_core.model.config import LLBConfig
from llb_core.model.decoder import Decoder

CONTEXT_DIM = 64  # channels of the stride-16 fusion of frame and guidance
CONTEXT_DILATIONS = (1, 2, 4, 8)


def _conv(cin: int, cout: int, *, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, dilation, dilation), nn.ReLU(inplace=True))


class ClickNet(BackboneNet):
    """Frame levels + guidance (B, G, H, W) -> logits (B, 1, H, W); see the module docstring.

    Args:
        config: a "clicks" configuration (`get_config("clicks")`).
    """

    memory_kind = ""  # not a video model: the engine refuses it

    def __init__(self, config: LLBConfig) -> None:
        super().__init__(config)
        g = len(GUIDANCE_CHANNELS)
        self.guidance = nn.Sequential(  # stride 16: four stride-2 convolutions
            _conv(g, 16, stride=2), _conv(16, 32, stride=2), _conv(32, 48, stride=2), _conv(48, CONTEXT_DIM, stride=2)
        )
        self.frame = nn.Sequential(nn.Conv2d(self.level_dim, CONTEXT_DIM, 1), nn.ReLU(inplace=True))
        self.context = nn.Sequential(
            _conv(2 * CONTEXT_DIM, CONTEXT_DIM, dilation=CONTEXT_DILATIONS[0]),
            *(_conv(CONTEXT_DIM, CONTEXT_DIM, dilation=d) for d in CONTEXT_DILATIONS[1:]),
            nn.Conv2d(CONTEXT_DIM, config.label_dim, 1),
        )
        self.decoder = Decoder(
            feature_dims=self.backbone.channels,
            target_dim=config.label_dim,
            widths=config.decoder_widths,
            prior_channels=g,
        )

    def segment(self, levels: dict[str, torch.Tensor], guidance: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Backbone `levels` of the padded frame and guidance (B, G, H, W) in [0, 1] -> logits (B, 1, H, W).

        `levels` may hold one frame (batch 1) for B guidance maps: the frame's features are then shared.
        """
        guidance = self._pad(guidance)
        batch = guidance.shape[0]
        if levels[self.config.feature_level].shape[0] != batch:
            levels = {k: v.expand(batch, -1, -1, -1) for k, v in levels.items()}
        frame = self.frame(levels[self.config.feature_level])
        target = self.context(torch.cat([frame, self.guidance(guidance)], dim=1))
        logits, _ = self.decoder.run(levels, target, guidance.shape[-2:], guidance)
        return logits[..., : size[0], : size[1]]

    def forward(self, images: torch.Tensor, guidance: torch.Tensor) -> torch.Tensor:
        """RGB (B, 3, H, W) in [0, 1] and guidance (B, G, H, W) -> logits (B, 1, H, W)."""
        return self.segment(self.backbone_levels(images), guidance, images.shape[-2:])


def init_from_vos(model: ClickNet, source: BackboneNet) -> list[str]:
    """Start `model`'s decoder from a trained VOS model's decoder (same widths); returns the names copied.

    Each level's first convolution takes [features, target encoding, guidance]: the feature and target
    columns are copied, the source's one-channel location prior (if any) goes to the "previous" guidance
    channel, the other guidance channels start at zero.
    """
    state = model.state_dict()
    copied = []
    previous = GUIDANCE_CHANNELS.index("previous")
    for name, tensor in source.state_dict().items():
        if not name.startswith("decoder.") or name not in state:
            continue
        target = state[name]
        if target.shape == tensor.shape:
            target.copy_(tensor)
        elif target.dim() == 4 and target.shape[0] == tensor.shape[0] and target.shape[2:] == tensor.shape[2:]:
            prior = int(source.config.location_prior)
            keep = tensor.shape[1] - prior
            base = target.shape[1] - len(GUIDANCE_CHANNELS)
            if keep != base:
                continue
            target.zero_()
            target[:, :keep] = tensor[:, :keep]
            if prior:
                target[:, base + previous] = tensor[:, keep]
        else:
            continue
        copied.append(name)
    model.load_state_dict(state)
    return copied
