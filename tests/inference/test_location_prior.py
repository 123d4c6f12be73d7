"""The location prior: the decoder's extra input, widening prior-free weights, simulated priors in
training, and the engine handing each object its previous frame's mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llb_core.inference import SessionSettings
from llb_core.model import LLBNet, add_location_prior, create_model
from llb_core.train.augment import object_box
from llb_core.train.prior import PriorNoise, simulate_prior, simulate_priors

SMALL = {"decoder_widths": (32, 16, 16, 8), "pretrained_backbone": False}


def _pair() -> tuple[LLBNet, LLBNet]:
    torch.manual_seed(0)
    source = create_model("lwl", **SMALL).eval()
    model = create_model("lwl", location_prior=True, **SMALL).eval()
    add_location_prior(model, source)
    return source, model


def _prior_weights(model: LLBNet) -> list[torch.Tensor]:
    return [level.transform[0].weight[:, -1].detach() for level in model.decoder.levels.values()]


def test_widened_weights_give_the_source_logits_until_trained():
    source, model = _pair()
    images = torch.rand(1, 3, 3, 64, 96)
    mask = torch.zeros(1, 1, 64, 96)
    mask[..., 20:40, 30:60] = 1
    priors = torch.rand(1, 2, 1, 64, 96)
    with torch.no_grad():
        a = source(images, mask)["logits"]
        b = model(images, mask, priors)["logits"]
        c = model(images, mask)["logits"]  # no prior: zeros
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, c)
    assert all(float(w.abs().sum()) == 0 for w in _prior_weights(model))
    with pytest.raises(ValueError, match="must lack the prior"):
        add_location_prior(source, model)


def test_the_prior_reaches_the_logits_and_is_trained():
    _, model = _pair()
    model.train()
    images = torch.rand(2, 3, 3, 64, 96)
    mask = torch.zeros(2, 1, 64, 96)
    mask[..., 10:30, 20:50] = 1
    priors = torch.zeros(2, 2, 1, 64, 96)
    priors[..., 30:60, 50:90] = 1
    out = model(images, mask, priors)["logits"]
    out.mean().backward()
    assert all(w.grad is not None for w in [lv.transform[0].weight for lv in model.decoder.levels.values()])
    assert any(float(lv.transform[0].weight.grad[:, -1].abs().sum()) > 0 for lv in model.decoder.levels.values())
    with torch.no_grad():
        for w in _prior_weights(model):
            w.fill_(0.5)
        frame = model.encode_frame(images[:, 1])
        target = torch.randn(2, model.config.label_dim, 4, 6)
        here = model.decode(frame, target, priors[:, 0])
        there = model.decode(frame, target, torch.roll(priors[:, 0], 40, dims=-1))
    assert (here - there).abs().max() > 1e-3


def test_models_without_the_prior_ignore_it():
    source, _ = _pair()
    frame = source.encode_frame(torch.rand(1, 3, 64, 96))
    target = torch.randn(1, source.config.label_dim, 4, 6)
    with torch.no_grad():
        torch.testing.assert_close(source.decode(frame, target), source.decode(frame, target, torch.ones(1, 1, 64, 96)))
    with pytest.raises(ValueError, match="without a location prior"):
        source.decoder(frame.levels, target, (64, 96), torch.ones(1, 1, 64, 96))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_simulated_priors_stay_near_the_object_with_the_documented_faults():
    mask = np.zeros((128, 224), np.uint8)
    mask[40:90, 80:140] = 1
    rng = np.random.default_rng(0)
    priors = [simulate_prior(mask, rng) for _ in range(300)]
    assert all(p.shape == mask.shape and p.dtype == np.float32 and p.min() >= 0 and p.max() <= 1 for p in priors)
    empty = sum(float(p.max()) == 0 for p in priors)
    assert 5 <= empty <= 50  # the object lost on the previous frame: about 8 %
    ious = [_iou(p > 0.5, mask > 0) for p in priors if p.max() > 0]
    assert np.median(ious) > 0.5 and min(ious) < 0.9  # near the object, never a copy of it
    centre = object_box(mask)
    shifts = [np.hypot(*(np.subtract(object_box(p > 0.5)[:2], centre[:2]))) for p in priors if (p > 0.5).any()]
    assert np.median(shifts) < 12  # 0.2 of the box per axis at most, plus leaks
    exact = simulate_prior(mask, rng, PriorNoise(0, 0, 0, 0, 0, 0, 0, 0.3))
    assert _iou(exact > 0.5, mask > 0) > 0.95
    assert simulate_prior(np.zeros_like(mask), rng).max() == 0
    batch = simulate_priors(torch.from_numpy(np.stack([mask] * 4)).float()[None, :, None], rng)
    assert batch.shape == (1, 3, 1, 128, 224)


def test_the_engine_hands_each_object_its_last_mask(dog, monkeypatch):
    from tests.inference.test_session import Clip

    frames, masks = dog
    _, model = _pair()
    model.load_backbone()
    seen: list[torch.Tensor | None] = []
    original = model.decode  # what the engine's PyTorch runner calls for each object on each frame

    def spy(frame, target, prior=None):  # noqa: ANN001, ANN202
        seen.append(None if prior is None else prior.float().clone())
        return original(frame, target, prior)

    monkeypatch.setattr(model, "decode", spy)
    settings = SessionSettings(resolution=128, mode="full", memory_interval=3, precision="fp32")
    clip = Clip(frames, model, settings)
    clip.key(0, masks[0])
    clip.run(0, stop_at=3)
    assert len(seen) == 3 and all(p is not None for p in seen)
    first = seen[0][0, 0].numpy()
    small = torch.nn.functional.interpolate(
        torch.from_numpy(masks[0]).float()[None, None], size=first.shape, mode="area"
    )[0, 0].numpy()
    assert np.abs(first - small).mean() < 0.02  # frame 1's prior is frame 0's annotation
    assert not torch.equal(seen[1], seen[0])  # frame 2's prior is frame 1's merged probability


def test_the_prior_follows_the_flow_to_where_the_object_went():
    from llb_core.inference.motion import PriorWarp

    rng = np.random.default_rng(0)
    texture = (rng.random((120, 200, 3)) * 255).astype(np.uint8)
    texture = np.asarray(torch.nn.functional.avg_pool2d(torch.from_numpy(texture).permute(2, 0, 1).float(), 3, 1, 1))
    first = np.ascontiguousarray(texture.transpose(1, 2, 0)).astype(np.uint8)
    second = np.roll(first, (6, 10), axis=(0, 1))  # everything moves 10 px right, 6 px down
    prob = torch.zeros(120, 200)
    prob[40:70, 60:100] = 1
    warp = PriorWarp((120, 200), short_side=120)
    warp.step(first)
    assert torch.equal(warp.warp(prob), prob)  # nothing to follow before the second frame
    warp.step(second)
    moved = warp.warp(prob)
    ys, xs = np.nonzero(moved.numpy() > 0.5)
    assert abs(ys.mean() - 60.5) < 2 and abs(xs.mean() - 89.5) < 2  # the blob's centre moved with the frame
