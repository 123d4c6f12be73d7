"""Folding BatchNorm into the preceding convolution for inference (the backbone's BN is frozen anyway)."""

from __future__ import annotations

import torch
from torch import nn


def fold_batchnorm(module: nn.Module) -> int:
    """Fold every BatchNorm2d that directly follows a Conv2d inside an nn.Sequential; returns the count.

    conv(x) * gamma / sqrt(var + eps) + (beta - mean * gamma / sqrt(var + eps)) becomes one conv with bias;
    the BatchNorm is replaced by nn.Identity. Only valid in eval mode (running statistics).
    """
    folded = 0
    for seq in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        for i in range(len(seq) - 1):
            conv, bn = seq[i], seq[i + 1]
            if not (isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)):
                continue
            with torch.no_grad():
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                conv.weight.mul_(scale.view(-1, 1, 1, 1).to(conv.weight.dtype))
                bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
                new_bias = (bias - bn.running_mean) * scale + bn.bias
                conv.bias = nn.Parameter(new_bias.to(conv.weight.dtype), requires_grad=False)
            seq[i + 1] = nn.Identity()
            folded += 1
    return folded
