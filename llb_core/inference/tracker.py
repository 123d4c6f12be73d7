"""The per-run engine: objects' memory banks, target models and search boxes, one frame at a time.

Naming legend: (H, W) full frame, (h, w) network input, K objects in the run. Probabilities and
masks handed in and out are full-frame torch tensors on the engine's device.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from llb_core.inference.aggregation import soft_aggregate
from llb_core.inference.memory import MemoryBank
from llb_core.inference.motion import PriorWarp
from llb_core.inference.runtime import runner_for
from llb_core.inference.search_region import Box, Window, box_from_mask, full_window, search_window, update_box
from llb_core.inference.settings import SessionSettings
from llb_core.inference.stages import NO_CLOCK, StageClock, TimedRunner
from llb_core.inference.track import Crop, Track
from llb_core.inference.track_memory import memory_for
from llb_core.model import BackboneNet

ANNOTATION_LOGIT = 100.0  # an annotated frame gives logits of +-100; also the fill outside a crop


def network_size(image_size: tuple[int, int], settings: SessionSettings) -> tuple[int, int]:
    """(h, w) of the network input for frames of `image_size` (H, W)."""
    height, width = image_size
    r = settings.resolution
    if settings.mode == "full":
        scale = r / min(height, width)
        return max(round(height * scale), 16), max(round(width * scale), 16)
    if width >= height:
        return r, max(round(r * width / height / 16) * 16, 16)
    return max(round(r * height / width / 16) * 16, 16), r


class Tracker:
    """Runs `model` over frames for a set of tracks (see module docstring).

    Args:
        model: the network, already on `device`.
        settings: engine settings.
        device: where tensors live.
        image_size: (H, W) of the video.
        dtype: the autocast dtype (torch.float32: none); with `settings.runtime` it picks the runtime.
        clock: times the stages of the per-frame work (default: not measured).
    """

    def __init__(
        self,
        model: BackboneNet,
        settings: SessionSettings,
        device: torch.device,
        image_size: tuple[int, int],
        dtype: torch.dtype = torch.float32,
        clock: StageClock = NO_CLOCK,
    ) -> None:
        self.model = model
        self.settings = settings
        self.device = device
        self.image_size = image_size
        self.net_size = network_size(image_size, settings)
        self.runner, _ = runner_for(model, self.net_size, device, dtype, settings.runtime)
        self.clock = clock
        if clock is not NO_CLOCK:
            self.runner = TimedRunner(self.runner, clock)  # type: ignore[assignment]
        self.memory = memory_for(model, self.runner)
        self.memory_format = torch.channels_last if settings.channels_last else torch.contiguous_format
        self.motion = PriorWarp(image_size) if settings.prior_flow and model.config.location_prior else None

    # ------------------------------------------------------------------------------------------ inputs
    def frame_tensor(self, image: np.ndarray) -> torch.Tensor:
        """(H, W, 3) uint8 RGB -> (1, 3, H, W) float in [0, 1] on the device."""
        if image.shape[:2] != self.image_size:
            raise ValueError(f"frame of size {image.shape[:2]}, the video is {self.image_size}")
        return torch.from_numpy(np.array(image, copy=True)).to(self.device).permute(2, 0, 1)[None].float() / 255

    def enter(self, image: np.ndarray) -> torch.Tensor:
        """The run's next frame (H, W, 3) uint8 RGB, in run order: its tensor (as `frame_tensor`), and the
        motion from the previous frame when location priors follow the flow."""
        with self.clock("input"):
            tensor = self.frame_tensor(image)
        if self.motion is not None:
            with self.clock("prior"):
                self.motion.step(image)
        return tensor

    def window_for(self, box: Box) -> Window:
        if self.settings.mode == "full":
            return full_window(self.image_size)
        return search_window(
            box, self.image_size, self.net_size, area_factor=self.settings.search_area, max_zoom=self.settings.max_zoom
        )

    def _resize(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        if tuple(x.shape[-2:]) == size:
            return x
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)

    def crop(self, frame: torch.Tensor, window: Window) -> Crop:
        """Cut, resize and encode the network input for `window` of `frame` (1, 3, H, W)."""
        with self.clock("input"):
            patch = frame[:, :, window.y0 : window.y1, window.x0 : window.x1]
            image = self._resize(patch, self.net_size).contiguous(memory_format=self.memory_format)
        return Crop(window, image, self.runner.encode_frame(image))

    def _crop_mask(self, prob: torch.Tensor, window: Window) -> torch.Tensor:
        """Full-frame (H, W) probability -> (1, 1, h, w) in the crop."""
        patch = prob[None, None, window.y0 : window.y1, window.x0 : window.x1].float()
        return self._resize(patch, self.net_size).clamp(0, 1)

    # ------------------------------------------------------------------------------------------ memory
    def make_sample(self, frame_index: int, crop: Crop, prob: torch.Tensor, *, pinned: bool) -> object:
        """Encode a memory sample from a crop and the object's full-frame probability (H, W)."""
        with self.clock("memory"):
            mask = self._crop_mask(prob, crop.window).to(crop.image.dtype)
            return self.memory.sample(frame_index, crop, mask, pinned=pinned)

    def new_track(self, obj_id: int, box: Box) -> Track:
        s = self.settings
        bank = MemoryBank(
            capacity=s.memory_capacity,
            update_rate=s.update_rate,
            pinned_floor=s.pinned_floor,
            transformer_samples=s.transformer_samples,
        )
        return Track(obj_id, bank, box)

    def add_sample(self, track: Track, sample: object, *, iterations: int) -> None:
        """Insert a sample into the track's memory and refresh what the model derives from it."""
        with self.clock("memory"):
            track.bank.add(sample)  # type: ignore[arg-type]
            self.memory.refresh(track, iterations=iterations)

    def refresh(self, track: Track, *, iterations: int) -> None:
        """Refresh the track's derived state after samples were added to its bank directly."""
        self.memory.refresh(track, iterations=iterations)

    # ------------------------------------------------------------------------------------------- frames
    def _paste(self, logits: torch.Tensor, window: Window) -> torch.Tensor:
        """Crop logits (1, 1, h, w) -> full-frame logits (H, W), -100 outside the window."""
        canvas = torch.full(self.image_size, -ANNOTATION_LOGIT, device=self.device)
        resized = F.interpolate(
            logits.float(), size=(window.height, window.width), mode="bilinear", align_corners=False
        )
        canvas[window.y0 : window.y1, window.x0 : window.x1] = resized[0, 0]
        return canvas

    def predict(
        self, frame: torch.Tensor, tracks: list[Track], annotations: dict[int, torch.Tensor], crops: dict[Window, Crop]
    ) -> torch.Tensor:
        """Segment one frame for every track; the backbone runs once per distinct window.

        Args:
            frame: (1, 3, H, W) the frame.
            tracks: the objects to predict, in output order.
            annotations: obj id -> (H, W) bool person-given mask, replacing that object's prediction.
            crops: filled with the crops computed here (window -> Crop), for memory updates.

        Returns:
            (K + 1, H, W) merged probabilities (channel 0 background, then `tracks` in order).
        """
        logits = []
        for track in tracks:
            window = self.window_for(track.box)
            track.window = window
            if window not in crops:
                crops[window] = self.crop(frame, window)
            if track.obj_id in annotations:
                hard = annotations[track.obj_id]
                logits.append(torch.where(hard, ANNOTATION_LOGIT, -ANNOTATION_LOGIT).float())
                continue
            assert track.state is not None
            prior = None
            if self.model.config.location_prior and track.prob is not None:
                with self.clock("prior"):
                    moved = track.prob if self.motion is None else self.motion.warp(track.prob)
                    prior = self._crop_mask(moved, window).to(crops[window].image.dtype)
            with self.clock("target"):  # the decoder's share is its own stage (TimedRunner)
                out = self.memory.segment(track, crops[window], prior)
            with self.clock("merge"):
                logits.append(self._paste(out, window))
        with self.clock("merge"):
            return soft_aggregate(torch.stack(logits))

    def follow(self, track: Track, prob: torch.Tensor) -> None:
        """Move the track's box to follow its merged probability (H, W), kept as the next location prior."""
        track.box = update_box(track.box, prob)
        track.prob = prob


def initial_box(prob: torch.Tensor, fallback: Box | None, image_size: tuple[int, int]) -> Box:
    """The box of a probability map, else `fallback`, else a centred box a fifth of the frame."""
    box = box_from_mask(prob, min_pixels=1)
    if box is not None:
        return box
    if fallback is not None:
        return fallback
    height, width = image_size
    return Box(width / 2, height / 2, width / 5, height / 5)
