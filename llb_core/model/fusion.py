"""Fusion of the two branches' target encodings E1* (transduction) and E2* (induction)."""

from __future__ import annotations

import torch
from torch import nn


class GatedFusion(nn.Module):
    """LLB's adaptive fusion module: E_tar = g1(E1*) * E1* + g2(E2*) * E2*, gates per pixel in (0, 1).

    Each gate is 1x1 conv, ReLU, 1x1 conv (no biases), sigmoid.

    Args:
        dim: D, channels of both encodings.
    """

    def __init__(self, *, dim: int) -> None:
        super().__init__()
        self.gate1 = self._gate(dim)
        self.gate2 = self._gate(dim)

    @staticmethod
    def _gate(dim: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(dim, dim, 1, bias=False),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim, dim, 1, bias=False),
            nn.Sigmoid(),
        )

    def gates(self, e1: torch.Tensor, e2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both gates, (B, D, h, w) each."""
        return self.gate1(e1), self.gate2(e2)

    def forward(self, e1: torch.Tensor, e2: torch.Tensor) -> torch.Tensor:
        """(B, D, h, w) x 2 -> (B, D, h, w)."""
        g1, g2 = self.gates(e1, e2)
        return g1 * e1 + g2 * e2


class SumFusion(nn.Module):
    """JOINT's fusion: the plain sum E1* + E2*."""

    def forward(self, e1: torch.Tensor, e2: torch.Tensor) -> torch.Tensor:
        """(B, D, h, w) x 2 -> (B, D, h, w)."""
        return e1 + e2
