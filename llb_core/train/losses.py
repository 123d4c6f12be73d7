"""Training losses: the Lovasz hinge on probabilities (a surrogate of IoU) and the E1/E2 cosine term."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _jaccard_gradient(gt_sorted: torch.Tensor) -> torch.Tensor:
    """Gradient of the Lovasz extension of the Jaccard loss for ground truth sorted by error: (P,) -> (P,)."""
    total = gt_sorted.sum()
    intersection = total - gt_sorted.cumsum(0)
    union = total + (1 - gt_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    return torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])


def lovasz_loss(probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Lovasz loss of foreground probabilities, all pixels of the batch pooled.

    Args:
        probs: (...) foreground probabilities in [0, 1].
        target: (...) binary ground truth, same shape.

    Returns:
        Scalar loss; 0 for a perfect prediction.
    """
    p = probs.reshape(-1).float()
    gt = target.reshape(-1).float()
    if gt.numel() == 0:
        return p.sum() * 0.0
    errors = (gt - p).abs()
    errors_sorted, order = torch.sort(errors, descending=True)
    return torch.dot(errors_sorted, _jaccard_gradient(gt[order]))


def cosine_similarity_loss(e2: torch.Tensor, e1: torch.Tensor) -> torch.Tensor:
    """Mean cosine similarity between E2 and E1 over pixels: (B, D, h, w) x 2 -> scalar (pushes them apart)."""
    return F.cosine_similarity(e2.float(), e1.float(), dim=1, eps=1e-6).mean()


def bce_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy on logits: a dense, well-conditioned signal from the first step (the Lovasz
    loss alone has a flat saddle at a uniform 0.5 prediction, where untrained decoders start)."""
    return F.binary_cross_entropy_with_logits(logits.float(), target.float())
