"""Soft aggregation of several objects' logits into probabilities and one index mask."""

from __future__ import annotations

import torch


def soft_aggregate(logits: torch.Tensor) -> torch.Tensor:
    """Merge per-object logits into a distribution over {background, objects}.

    p_i = sigmoid(s_i); background p_0 = clamp(prod_i (1 - p_i), 1e-7, 1 - 1e-7) as a logit s_0;
    q = softmax over {s_0, s_1..s_K}.

    Args:
        logits: (K, H, W) one logit map per object.

    Returns:
        (K + 1, H, W) probabilities; channel 0 is the background; argmax is the index label.
    """
    logits = logits.float()
    background = torch.prod(1 - torch.sigmoid(logits), dim=0, keepdim=True).clamp(1e-7, 1 - 1e-7)
    s0 = torch.log(background / (1 - background))
    return torch.softmax(torch.cat([s0, logits], dim=0), dim=0)
