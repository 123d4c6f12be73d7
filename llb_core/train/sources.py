"""A recipe's training data: its sources read, weighted and checked against the validation split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llb_core.errors import LLBError
from llb_core.train.data import Sequence, SequenceSampler, SyntheticSampler, read_davis, read_stills, stills_from
from llb_core.train.recipe import Recipe


@dataclass
class TrainingData:
    """The samplers of a run and where their data came from.

    Attributes:
        real: stage-2 sampler over every source's sequences, weighted by source.
        synthetic: stage-1 sampler over the still pool.
        still_origins: one label per still of `synthetic` ("<stills root>/<n>" or "<source root>:<seq>").
    """

    real: SequenceSampler
    synthetic: SyntheticSampler
    still_origins: list[str]


def read_sources(recipe: Recipe) -> tuple[list[Sequence], list[float], list[str]]:
    """Every source's sequences, one sampling weight per sequence and the root each came from.

    A source's weight is shared equally by its sequences, so sources are drawn by weight whatever their size.

    Raises:
        LLBError: unreadable sources, or a validation sequence among the training sequences.
    """
    sequences: list[Sequence] = []
    weights: list[float] = []
    roots: list[str] = []
    validation = set(recipe.validation_sequences)
    for source in recipe.sources:
        read = read_davis(
            source.root, list(source.sequences) or None, exclude=list(source.exclude), resolution=source.resolution
        )
        leaked = sorted({s.name for s in read} & validation)
        if leaked:
            raise LLBError(
                f"{source.root}: the validation sequences {leaked} would be trained on; "
                "list them in the source's exclude or name its sequences"
            )
        if not read:
            raise LLBError(f"{source.root}: no sequences left to train on")
        sequences += read
        weights += [source.weight / len(read)] * len(read)
        roots += [source.root] * len(read)
    return sequences, weights, roots


def build_training_data(recipe: Recipe) -> TrainingData:
    """Read a recipe's sources and stills into the stage-1 and stage-2 samplers.

    Stills: every image of the recipe's `stills` folders, plus every `still_every`-th annotated frame of the
    training sequences (one still per object) when `still_every` > 0.
    """
    sequences, weights, roots = read_sources(recipe)
    uniform = len(set(np.round(weights, 12))) == 1
    real = SequenceSampler(
        sequences,
        recipe.size,
        recipe.frames_per_sample,
        recipe.window,
        weights=None if uniform else weights,
        twin_probability=recipe.twin_probability,
        stranger_probability=recipe.stranger_probability,
        track_twins=recipe.track_twins,
    )
    stills = []
    origins: list[str] = []
    for folder in recipe.stills:
        read = read_stills(folder)
        stills += read
        origins += [f"{folder}/{i}" for i in range(len(read))]
    if recipe.still_every > 0:
        for seq, root in zip(sequences, roots, strict=True):
            read = stills_from([seq], recipe.still_every)
            stills += read
            origins += [f"{root}:{seq.name}"] * len(read)
    if not stills:
        raise LLBError("recipe: no stills for stage 1; give stills folders or still_every > 0")
    return TrainingData(real, SyntheticSampler(stills, recipe.size, recipe.frames_per_sample), origins)
