"""LLBNet variants on real frames: shapes, strides, fusion, caching and gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from llb_core.model import LLBNet, create_model, get_config, variant_names
from llb_core.model.fusion import GatedFusion, SumFusion
from tests.conftest import load_davis_frame


def real_clip(sequence: str, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(1, count, 3, 480, 854) frames in [0, 1] and (1, 1, 480, 854) first mask."""
    frames, masks = zip(*(load_davis_frame(sequence, i) for i in range(count)), strict=True)
    images = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float()[None] / 255
    return images, torch.from_numpy(masks[0]).float()[None, None]


@pytest.fixture(scope="module")
def models() -> dict[str, LLBNet]:
    return {name: create_model(name).eval() for name in variant_names()}


@pytest.mark.parametrize("variant", ["lwl", "joint", "llb"])
def test_forward_on_real_frames(shared_data, models, variant):
    model = models[variant]
    images, mask = real_clip("dog", 3)
    with torch.no_grad():
        frame = model.encode_frame(images[:, 0])
        out = model(images, mask)
    # 854 is padded to 864 (a multiple of 16 for the dilated backbone); logits are cropped back.
    assert {k: tuple(v.shape[-2:]) for k, v in frame.levels.items()} == {
        "layer1": (120, 216),
        "layer2": (60, 108),
        "layer3": (30, 54),
        "layer4": (30, 54),
    }
    assert frame.induction.shape == (1, 512, 30, 54)
    rms = frame.induction.pow(2).mean().sqrt().item()
    assert math.isclose(rms, math.sqrt(1 / (512 * 9)), rel_tol=1e-3)
    assert (frame.transformer is None) == (variant == "lwl")
    logits = out["logits"]
    assert logits.shape == (1, 2, 1, 480, 854)
    assert torch.isfinite(logits).all()
    enc = out["encodings"][0]
    assert enc.e2.shape == enc.w.shape == (1, model.config.label_dim, 30, 54)
    assert (enc.e1 is None) == (variant == "lwl")
    torch.testing.assert_close(enc.w, torch.ones_like(enc.w))  # W starts at one everywhere


def test_variants_are_built_as_documented(models):
    assert isinstance(models["llb"].fusion, GatedFusion)
    assert isinstance(models["joint"].fusion, SumFusion)
    assert models["lwl"].fusion is None and models["lwl"].transduction is None
    assert models["llb"].config.label_dim == 32 and models["joint"].config.label_dim == 16


def test_gates_lie_in_the_open_unit_interval_and_joint_sums():
    torch.manual_seed(0)
    fusion = GatedFusion(dim=8)
    e1, e2 = torch.randn(2, 8, 5, 5) * 5, torch.randn(2, 8, 5, 5) * 5
    for gate in fusion.gates(e1, e2):
        assert gate.min() > 0 and gate.max() < 1
    g1, g2 = fusion.gates(e1, e2)
    torch.testing.assert_close(fusion(e1, e2), g1 * e1 + g2 * e2)
    assert torch.equal(SumFusion()(e1, e2), e1 + e2)


def test_cached_memory_encoding_gives_the_same_logits(shared_data, models):
    model = models["llb"]
    images, mask = real_clip("camel", 2)
    with torch.no_grad():
        f0, f1 = model.encode_frame(images[:, 0]), model.encode_frame(images[:, 1])
        label = model.encode_label(images[:, 0], mask)
        tau = model.fit(f0.induction[None], label.e2[None], label.w[None], torch.ones(1, 1), iterations=20)
        keys = model.encode_memory(f0.transformer[:, None])
        values = label.e1[:, None]
        first = model.segment(f1, tau, keys, values)
        again = model.segment(f1, tau, keys, values)  # reuses the cached keys
        fresh = model.segment(f1, tau, model.encode_memory(f0.transformer[:, None]), values)
    assert torch.equal(first, again)
    torch.testing.assert_close(first, fresh)


def test_gradients_reach_label_encoder_transformer_and_lambda():
    torch.manual_seed(0)
    model = LLBNet(get_config("llb"))  # random backbone: gradients, not accuracy
    model.freeze_backbone()
    model.train()
    images = torch.rand(2, 3, 3, 64, 96)
    mask = (torch.rand(2, 1, 64, 96) > 0.5).float()
    out = model(images, mask)
    loss = out["logits"].sigmoid().mean() + out["encodings"][0].e2.mean()
    loss.backward()
    for name in (
        "label_encoder.e2_head.0.weight",
        "label_encoder.w_head.weight",
        "label_encoder.e1_head.0.weight",
        "transduction.self_attention.proj.weight",
        "transduction.cross_proj.weight",
        "learner.reg_sqrt",
        "fusion.gate1.0.weight",
        "induction_adapter.weight",
    ):
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name
    assert all(p.grad is None for p in model.backbone.parameters())
    bn = model.backbone.features[0][1]
    assert not bn.training  # BatchNorm stays frozen in training mode


def test_resnet50_backbone_variant_runs():
    torch.manual_seed(0)
    model = create_model("llb", backbone="resnet50", pretrained_backbone=False).eval()
    assert model.backbone.channels["layer4"] == 2048 and model.backbone.strides["layer4"] == 16
    images, mask = torch.rand(1, 3, 3, 64, 80), (torch.rand(1, 1, 64, 80) > 0.5).float()
    with torch.no_grad():
        logits = model(images, mask)["logits"]
    assert logits.shape == (1, 2, 1, 64, 80) and torch.isfinite(logits).all()


def test_bf16_autocast_matches_fp32(shared_data, models):
    model = models["llb"]
    images, mask = real_clip("dog", 2)
    with torch.no_grad():
        ref = model(images, mask)["logits"]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = model(images, mask)["logits"].float()
    agree = ((ref > 0) == (low > 0)).float().mean()
    assert agree > 0.98


@pytest.mark.parametrize("backbone", ["mobilenet_v2", "efficientnet_lite2"])
def test_folding_batchnorm_keeps_the_outputs(shared_data, backbone):
    images, mask = real_clip("camel", 1)
    model = create_model("llb", backbone=backbone).eval()
    with torch.no_grad():
        before = model.encode_frame(images[:, 0])
        model.fuse_for_inference()
        after = model.encode_frame(images[:, 0])
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.backbone.modules())
    for name in before.levels:
        torch.testing.assert_close(after.levels[name], before.levels[name], rtol=1e-3, atol=1e-3)  # float rounding
    with pytest.raises(RuntimeError, match="fused for inference"):
        model.train()
