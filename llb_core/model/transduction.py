"""Transduction branch: JOINT's lightweight cosine-attention transformer.

Naming legend: B sequences, N memory frames, C = 512 feature channels, P = 128 projected channels,
D label channels, S = N*h*w memory tokens, L = h*w tokens of the current frame.
Attention weights are softmax(temperature * q.k) with q and k L2-normalised projections; values are
not projected; there is no positional encoding and no feed-forward block.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def cosine_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, temperature: float, chunk: int = 2048
) -> torch.Tensor:
    """softmax(temperature * q k^T) v over query chunks, so memory stays O(chunk * S).

    Args:
        q: (B, L, P) normalised queries.
        k: (B, S, P) normalised keys.
        v: (B, S, E) values.

    Returns:
        (B, L, E).
    """
    kt = k.to(q.dtype).transpose(1, 2)  # (B, S, P) -> (B, P, S)
    v = v.to(q.dtype)
    out = [
        torch.softmax(temperature * torch.bmm(q[:, i : i + chunk], kt), dim=-1) @ v for i in range(0, q.shape[1], chunk)
    ]
    return torch.cat(out, dim=1)


def _instance_norm_tokens(tokens: torch.Tensor, frames: int) -> torch.Tensor:
    """InstanceNorm per frame and channel over the frame's tokens: (B, frames*L, C) -> same shape."""
    b, s, c = tokens.shape
    t = tokens.reshape(b, frames, s // frames, c)
    mean = t.mean(dim=2, keepdim=True)
    var = t.var(dim=2, unbiased=False, keepdim=True)
    return ((t - mean) / torch.sqrt(var + 1e-5)).reshape(b, s, c)


def _to_tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, N, C, h, w) -> (B, N*h*w, C)."""
    b, n, c, h, w = x.shape
    return x.permute(0, 1, 3, 4, 2).reshape(b, n * h * w, c)


class CosineSelfAttention(nn.Module):
    """Self-attention with one shared projection for queries and keys, residual, InstanceNorm per frame.

    Args:
        dim: C, token channels.
        proj_dim: P, projection channels of queries and keys.
        temperature: softmax temperature on cosine similarities (30 in the paper).
    """

    def __init__(self, *, dim: int, proj_dim: int, temperature: float) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, proj_dim)
        self.temperature = temperature

    def forward(self, tokens: torch.Tensor, frames: int) -> torch.Tensor:
        """(B, frames*L, C) -> (B, frames*L, C)."""
        qk = F.normalize(self.proj(tokens), dim=-1)
        attended = cosine_attention(qk, qk, tokens, temperature=self.temperature)
        return _instance_norm_tokens(tokens + attended, frames)


class Transduction(nn.Module):
    """Encoder over the memory frames and decoder for the current frame, giving E1* (B, D, h, w).

    The encoder output depends only on the memory, so callers cache `encode_memory`'s result per
    memory state and call `decode` once per frame.

    Args:
        dim: C, channels of the adapted features.
        proj_dim: P, query/key projection channels.
        temperature: softmax temperature.
    """

    def __init__(self, *, dim: int = 512, proj_dim: int = 128, temperature: float = 30.0) -> None:
        super().__init__()
        self.self_attention = CosineSelfAttention(dim=dim, proj_dim=proj_dim, temperature=temperature)
        self.cross_proj = nn.Linear(dim, proj_dim)
        self.temperature = temperature

    def encode_memory(self, memory: torch.Tensor) -> torch.Tensor:
        """Encode the memory frames and project them to cross-attention keys.

        Args:
            memory: (B, N, C, h, w) adapted features of the memory frames.

        Returns:
            keys: (B, N*h*w, P), L2-normalised.
        """
        encoded = self.self_attention(_to_tokens(memory), memory.shape[1])
        return F.normalize(self.cross_proj(encoded), dim=-1)

    def decode(self, current: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Attend from the current frame to the encoded memory.

        Args:
            current: (B, C, h, w) adapted features of the current frame.
            keys: (B, S, P) from `encode_memory`.
            values: (B, N, D, h, w) E1 of the memory frames (same order as the keys).

        Returns:
            E1*: (B, D, h, w).
        """
        b, c, h, w = current.shape
        query = self.self_attention(_to_tokens(current[:, None]), 1)
        q = F.normalize(self.cross_proj(query), dim=-1)
        out = cosine_attention(q, keys, _to_tokens(values), temperature=self.temperature)
        return out.transpose(1, 2).reshape(b, -1, h, w)  # (B, L, D) -> (B, D, h, w)
