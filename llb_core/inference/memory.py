"""The memory bank of one object: which samples the few-shot learner and the transformer see, and
with which temporal weights.

Policy (LWL's, extended with person-given keyframes):
- at most `capacity` samples (20); pinned samples (the keyframes a run starts from or carries) are
  never evicted and their weight never drops below `pinned_floor` (0.25);
- a new sample's weight is the newest sample's weight / (1 - `update_rate`) (0.1), then all weights
  are renormalised to sum to one, so older samples decay exponentially;
- when full, the oldest unpinned sample is replaced.

Naming legend: C adapted channels, D label channels, (h, w) the stride-16 grid. Every sample caches
what the network derived from it (induction and transformer features, E1, E2, W), so an update costs
one label encoding and nothing is recomputed. Token models (JointFormer) keep `TokenSample`s instead:
the frame's reference tokens; the same eviction policy applies, the weights go unused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class MemorySample:
    """One memory sample and its cached encodings (batch dimension 1 dropped).

    Attributes:
        frame: index of the frame in the video.
        induction: (C, h, w) instance-normalised target-model features.
        transformer: (C, h, w) transformer features, or None (`lwl`).
        e2: (D, h, w) few-shot labels.
        w: (D, h, w) importance weights.
        e1: (D, h, w) transformer values, or None (`lwl`).
        pinned: a keyframe: never evicted, weight floored.
    """

    frame: int
    induction: torch.Tensor
    transformer: torch.Tensor | None
    e2: torch.Tensor
    w: torch.Tensor
    e1: torch.Tensor | None
    pinned: bool = False


@dataclass
class TokenSample:
    """One memory sample of a token model (JointFormer): the frame's reference tokens.

    Attributes:
        frame: index of the frame in the video.
        tokens: (L, T) reference tokens (frame features plus the mask embedding).
        pinned: a keyframe: never evicted.
    """

    frame: int
    tokens: torch.Tensor
    pinned: bool = False


@dataclass
class MemoryBank:
    """Bounded set of memory samples with temporal weights (see module docstring).

    Args:
        capacity: maximum number of samples.
        update_rate: decay rate of the temporal weights.
        pinned_floor: minimum weight of each pinned sample.
        transformer_samples: how many samples the transformer attends to (pinned first, then the most
            recent); the encoder costs O((samples * h * w)^2), so CPUs want a small number.
    """

    capacity: int = 20
    update_rate: float = 0.1
    pinned_floor: float = 0.25
    transformer_samples: int = 20
    samples: list[MemorySample | TokenSample] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    version: int = 0  # bumped on every change; caches of derived state key on it

    def __post_init__(self) -> None:
        if not 0 < self.update_rate < 1:
            raise ValueError("update_rate must lie in (0, 1)")

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def num_pinned(self) -> int:
        return sum(s.pinned for s in self.samples)

    def add(self, sample: MemorySample | TokenSample) -> int | None:
        """Insert a sample; returns the frame index of the evicted sample, if any.

        Raises:
            RuntimeError: the bank is full of pinned samples (more keyframes than capacity).
        """
        evicted = None
        if len(self.samples) >= self.capacity:
            unpinned = [i for i, s in enumerate(self.samples) if not s.pinned]
            if not unpinned:
                raise RuntimeError(f"memory full of {self.capacity} keyframes; raise the capacity")
            oldest = unpinned[0]  # samples are kept in insertion order
            evicted = self.samples.pop(oldest).frame
            self.weights.pop(oldest)
        if not self.samples:
            weight = 1.0
        elif sample.pinned and all(s.pinned for s in self.samples):
            weight = self.weights[-1]  # keyframes together start equal
        else:
            weight = self.weights[-1] / (1.0 - self.update_rate)
        self.samples.append(sample)
        self.weights.append(weight)
        self._normalise()
        self.version += 1
        return evicted

    def _normalise(self) -> None:
        total = sum(self.weights)
        weights = [w / total for w in self.weights]
        pinned = [i for i, s in enumerate(self.samples) if s.pinned]
        floor = min(self.pinned_floor, 1.0 / max(len(pinned), 1))
        low = [i for i in pinned if weights[i] < floor]
        if low:
            for i in low:
                weights[i] = floor
            rest = [i for i in range(len(weights)) if i not in low]
            rest_total = sum(weights[i] for i in rest)
            budget = 1.0 - floor * len(low)
            for i in rest:
                weights[i] = weights[i] * budget / rest_total if rest_total > 0 else budget / len(rest)
        self.weights = weights

    def transformer_indices(self) -> list[int]:
        """Indices of the samples the transformer sees: pinned ones first, then the most recent."""
        pinned = [i for i, s in enumerate(self.samples) if s.pinned]
        recent = [i for i, s in enumerate(self.samples) if not s.pinned]
        keep = max(self.transformer_samples - len(pinned), 0)
        return sorted(pinned[: self.transformer_samples] + (recent[-keep:] if keep else []))

    def _target_samples(self) -> list[MemorySample]:
        samples = [s for s in self.samples if isinstance(s, MemorySample)]
        if len(samples) != len(self.samples):
            raise TypeError("this memory bank holds token samples, not target-model samples")
        return samples

    def learner_inputs(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Stacked inputs of the few-shot learner: x (N, 1, C, h, w), e2 and w (N, 1, D, h, w), v (N, 1)."""
        samples = self._target_samples()
        x = torch.stack([s.induction for s in samples])[:, None]
        e2 = torch.stack([s.e2 for s in samples])[:, None]
        w = torch.stack([s.w for s in samples])[:, None]
        v = torch.tensor(self.weights, dtype=x.dtype, device=x.device)[:, None]
        return x, e2, w, v

    def transformer_inputs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Transformer features (1, N', C, h, w) and values E1 (1, N', D, h, w) of `transformer_indices`."""
        samples = self._target_samples()
        chosen = [samples[i] for i in self.transformer_indices()]
        feats = torch.stack([s.transformer for s in chosen])[None]  # type: ignore[misc]
        values = torch.stack([s.e1 for s in chosen])[None]  # type: ignore[misc]
        return feats, values

    def reference_tokens(self) -> torch.Tensor:
        """Tokens (N', L, T) of `transformer_indices` (token samples), oldest first."""
        chosen = [self.samples[i] for i in self.transformer_indices()]
        if not all(isinstance(s, TokenSample) for s in chosen):
            raise TypeError("this memory bank holds target-model samples, not token samples")
        return torch.stack([s.tokens for s in chosen])  # type: ignore[union-attr]
