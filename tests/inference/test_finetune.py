"""Test-time fine-tuning: a tuned copy (the person's model unchanged), cached by keyframe content, used by runs."""

from __future__ import annotations

import numpy as np
import torch

from llb_core.inference import SessionSettings
from llb_core.inference.finetune import FinetuneSettings, finetuned, stills_of
from llb_core.model import create_model


def _heads(model) -> dict[str, torch.Tensor]:  # noqa: ANN001
    return {n: t.clone() for n, t in model.state_dict().items() if not n.startswith("backbone.")}


def test_a_tuned_copy_leaves_the_model_alone_and_is_cached(dog):
    frames, masks = dog
    torch.manual_seed(0)
    model = create_model("lwl", decoder_widths=(32, 16, 16, 8)).eval()
    before = _heads(model)
    examples = [(frames.read(0), masks[0].astype(np.uint8))]
    settings = FinetuneSettings(steps=2, size=(64, 112))
    tuned = finetuned(model, examples, settings)
    assert tuned is not model and not any(p.requires_grad for p in tuned.parameters())
    after = _heads(model)
    assert all(torch.equal(before[n], after[n]) for n in before)  # the person's model is unchanged
    changed = _heads(tuned)
    assert any(not torch.equal(before[n], changed[n]) for n in before)  # the copy learned something
    assert finetuned(model, examples, settings) is tuned  # same keyframes: no second tuning
    other = [(frames.read(1), masks[1].astype(np.uint8))]
    assert finetuned(model, other, settings) is not tuned
    assert finetuned(model, examples, FinetuneSettings(steps=0)) is model
    assert (
        finetuned(model, [(frames.read(0), np.zeros_like(masks[0], np.uint8))], settings) is model
    )  # nothing to learn


def test_stills_are_one_per_visible_object():
    image = np.zeros((40, 40, 3), np.uint8)
    mask = np.zeros((40, 40), np.uint8)
    mask[:20, :20] = 1
    mask[25:, 25:] = 3
    mask[0, 39] = 2  # one pixel: too small to learn from
    stills = stills_of([(image, mask)])
    assert [int(m.sum()) for _, m in stills] == [400, 225]


def test_runs_use_the_tuned_copy(dog, monkeypatch):
    from llb_core.inference import finetune
    from tests.inference.test_session import Clip

    frames, masks = dog
    model = create_model("lwl", decoder_widths=(32, 16, 16, 8)).eval()
    tuned_models, segmented = [], []
    original = finetune._tune

    def spy(*args):  # noqa: ANN002, ANN202
        tuned = original(*args)
        decode = tuned.decode  # the engine decodes each frame through the run's runner (PyTorch for a tuned copy)
        monkeypatch.setattr(tuned, "decode", lambda *a: segmented.append(1) or decode(*a))
        tuned_models.append(tuned)
        return tuned

    monkeypatch.setattr(finetune, "_tune", spy)
    settings = SessionSettings(resolution=128, mode="full", finetune_steps=1, precision="fp32")
    clip = Clip(frames, model, settings)
    clip.key(0, masks[0])
    clip.run(0, stop_at=2)
    assert len(tuned_models) == 1 and len(segmented) == 2  # frames 1 and 2 come from the tuned copy
    clip.run(0, stop_at=2)  # the same keyframe again: cached
    assert len(tuned_models) == 1 and len(segmented) == 4
