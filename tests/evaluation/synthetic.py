"""A tiny DAVIS-layout root written into a temporary folder: textured frames with moving squares."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from llb_core.io import write_index_mask

HEIGHT, WIDTH = 96, 128


def moving_scene(num_frames: int, step: int, rng_seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(H, W, 3) uint8 frames and (H, W) uint8 index masks: object 1 moves `step` px right per frame, object 2
    moves `step` px down; both carry their own texture over a textured, static background."""
    rng = np.random.default_rng(rng_seed)
    background = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    background = np.asarray(Image.fromarray(background).resize((WIDTH // 4, HEIGHT // 4)).resize((WIDTH, HEIGHT)))
    texture1 = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    texture2 = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    frames, masks = [], []
    for t in range(num_frames):
        frame = background.copy()
        mask = np.zeros((HEIGHT, WIDTH), np.uint8)
        y1, x1 = 20, 10 + step * t
        frame[y1 : y1 + 24, x1 : x1 + 24] = texture1
        mask[y1 : y1 + 24, x1 : x1 + 24] = 1
        y2, x2 = 10 + step * t, 80
        frame[y2 : y2 + 20, x2 : x2 + 20] = texture2
        mask[y2 : y2 + 20, x2 : x2 + 20] = 2
        frames.append(frame)
        masks.append(mask)
    return frames, masks


def write_root(root: Path, sequences: dict[str, tuple[list[np.ndarray], list[np.ndarray]]]) -> Path:
    """Write `JPEGImages/480p/<seq>/NNNNN.png` and `Annotations/480p/<seq>/NNNNN.png` under `root`."""
    for name, (frames, masks) in sequences.items():
        image_dir = root / "JPEGImages" / "480p" / name
        mask_dir = root / "Annotations" / "480p" / name
        image_dir.mkdir(parents=True)
        mask_dir.mkdir(parents=True)
        for t, (frame, mask) in enumerate(zip(frames, masks, strict=True)):
            Image.fromarray(frame).save(image_dir / f"{t:05d}.png")  # lossless, unlike the DAVIS JPEGs
            write_index_mask(mask_dir / f"{t:05d}.png", mask)
    return root
