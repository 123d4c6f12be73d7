"""Training the click network: crops of annotated frames and stills, simulated clicks, iterative rounds.

A sample is one object on one image, cropped around it at a random scale (from a tight crop to most of the
frame) and augmented. Its guidance starts in one of three ways, as people start: a first click deep inside
the object; a box (with or without that click); or a rough previous mask (a propagated mask to correct) with
a click on its largest error; a first click may come with negative clicks just outside the object or on a
distractor: other objects of the pool pasted into half of the crops. Then
0..`max_rounds` rounds run without gradients, each feeding the prediction back as the previous mask and
adding the simulated person's next click; the last round is trained. Loss: binary cross-entropy, weighted up
where the previous mask was wrong and around the newest click (`correction_weight`), plus soft IoU.
Resumable exactly (model, optimiser, RNG) from `train_state.pt`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from llb_core.errors import LLBError
from llb_core.interactive.clicks import Click, guidance_maps, mask_box, next_click
from llb_core.model import create_model, load_checkpoint, save_checkpoint
from llb_core.model.clicknet import ClickNet, init_from_vos
from llb_core.train.augment import AugmentConfig, crop_pair, object_box, photometric
from llb_core.train.data import read_davis, read_stills, stills_from
from llb_core.train.trainer import FINAL_FILE, append_log, read_train_state, write_train_state

log = logging.getLogger(__name__)
MIN_OBJECT_PIXELS = 64  # smaller objects (after cropping) are redrawn


@dataclass(frozen=True)
class ClickSource:
    """Annotated frames of a DAVIS-layout root: every `every`-th frame, one sample per object."""

    root: str
    weight: float = 1.0
    every: int = 5
    resolution: str | None = None
    sequences: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClickRecipe:
    """All settings of a click-model training run (see recipes/clicks.toml for their meaning)."""

    variant: str
    decoder_widths: tuple[int, ...]
    init: str
    sources: tuple[ClickSource, ...]
    stills: tuple[str, ...]
    stills_weight: float
    validation_sequences: tuple[str, ...]
    size: int
    min_area: float
    max_area: float
    iterations: int
    batch: int
    lr: float
    max_rounds: int
    box_probability: float
    previous_probability: float
    negative_probability: float
    paste_probability: float
    bce: float
    soft_iou: float
    correction_weight: float
    precision: str
    checkpoint_minutes: float
    log_every: int
    seed: int

    def __post_init__(self) -> None:
        if self.variant != "clicks":
            raise LLBError(f"click recipe: variant {self.variant!r} must be 'clicks'")
        if self.size % 16:
            raise LLBError(f"click recipe: size {self.size} must be a multiple of 16")
        if self.precision not in ("fp32", "bf16"):
            raise LLBError(f"click recipe: precision {self.precision!r} must be fp32 or bf16")
        for source in self.sources:
            leaked = set(source.sequences) & set(self.validation_sequences)
            if leaked:
                raise LLBError(f"click recipe: {sorted(leaked)} of {source.root} are validation sequences")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def is_click_recipe(path: Path) -> bool:
    """Whether the TOML recipe at `path` trains the click model ([model] variant = "clicks")."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return isinstance(data.get("model"), dict) and data["model"].get("variant") == "clicks"


def load_click_recipe(path: Path, overrides: list[str] | None = None) -> ClickRecipe:
    """A click recipe from TOML (settings in [sections], sources as [[data.sources]]) with key=value overrides.

    Raises:
        LLBError: unreadable TOML, unknown or missing settings.
    """
    try:
        values: dict[str, Any] = {}
        for section in tomllib.loads(path.read_text()).values():
            values.update(section)
        for item in overrides or []:
            key, sep, text = item.partition("=")
            if not sep:
                raise LLBError(f"--set {item!r}: write key=value, e.g. iterations=500")
            values[key.strip()] = tomllib.loads(f"v = {text.strip()}")["v"]
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise LLBError(f"{path}: not a readable TOML recipe ({err})") from err
    names = {f.name for f in dataclasses.fields(ClickRecipe)}
    unknown, missing = sorted(set(values) - names), sorted(names - set(values))
    if unknown or missing:
        raise LLBError(f"{path}: unknown settings {unknown}, missing settings {missing}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        values["sources"] = tuple(
            ClickSource(**{k: tuple(v) if isinstance(v, list) else v for k, v in s.items()}) for s in values["sources"]
        )
    except TypeError as err:
        raise LLBError(f"{path}: a [[data.sources]] entry has unknown settings ({err})") from err
    return ClickRecipe(**values)


class ClickPool:
    """Every training (image, object mask) pair of a recipe, drawn by source weight."""

    def __init__(self, recipe: ClickRecipe) -> None:
        self.groups: list[list[tuple[np.ndarray, np.ndarray]]] = []
        weights: list[float] = []
        for source in recipe.sources:
            sequences = read_davis(
                source.root,
                list(source.sequences) or None,
                exclude=[s for s in source.exclude],
                resolution=source.resolution,
            )
            leaked = sorted({s.name for s in sequences} & set(recipe.validation_sequences))
            if leaked:
                raise LLBError(f"{source.root}: validation sequences {leaked} would be trained on; exclude them")
            self._add(stills_from(sequences, source.every), source.weight, weights)
        for folder in recipe.stills:
            self._add(read_stills(folder), recipe.stills_weight, weights)
        if not self.groups:
            raise LLBError("click recipe: no training images (give sources or stills)")
        self.weights = np.asarray(weights) / sum(weights)

    def _add(self, pairs: list[tuple[np.ndarray, np.ndarray]], weight: float, weights: list[float]) -> None:
        pairs = [(f, m) for f, m in pairs if int(m.sum()) >= MIN_OBJECT_PIXELS]
        if pairs:
            self.groups.append(pairs)
            weights.append(weight)

    def __len__(self) -> int:
        return sum(len(g) for g in self.groups)

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        group = self.groups[int(rng.choice(len(self.groups), p=self.weights))]
        return group[int(rng.integers(len(group)))]


def crop_sample(
    pair: tuple[np.ndarray, np.ndarray], recipe: ClickRecipe, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray] | None:
    """A square crop of `recipe.size` around the object, window area `min_area`..`max_area` x its box area
    (log-uniform), rotated, scaled, flipped and recoloured; None when too little of the object is left."""
    frame, mask = pair
    box = object_box(mask)
    if box is None:
        return None
    area = math.exp(rng.uniform(math.log(recipe.min_area), math.log(recipe.max_area)))
    cfg = AugmentConfig(search_area=area, centre_jitter=0.15, scale_sigma_reference=0.1)
    image, target = crop_pair(
        frame, mask, box, (recipe.size, recipe.size), rng, cfg, test=False, flip=bool(rng.random() < 0.5)
    )
    if int(target.sum()) < MIN_OBJECT_PIXELS:
        return None
    return photometric([image], rng, cfg)[0], target.astype(bool)


def paste_distractors(
    image: np.ndarray, target: np.ndarray, pool: ClickPool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Paste one or two other objects of the pool into a crop, at 0.5-1.3 x the target's size, anywhere that
    hides at most a third of the target: the network must take the clicked object only, not everything
    salient.

    Returns:
        the image (S, S, 3), the target's visible pixels (S, S) bool and the pasted pixels (S, S) bool.
    """
    image, target = image.copy(), target.copy()
    pasted = np.zeros_like(target)
    size = target.shape[0]
    side = math.sqrt(max(int(target.sum()), 1))
    for _ in range(int(rng.integers(1, 3))):
        frame, mask = pool.draw(rng)
        ys, xs = np.nonzero(mask)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        scale = rng.uniform(0.5, 1.3) * side / math.sqrt(max(int(mask.sum()), 1))
        w = max(4, min(size, round((x1 - x0) * scale)))
        h = max(4, min(size, round((y1 - y0) * scale)))
        piece = cv2.resize(frame[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_LINEAR)
        shape = cv2.resize(mask[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_NEAREST) > 0
        if rng.random() < 0.5:
            piece, shape = piece[:, ::-1], shape[:, ::-1]
        for _ in range(3):  # a place that hides at most a third of the target
            top, left = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
            region = (slice(top, top + h), slice(left, left + w))
            if 3 * int((target[region] & shape).sum()) <= int(target.sum()):
                image[region][shape] = piece[shape]
                pasted[region] |= shape
                target[region] &= ~shape
                break
    return image, target, pasted


def first_click(truth: np.ndarray, rng: np.random.Generator) -> Click:
    """A positive click inside the object, away from its border: a random pixel among those at least half
    as deep as the deepest (people do not click the exact centre)."""
    dist = cv2.distanceTransform(np.pad(truth.astype(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    ys, xs = np.nonzero(dist >= 0.5 * dist.max())
    i = int(rng.integers(len(xs)))
    return Click(float(xs[i]), float(ys[i]), True)


def negative_clicks(truth: np.ndarray, rng: np.random.Generator, count: int) -> list[Click]:
    """`count` negative clicks on background near the object (a band 3 to 40 px from it), where people
    click to push a mask off its neighbours."""
    outside = cv2.distanceTransform(np.pad((~truth).astype(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    ys, xs = np.nonzero((outside >= 3) & (outside <= 40))
    if len(xs) == 0:
        return []
    picks = rng.choice(len(xs), size=min(count, len(xs)), replace=False)
    return [Click(float(xs[i]), float(ys[i]), False) for i in picks]


def rough_mask(truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible wrong mask of the object (a propagated mask to correct): shifted, grown or shrunk, with
    a blob added or cut."""
    h, w = truth.shape
    m = truth.astype(np.uint8)
    k = int(rng.integers(3, 15))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    m = cv2.dilate(m, kernel) if rng.random() < 0.5 else cv2.erode(m, kernel)
    dx, dy = (int(v) for v in rng.integers(-w // 15 - 1, w // 15 + 2, size=2))
    m = np.roll(m, (dy, dx), axis=(0, 1))
    cx, cy, r = int(rng.integers(w)), int(rng.integers(h)), int(rng.integers(w // 20 + 2, w // 6 + 3))
    cv2.circle(m, (cx, cy), r, int(rng.random() < 0.5), thickness=-1)
    return m.astype(bool)


def jittered_box(truth: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float, float]:
    """The object's box, each side moved by up to 10 % of the box size (people draw loose boxes)."""
    x0, y0, x1, y1 = mask_box(truth) or (0.0, 0.0, float(truth.shape[1]), float(truth.shape[0]))
    bw, bh = x1 - x0, y1 - y0
    j = rng.uniform(-0.1, 0.1, size=4) * np.array([bw, bh, bw, bh])
    return x0 + j[0], y0 + j[1], x1 + j[2], y1 + j[3]


@dataclass
class Guidance:
    """The clicks, box and previous mask of one training sample."""

    clicks: list[Click]
    box: tuple[float, float, float, float] | None
    previous: np.ndarray | None  # (h, w) float32 in [0, 1]

    def maps(self, size: tuple[int, int]) -> np.ndarray:
        return guidance_maps(size, self.clicks, self.box, self.previous)


def start_guidance(
    truth: np.ndarray, recipe: ClickRecipe, rng: np.random.Generator, distractors: np.ndarray | None = None
) -> Guidance:
    """How a sample's interaction begins (see the module docstring); negative clicks land on pasted
    `distractors` (S, S) bool half of the time when there are any."""
    u = rng.random()
    if u < recipe.previous_probability:
        previous = rough_mask(truth, rng)
        click = next_click(previous, truth)
        return Guidance([click] if click else [], None, previous.astype(np.float32))
    if u < recipe.previous_probability + recipe.box_probability:
        clicks = [first_click(truth, rng)] if rng.random() < 0.5 else []
        return Guidance(clicks, jittered_box(truth, rng), None)
    clicks = [first_click(truth, rng)]
    if rng.random() < recipe.negative_probability:
        if distractors is not None and distractors.any() and rng.random() < 0.5:
            click = first_click(distractors, rng)
            clicks.append(Click(click.x, click.y, False))
        else:
            clicks += negative_clicks(truth, rng, int(rng.integers(1, 3)))
    return Guidance(clicks, None, None)


def correction_weights(guidance: Guidance, truth: np.ndarray, weight: float) -> np.ndarray:
    """Per-pixel loss weights (1, S, S): 1 + `weight` where the previous mask was wrong and within 16 px of
    the newest click, the pixels a correction is about (a whole-image loss barely notices a small region
    that a click failed to flip)."""
    out = np.ones((1, *truth.shape), np.float32)
    if weight <= 0:
        return out
    if guidance.previous is not None:
        out[0] += weight * ((guidance.previous > 0.5) != truth)
    if guidance.clicks:
        disk = np.zeros(truth.shape, np.uint8)
        last = guidance.clicks[-1]
        cv2.circle(disk, (int(round(last.x)), int(round(last.y))), 16, 1, thickness=-1)
        out[0] += weight * disk
    return out


def soft_iou_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - soft IoU per sample, averaged: logits and target (B, 1, H, W)."""
    p = torch.sigmoid(logits)
    inter = (p * target).sum((1, 2, 3))
    union = (p + target - p * target).sum((1, 2, 3))
    return (1 - inter / union.clamp_min(1.0)).mean()


class ClickTrainer:
    """Trains the click model by a recipe into `out_dir` (train_state.pt, log.jsonl, final.pt).

    Args:
        recipe: the click recipe.
        out_dir: run folder.
        resume: continue exactly from `out_dir/train_state.pt`.
        init_from: a VOS checkpoint whose decoder starts this one (default: the recipe's `init`; "" for none)
            or a click checkpoint to train further.
    """

    def __init__(
        self, recipe: ClickRecipe, out_dir: str | os.PathLike, *, resume: bool = False, init_from: str | None = None
    ) -> None:
        self.recipe = recipe
        self.out = Path(out_dir)
        torch.manual_seed(recipe.seed)
        model = create_model("clicks", decoder_widths=recipe.decoder_widths)
        assert isinstance(model, ClickNet)
        self.model = model
        init = recipe.init if init_from is None else init_from
        if init and not resume:
            source = load_checkpoint(init)
            if source.config.variant == "clicks":
                self.model.load_state_dict(source.state_dict())
            else:
                copied = init_from_vos(self.model, source)
                log.info("%s: %d decoder tensors copied", init, len(copied))
        self.model.freeze_backbone()
        self.model.train()
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=1e-4)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda i: 0.5 * (1 + math.cos(math.pi * min(i, recipe.iterations) / recipe.iterations))
        )
        self.rng = np.random.default_rng(recipe.seed)
        self.iteration = 0
        self.elapsed = 0.0
        self.pool = ClickPool(recipe)
        if resume:
            self._load_state()

    # --------------------------------------------------------------------------------- state
    def _save_state(self) -> None:
        state = {
            "recipe": self.recipe.to_json(),
            "model": {n: t for n, t in self.model.state_dict().items() if not n.startswith("backbone.")},
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "iteration": self.iteration,
            "elapsed": self.elapsed,
            "rng_numpy": self.rng.bit_generator.state,
            "rng_torch": torch.get_rng_state(),
        }
        write_train_state(self.out, state)

    def _load_state(self) -> None:
        state = read_train_state(self.out, self.model, lambda saved: saved == json.loads(self.recipe.to_json()))
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.iteration = int(state["iteration"])
        self.elapsed = float(state["elapsed"])
        self.rng.bit_generator.state = state["rng_numpy"]
        torch.set_rng_state(state["rng_torch"])

    # ---------------------------------------------------------------------------------- loop
    def _samples(self) -> tuple[torch.Tensor, list[np.ndarray], list[np.ndarray | None]]:
        """A batch: images (B, 3, S, S), each target (S, S) bool and its pasted distractors (or None)."""
        images, truths, pasted = [], [], []
        while len(images) < self.recipe.batch:
            sample = crop_sample(self.pool.draw(self.rng), self.recipe, self.rng)
            if sample is None:
                continue
            image, truth = sample
            extra = None
            if self.rng.random() < self.recipe.paste_probability:
                image, visible, extra = paste_distractors(image, truth, self.pool, self.rng)
                if int(visible.sum()) < MIN_OBJECT_PIXELS:
                    continue
                truth = visible
            images.append(image)
            truths.append(truth)
            pasted.append(extra)
        batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
        return batch, truths, pasted

    def step(self) -> dict[str, float]:
        """One optimisation step (several click rounds on one batch); returns the loss terms."""
        r = self.recipe
        images, truths, pasted = self._samples()
        size = (r.size, r.size)
        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=r.precision == "bf16")
        with autocast:
            levels = self.model.backbone_levels(images)
        levels = {k: v.float() for k, v in levels.items()}
        guidance = [start_guidance(t, r, self.rng, p) for t, p in zip(truths, pasted, strict=True)]
        rounds = int(self.rng.integers(0, r.max_rounds + 1))
        for _ in range(rounds):
            maps = torch.from_numpy(np.stack([g.maps(size) for g in guidance]))
            with torch.no_grad(), autocast:
                probs = torch.sigmoid(self.model.segment(levels, maps, size).float())[:, 0].numpy()
            for g, p, t in zip(guidance, probs, truths, strict=True):
                g.previous = p
                click = next_click(p > 0.5, t)
                if click is not None:
                    g.clicks.append(click)
        maps = torch.from_numpy(np.stack([g.maps(size) for g in guidance]))
        target = torch.from_numpy(np.stack(truths)).float()[:, None]
        weights = torch.from_numpy(
            np.stack([correction_weights(g, t, r.correction_weight) for g, t in zip(guidance, truths, strict=True)])
        )
        with autocast:
            logits = self.model.segment(levels, maps, size).float()
        bce = (F.binary_cross_entropy_with_logits(logits, target, reduction="none") * weights).sum() / weights.sum()
        soft_iou = soft_iou_loss(logits, target)
        loss = r.bce * bce + r.soft_iou * soft_iou
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        self.iteration += 1
        return {"loss": loss.item(), "bce": bce.item(), "soft_iou": soft_iou.item(), "rounds": float(rounds)}

    def train(self, *, max_minutes: float | None = None, max_iterations: int | None = None) -> Path | None:
        """Run until the recipe's iterations, `max_iterations` (this call) or `max_minutes`; returns final.pt's
        path when the recipe is complete, else None (resume later)."""
        r = self.recipe
        start = last_save = window_start = time.monotonic()
        window: list[dict[str, float]] = []
        target = r.iterations if max_iterations is None else min(r.iterations, self.iteration + max_iterations)
        while self.iteration < target:
            if max_minutes is not None and time.monotonic() - start > 60 * max_minutes:
                break
            tic = time.monotonic()
            window.append(self.step())
            self.elapsed += time.monotonic() - tic
            now = time.monotonic()
            if self.iteration % r.log_every == 0 or self.iteration == target:
                record = {k: float(np.mean([w[k] for w in window])) for k in window[0]}
                record.update(
                    iteration=self.iteration,
                    lr=self.scheduler.get_last_lr()[0],
                    it_per_s=len(window) / max(now - window_start, 1e-9),
                    elapsed_min=self.elapsed / 60,
                )
                log.info("it %d  loss %.4f  %.2f it/s", self.iteration, record["loss"], record["it_per_s"])
                append_log(self.out, record)
                window, window_start = [], now
            if now - last_save > 60 * r.checkpoint_minutes:
                self._save_state()
                last_save = now
        self._save_state()
        if self.iteration >= r.iterations:
            return self.export(self.out / FINAL_FILE)
        return None

    def export(self, path: Path) -> Path:
        """Write the inference checkpoint (heads only, fp16) with the recipe and training time."""
        metadata = {
            "recipe": json.loads(self.recipe.to_json()),
            "iterations": self.iteration,
            "train_minutes": round(self.elapsed / 60, 1),
        }
        return save_checkpoint(self.model, path, half=True, metadata=metadata)
