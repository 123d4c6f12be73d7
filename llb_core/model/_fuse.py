"""Folding BatchNorm into the preceding convolution for inference (the backbone's BN is frozen anyway)."""

from __future__ import annotations

import torch
from torch import nn


def _fold_into(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """conv(x) * gamma / sqrt(var + eps) + (beta - mean * gamma / sqrt(var + eps)) as one conv with bias."""
    with torch.no_grad():
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        conv.weight.mul_(scale.view(-1, 1, 1, 1).to(conv.weight.dtype))
        bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
        new_bias = (bias - bn.running_mean) * scale + bn.bias
        conv.bias = nn.Parameter(new_bias.to(conv.weight.dtype), requires_grad=False)


def fold_batchnorm(module: nn.Module) -> int:
    """Fold every BatchNorm2d that follows a Conv2d into it, replacing the BatchNorm by nn.Identity; returns
    the count. Pairs are found inside nn.Sequential (adjacent Conv2d, BatchNorm2d) and in modules that name
    theirs in a `batchnorm_pairs` attribute ((conv attribute, BatchNorm attribute), ...), for layouts whose
    layers are named attributes. Only valid in eval mode (running statistics)."""
    folded = 0
    for owner in list(module.modules()):
        if isinstance(owner, nn.Sequential):
            for i in range(len(owner) - 1):
                conv, bn = owner[i], owner[i + 1]
                if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                    _fold_into(conv, bn)
                    owner[i + 1] = nn.Identity()
                    folded += 1
        for conv_name, bn_name in getattr(owner, "batchnorm_pairs", ()):
            conv, bn = getattr(owner, conv_name, None), getattr(owner, bn_name, None)
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                _fold_into(conv, bn)
                setattr(owner, bn_name, nn.Identity())
                folded += 1
    return folded
