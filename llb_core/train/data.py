"""Training data: real mini-sequences from DAVIS / YouTube-VOS layouts and synthetic clips from stills.

A sample is a mini-sequence of Q frames around one object: images (Q, 3, h, w) float in [0, 1] and
masks (Q, 1, h, w) float {0, 1}; frame 0 is the reference. In a multi-object clip a sample targets one
object id; the other objects stay in the frames as look-alike distractors the network must reject.
Everything random draws from the `np.random.Generator` passed in, so a resumed run continues the exact
same stream.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from llb_core.errors import LLBError
from llb_core.io import davis_folders, davis_sequences
from llb_core.train.augment import AugmentConfig, crop_pair, object_box, photometric
from llb_core.train.twins import add_twin

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class Sequence:
    """One annotated video: frame and mask paths (same length; a mask path may be None)."""

    name: str
    frames: list[Path]
    masks: list[Path | None]
    _cache: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(H, W, 3) uint8 RGB frame and (H, W) uint8 index mask (palette ids; 0/255 -> 0/1)."""
        if index not in self._cache:
            frame = np.asarray(Image.open(self.frames[index]).convert("RGB"))
            path = self.masks[index]
            if path is None:
                raise LLBError(f"{self.frames[index]}: no mask for this frame")
            im = Image.open(path)
            mask = np.asarray(im) if im.mode == "P" else (np.asarray(im.convert("L")) >= 128).astype(np.uint8)
            if len(self._cache) > 64:  # keep a bounded cache of decoded frames
                self._cache.pop(next(iter(self._cache)))
            self._cache[index] = (frame, mask.astype(np.uint8))
        return self._cache[index]

    def annotated(self) -> list[int]:
        return [i for i, m in enumerate(self.masks) if m is not None]


def _listing(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in suffixes)


def read_davis(
    root: str | Path,
    sequences: list[str] | None = None,
    *,
    exclude: list[str] | None = None,
    resolution: str | None = None,
) -> list[Sequence]:
    """DAVIS layout: root/JPEGImages/<res>/<seq>/NNNNN.jpg and root/Annotations/<res>/<seq>/NNNNN.png.

    Args:
        root: the DAVIS-layout root.
        sequences: the sequences to read (default: all).
        exclude: sequences to leave out of all (only without `sequences`).
        resolution: the resolution folder ("480p", "360p", ...); None: the only one the root holds.

    Raises:
        LLBError: not a DAVIS root, an ambiguous or missing resolution folder, an unknown sequence.
    """
    root = Path(root)
    images, annotations = davis_folders(root, resolution)
    names = sequences or davis_sequences(images)
    unknown = sorted(set(exclude or []) - set(davis_sequences(images)))
    if unknown:
        raise LLBError(f"{images}: exclude names sequences that are not there: {unknown}")
    names = [n for n in names if n not in set(exclude or [])]
    out = []
    for name in names:
        if not (images / name).is_dir():
            raise LLBError(f"{images / name}: no such sequence in {root}")
        if not (annotations / name).is_dir():
            raise LLBError(f"{annotations / name}: no annotations for sequence {name}; add them or exclude it")
        frames = _listing(images / name, IMAGE_SUFFIXES)
        masks = {p.stem: p for p in _listing(annotations / name, (".png",))}
        out.append(Sequence(name, frames, [masks.get(f.stem) for f in frames]))
    return out


def read_youtube_vos(root: str | Path, split: str = "train") -> list[Sequence]:
    """YouTube-VOS layout: root/<split>/JPEGImages/<video>/*.jpg, root/<split>/Annotations/<video>/*.png,
    root/<split>/meta.json (annotations on every fifth frame)."""
    base = Path(root) / split
    meta_path = base / "meta.json"
    if not meta_path.is_file():
        raise LLBError(f"{base}: not a YouTube-VOS split (no meta.json)")
    videos = json.loads(meta_path.read_text()).get("videos", {})
    out = []
    for name in sorted(videos):
        frames = _listing(base / "JPEGImages" / name, IMAGE_SUFFIXES)
        masks = {p.stem: p for p in _listing(base / "Annotations" / name, (".png",))}
        out.append(Sequence(name, frames, [masks.get(f.stem) for f in frames]))
    return out


def _to_tensors(frames: list[np.ndarray], masks: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255  # (Q, H, W, 3) -> (Q, 3, H, W)
    targets = torch.from_numpy(np.stack(masks)).float()[:, None]  # (Q, H, W) -> (Q, 1, H, W)
    return images, targets


def read_stills(root: str | Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stills with object masks: root/images/<name>.jpg beside root/masks/<name>.png (as in DUTS).

    Returns:
        (H, W, 3) uint8 RGB images with (H, W) uint8 binary masks (greyscale masks thresholded at 128).

    Raises:
        LLBError: no images/ or masks/ folder, or no image with a mask.
    """
    root = Path(root)
    if not (root / "images").is_dir() or not (root / "masks").is_dir():
        raise LLBError(f"{root}: not a stills folder (expected images/*.jpg and masks/*.png inside)")
    masks = {p.stem: p for p in _listing(root / "masks", (".png",))}
    stills = []
    for image in _listing(root / "images", IMAGE_SUFFIXES):
        if image.stem in masks:
            frame = np.asarray(Image.open(image).convert("RGB"))
            mask = (np.asarray(Image.open(masks[image.stem]).convert("L")) >= 128).astype(np.uint8)
            if mask.shape != frame.shape[:2]:
                raise LLBError(f"{masks[image.stem]}: mask size {mask.shape} differs from its image's")
            stills.append((frame, mask))
    if not stills:
        raise LLBError(f"{root}: no image in images/ has a mask of the same name in masks/")
    return stills


@dataclass(frozen=True)
class Pick:
    """What one real sample shows: sequence `sequence`, object `obj_id`, frames (reference first)."""

    sequence: str
    obj_id: int
    frames: tuple[int, ...]


@dataclass
class SequenceSampler:
    """Mini-sequences from real videos: a reference frame and Q-1 later frames within `window` frames.

    Each sample targets one object visible on its reference frame (>= `min_pixels`), drawn uniformly; the
    other objects of a multi-object clip stay in the images as background.

    Attributes:
        weights: one sampling weight per sequence (default: uniform); normalised here.
        twin_probability: share of samples given a look-alike copy of the object beside it (`twins.add_twin`).
        stranger_probability: share of samples given an object of another clip beside it (`twins.add_twin`).
        track_twins: a twin that shows on the reference frame is reported as another object (tracked as a
            second object by soft-aggregation training); otherwise twins are never "others".
    """

    sequences: list[Sequence]
    size: tuple[int, int]
    frames_per_sample: int = 4
    window: int = 100
    min_pixels: int = 100
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    weights: list[float] | None = None
    twin_probability: float = 0.0
    stranger_probability: float = 0.0
    track_twins: bool = False

    def __post_init__(self) -> None:
        if not self.sequences:
            raise LLBError("no training sequences")
        if self.weights is not None:
            if len(self.weights) != len(self.sequences) or min(self.weights) <= 0:
                raise LLBError("sequence weights: give one weight > 0 per sequence")
            self._p = np.asarray(self.weights, np.float64) / np.sum(self.weights)

    def sample(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """One mini-sequence: images (Q, 3, h, w), masks (Q, 1, h, w) of the picked object."""
        return self.render(self.pick(rng), rng)

    def sample_parts(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """As `sample`, plus (Q, 1, h, w) the pixels of other objects (other ids, pasted strangers)."""
        return self.render_parts(self.pick(rng), rng)

    def render(self, pick: Pick, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Crop and augment the frames of `pick`; the mask is object `pick.obj_id`, every other id background."""
        images, masks, _ = self.render_parts(pick, rng)
        return images, masks

    def render_parts(self, pick: Pick, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """As `render`, plus the other objects' pixels (Q, 1, h, w) {0, 1}."""
        seq = next(s for s in self.sequences if s.name == pick.sequence)
        pairs, others = [], []
        twins: list[np.ndarray] | None = None
        for i in pick.frames:
            frame, mask = seq.load(i)
            pairs.append((frame, (mask == pick.obj_id).astype(np.uint8)))
            others.append(((mask != 0) & (mask != pick.obj_id)).astype(np.uint8))
        if self.twin_probability and rng.random() < self.twin_probability:
            # Untracked, a twin is not an "other": its look cannot overrule a prior leaking onto it. Tracked (from
            # the reference frame on, with its own mask there), it is: only the two priors tell target and twin apart.
            pairs, copies = add_twin(pairs, rng)
            if self.track_twins:
                twins = copies
        if self.stranger_probability and rng.random() < self.stranger_probability:
            stranger = self._stranger(rng, pick.sequence)
            if stranger is not None:
                pairs, copies = add_twin(pairs, rng, source=stranger)
                others = [o | c for o, c in zip(others, copies, strict=True)]
        return crop_sequence(pairs, self.size, rng, self.augment, others, twins)

    def _stranger(self, rng: np.random.Generator, besides: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(frame, binary mask) of a visible object from a sequence other than `besides`, or None."""
        for _ in range(20):
            seq = self._draw_sequence(rng)
            annotated = seq.annotated()
            if seq.name == besides or not annotated:
                continue
            frame, mask = seq.load(annotated[int(rng.integers(len(annotated)))])
            ids = self._visible_ids(mask)
            if ids:
                return frame, (mask == ids[int(rng.integers(len(ids)))]).astype(np.uint8)
        return None

    def _visible_ids(self, mask: np.ndarray) -> list[int]:
        """Object ids with at least `min_pixels` pixels in an index mask (H, W)."""
        return [int(v) for v in np.unique(mask) if v and (mask == v).sum() >= self.min_pixels]

    def _draw_sequence(self, rng: np.random.Generator) -> Sequence:
        if self.weights is None:
            return self.sequences[rng.integers(len(self.sequences))]
        return self.sequences[int(rng.choice(len(self.sequences), p=self._p))]

    def pick(self, rng: np.random.Generator) -> Pick:
        """Draw a sequence (by weight), a reference frame, Q-1 later frames and an object visible on the reference."""
        for _ in range(100):
            seq = self._draw_sequence(rng)
            annotated = seq.annotated()
            q = self.frames_per_sample
            if len(annotated) < q:
                continue
            ref_pos = int(rng.integers(0, len(annotated) - q + 1))
            ref = annotated[ref_pos]
            later = [i for i in annotated[ref_pos + 1 :] if i - ref <= self.window]
            if len(later) < q - 1:
                continue
            picks = sorted(rng.choice(later, size=q - 1, replace=False).tolist())
            _, mask = seq.load(ref)
            ids = self._visible_ids(mask)
            if not ids:
                continue
            obj = ids[int(rng.integers(len(ids)))]
            return Pick(seq.name, obj, (ref, *picks))
        raise LLBError("no sequence has enough annotated frames with a visible object for training")


def crop_sequence(
    pairs: list[tuple[np.ndarray, np.ndarray]],
    size: tuple[int, int],
    rng: np.random.Generator,
    cfg: AugmentConfig,
    others: list[np.ndarray] | None = None,
    twins: list[np.ndarray] | None = None,
) -> tuple[torch.Tensor, ...]:
    """Search-region crops of each (frame, binary mask) around that frame's box (the reference's if empty).

    Returns:
        images (Q, 3, h, w), masks (Q, 1, h, w), and with `others` (per frame (H, W) 0/1 pixels of other
        objects) their crops (Q, 1, h, w) too; `twins` (per frame 0/1 pixels of a tracked twin) join the
        others when the twin is visible on the cropped reference frame, and stay background otherwise.
    """
    ref_box = object_box(pairs[0][1])
    assert ref_box is not None
    flip = bool(rng.random() < cfg.flip_probability)
    frames, masks, rest = [], [], []
    for i, (frame, mask) in enumerate(pairs):
        box = object_box(mask) or ref_box
        labels = mask.astype(np.uint8)  # 1 target, 2 others, 3 a tracked twin
        if others is not None:
            labels = np.where((labels == 0) & (others[i] > 0), 2, labels).astype(np.uint8)
        if twins is not None:
            labels = np.where((labels == 0) & (twins[i] > 0), 3, labels).astype(np.uint8)
        f, m = crop_pair(frame, labels, box, size, rng, cfg, test=i > 0, flip=flip)
        frames.append(f)
        masks.append((m == 1).astype(np.uint8))
        rest.append(m)
    images, targets = _to_tensors(photometric(frames, rng, cfg), masks)
    if others is None:
        return images, targets
    other_ids = (2, 3) if (rest[0] == 3).any() else (2,)
    other = np.stack([np.isin(m, other_ids) for m in rest]).astype(np.float32)
    return images, targets, torch.from_numpy(other)[:, None]


@dataclass
class SyntheticSampler:
    """Synthetic clips from still images with object masks (stage 1).

    Each clip takes one still; with probability `paste_probability` its object is pasted onto the
    background of another still. The object and the background then move independently (random
    similarity transforms per frame), so a small pool of stills yields many distinct clips.
    """

    stills: list[tuple[np.ndarray, np.ndarray]]  # (H, W, 3) uint8, (H, W) uint8 binary
    size: tuple[int, int]
    frames_per_sample: int = 4
    paste_probability: float = 0.5
    motion: float = 0.08  # max translation per frame, fraction of the frame size
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def _warp(self, image: np.ndarray, matrix: np.ndarray, nearest: bool = False) -> np.ndarray:
        h, w = image.shape[:2]
        flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
        return cv2.warpAffine(image, matrix, (w, h), flags=flags, borderMode=cv2.BORDER_REPLICATE)

    @staticmethod
    def _remove_object(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The still with its object painted out (inpainted at half resolution), so the moving copy is the
        only instance of the object in the clip."""
        h, w = mask.shape
        small = cv2.resize(frame, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        hole = cv2.resize(mask, (w // 2, h // 2), interpolation=cv2.INTER_NEAREST)
        hole = cv2.dilate(hole, np.ones((9, 9), np.uint8))
        filled = cv2.resize(cv2.inpaint(small, hole, 5, cv2.INPAINT_TELEA), (w, h), interpolation=cv2.INTER_LINEAR)
        big_hole = cv2.resize(hole, (w, h), interpolation=cv2.INTER_NEAREST)[..., None] > 0
        return np.where(big_hole, filled, frame)

    def _motion(self, rng: np.random.Generator, shape: tuple[int, ...], step: int) -> np.ndarray:
        h, w = shape[:2]
        angle = rng.uniform(-5, 5) * step
        scale = float(np.exp(rng.uniform(-0.05, 0.05) * step))
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        matrix[:, 2] += rng.uniform(-self.motion, self.motion, 2) * (w, h) * step
        return matrix

    def sample_parts(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """As `sample`, with no other objects: (Q, 1, h, w) zeros."""
        images, masks = self.sample(rng)
        return images, masks, torch.zeros_like(masks)

    def sample(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        for _ in range(100):
            frame, mask = self.stills[rng.integers(len(self.stills))]
            if mask.sum() < 100:
                continue
            if rng.random() < self.paste_probability:
                other = self.stills[rng.integers(len(self.stills))][0]
                background = cv2.resize(other, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)
            else:
                background = self._remove_object(frame, mask)
            pairs = []
            for step in range(self.frames_per_sample):
                obj_m = self._motion(rng, frame.shape, step)
                bg = self._warp(background, self._motion(rng, frame.shape, step))
                fg = self._warp(frame, obj_m)
                m = self._warp(mask, obj_m, nearest=True)
                alpha = cv2.GaussianBlur(m.astype(np.float32), (3, 3), 0)[..., None]
                composite = (alpha * fg + (1 - alpha) * bg).astype(np.uint8)
                pairs.append((composite, m))
            if pairs[0][1].sum() < 100:
                continue
            return crop_sequence(pairs, self.size, rng, self.augment)
        raise LLBError("the still-image pool has no object large enough for synthetic clips")


def stills_from(sequences: list[Sequence], every: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every `every`-th annotated frame of each sequence as a still, one binary mask per object."""
    stills = []
    for seq in sequences:
        for i in seq.annotated()[::every]:
            frame, mask = seq.load(i)
            for v in np.unique(mask):
                if v:
                    stills.append((frame, (mask == v).astype(np.uint8)))
    return stills


def collate(samples: list[tuple[torch.Tensor, ...]]) -> tuple[torch.Tensor, ...]:
    """Stack samples part by part: images (B, Q, 3, h, w), masks (B, Q, 1, h, w)[, others (B, Q, 1, h, w)]."""
    return tuple(torch.stack(part) for part in zip(*samples, strict=True))
