"""The variant registry and the JointFormer variant: shapes, the memory token's update path, the four
propagation modes, strict checkpoints, a few training iterations on real frames, the engine."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from llb_core.errors import LLBError
from llb_core.model import (
    CheckpointError,
    LLBNet,
    VariantSpec,
    build_model,
    create_model,
    get_config,
    load_checkpoint,
    save_checkpoint,
    variant_names,
)
from llb_core.model import config as config_module
from llb_core.model.config import REFERENCE_MODES
from llb_core.model.jointformer import MEMORY_FROM_DECODER_BLOCKS, JointFormerNet
from llb_core.train import Trainer, load_recipe
from tests.conftest import SHARED_DATA, load_davis_frame

SMALL = {"token_dim": 32, "heads": 2, "joint_blocks": 3, "decoder_widths": (32, 16, 16, 16)}


def small(mode: str = "self", **overrides: object) -> JointFormerNet:
    model = create_model("jointformer", pretrained_backbone=False, reference_mode=mode, **{**SMALL, **overrides})
    assert isinstance(model, JointFormerNet)
    return model.eval()


def test_registry_builds_every_variant_by_its_spec():
    assert {"lwl", "joint", "llb", "jointformer"} <= set(variant_names())
    for name in variant_names():
        config = get_config(name)
        assert config.variant == name
        assert type(build_model(config)) is config.spec.model_class()
    with pytest.raises(ValueError, match="choose one of"):
        get_config("jointformer2")


def test_a_new_variant_is_one_registration(monkeypatch, tmp_path):
    """A variant registered from outside works with config, model building and checkpoints, with no list to edit."""
    spec = VariantSpec("lwl-wide", "test: LWL with D = 24", "llb_core.model.llbnet:LLBNet", {"label_dim": 24})
    monkeypatch.setitem(config_module._REGISTRY, spec.name, spec)
    model = create_model("lwl-wide", pretrained_backbone=False)
    assert isinstance(model, LLBNet) and model.config.label_dim == 24 and model.config.fusion == "none"
    save_checkpoint(model, tmp_path / "w.pt", include_backbone=True)
    assert load_checkpoint(tmp_path / "w.pt", variant="lwl-wide").config == model.config
    with pytest.raises(ValueError, match="already registered"):
        config_module.register_variant(dataclasses.replace(spec, summary="other"))


@pytest.mark.parametrize("mode", REFERENCE_MODES)
def test_forward_shapes_and_gradients_in_every_reference_mode(mode):
    model = small(mode)
    model.freeze_backbone()
    model.train()
    images = torch.rand(2, 3, 3, 64, 96)
    first = torch.zeros(2, 1, 64, 96)
    first[..., 16:48, 24:72] = 1
    out = model(images, first)
    logits = out["logits"]
    assert logits.shape == (2, 2, 1, 64, 96) and torch.isfinite(logits).all() and out["encodings"] == []
    logits.mean().backward()
    block = model.blocks[-1]
    assert block.attn.q.weight.grad is not None and block.memory_attn.q.weight.grad is not None
    assert model.mask_embed[0].weight.grad is not None and model.memory_init.grad is not None
    assert all(p.grad is None for p in model.backbone.parameters())


def _frame_refs(model: JointFormerNet, n: int = 2) -> tuple:
    torch.manual_seed(0)
    image = torch.rand(1, 3, 64, 96)
    mask = torch.zeros(1, 1, 64, 96)
    mask[..., 10:40, 20:60] = 1
    frame = model.encode_frame(image)
    refs = model.encode_reference(frame, mask)
    assert refs.shape == (1, 4 * 6, model.config.token_dim)  # (1, L, T) on the stride-16 grid
    return frame, refs[:, None].expand(-1, n, -1, -1)


@torch.no_grad()
def test_memory_token_reads_decoder_tokens_first_then_references(monkeypatch):
    model = small("references")
    frame, refs = _frame_refs(model)
    state = model.prepare_references(refs)
    assert state.per_block is not None and len(state.per_block) == 3  # cached: references never see current
    memory = model.new_memory(1)
    logits, memory1, tokens = model.segment(frame, state, memory, None)
    assert logits.shape == (1, 1, 64, 96) and memory1.shape == (1, 1, 32) and tokens.shape == (1, 24, 32)
    assert not torch.equal(memory1, memory)  # updated inside the blocks
    sources = []
    for i, block in enumerate(model.blocks):
        original = block.memory
        monkeypatch.setattr(block, "memory", lambda m, s, i=i, f=original: sources.append((i, s)) or f(m, s))
    model.segment(frame, state, memory1, tokens)
    for i, source in sources:
        expected = tokens if i < MEMORY_FROM_DECODER_BLOCKS else state.per_block[i]
        assert source is expected
    # the memory token changes the enhanced current tokens, hence the logits, and never the references
    before = [t.clone() for t in state.per_block]
    other, _, _ = model.segment(frame, state, memory1 + 1.0, tokens)
    assert not torch.allclose(other, model.segment(frame, state, memory1, tokens)[0])
    assert all(torch.equal(a, b) for a, b in zip(before, state.per_block, strict=True))


@torch.no_grad()
def test_references_see_the_current_frame_only_in_the_current_modes():
    for mode in REFERENCE_MODES:
        model = small(mode)
        frame, refs = _frame_refs(model)
        state = model.prepare_references(refs)
        other = model.encode_frame(torch.rand(1, 3, 64, 96))
        if mode.endswith("+current"):
            assert state.per_block is None  # recomputed with each frame
        else:
            assert state.per_block is not None
            # the cached reference stream is the same whatever frame is segmented next
            model.segment(other, state, model.new_memory(1), None)
            again = model.prepare_references(refs)
            assert all(torch.equal(a, b) for a, b in zip(again.per_block, state.per_block, strict=True))
        assert torch.isfinite(model.segment(frame, state, model.new_memory(1), None)[0]).all()


def test_checkpoint_round_trip_is_strict(tmp_path):
    model = small()
    path = save_checkpoint(model, tmp_path / "jf.pt", include_backbone=True)
    loaded = load_checkpoint(path, variant="jointformer")
    assert isinstance(loaded, JointFormerNet) and loaded.config == model.config
    frame, refs = _frame_refs(model)
    with torch.no_grad():
        a = model.segment(frame, model.prepare_references(refs), model.new_memory(1), None)[0]
        frame2, refs2 = _frame_refs(loaded)
        b = loaded.segment(frame2, loaded.prepare_references(refs2), loaded.new_memory(1), None)[0]
    torch.testing.assert_close(a, b)
    with pytest.raises(CheckpointError, match="'jointformer' model, but a 'lwl'"):
        load_checkpoint(path, variant="lwl")
    with pytest.raises(CheckpointError, match="unknown model variant"):
        load_checkpoint(path, variant="jointformr")
    payload = torch.load(path, weights_only=True)
    del payload["state_dict"]["memory_init"]
    torch.save(payload, tmp_path / "broken.pt")
    with pytest.raises(CheckpointError, match="1 missing"):
        load_checkpoint(tmp_path / "broken.pt")


def test_a_few_training_iterations_on_real_frames(shared_data, tmp_path):
    recipe = load_recipe(
        "jointformer",
        [
            "size=[64, 96]",
            "batch=2",
            "iterations=3",
            "log_every=1",
            "milestones=[2]",
            "token_dim=32",
            "joint_blocks=2",
            f'sources=[{{root="{SHARED_DATA / "davis2016"}", sequences=["camel", "cows"]}}]',
        ],
    )
    trainer = Trainer(recipe, tmp_path / "run")
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    final = trainer.train()
    assert final is not None
    after = dict(trainer.model.named_parameters())
    assert all(not torch.equal(before[n], after[n].detach()) for n in ("memory_init", "blocks.0.attn.q.weight"))
    model = load_checkpoint(final, variant="jointformer")
    assert model.config.joint_blocks == 2 and model.config.reference_mode == "self"
    # the other recipes take the variant too
    assert load_recipe("cpu-default", ['variant="jointformer"']).variant == "jointformer"
    assert load_recipe("paper", ['variant="jointformer"']).variant == "jointformer"
    with pytest.raises(LLBError, match="unknown variant"):
        load_recipe("cpu-default", ['variant="jointformr"'])


def test_training_starts_from_another_variant_sharing_the_decoder(shared_data, tmp_path):
    source = create_model("lwl", pretrained_backbone=False, decoder_widths=(32, 16, 16, 16), location_prior=True)
    path = save_checkpoint(source, tmp_path / "lwl.pt")
    recipe = load_recipe(
        "jointformer",
        [
            "decoder_widths=[32, 16, 16, 16]",
            "token_dim=32",
            f'sources=[{{root="{SHARED_DATA / "davis2016"}", sequences=["camel"]}}]',
        ],
    )
    trainer = Trainer(recipe, tmp_path / "run", init_from=path)
    for name, tensor in load_checkpoint(path).state_dict().items():
        if name.startswith("decoder."):
            torch.testing.assert_close(trainer.model.state_dict()[name], tensor)
    # without the prior: every decoder weight but the prior's input column
    plain = Trainer(recipe.replace(location_prior=False), tmp_path / "plain", init_from=path)
    for name, tensor in load_checkpoint(path).state_dict().items():
        if name.startswith("decoder."):
            mine = plain.model.state_dict()[name]
            torch.testing.assert_close(mine, tensor if mine.shape == tensor.shape else tensor[:, :-1])


def test_engine_propagates_a_real_clip_with_bounded_memory(shared_data):
    from llb_core.inference import Session, SessionSettings
    from llb_core.io import ObjectSpec
    from llb_core.workspace import ClipState, DetachedClip, propagate_clip
    from tests.inference.conftest import ArrayFrames

    pairs = [load_davis_frame("dog", i) for i in range(10)]
    frames = ArrayFrames([p[0] for p in pairs])
    settings = SessionSettings(resolution=128, memory_interval=2, memory_capacity=4, transformer_samples=2)
    state = ClipState(DetachedClip(frames.num_frames, frames.size, [ObjectSpec.default(1)]))
    state.apply(state.edit(0, pairs[0][1].astype(np.uint8), [1], settings.keyframes_in_memory))
    model = small()
    session = Session(frames, model, state, settings)
    seen = []
    tracks = []
    original = model.prepare_references
    model.prepare_references = lambda refs: tracks.append(refs.shape) or original(refs)  # type: ignore[method-assign]
    report = propagate_clip(state, session, None, start=0, direction="forward", on_frame=lambda r: seen.append(r.frame))
    assert seen == list(range(1, 10)) and report.frames == 9
    assert all(state.mask(f).shape == (480, 854) for f in seen)
    assert max(shape[1] for shape in tracks) == 2  # never more references than transformer_samples


@torch.no_grad()
def test_forward_on_real_frames_at_full_size_and_under_bf16(shared_data):
    from tests.core.test_model import real_clip

    model = small()
    images, mask = real_clip("dog", 3)
    out = model(images, mask)["logits"]
    assert out.shape == (1, 2, 1, 480, 854) and torch.isfinite(out).all()  # 854 padded to 864, cropped back
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = model(images, mask)["logits"]
    assert torch.isfinite(low).all()
    assert (torch.sigmoid(low.float()) - torch.sigmoid(out)).abs().mean() < 0.05
