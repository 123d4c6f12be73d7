"""What the engine keeps per network input (`Crop`) and per object within a run (`Track`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from llb_core.inference.memory import MemoryBank
from llb_core.inference.search_region import Box, Window
from llb_core.model import FrameFeatures
from llb_core.model.jointformer import TokenFrame


@dataclass
class Crop:
    """A network input cut from a frame, with its features."""

    window: Window
    image: torch.Tensor  # (1, 3, h, w) RGB in [0, 1]
    features: FrameFeatures | TokenFrame  # as the model's `encode_frame` gives them


@dataclass
class Track:
    """One object's state within a run."""

    obj_id: int
    bank: MemoryBank
    box: Box
    state: object | None = None  # what the model derived from the bank (track_memory); None before the first fit
    window: Window | None = None  # the window of the last predicted frame
    prob: torch.Tensor | None = None  # (H, W) merged probability on the last frame: the next location prior
