"""How each kind of network keeps an object's memory in the engine (the network's `memory_kind`).

- "target-model" (LWL, JOINT, LLB): memory samples cache adapted features and label encodings; when the bank
  changes the few-shot learner refits the target model tau and the transformer re-encodes its keys.
- "reference-tokens" (JointFormer): memory samples are reference tokens (frame features plus the mask
  embedding); the transformer attends to the pinned keyframes plus the most recent samples (the bank's
  `transformer_indices`, at most `transformer_samples`); each object also carries one memory token and the
  previous frame's decoder tokens, updated on every predicted frame. Bounded whatever the clip's length.

A new kind is one class here with `sample`, `refresh` and `segment`, added to `MEMORY_KINDS`.

Naming legend: (h, w) network input, T token channels, L tokens per frame, N references.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from llb_core.inference.memory import MemorySample, TokenSample
from llb_core.inference.runtime import FrameRunner, TorchRunner
from llb_core.inference.track import Crop, Track
from llb_core.model import BackboneNet
from llb_core.model.jointformer import JointFormerNet, ReferenceState
from llb_core.model.llbnet import LLBNet


class TrackMemory(Protocol):
    """The engine's side of one memory kind."""

    def sample(self, frame_index: int, crop: Crop, mask: torch.Tensor, *, pinned: bool) -> MemorySample | TokenSample:
        """A memory sample from a crop and the object's (1, 1, h, w) mask in it."""
        ...

    def refresh(self, track: Track, *, iterations: int) -> None:
        """Bring the track's derived state up to date after its bank changed."""
        ...

    def segment(self, track: Track, crop: Crop, prior: torch.Tensor | None) -> torch.Tensor:
        """Logits (1, 1, h, w) of the track's object in `crop` (location prior (1, 1, h, w) or None)."""
        ...


@dataclass
class TargetModelState:
    """tau (1, D, C, k, k); transformer keys (1, S, P) and values (1, N, D, h, w), or None (`lwl`)."""

    tau: torch.Tensor
    keys: torch.Tensor | None
    values: torch.Tensor | None


class TargetModelMemory:
    """LWL / JOINT / LLB: the few-shot learner's target model plus the transformer's encoded memory."""

    def __init__(self, model: LLBNet, runner: FrameRunner | None = None) -> None:
        self.model = model
        self.runner = runner or TorchRunner(model)

    def sample(self, frame_index: int, crop: Crop, mask: torch.Tensor, *, pinned: bool) -> MemorySample:
        label = self.model.encode_label(crop.image, mask)
        f = crop.features
        return MemorySample(
            frame=frame_index,
            induction=f.induction[0],
            transformer=None if f.transformer is None else f.transformer[0],
            e2=label.e2[0],
            w=label.w[0],
            e1=None if label.e1 is None else label.e1[0],
            pinned=pinned,
        )

    def refresh(self, track: Track, *, iterations: int) -> None:
        x, e2, w, v = track.bank.learner_inputs()
        previous = track.state.tau if isinstance(track.state, TargetModelState) else None
        tau = self.model.fit(x, e2, w, v, tau=previous, iterations=iterations)
        keys = values = None
        if self.model.transduction is not None:
            feats, values = track.bank.transformer_inputs()
            keys = self.model.encode_memory(feats)
        track.state = TargetModelState(tau, keys, values)

    def segment(self, track: Track, crop: Crop, prior: torch.Tensor | None) -> torch.Tensor:
        state = track.state
        assert isinstance(state, TargetModelState)
        target = self.model.target_encoding(crop.features, state.tau, state.keys, state.values)  # type: ignore[arg-type]
        return self.runner.decode(crop.features, target, prior)  # type: ignore[arg-type]


@dataclass
class ReferenceTokenState:
    """References of the current memory state; memory token (1, 1, T); decoder tokens (1, L, T) or None."""

    references: ReferenceState
    memory: torch.Tensor
    decoder_tokens: torch.Tensor | None


class ReferenceTokenMemory:
    """JointFormer: reference tokens, one memory token and the last decoder tokens per object."""

    def __init__(self, model: JointFormerNet, runner: FrameRunner | None = None) -> None:
        del runner  # JointFormer runs in PyTorch only
        self.model = model

    def sample(self, frame_index: int, crop: Crop, mask: torch.Tensor, *, pinned: bool) -> TokenSample:
        tokens = self.model.encode_reference(crop.features, mask)  # (1, L, T)
        return TokenSample(frame=frame_index, tokens=tokens[0], pinned=pinned)

    def refresh(self, track: Track, *, iterations: int) -> None:
        del iterations  # no learner to fit
        refs = track.bank.reference_tokens()[None]  # (N, L, T) -> (1, N, L, T)
        references = self.model.prepare_references(refs)
        if isinstance(track.state, ReferenceTokenState):
            track.state.references = references
        else:
            track.state = ReferenceTokenState(references, self.model.new_memory(1), None)

    def segment(self, track: Track, crop: Crop, prior: torch.Tensor | None) -> torch.Tensor:
        state = track.state
        assert isinstance(state, ReferenceTokenState)
        logits, state.memory, state.decoder_tokens = self.model.segment(
            crop.features, state.references, state.memory, state.decoder_tokens, prior
        )
        return logits


MEMORY_KINDS: dict[str, type] = {"target-model": TargetModelMemory, "reference-tokens": ReferenceTokenMemory}


def memory_for(model: BackboneNet, runner: FrameRunner | None = None) -> TrackMemory:
    """The engine-side memory of `model`'s kind (ValueError for a kind the engine does not know); `runner`
    computes the per-frame parts where the kind uses them (default: PyTorch)."""
    kind = MEMORY_KINDS.get(model.memory_kind)
    if kind is None:
        raise ValueError(f"the engine has no memory of kind {model.memory_kind!r} ({type(model).__name__})")
    return kind(model, runner)
