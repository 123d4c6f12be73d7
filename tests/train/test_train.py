"""Training: losses with known values, data samplers, recipes, exact resume, torchrun with two processes."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from llb_core.errors import LLBError
from llb_core.inference.aggregation import soft_aggregate
from llb_core.model import load_checkpoint
from llb_core.train import Trainer, load_recipe
from llb_core.train.data import SequenceSampler, SyntheticSampler, read_davis, stills_from
from llb_core.train.losses import cosine_similarity_loss, lovasz_loss
from llb_core.train.trainer import merged_probabilities
from tests.conftest import REPO_ROOT, SHARED_DATA

TINY = [
    "size=[64, 96]",
    "batch=2",
    "iterations=4",
    "synthetic_iterations=2",
    "log_every=1",
    "milestones=[3]",
    f'sources=[{{root="{SHARED_DATA / "davis2016"}", sequences=["camel", "cows"]}}]',
]


def test_lovasz_equals_the_jaccard_loss_on_hard_predictions():
    rng = np.random.default_rng(0)
    gt = torch.from_numpy(rng.random((2, 20, 30)) > 0.6).float()
    pred = torch.from_numpy(rng.random((2, 20, 30)) > 0.5).float()
    inter, union = (gt * pred).sum(), ((gt + pred) > 0).float().sum()
    torch.testing.assert_close(lovasz_loss(pred, gt), 1 - inter / union)
    assert lovasz_loss(gt, gt).item() == 0.0
    assert lovasz_loss(1 - gt, gt).item() == pytest.approx(1.0)
    soft = torch.full_like(gt, 0.5, requires_grad=True)
    lovasz_loss(soft, gt).backward()
    assert (soft.grad[gt > 0] < 0).all() and (soft.grad[gt == 0] >= 0).all()  # pushes towards the truth


def test_cosine_loss():
    a = torch.randn(2, 8, 4, 4)
    assert cosine_similarity_loss(a, a).item() == pytest.approx(1.0)
    assert cosine_similarity_loss(a, -a).item() == pytest.approx(-1.0)


def test_samplers_give_aligned_mini_sequences(shared_data):
    seqs = read_davis(SHARED_DATA / "davis2016", ["camel"])
    rng = np.random.default_rng(0)
    for sampler in (SequenceSampler(seqs, (64, 96)), SyntheticSampler(stills_from(seqs, 20), (64, 96))):
        images, masks = sampler.sample(rng)
        assert images.shape == (4, 3, 64, 96) and masks.shape == (4, 1, 64, 96)
        assert images.min() >= 0 and images.max() <= 1
        assert set(torch.unique(masks).tolist()) <= {0.0, 1.0} and masks[0].sum() > 0
    with pytest.raises(LLBError, match="no such sequence"):
        read_davis(SHARED_DATA / "davis2016", ["nope"])


def test_recipes_load_and_refuse_bad_settings():
    cpu = load_recipe("cpu-default")
    (source,) = cpu.sources
    assert cpu.variant == "llb" and not set(source.sequences) & set(cpu.validation_sequences)
    assert len(source.sequences) == 8 and len(cpu.validation_sequences) == 4
    assert load_recipe("paper").batch == 32
    assert load_recipe("cpu-default", ['variant="joint"', "iterations=7"]).iterations == 7
    with pytest.raises(LLBError, match="unknown settings"):
        load_recipe("cpu-default", ["colour=1"])
    with pytest.raises(LLBError, match="no such recipe"):
        load_recipe("gpu-fancy")
    with pytest.raises(LLBError, match="both the training and the validation"):
        load_recipe("cpu-default", ['validation_sequences=["camel"]'])
    with pytest.raises(LLBError, match="unknown source settings"):
        load_recipe("cpu-default", ['sources=[{root="x", wieght=2}]'])
    with pytest.raises(LLBError, match="sequences or exclude"):
        load_recipe("cpu-default", ['sources=[{root="x", sequences=["a"], exclude=["b"]}]'])
    with pytest.raises(LLBError, match="weight"):
        load_recipe("cpu-default", ['sources=[{root="x", weight=0}]'])


def test_resume_continues_exactly(shared_data, tmp_path):
    recipe = load_recipe("cpu-default", TINY)
    straight = Trainer(recipe, tmp_path / "a")
    assert straight.train() == tmp_path / "a" / "final.pt"
    half = Trainer(recipe, tmp_path / "b")
    assert half.train(max_iterations=2) is None
    resumed = Trainer(recipe, tmp_path / "b", resume=True)
    assert resumed.iteration == 2
    resumed.train()
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert straight.scheduler.get_last_lr() == resumed.scheduler.get_last_lr() == [recipe.lr * recipe.gamma]
    model = load_checkpoint(tmp_path / "a" / "final.pt", variant="llb")
    assert model.config.decoder_widths == recipe.decoder_widths
    log_lines = (tmp_path / "a" / "log.jsonl").read_text().splitlines()
    assert len(log_lines) == 4 and "it_per_s" in log_lines[0]
    with pytest.raises(LLBError, match="another recipe"):
        Trainer(recipe.replace(lr=1.0), tmp_path / "b", resume=True)


@pytest.mark.slow
def test_torchrun_with_two_processes_on_gloo(shared_data, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "llb_core",
        "train",
        "--out",
        str(tmp_path / "ddp"),
        "--iterations",
        "2",
    ]
    for item in TINY:
        cmd += ["--set", item]
    done = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    state = torch.load(tmp_path / "ddp" / "train_state.pt", weights_only=True)
    assert state["iteration"] == 2


def test_training_can_start_from_shipped_style_weights(shared_data, tmp_path):
    recipe = load_recipe("cpu-default", TINY)
    first = Trainer(recipe, tmp_path / "a")
    final = first.train()
    second = Trainer(recipe, tmp_path / "b", init_from=final)
    a, b = first.model.state_dict(), second.model.state_dict()
    for name in a:  # fp16 storage: close, not equal
        torch.testing.assert_close(b[name], a[name].to(b[name].dtype), rtol=2e-3, atol=1e-3)
    with pytest.raises(LLBError, match="config differs"):
        Trainer(recipe.replace(decoder_widths=(16, 16, 16, 16)), tmp_path / "c", init_from=final)
    # weights without the location prior start a run with it: the prior's input weights start at zero
    prior = Trainer(recipe.replace(location_prior=True, synthetic_iterations=0), tmp_path / "p", init_from=final)
    for name, tensor in prior.model.state_dict().items():
        if tensor.shape != a[name].shape:
            assert name.endswith("transform.0.weight") and float(tensor[:, -1].abs().sum()) == 0
            tensor = tensor[:, :-1]
        torch.testing.assert_close(tensor, a[name].to(tensor.dtype), rtol=2e-3, atol=1e-3)
    assert prior.train(max_iterations=1) is None and prior.iteration == 1


def test_ema_weights_are_exported_and_resume_exactly(shared_data, tmp_path):
    recipe = load_recipe("cpu-default", [*TINY, "ema=0.5", "synthetic_iterations=0"])
    straight = Trainer(recipe, tmp_path / "a")
    start = {n: p.detach().clone() for n, p in straight.model.named_parameters() if p.requires_grad}
    assert straight.train() == tmp_path / "a" / "final.pt"
    last = {n: p.detach().clone() for n, p in straight.model.named_parameters() if p.requires_grad}
    exported = load_checkpoint(straight.export(tmp_path / "again.pt"), variant="llb").state_dict()
    name = "decoder.head2.weight"
    assert not torch.equal(straight.ema[name], last[name]) and not torch.equal(straight.ema[name], start[name])
    torch.testing.assert_close(exported[name], straight.ema[name], rtol=2e-3, atol=1e-3)  # fp16 storage
    assert torch.equal(straight.model.state_dict()[name], last[name])  # the live weights are left alone
    half = Trainer(recipe, tmp_path / "b")
    half.train(max_iterations=2)
    resumed = Trainer(recipe, tmp_path / "b", resume=True)
    resumed.train()
    assert all(torch.equal(straight.ema[n], resumed.ema[n]) for n in straight.ema)
    with pytest.raises(LLBError, match=r"ema .* must lie in"):
        load_recipe("cpu-default", [*TINY, "ema=1.0"])


def test_init_average_exports_the_mean_of_trained_and_init_weights_and_resumes(shared_data, tmp_path):
    base = load_recipe("cpu-default", [*TINY, "synthetic_iterations=0", "iterations=2", "milestones=[1]"])
    init = Trainer(base, tmp_path / "init").train()
    recipe = base.replace(init_average=0.25)
    trainer = Trainer(recipe, tmp_path / "a", init_from=init)
    start = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    trainer.train()
    last = dict(trainer.model.named_parameters())
    exported = load_checkpoint(tmp_path / "a" / "final.pt", variant="llb").state_dict()
    name = "decoder.head2.weight"
    assert not torch.equal(last[name], start[name])
    torch.testing.assert_close(exported[name], 0.75 * last[name].detach() + 0.25 * start[name], rtol=2e-3, atol=1e-3)
    half = Trainer(recipe, tmp_path / "b", init_from=init)
    half.train(max_iterations=1)
    resumed = Trainer(recipe, tmp_path / "b", resume=True)  # the init weights come back from the run folder
    resumed.train()
    again = load_checkpoint(tmp_path / "b" / "final.pt", variant="llb").state_dict()
    torch.testing.assert_close(again[name], exported[name])
    with pytest.raises(LLBError, match="give --init"):
        Trainer(recipe, tmp_path / "c")
    with pytest.raises(LLBError, match=r"init_average .* must lie in"):
        load_recipe("cpu-default", [*TINY, "init_average=1.0"])


def test_merged_probabilities_share_one_distribution_per_paired_sample():
    logits = torch.tensor([2.0, -1.0, 0.5, -2.0, 3.0]).view(5, 1, 1, 1, 1).expand(5, 2, 1, 3, 3).clone()
    paired = torch.tensor([False, True, True])  # samples 1 and 2 have another object: rows 3 and 4
    probs = merged_probabilities(logits, paired)
    assert probs.shape == logits.shape
    torch.testing.assert_close(probs[0], torch.sigmoid(logits[0]))  # unpaired: the target alone
    expected = soft_aggregate(torch.stack([logits[1:3], logits[3:]]))
    torch.testing.assert_close(probs[1:3], expected[1])
    torch.testing.assert_close(probs[3:], expected[2])
    assert (probs[1:3] + probs[3:] < 1).all()  # target and other exclude each other; background keeps the rest
    assert probs[2, 0, 0, 0, 0] < torch.sigmoid(logits[2, 0, 0, 0, 0])  # a confident neighbour takes its pixel


def test_soft_aggregation_training_tracks_the_other_objects(shared_data, tmp_path, monkeypatch):
    multi = shared_data / "davis2017-multi"
    recipe = load_recipe(
        "cpu-default",
        [
            *TINY,
            "synthetic_iterations=0",
            "iterations=2",
            "milestones=[1]",
            f'sources=[{{root="{multi}", sequences=["schoolgirls"]}}]',
            "soft_aggregation=true",
        ],
    )
    trainer = Trainer(recipe, tmp_path / "run")
    batches = []
    forward = trainer.net.forward

    def spy(images, first, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        batches.append((images.shape[0], first.flatten(1).sum(1)))
        return forward(images, first, *args, **kwargs)

    monkeypatch.setattr(trainer.net, "forward", spy)
    terms = trainer.step()
    sequences, first_pixels = batches[0]
    assert sequences > recipe.batch  # schoolgirls: every sample's other girls are tracked as a second object
    assert (first_pixels > 0).all() and all(np.isfinite(v) for v in terms.values())
    plain = Trainer(recipe.replace(soft_aggregation=False), tmp_path / "plain")
    images, masks, others = plain._batch()
    assert others[:, 0].flatten(1).any(1).all() and plain.step()["loss"] > 0
