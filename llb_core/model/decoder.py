"""The LWL/JOINT segmentation decoder: from the target encoding and four backbone levels to logits.

Naming legend: B samples, D target-encoding channels, levels layer4 (deepest) .. layer1 (stride 4).
Each level: project the backbone features, concatenate the target encoding resized to that level,
three 3x3 convs, a residual refinement block (RRB), a channel-attention block (CAB) merging the deeper
level, a second RRB, a 1x1 projection to the next width. Head: x2 upsampling, 3x3 conv, ReLU,
upsampling to the output size, 3x3 conv to one channel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from llb_core.model.backbone import LEVELS


class RRB(nn.Module):
    """Residual refinement block: 1x1 conv, then x + conv(relu(conv(x)))."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(dim, dim, 1)
        self.conv1 = nn.Conv2d(dim, dim, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim, dim, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


class CAB(nn.Module):
    """Channel attention: weights from the pooled (shallow, deep) pair rescale the shallow level,
    then the deep level is added. At the deepest level `deep` is the global average of the level."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(2 * dim, dim, 1)
        self.fc2 = nn.Conv2d(dim, dim, 1)

    def forward(self, shallow: torch.Tensor, deep: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) and (B, C, h', w') -> (B, C, h, w)."""
        deep = F.interpolate(deep, size=shallow.shape[-2:], mode="bilinear", align_corners=False)
        pooled = F.adaptive_avg_pool2d(torch.cat([shallow, deep], dim=1), 1)
        attention = torch.sigmoid(self.fc2(F.relu(self.fc1(pooled))))
        return shallow * attention + deep


class DecoderLevel(nn.Module):
    """One decoder level (see module docstring)."""

    def __init__(self, *, feature_dim: int, target_dim: int, width: int, out_width: int, prior_dim: int = 0) -> None:
        super().__init__()
        self.reduce = nn.Sequential(nn.Conv2d(feature_dim, width, 1), nn.ReLU(inplace=True), nn.Conv2d(width, width, 1))
        self.transform = nn.Sequential(
            nn.Conv2d(width + target_dim + prior_dim, width, 3, 1, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, 1, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, 1, 1),
            nn.ReLU(inplace=True),
        )
        self.rrb1 = RRB(width)
        self.cab = CAB(width)
        self.rrb2 = RRB(width)
        self.proj = nn.Conv2d(width, out_width, 1)

    def forward(
        self, features: torch.Tensor, target: torch.Tensor, deep: torch.Tensor | None, prior: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Backbone features (B, Cf, h, w), target encoding (B, D, h', w'), deeper output or None, and the
        location prior (B, prior_dim, H, W) when the level was built with `prior_dim` > 0."""
        x = self.reduce(features)
        parts = [x, F.interpolate(target, size=x.shape[-2:], mode="bilinear", align_corners=False)]
        if prior is not None:
            parts.append(F.adaptive_avg_pool2d(prior.to(x.dtype), x.shape[-2:]))
        x = self.rrb1(self.transform(torch.cat(parts, dim=1)))
        x = self.cab(x, F.adaptive_avg_pool2d(x, 1) if deep is None else deep)
        return self.proj(self.rrb2(x))


class Decoder(nn.Module):
    """Deep-to-shallow decoder producing one-channel logits.

    Args:
        feature_dims: channels per backbone level, keys `layer1`..`layer4`.
        target_dim: D, channels of the fused target encoding.
        widths: decoder widths from deepest to shallowest level (paper: 256, 128, 128, 64).
        location_prior: every level also takes a one-channel location prior (the object's soft mask on the
            previous frame, in this frame's coordinates), so the network can prefer where the object just was
            over anything that merely looks like it.
        prior_channels: channels of that full-resolution prior when it is not one (the click model's guidance
            maps); implies `location_prior`.
    """

    def __init__(
        self,
        *,
        feature_dims: dict[str, int],
        target_dim: int,
        widths: tuple[int, ...] = (256, 128, 128, 64),
        location_prior: bool = False,
        prior_channels: int | None = None,
    ) -> None:
        super().__init__()
        self.prior_channels = int(location_prior) if prior_channels is None else prior_channels
        self.location_prior = self.prior_channels > 0
        order = LEVELS[::-1]  # deepest first
        outs = (*widths[1:], widths[-1])
        self.levels = nn.ModuleDict(
            {
                name: DecoderLevel(
                    feature_dim=feature_dims[name],
                    target_dim=target_dim,
                    width=wi,
                    out_width=wo,
                    prior_dim=self.prior_channels,
                )
                for name, wi, wo in zip(order, widths, outs, strict=True)
            }
        )
        self.head1 = nn.Conv2d(widths[-1], 32, 3, 1, 1)
        self.head2 = nn.Conv2d(32, 1, 3, 1, 1)

    def forward(
        self,
        features: dict[str, torch.Tensor],
        target: torch.Tensor,
        size: tuple[int, int],
        prior: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Backbone levels and target encoding (B, D, h, w) -> logits (B, 1, *size).

        `prior` (B, prior_channels, H', W') in [0, 1] is needed when built with `location_prior` (zeros: no prior known)
        and refused otherwise.
        """
        return self.run(features, target, size, prior)[0]

    def run(
        self,
        features: dict[str, torch.Tensor],
        target: torch.Tensor,
        size: tuple[int, int],
        prior: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """As `forward`, also returning the deepest level's fused output (B, widths[1], h, w) at stride 16."""
        if self.location_prior and prior is None:
            prior = target.new_zeros((target.shape[0], self.prior_channels, *size))
        elif prior is not None and not self.location_prior:
            raise ValueError("this decoder was built without a location prior")
        x: torch.Tensor | None = None
        deep: torch.Tensor | None = None
        for name, level in self.levels.items():
            x = level(features[name], target, x, prior)
            deep = x if deep is None else deep
        assert x is not None and deep is not None
        x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = F.relu(self.head1(x))
        if not self.training and tuple(size) == (2 * x.shape[-2], 2 * x.shape[-1]):
            return upsampled_conv(x, self.head2), deep  # the same logits, 3-4x faster at inference
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        return self.head2(x), deep


def _phase_taps() -> torch.Tensor:
    """(2, 3, 3): for output phase a and 3x3 tap dy of a conv on a x2 bilinear upsampling (align_corners=False),
    the weights of the coarse rows at offsets -1, 0, +1."""
    taps = torch.zeros(2, 3, 3)
    for a in (0, 1):
        for k, dy in enumerate((-1, 0, 1)):
            fine = a + dy  # fine row relative to 2i
            row, phase = fine // 2, fine % 2
            taps[a, k, row + 1] += 0.75
            taps[a, k, row + (0 if phase == 0 else 2)] += 0.25  # the neighbour above (phase 0) or below (phase 1)
    return taps


PHASE_TAPS = _phase_taps()


def upsampled_conv(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """`conv` (3x3, padding 1) applied to `x` (B, C, h, w) upsampled x2 bilinearly (align_corners=False), computed
    on the coarse grid: one conv with a 3x3 kernel per output phase (B, 4 Cout, h, w) and a pixel shuffle to
    (B, Cout, 2h, 2w), so the Cin-channel upsampling is never built. Away from the borders x2 bilinear
    upsampling is fixed 0.75/0.25 weights of the coarse neighbours, so the result is exact there; the outer two
    rows and columns (where the upsampling clamps and the fine grid's zero padding applies) are recomputed from
    thin strips the reference way."""
    taps = PHASE_TAPS.to(conv.weight.device, conv.weight.dtype)
    cout, cin = conv.weight.shape[:2]
    weight = torch.einsum("oiyx,ayp,bxq->oabipq", conv.weight, taps, taps).reshape(cout * 4, cin, 3, 3)
    bias = None if conv.bias is None else conv.bias.repeat_interleave(4)
    out = F.pixel_shuffle(F.conv2d(x, weight, bias, padding=1), 2)

    def reference(strip: torch.Tensor) -> torch.Tensor:
        return conv(F.interpolate(strip, scale_factor=2.0, mode="bilinear", align_corners=False))

    out[..., :2, :] = reference(x[..., :2, :])[..., :2, :]
    out[..., -2:, :] = reference(x[..., -2:, :])[..., -2:, :]
    out[..., :, :2] = reference(x[..., :, :2])[..., :, :2]
    out[..., :, -2:] = reference(x[..., :, -2:])[..., :, -2:]
    return out
