"""The training loop: unrolled mini-sequences, Lovasz + cosine loss, Adam with a step schedule,
atomic checkpoints every few minutes, exact resume, and DistributedDataParallel under torchrun.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from llb_core.errors import LLBError, new_file_mode
from llb_core.inference.aggregation import soft_aggregate
from llb_core.model import (
    BackboneNet,
    add_location_prior,
    copy_shared_tensors,
    create_model,
    load_checkpoint,
    save_checkpoint,
)
from llb_core.train.data import collate
from llb_core.train.losses import bce_loss, cosine_similarity_loss, lovasz_loss
from llb_core.train.prior import simulate_priors
from llb_core.train.recipe import Recipe
from llb_core.train.sources import build_training_data

log = logging.getLogger(__name__)
STATE_FILE = "train_state.pt"
FINAL_FILE = "final.pt"


@dataclass
class World:
    """Process group facts (single process: rank 0 of 1)."""

    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed() -> World:
    """Join the torchrun process group when launched by torchrun (gloo on CPU, nccl on CUDA)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return World(dist.get_rank(), dist.get_world_size())


def write_train_state(out: Path, state: dict[str, Any]) -> None:
    """Write a run's resumable state to `out/train_state.pt` atomically (temporary file, fsync, rename)."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{STATE_FILE}.tmp"
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, new_file_mode())
    os.replace(tmp, out / STATE_FILE)


def append_log(out: Path, record: dict[str, Any]) -> None:
    """Append one JSON line to the run's `out/log.jsonl` (loss terms, rate, time)."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "log.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")


def read_train_state(
    out: Path,
    model: torch.nn.Module,
    same_recipe: Callable[[dict[str, Any]], bool],
    device: torch.device | None = None,
) -> dict[str, Any]:
    """Read `out/train_state.pt`, check its recipe (`same_recipe(saved recipe dict)`) and load its trained
    tensors into `model` (the backbone may be left out); returns the state for the rest (optimizer, RNG).

    Raises:
        LLBError: nothing to resume, another recipe, or tensors that do not match the model.
    """
    path = out / STATE_FILE
    if not path.is_file():
        raise LLBError(f"{path}: nothing to resume; start without --resume")
    state = torch.load(path, map_location=device or "cpu", weights_only=True)
    if not same_recipe(json.loads(state["recipe"])):
        raise LLBError(f"{path}: was trained with another recipe; resume with the same recipe and --set values")
    missing, unexpected = model.load_state_dict(state["model"], strict=False)
    if unexpected or any(not n.startswith("backbone.") for n in missing):
        raise LLBError(f"{path}: model tensors do not match ({unexpected[:3]}, {missing[:3]})")
    return state


def merged_probabilities(logits: torch.Tensor, paired: torch.Tensor) -> torch.Tensor:
    """Per-object probabilities after soft aggregation (`llb_core.inference.aggregation.soft_aggregate`).

    Args:
        logits: (B + P, Q, 1, h, w): the B samples' targets, then the other object of each of the P samples
            with `paired` (B,) True, in order.
        paired: (B,) bool.

    Returns:
        (B + P, Q, 1, h, w): the target and the other object of a paired sample share one distribution over
        {background, target, other}; an unpaired target's probability is sigmoid(logit).
    """
    count = len(paired)
    merged = soft_aggregate(torch.stack([logits[:count][paired], logits[count:]]))
    targets = torch.sigmoid(logits[:count]).index_put((paired,), merged[1])
    return torch.cat([targets, merged[2]])


class Trainer:
    """Trains one model by a recipe into `out_dir` (train_state.pt for resuming, final.pt at the end).

    Args:
        recipe: the training recipe.
        out_dir: run folder.
        resume: continue from `out_dir/train_state.pt` exactly (model, optimizer, schedule, RNG).
        init_from: start from the weights of an inference checkpoint (e.g. the shipped ones) instead of a
            fresh initialisation; its config must match the recipe's model, or lack only the location prior
            (which then starts with zero weights: the same outputs as the checkpoint), or be another variant,
            whose tensors of the same name and shape (e.g. the decoder) are then copied.
        device: torch device (default: CPU, or this rank's GPU under torchrun with CUDA).
    """

    def __init__(
        self,
        recipe: Recipe,
        out_dir: str | os.PathLike,
        *,
        resume: bool = False,
        init_from: str | os.PathLike | None = None,
        device: torch.device | None = None,
    ) -> None:
        self.recipe = recipe
        self.out = Path(out_dir)
        self.world = init_distributed()
        if device is None and torch.cuda.is_available() and self.world.size > 1:
            device = torch.device("cuda", self.world.rank % torch.cuda.device_count())
        self.device = device or torch.device("cpu")
        torch.manual_seed(recipe.seed)
        self.model: BackboneNet = create_model(
            recipe.variant,
            backbone=recipe.backbone,
            decoder_widths=recipe.decoder_widths,
            location_prior=recipe.location_prior,
            reference_mode=recipe.reference_mode,
            joint_blocks=recipe.joint_blocks,
            token_dim=recipe.token_dim,
        ).to(self.device)
        if init_from is not None:
            self._init_from(Path(init_from))
        if recipe.freeze_backbone:
            self.model.freeze_backbone()
        self.model.train()
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.ema: dict[str, torch.Tensor] | None = None  # moving average of the trained weights (recipe.ema)
        if recipe.ema > 0:
            self.ema = {n: p.detach().clone() for n, p in self.model.named_parameters() if p.requires_grad}
        self.start: dict[str, torch.Tensor] | None = None  # the --init weights, for recipe.init_average
        if recipe.init_average > 0 and not resume:
            if init_from is None:
                raise LLBError("recipe: init_average averages the result with the --init weights; give --init")
            self.start = {n: p.detach().clone() for n, p in self.model.named_parameters() if p.requires_grad}
        self.optimizer = torch.optim.Adam(params, lr=recipe.lr)
        self.scheduler = torch.optim.lr_scheduler.MultiStepLR(
            self.optimizer, milestones=list(recipe.milestones), gamma=recipe.gamma
        )
        self.rng = np.random.default_rng([recipe.seed, self.world.rank])
        self.iteration = 0
        self.elapsed = 0.0  # training seconds over all resumed runs
        self.net: torch.nn.Module = self.model
        if self.world.size > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=None if self.device.type == "cpu" else [self.device]
            )
        data = build_training_data(recipe)
        self.real, self.synthetic = data.real, data.synthetic
        if resume:
            self._load_state()

    # --------------------------------------------------------------------------------- state
    def _init_from(self, path: Path) -> None:
        source = load_checkpoint(path)
        if source.config.variant != self.model.config.variant:
            copied = copy_shared_tensors(self.model, source)
            log.info("%s: %d tensors copied from a '%s' model", path, len(copied), source.config.variant)
            if not any(not n.startswith("backbone.") for n in copied):
                raise LLBError(f"{path}: a '{source.config.variant}' model shares no trained tensors with this one")
        elif source.config == self.model.config:
            self.model.load_state_dict(source.state_dict())
        elif source.config == dataclasses.replace(self.model.config, location_prior=False):
            add_location_prior(self.model, source)
        else:
            raise LLBError(
                f"{path}: its model config differs from the recipe's ({source.config} vs {self.model.config})"
            )

    def _state(self) -> dict[str, Any]:
        trainable = {n: t for n, t in self.model.state_dict().items() if not n.startswith("backbone.")}
        return {
            "recipe": self.recipe.to_json(),
            "model": trainable,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "iteration": self.iteration,
            "elapsed": self.elapsed,
            "ema": self.ema,
            "start": self.start,
            "rng_numpy": self.rng.bit_generator.state,
            "rng_torch": torch.get_rng_state(),
            "rng_python": random.getstate(),
        }

    def _save_state(self) -> None:
        if self.world.main:
            write_train_state(self.out, self._state())

    def _load_state(self) -> None:
        ours = json.loads(self.recipe.to_json())
        state = read_train_state(self.out, self.model, lambda saved: Recipe.completed(saved) == ours, self.device)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.ema is not None:
            self.ema = state["ema"]
        if self.recipe.init_average > 0:
            self.start = state.get("start")
            if self.start is None:
                raise LLBError(f"{self.out}: this run kept no --init weights to average with (init_average)")
        self.iteration = int(state["iteration"])
        self.elapsed = float(state["elapsed"])
        self.rng.bit_generator.state = state["rng_numpy"]
        torch.set_rng_state(state["rng_torch"])
        random.setstate(state["rng_python"])

    # ---------------------------------------------------------------------------------- loop
    def _batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """images (B, Q, 3, h, w), masks and other objects' pixels (B, Q, 1, h, w)."""
        sampler = self.synthetic if self.iteration < self.recipe.synthetic_iterations else self.real
        per_rank = max(self.recipe.batch // self.world.size, 1)
        parts = collate([sampler.sample_parts(self.rng) for _ in range(per_rank)])
        return tuple(p.to(self.device) for p in parts)  # type: ignore[return-value]

    def step(self) -> dict[str, float]:
        """One optimisation step; returns the loss terms."""
        r = self.recipe
        images, masks, others = self._batch()
        # soft aggregation: a sample whose other objects show on its first frame becomes two tracked objects,
        # the target and the others (as one object), each with its own learner, their logits merged as the
        # engine merges objects; without it (or without others) a sample is the target alone
        paired = others[:, 0].flatten(1).any(1) if r.soft_aggregation else others.new_zeros(len(masks), dtype=bool)
        tracked = torch.cat([masks, others[paired]])
        distractors = torch.cat([others, masks[paired]])
        priors = simulate_priors(tracked, self.rng, others=distractors, leak=r.prior_leak) if r.location_prior else None
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(r.precision)
        with torch.autocast(self.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            out = self.net(
                torch.cat([images, images[paired]]),
                tracked[:, 0],
                priors,
                init_iterations=r.init_iterations,
                update_iterations=r.update_iterations,
            )
        truth = tracked[:, 1:]
        if r.soft_aggregation:
            probs = merged_probabilities(out["logits"].float(), paired)
            bce = F.binary_cross_entropy(probs.clamp(1e-6, 1 - 1e-6), truth.float())
        else:
            probs = torch.sigmoid(out["logits"].float())
            bce = bce_loss(out["logits"], truth)
        lovasz = lovasz_loss(probs, truth)
        pairs = [(e.e2, e.e1) for e in out["encodings"] if e.e1 is not None]
        cosine = torch.stack([cosine_similarity_loss(a, b) for a, b in pairs]).mean() if pairs else probs.sum() * 0
        loss = r.lovasz * lovasz + r.bce * bce + r.cosine * cosine
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        if self.ema is not None:
            with torch.no_grad():
                for name, p in self.model.named_parameters():
                    if name in self.ema:
                        self.ema[name].mul_(r.ema).add_(p.detach(), alpha=1 - r.ema)
        self.iteration += 1
        return {"loss": loss.item(), "lovasz": lovasz.item(), "bce": bce.item(), "cosine": cosine.item()}

    def train(self, *, max_minutes: float | None = None, max_iterations: int | None = None) -> Path | None:
        """Run until the recipe's iterations, `max_iterations` (this call) or `max_minutes` are reached.

        Returns:
            The path of final.pt when the recipe's iterations are complete, else None (resume later).
        """
        r = self.recipe
        start = time.monotonic()
        last_save = start
        window_start, window_iters = start, 0
        target = r.iterations if max_iterations is None else min(r.iterations, self.iteration + max_iterations)
        while self.iteration < target:
            if max_minutes is not None and time.monotonic() - start > 60 * max_minutes:
                break
            tic = time.monotonic()
            terms = self.step()
            self.elapsed += time.monotonic() - tic
            window_iters += 1
            now = time.monotonic()
            if self.world.main and (self.iteration % r.log_every == 0 or self.iteration == target):
                rate = window_iters / max(now - window_start, 1e-9)
                eta = (r.iterations - self.iteration) / max(rate, 1e-9)
                record = {
                    "iteration": self.iteration,
                    **terms,
                    "lr": self.scheduler.get_last_lr()[0],
                    "it_per_s": rate,
                    "eta_min": eta / 60,
                    "elapsed_min": self.elapsed / 60,
                }
                log.info(
                    "it %d  loss %.3f (lovasz %.4f, bce %.4f, cosine %.3f)  %.3f it/s  ETA %.0f min",
                    self.iteration,
                    terms["loss"],
                    terms["lovasz"],
                    terms["bce"],
                    terms["cosine"],
                    rate,
                    eta / 60,
                )
                append_log(self.out, record)
                window_start, window_iters = now, 0
            if now - last_save > 60 * r.checkpoint_minutes:
                self._save_state()
                last_save = now
        self._save_state()
        if self.iteration >= r.iterations:
            return self.export(self.out / FINAL_FILE)
        return None

    def export(self, path: Path) -> Path:
        """Write the inference checkpoint (heads only when the backbone is frozen, fp16); with `recipe.ema`
        the moving average of the weights, not the last step's; with `recipe.init_average` = t, the
        weights (1 - t) x trained + t x the --init weights (weight-space averaging of the two models)."""
        r = self.recipe
        metadata = {
            "recipe": json.loads(r.to_json()),
            "iterations": self.iteration,
            "train_minutes": round(self.elapsed / 60, 1),
            "world_size": self.world.size,
        }
        if not self.world.main:
            return path
        params = dict(self.model.named_parameters())
        shipped = {n: t.detach().clone() for n, t in (self.ema or {}).items()}  # the averaged weights ship
        if self.start is not None:
            share = r.init_average
            for n, t in self.start.items():
                shipped[n] = (1 - share) * shipped.get(n, params[n].detach()) + share * t.to(params[n].device)
        kept = {n: params[n].detach().clone() for n in shipped}
        with torch.no_grad():
            for n, t in shipped.items():
                params[n].copy_(t)
            try:
                save_checkpoint(self.model, path, include_backbone=not r.freeze_backbone, half=True, metadata=metadata)
            finally:
                for n, t in kept.items():
                    params[n].copy_(t)
        return path
