"""Label encoders: from a memory frame's mask to few-shot labels E2, importance weights W and
transformer values E1, all at stride 16.

- `MaskLabelEncoder` (LWL, JOINT): a small CNN on the mask alone (conv, two residual blocks, 64 ch).
- `BFFHeads` (LLB's DLGM): heads over the pretrained backbone's features of the background-filtered
  frame BFF = frame x mask; the model runs the backbone, so the encoder owns no copy of it.

Naming legend: B samples, D label channels, H x W the image, h x w = H/16 x W/16.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class LabelEncoding(NamedTuple):
    """Per-sample label encodings, each (B, D, h, w); `e1` is None without a transduction branch."""

    e2: torch.Tensor
    w: torch.Tensor
    e1: torch.Tensor | None


def _conv3x3(cin: int, cout: int, *, stride: int = 1, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, stride, 1)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def _weight_head(cin: int, dim: int) -> nn.Conv2d:
    """The W head: weight 0 and bias 1 at init, so every pixel starts with importance one."""
    head = nn.Conv2d(cin, dim, 3, 1, 1)
    nn.init.zeros_(head.weight)
    nn.init.ones_(head.bias)
    return head


class _ResBlock(nn.Module):
    """Residual block with stride, 1x1 projection on the skip path (no BatchNorm)."""

    def __init__(self, cin: int, cout: int, *, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.skip = nn.Conv2d(cin, cout, 1, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.skip(x) + self.conv2(F.relu(self.conv1(x))))


class MaskLabelEncoder(nn.Module):
    """LWL/JOINT label encoder on the mask: stride 2 conv, max pool, two stride-2 residual blocks.

    Args:
        label_dim: D.
        with_values: also produce E1 (JOINT's second head for the transformer).
        width: channels after the residual blocks.
    """

    def __init__(self, *, label_dim: int, with_values: bool, width: int = 64) -> None:
        super().__init__()
        self.stem = _conv3x3(1, width // 4, stride=2)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.res1 = _ResBlock(width // 4, width // 2, stride=2)
        self.res2 = _ResBlock(width // 2, width, stride=2)
        self.e2_head = _conv3x3(width, label_dim)
        self.w_head = _weight_head(width, label_dim)
        self.e1_head = _conv3x3(width, label_dim) if with_values else None

    def forward(self, mask: torch.Tensor) -> LabelEncoding:
        """(B, 1, H, W) soft mask in [0, 1] -> encodings at (h, w) = (H/16, W/16)."""
        x = self.res2(self.res1(self.pool(self.stem(mask))))
        return LabelEncoding(self.e2_head(x), self.w_head(x), None if self.e1_head is None else self.e1_head(x))


class BFFHeads(nn.Module):
    """LLB's DLGM heads over backbone features of the background-filtered frame.

    A 3x3 reduction takes the backbone features of the BFF plus the mask pooled to stride 16 (so the
    label layout is explicit even where the object is dark), then two branches:
    shared 256->64 + ReLU -> E2 (64->D, ReLU) and W (64->D, weight 0 / bias 1); 256->64 + ReLU -> E1.

    Args:
        in_dim: channels of the backbone level used.
        label_dim: D.
        width: channels of the reduction.
    """

    def __init__(self, *, in_dim: int, label_dim: int, width: int = 256) -> None:
        super().__init__()
        self.reduce = _conv3x3(in_dim + 1, width)
        self.shared = _conv3x3(width, 64)
        self.e2_head = _conv3x3(64, label_dim)
        self.w_head = _weight_head(64, label_dim)
        self.value = _conv3x3(width, 64)
        self.e1_head = _conv3x3(64, label_dim)

    def forward(self, bff_features: torch.Tensor, mask: torch.Tensor) -> LabelEncoding:
        """(B, C, h, w) backbone features of the BFF and (B, 1, H, W) mask -> encodings at (h, w)."""
        pooled = F.adaptive_avg_pool2d(mask, bff_features.shape[-2:])
        x = self.reduce(torch.cat([bff_features, pooled], dim=1))
        shared = self.shared(x)
        return LabelEncoding(self.e2_head(shared), self.w_head(shared), self.e1_head(self.value(x)))
