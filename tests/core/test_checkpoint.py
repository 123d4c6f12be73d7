"""Checkpoints: round trip per variant; anything that does not match is refused with a clear message."""

from __future__ import annotations

import json

import pytest
import torch

from llb_core.model import CheckpointError, LLBNet, create_model, get_config, load_checkpoint, save_checkpoint
from llb_core.model.checkpoint import FORMAT_VERSION
from llb_core.model.defaults import describe_shipped, shipped_models


def perturbed(variant: str) -> LLBNet:
    """A model whose head tensors differ from any fresh model's."""
    torch.manual_seed(1)
    model = create_model(variant)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.startswith("backbone."):
                p.add_(0.01 * torch.randn_like(p))
    return model.eval()


@pytest.mark.parametrize("variant", ["lwl", "joint", "llb"])
def test_round_trip(tmp_path, variant):
    model = perturbed(variant)
    path = save_checkpoint(model, tmp_path / f"{variant}.pt", metadata={"iterations": 7})
    loaded = load_checkpoint(path, variant=variant)
    assert loaded.config == model.config
    a, b = model.state_dict(), loaded.state_dict()
    assert set(a) == set(b)
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_half_precision_heads_only_file_is_small_and_close(tmp_path):
    model = perturbed("llb")
    full = save_checkpoint(model, tmp_path / "full.pt", include_backbone=True)
    half = save_checkpoint(model, tmp_path / "half.pt", half=True)
    assert half.stat().st_size < full.stat().st_size / 2
    loaded = load_checkpoint(half)
    for name, t in model.state_dict().items():
        assert loaded.state_dict()[name].dtype == t.dtype
        torch.testing.assert_close(loaded.state_dict()[name], t, rtol=2e-3, atol=1e-4)


def test_wrong_variant_and_backbone_are_refused(tmp_path):
    path = save_checkpoint(perturbed("joint"), tmp_path / "joint.pt")
    with pytest.raises(CheckpointError, match="holds a 'joint' model, but a 'llb' model was asked for"):
        load_checkpoint(path, variant="llb")
    with pytest.raises(CheckpointError, match="built on backbone 'mobilenet_v2', but 'resnet50'"):
        load_checkpoint(path, backbone="resnet50")


def test_missing_unexpected_and_misshaped_tensors_are_refused(tmp_path):
    model = perturbed("llb")
    path = save_checkpoint(model, tmp_path / "llb.pt")
    payload = torch.load(path, weights_only=True)
    cases = {
        "1 missing": lambda sd: sd.pop("decoder.head2.weight"),
        "1 unexpected": lambda sd: sd.__setitem__("extra.weight", torch.zeros(1)),
        "1 of the wrong shape": lambda sd: sd.__setitem__("learner.reg_sqrt", torch.zeros(2)),
    }
    for label, damage in cases.items():
        broken = {**payload, "state_dict": dict(payload["state_dict"])}
        damage(broken["state_dict"])
        torch.save(broken, tmp_path / "broken.pt")
        with pytest.raises(CheckpointError, match="tensors do not match") as err:
            load_checkpoint(tmp_path / "broken.pt")
        assert label in str(err.value)


def test_other_config_and_versions_are_refused(tmp_path):
    model = perturbed("llb")
    path = save_checkpoint(model, tmp_path / "llb.pt")
    payload = torch.load(path, weights_only=True)
    # A file whose tensors come from a model with another label dimension
    other = save_checkpoint(LLBNet(get_config("llb", label_dim=16)), tmp_path / "other.pt")
    swapped = {**torch.load(other, weights_only=True), "config": payload["config"]}
    torch.save(swapped, tmp_path / "swapped.pt")
    with pytest.raises(CheckpointError, match="of the wrong shape"):
        load_checkpoint(tmp_path / "swapped.pt")
    torch.save({**payload, "format_version": FORMAT_VERSION + 1}, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="format version"):
        load_checkpoint(tmp_path / "future.pt")
    config = json.loads(payload["config"])
    config["variant"] = "sam"
    torch.save({**payload, "config": json.dumps(config)}, tmp_path / "badcfg.pt")
    with pytest.raises(CheckpointError, match="unknown variant"):
        load_checkpoint(tmp_path / "badcfg.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "text.pt")
    torch.save(model.state_dict(), tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match="not an LLB checkpoint"):
        load_checkpoint(tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "absent.pt")


def test_save_is_atomic(tmp_path, monkeypatch):
    path = save_checkpoint(perturbed("lwl"), tmp_path / "model.pt")
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(perturbed("lwl"), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_shipped_models_are_described_with_their_backbone(tmp_path, monkeypatch):
    folder = tmp_path / "resources"
    (folder / "weights").mkdir(parents=True)
    save_checkpoint(create_model("lwl", pretrained_backbone=False), folder / "weights" / "default.pt")
    lite = create_model("lwl", backbone="efficientnet_lite2", location_prior=True, pretrained_backbone=False)
    save_checkpoint(lite, folder / "weights" / "lite.pt")
    (folder / "weights" / "broken.pt").write_bytes(b"not a checkpoint")
    monkeypatch.setenv("LLB_RESOURCES", str(folder))
    assert sorted(shipped_models()) == ["broken", "default", "lite"]
    assert describe_shipped("default").endswith("; MobileNetV2 backbone")
    lite_line = describe_shipped("lite")
    assert lite_line.startswith("lite: LWL") and lite_line.endswith("; EfficientNet-Lite2 backbone")
    assert describe_shipped("broken").startswith("broken: unreadable")
    assert describe_shipped("absent") == "absent: not installed"
