"""Clicks from scripts: a JSON file of clicks and boxes per object, turned into a keyframe mask.

The file (`llb propagate CLIP --mask clicks.json[:FRAME]`):
    {"objects": {"1": {"positive": [[x, y], ...], "negative": [[x, y], ...], "box": [x0, y0, x1, y1]},
                 "2": {...}}}
Pixels of the frame (x right, y down); each object needs a positive click or a box. The clicks are applied in
order, as a person would click them (each refines the last mask): the box first, then every positive click,
then every negative one. Where objects overlap, a pixel goes to the most confident.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llb_core.errors import LLBError
from llb_core.interactive.clicks import Box, Click
from llb_core.interactive.session import ClickSession
from llb_core.model.clicknet import ClickNet

FORMAT_HINT = '{"objects": {"1": {"positive": [[x, y]], "negative": [[x, y]], "box": [x0, y0, x1, y1]}}}'


class PromptError(LLBError):
    """A clicks file that cannot be used (its message names the file and the remedy)."""


@dataclass(frozen=True)
class ObjectPrompt:
    """One object's clicks (in the order they are applied) and optional box, in frame pixels."""

    clicks: tuple[Click, ...]
    box: Box | None = None


def _points(path: Path, obj: str, key: str, value: object) -> list[tuple[float, float]]:
    if not isinstance(value, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(v, int | float) for v in p) for p in value
    ):
        raise PromptError(f"{path}: object {obj}: {key!r} must be a list of [x, y] pixel pairs; expected {FORMAT_HINT}")
    return [(float(p[0]), float(p[1])) for p in value]


def read_prompts(path: str | os.PathLike, size: tuple[int, int]) -> dict[int, ObjectPrompt]:
    """The objects of a clicks file, checked against a frame of `size` (H, W).

    Raises:
        PromptError: unreadable or malformed file, ids outside 1..255, clicks outside the frame, an object
            with neither a positive click nor a box.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PromptError(f"{path}: not a readable clicks file ({err}); expected {FORMAT_HINT}") from err
    objects = data.get("objects") if isinstance(data, dict) else None
    if not isinstance(objects, dict) or not objects:
        raise PromptError(f'{path}: no "objects" table; expected {FORMAT_HINT}')
    h, w = size
    prompts: dict[int, ObjectPrompt] = {}
    for key, spec in objects.items():
        if not key.isdigit() or not 1 <= int(key) <= 255:
            raise PromptError(f"{path}: object id {key!r} must be a number from 1 to 255")
        if not isinstance(spec, dict) or set(spec) - {"positive", "negative", "box"}:
            raise PromptError(f"{path}: object {key}: give only positive, negative and box; expected {FORMAT_HINT}")
        positive = _points(path, key, "positive", spec.get("positive", []))
        negative = _points(path, key, "negative", spec.get("negative", []))
        box = spec.get("box")
        if box is not None and (
            not isinstance(box, list)
            or len(box) != 4
            or not all(isinstance(v, int | float) for v in box)
            or not (box[0] < box[2] and box[1] < box[3])
        ):
            raise PromptError(f"{path}: object {key}: box must be [x0, y0, x1, y1] with x0 < x1 and y0 < y1")
        outside = [p for p in positive + negative if not (0 <= p[0] < w and 0 <= p[1] < h)]
        if outside:
            raise PromptError(f"{path}: object {key}: click {list(outside[0])} lies outside the {w}x{h} frame")
        if not positive and box is None:
            raise PromptError(f"{path}: object {key}: give at least one positive click or a box")
        clicks = tuple(Click(x, y, True) for x, y in positive) + tuple(Click(x, y, False) for x, y in negative)
        prompts[int(key)] = ObjectPrompt(clicks, None if box is None else tuple(float(v) for v in box))  # type: ignore[arg-type]
    return prompts


def object_probability(session: ClickSession, prompt: ObjectPrompt) -> np.ndarray:
    """One object's probability (H, W) float32: its box, then its clicks one at a time."""
    session.reset()
    prob = np.zeros(session.size, np.float32)
    if prompt.box is not None:
        prob = session.probability([], prompt.box)
    for k in range(1, len(prompt.clicks) + 1):
        prob = session.probability(list(prompt.clicks[:k]), prompt.box)
    return prob


def mask_from_prompts(model: ClickNet, frame: np.ndarray, prompts: dict[int, ObjectPrompt]) -> np.ndarray:
    """The index mask (H, W) uint8 of `prompts` on (H, W, 3) uint8 RGB `frame` (the frame's features are
    computed once for all objects)."""
    session = ClickSession(model, frame)
    ids = sorted(prompts)
    probs = np.stack([object_probability(session, prompts[i]) for i in ids])  # (N, H, W)
    best = probs.argmax(axis=0)
    mask = np.asarray(ids, np.uint8)[best]
    mask[probs.max(axis=0) <= 0.5] = 0
    return mask


def segment(
    frame: np.ndarray,
    positive: list[tuple[float, float]] = (),  # type: ignore[assignment]
    negative: list[tuple[float, float]] = (),  # type: ignore[assignment]
    box: Box | None = None,
    model: ClickNet | None = None,
) -> np.ndarray:
    """One object's mask (H, W) bool on (H, W, 3) uint8 RGB `frame` from clicks and/or a box (the shipped
    click model unless `model` is given). For many clicks on one frame, keep a `ClickSession` instead."""
    from llb_core.interactive.session import load_click_model

    clicks = tuple(Click(x, y, True) for x, y in positive) + tuple(Click(x, y, False) for x, y in negative)
    if not clicks and box is None:
        raise ValueError("give at least one positive click or a box")
    session = ClickSession(model or load_click_model(), frame)
    return object_probability(session, ObjectPrompt(clicks, box)) > 0.5
