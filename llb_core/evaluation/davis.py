"""Reading a DAVIS-layout root: `JPEGImages/<res>/<seq>/NNNNN.jpg` and `Annotations/<res>/<seq>/NNNNN.png`.

`<res>` is any resolution folder (480p, 360p, 240p, ...): the only one the root holds, or the one chosen.

Masks are palette PNGs (index = object id) or greyscale 0/255 PNGs (object 1). A frame and its mask share
the file stem. Every sequence needs the mask of its first frame; a later frame without a mask file is not
scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llb_core.errors import LLBError
from llb_core.io import (
    DavisLayoutError,
    FrameSource,
    FrameSourceError,
    davis_folders,
    davis_sequences,
    open_source,
    read_index_mask,
)


class EvalDataError(LLBError):
    """The evaluation data is unusable: the message names the path and the remedy."""


class ClippedFrames:
    """The first `num_frames` frames of a source (what the engine and the reference methods read).

    Args:
        source: the full clip.
        num_frames: how many frames to expose (<= source.num_frames).
    """

    def __init__(self, source: FrameSource, num_frames: int) -> None:
        self.source = source
        self.num_frames = num_frames
        self.size = source.size

    def read(self, index: int) -> np.ndarray:
        """(H, W, 3) uint8 RGB frame `index` (< num_frames)."""
        if not 0 <= index < self.num_frames:
            raise IndexError(f"frame {index} outside 0..{self.num_frames - 1}")
        return self.source.read(index)


@dataclass
class DavisSequence:
    """One sequence: its frames and the annotation file expected for each frame.

    Attributes:
        name: sequence name (the folder name).
        frames: the frames, clipped to the evaluated length.
        mask_paths: one annotation path per evaluated frame (the file may be absent except for frame 0).
    """

    name: str
    frames: ClippedFrames
    mask_paths: list[Path]

    @property
    def num_frames(self) -> int:
        """Number of evaluated frames."""
        return self.frames.num_frames

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of the frames."""
        return self.frames.size

    def first_mask(self) -> np.ndarray:
        """(H, W) uint8 index mask of frame 0; raises `EvalDataError` when it is missing or empty."""
        path = self.mask_paths[0]
        if not path.is_file():
            raise EvalDataError(
                f"{path}: first-frame mask not found; every sequence needs the mask of its first frame "
                "(the one propagated). Add it or leave the sequence out with --sequences."
            )
        mask = read_index_mask(path, self.size)
        if not mask.any():
            raise EvalDataError(
                f"{path}: the first-frame mask holds no object; give a mask with at least one object "
                "or leave the sequence out with --sequences."
            )
        return mask

    def ground_truth(self, index: int) -> np.ndarray | None:
        """(H, W) uint8 index mask of frame `index`, or None when the frame has no annotation file.

        Raises:
            MaskFileError: unreadable mask or a size other than the frames'.
        """
        path = self.mask_paths[index]
        if not path.is_file():
            return None
        return read_index_mask(path, self.size)


class DavisRoot:
    """A DAVIS-layout folder.

    Args:
        root: the folder holding `JPEGImages/<res>` and `Annotations/<res>`.
        resolution: the resolution folder (e.g. "240p"); None: the only one the root holds.

    Attributes:
        frames_dir, masks_dir: `root/JPEGImages/<res>` and `root/Annotations/<res>`.

    Raises:
        EvalDataError: no such root, a sub-folder missing, or several resolution folders and none chosen.
    """

    def __init__(self, root: str | Path, resolution: str | None = None) -> None:
        self.root = Path(root)
        try:
            self.frames_dir, self.masks_dir = davis_folders(self.root, resolution)
        except DavisLayoutError as err:
            raise EvalDataError(str(err)) from err

    @property
    def resolution(self) -> str:
        """The resolution folder in use (e.g. "480p")."""
        return self.frames_dir.name

    def sequences(self) -> list[str]:
        """Names of every sequence (sub-folder of the frames folder holding frames), sorted."""
        return davis_sequences(self.frames_dir)

    def check_names(self, names: list[str]) -> None:
        """Raise `EvalDataError` naming the first unknown sequence and the available ones."""
        known = set(self.sequences())
        for name in names:
            if name not in known:
                raise EvalDataError(
                    f"{self.frames_dir / name}: no such sequence. Available: {', '.join(sorted(known))}."
                )

    def sequence(self, name: str, max_frames: int | None = None) -> DavisSequence:
        """Open sequence `name`, clipped to its first `max_frames` frames.

        Raises:
            EvalDataError: unknown sequence or unreadable frames.
        """
        self.check_names([name])
        try:
            source = open_source(self.frames_dir / name)
        except FrameSourceError as err:
            raise EvalDataError(str(err)) from err
        num_frames = source.num_frames if max_frames is None else min(source.num_frames, max_frames)
        stems = [_frame_stem(source, i) for i in range(num_frames)]
        mask_dir = self.masks_dir / name
        return DavisSequence(name, ClippedFrames(source, num_frames), [mask_dir / f"{s}.png" for s in stems])


def _frame_stem(source: FrameSource, index: int) -> str:
    name = getattr(source, "frame_name", None)
    return name(index) if callable(name) else f"{index:05d}"
