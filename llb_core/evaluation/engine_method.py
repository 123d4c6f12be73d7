"""The `llb` evaluation method: the inference engine, propagating forward from the first frame's mask."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from llb_core.evaluation.davis import ClippedFrames
from llb_core.inference import Session, SessionSettings
from llb_core.model import BackboneNet
from llb_core.model.defaults import load_model
from llb_core.resources import DEFAULT_WEIGHTS, resource
from llb_core.workspace import ClipState


class EngineMethod:
    """Propagates with one model, loaded once and reused for every sequence.

    Args:
        weights: checkpoint path; None: the shipped default (untrained heads and a logged warning when absent).
        variant: require this variant (lwl, joint, llb).
        settings: session settings (resolution, mode, device, precision, ...).

    Attributes:
        weights_path: the checkpoint actually loaded (the default resolved), or None for untrained heads.
    """

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        variant: str | None = None,
        settings: SessionSettings | None = None,
    ) -> None:
        self.settings = settings or SessionSettings()
        default = resource(DEFAULT_WEIGHTS)
        path = weights if weights is not None else default
        self.weights_path: str | None = str(path) if weights is not None or os.path.isfile(default) else None
        self.model: BackboneNet = load_model(weights, variant=variant, allow_untrained=weights is None)

    def new_clip(self, frames: ClippedFrames, first_mask: np.ndarray) -> ClipState:
        """The state of a clip on `frames` whose objects are those of `first_mask` ((H, W) uint8), frame 0's
        keyframe."""
        return ClipState.detached(frames.num_frames, frames.size, {0: np.asarray(first_mask, np.uint8)})

    def new_session(self, frames: ClippedFrames, clip: ClipState) -> Session:
        """A session (one run) on `frames` reading `clip`."""
        return Session(frames, self.model, clip, self.settings)

    def __call__(self, frames: ClippedFrames, first_mask: np.ndarray, num_frames: int) -> Iterator[np.ndarray]:
        """Yield the (H, W) uint8 index mask of frames 0..num_frames-1 (the first is `first_mask`)."""
        session = self.new_session(frames, self.new_clip(frames, first_mask))
        masks: dict[int, np.ndarray] = {}

        def on_frame(result) -> None:  # noqa: ANN001
            masks[result.frame] = result.mask

        if num_frames > 1:
            session.propagate(0, "forward", on_frame=on_frame)
        first = session.mask(0)
        yield first if first is not None else np.asarray(first_mask, np.uint8)
        for i in range(1, num_frames):
            mask = masks.get(i)
            if mask is None:
                mask = session.mask(i)
            if mask is None:
                raise RuntimeError(f"the engine produced no mask for frame {i}")
            yield mask
