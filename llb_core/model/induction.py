"""Induction branch: the LWL few-shot learner (steepest descent with the exact step length).

Naming legend: N memory samples, B sequences (batch), C feature channels (512), D label channels,
h x w the stride-16 grid, k the target-model kernel size (3). The target model tau is a bias-free
k x k convolution C -> D, one per sequence: tau has shape (B, D, C, k, k).

Loss minimised for each sequence b:
    L(tau) = 1/2 sum_t || sqrt(v_t) * W_t * (x_t (*) tau - E2_t) ||^2 + 1/2 lambda ||tau||^2,
with lambda = s^2 (s learned, initialised to 0.01), v_t >= 0 the temporal weight of sample t (the memory
bank's weights, summing to 1, so sample t counts in proportion to v_t) and W_t the importance weights from
the label encoder (entering squared, so they may be negative).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class InstanceL2Norm(nn.Module):
    """Rescale each sample to RMS `scale`: x * scale * sqrt(C*H*W / (sum(x^2) + eps)).

    Args:
        scale: target root-mean-square value; the paper uses sqrt(1 / (C * k * k)).
    """

    def __init__(self, *, scale: float, eps: float = 1e-5) -> None:
        super().__init__()
        self.scale = scale
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        numel = x.shape[1] * x.shape[2] * x.shape[3]
        energy = x.pow(2).sum(dim=(1, 2, 3), keepdim=True)
        return x * (self.scale * torch.sqrt(numel / (energy + self.eps)))


def apply_filter(x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """Apply each sequence's target model to its samples: (N, B, C, h, w), (B, D, C, k, k) -> (N, B, D, h, w)."""
    n, b, c, h, w = x.shape
    d, k = tau.shape[1], tau.shape[-1]
    out = F.conv2d(x.reshape(n, b * c, h, w), tau.reshape(b * d, c, k, k), padding=k // 2, groups=b)
    return out.reshape(n, b, d, h, w)


def filter_gradient(x: torch.Tensor, r: torch.Tensor, k: int) -> torch.Tensor:
    """Transpose of `apply_filter` w.r.t. the filter: sum over samples and pixels of r (x) x.

    Args:
        x: (N, B, C, h, w) features.
        r: (N, B, D, h, w) weighted residuals.
        k: kernel size.

    Returns:
        (B, D, C, k, k), the gradient of 1/2 ||x (*) tau - y||^2 when r = x (*) tau - y.
    """
    n, b, c, h, w = x.shape
    d = r.shape[2]
    g = torch.nn.grad.conv2d_weight(
        x.reshape(n, b * c, h, w), (b * d, c, k, k), r.reshape(n, b * d, h, w), padding=k // 2, groups=b
    )
    return g.reshape(b, d, c, k, k)


class FewShotLearner(nn.Module):
    """Steepest-descent few-shot learner with exact line search; differentiable end to end.

    Args:
        feature_dim: C, channels of the (instance-normalised) induction features.
        label_dim: D, channels of the few-shot labels E2.
        filter_size: k, kernel size of the target model.
        init_reg: initial value of s (lambda = s^2).
        min_denominator: clamp of the step-length denominator, avoids division by zero.
    """

    def __init__(
        self,
        *,
        feature_dim: int,
        label_dim: int,
        filter_size: int = 3,
        init_reg: float = 0.01,
        min_denominator: float = 1e-8,
    ) -> None:
        super().__init__()
        self.feature_dim = feature_dim
        self.label_dim = label_dim
        self.filter_size = filter_size
        self.reg_sqrt = nn.Parameter(torch.tensor(float(init_reg)))  # s, learned
        self.min_denominator = min_denominator

    @property
    def reg(self) -> torch.Tensor:
        """lambda = s^2 (scalar tensor)."""
        return self.reg_sqrt * self.reg_sqrt

    def initial_filter(self, batch: int, *, like: torch.Tensor) -> torch.Tensor:
        """tau_0 = 0: (B, D, C, k, k)."""
        k = self.filter_size
        return like.new_zeros(batch, self.label_dim, self.feature_dim, k, k)

    @staticmethod
    def residual_weights(w: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Per-pixel residual weights sqrt(v_t) * W_t: (N, B, D, h, w), (N, B) -> (N, B, D, h, w)."""
        return w * v.clamp_min(0).sqrt()[:, :, None, None, None]

    def loss(self, tau: torch.Tensor, x: torch.Tensor, y: torch.Tensor, sw: torch.Tensor) -> torch.Tensor:
        """L(tau) per sequence: (B,). x (N, B, C, h, w), y and sw (N, B, D, h, w)."""
        r = sw * (apply_filter(x, tau) - y)
        data = 0.5 * r.pow(2).sum(dim=(0, 2, 3, 4))
        return data + 0.5 * self.reg * tau.pow(2).sum(dim=(1, 2, 3, 4))

    def step(
        self, tau: torch.Tensor, x: torch.Tensor, y: torch.Tensor, sw: torch.Tensor, pred: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One steepest-descent step with the exact line minimum.

        Args:
            pred: x (*) tau (N, B, D, h, w) when known (the previous step returns it), else computed here.

        Returns:
            The new filter (B, D, C, k, k), the step length alpha (B,) and x (*) new filter (N, B, D, h, w):
            the model is linear in tau, so the prediction follows from x (*) g, which the line search needs
            anyway; each step costs two convolutions over the samples instead of three.
        """
        if pred is None:
            pred = apply_filter(x, tau)
        sw2 = sw * sw
        g = filter_gradient(x, sw2 * (pred - y), self.filter_size) + self.reg * tau
        gg = g.pow(2).sum(dim=(1, 2, 3, 4))
        xg = apply_filter(x, g)
        den = (sw * xg).pow(2).sum(dim=(0, 2, 3, 4)) + self.reg * gg
        alpha = gg / den.clamp_min(self.min_denominator)
        return tau - alpha.view(-1, 1, 1, 1, 1) * g, alpha, pred - alpha.view(1, -1, 1, 1, 1) * xg

    def forward(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        w: torch.Tensor,
        v: torch.Tensor,
        *,
        tau: torch.Tensor | None = None,
        iterations: int,
    ) -> torch.Tensor:
        """Run `iterations` descent steps from `tau` (zeros when None).

        Args:
            x: (N, B, C, h, w) induction features of the memory samples.
            y: (N, B, D, h, w) few-shot labels E2.
            w: (N, B, D, h, w) importance weights W.
            v: (N, B) temporal weights.
            tau: (B, D, C, k, k) starting filter, or None.
            iterations: number of steps.

        Returns:
            The filter tau, (B, D, C, k, k), float32 (or float64 for float64 inputs).

        The learner always runs at least in float32, outside any autocast region: the exact step length
        divides small sums that bfloat16 would round away, and the problem is tiny.
        """
        dtype = torch.promote_types(x.dtype, torch.float32)
        with torch.autocast(x.device.type, enabled=False):
            x, y, w, v = (t.to(dtype) for t in (x, y, w, v))
            pred = None
            if tau is None:
                tau = self.initial_filter(x.shape[1], like=x)
                pred = torch.zeros_like(y)  # x (*) 0
            else:
                tau = tau.to(dtype)
            sw = self.residual_weights(w, v)
            for _ in range(iterations):
                tau, _, pred = self.step(tau, x, y, sw, pred)
        return tau

    def predict(self, x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        """E2* = tau applied to the current frame: (B, C, h, w), (B, D, C, k, k) -> (B, D, h, w)."""
        return apply_filter(x[None], tau.to(x.dtype))[0]
