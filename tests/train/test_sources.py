"""Training data: any resolution folder, recipes mixing sources, per-object samples with distractors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from llb_core.errors import LLBError
from llb_core.io import write_index_mask
from llb_core.train import load_recipe
from llb_core.train.augment import AugmentConfig
from llb_core.train.data import Pick, SequenceSampler, read_davis, read_stills
from llb_core.train.recipe import Source
from llb_core.train.sources import build_training_data, read_sources
from tests.conftest import REPO_ROOT, SHARED_DATA

VALIDATION = {"dog", "kite-surf", "motocross-jump", "scooter-black", "dogs-jump"}
RED = (230, 20, 20)


def look_alike_clip(root: Path, resolution: str = "240p", frames: int = 6) -> Path:
    """A DAVIS-layout clip of two identical red squares (ids 1 and 2) drifting apart on a grey background."""
    images, masks = root / "JPEGImages" / resolution / "twins", root / "Annotations" / resolution / "twins"
    images.mkdir(parents=True)
    masks.mkdir(parents=True)
    for t in range(frames):
        frame = np.full((120, 160, 3), 90, np.uint8)
        mask = np.zeros((120, 160), np.uint8)
        for obj, x in ((1, 50 - 2 * t), (2, 86 + 2 * t)):
            frame[45:69, x : x + 24] = RED
            mask[45:69, x : x + 24] = obj
        Image.fromarray(frame).save(images / f"{t:05d}.png")
        write_index_mask(masks / f"{t:05d}.png", mask)
    return root


def test_readers_take_any_resolution_folder(shared_data, tmp_path):
    (bear,) = read_davis(SHARED_DATA / "davis2016-train", ["bear"])
    assert bear.frames[0].parent.parent.name == "360p" and bear.load(0)[0].shape == (360, 640, 3)
    (girls,) = read_davis(SHARED_DATA / "davis2017-multi", ["schoolgirls"])
    assert girls.frames[0].parent.parent.name == "240p" and set(np.unique(girls.load(0)[1])) == set(range(8))
    assert [s.name for s in read_davis(SHARED_DATA / "davis2017-multi", exclude=["dogs-jump"])] == ["schoolgirls"]
    root = look_alike_clip(tmp_path / "two")
    look_alike_clip(root, "480p")
    with pytest.raises(LLBError, match=f"{root}: several resolution folders \\(240p, 480p\\)"):
        read_davis(root)
    assert read_davis(root, resolution="480p")[0].frames[0].parent.parent.name == "480p"
    with pytest.raises(LLBError, match="360p: folder not found"):
        read_davis(root, resolution="360p")
    (tmp_path / "bare" / "JPEGImages" / "240p").mkdir(parents=True)
    with pytest.raises(LLBError, match=f"{tmp_path / 'bare' / 'Annotations' / '240p'}: folder not found"):
        read_davis(tmp_path / "bare")
    with pytest.raises(LLBError, match="not there"):
        read_davis(SHARED_DATA / "davis2017-multi", exclude=["nope"])


def test_multi_object_samples_target_one_object_among_look_alikes(tmp_path):
    seqs = read_davis(look_alike_clip(tmp_path))
    still = AugmentConfig(brightness=(1.0, 1.0), grey_probability=0.0)
    sampler = SequenceSampler(seqs, (64, 96), window=5, augment=still)
    rng = np.random.default_rng(0)
    picks = [sampler.pick(rng) for _ in range(40)]
    assert {p.obj_id for p in picks} == {1, 2}
    for obj in (1, 2):
        images, masks = sampler.render(Pick("twins", obj, (0, 2, 3, 5)), rng)
        rgb = (images.permute(0, 2, 3, 1).numpy() * 255).astype(int)  # (Q, 3, h, w) -> (Q, h, w, 3)
        red = (rgb[..., 0] > 180) & (rgb[..., 1] < 70) & (rgb[..., 2] < 70)
        target = masks[:, 0].numpy() > 0
        assert target[0].sum() > 50
        assert red[target].mean() > 0.8  # the mask is this object only ...
        assert (red & ~target).sum(axis=(1, 2)).min() > 50  # ... and its twin stays in every frame as background


def test_schoolgirls_gives_per_object_samples(shared_data):
    seqs = read_davis(SHARED_DATA / "davis2017-multi", ["schoolgirls"])
    sampler = SequenceSampler(seqs, (64, 96))
    rng = np.random.default_rng(1)
    picks = [sampler.pick(rng) for _ in range(30)]
    assert len({p.obj_id for p in picks}) >= 4
    for pick in picks[:3]:
        reference = seqs[0].load(pick.frames[0])[1]
        assert (reference == pick.obj_id).sum() >= sampler.min_pixels
        assert len(set(np.unique(reference)) - {0, pick.obj_id}) >= 1  # other girls: distractors
        images, masks = sampler.render(pick, rng)
        assert images.shape == (4, 3, 64, 96) and set(np.unique(masks.numpy())) <= {0.0, 1.0}
        assert masks[0].sum() > 0


def test_sources_are_weighted_by_source_not_by_size(shared_data, tmp_path):
    recipe = load_recipe(
        "cpu-default",
        [
            f'sources=[{{root="{SHARED_DATA / "davis2016-train"}", sequences=["bear", "boat", "bus"], weight=1}},'
            f' {{root="{SHARED_DATA / "davis2017-multi"}", sequences=["schoolgirls"], weight=3}}]',
            "still_every=0",
            f'stills=["{SHARED_DATA / "duts-subset"}"]',
        ],
    )
    sequences, weights, _ = read_sources(recipe)
    assert [s.name for s in sequences] == ["bear", "boat", "bus", "schoolgirls"]
    np.testing.assert_allclose(weights, [1 / 3, 1 / 3, 1 / 3, 3])
    data = build_training_data(recipe)
    rng = np.random.default_rng(0)
    share = np.mean([data.real.pick(rng).sequence == "schoolgirls" for _ in range(400)])
    assert 0.65 < share < 0.85  # 3 / 4
    assert len(data.synthetic.stills) == len(read_stills(SHARED_DATA / "duts-subset")) == 499
    leaky = recipe.replace(sources=(Source(root=str(SHARED_DATA / "davis2016")),), validation_sequences=("dog",))
    with pytest.raises(LLBError, match="validation sequences .*dog.* would be trained on"):
        read_sources(leaky)


def test_legacy_recipe_form_still_loads(tmp_path):
    text = (Path(REPO_ROOT) / "llb_core/train/recipes/cpu-default.toml").read_text()
    start, end = text.index("[[data.sources]]"), text.index("[schedule]")
    legacy = text[:start].replace("stills = []", 'root = "../shared/data/davis2016"\ntrain_sequences = ["camel"]')
    (tmp_path / "old.toml").write_text(legacy + text[end:])
    recipe = load_recipe(str(tmp_path / "old.toml"))
    assert [(s.root, s.sequences) for s in recipe.sources] == [("../shared/data/davis2016", ("camel",))]
    assert recipe.stills == ()
    assert load_recipe("cpu-default", ['train_sequences=["cows"]']).sources[0].sequences == ("cows",)


def test_cpu_more_data_never_samples_a_validation_sequence(shared_data, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)  # the recipe's roots are relative to the checkout
    recipe = load_recipe("cpu-more-data")
    assert set(recipe.validation_sequences) >= VALIDATION
    data_keys = ("sources", "stills", "validation_sequences")
    mine, default = json.loads(recipe.to_json()), json.loads(load_recipe("cpu-default").to_json())
    assert {k: v for k, v in mine.items() if k not in data_keys} == {
        k: v for k, v in default.items() if k not in data_keys
    }  # otherwise cpu-default
    data = build_training_data(recipe)
    names = {s.name for s in data.real.sequences}
    assert len(names) == 31 and "schoolgirls" in names and not names & VALIDATION
    rng = np.random.default_rng(0)
    drawn = {data.real.pick(rng).sequence for _ in range(600)}
    assert not drawn & VALIDATION and len(drawn) >= 25
    assert not {o.rsplit(":", 1)[-1] for o in data.still_origins} & VALIDATION
    assert sum(o.startswith("../shared/data/duts-subset/") for o in data.still_origins) == 499
    images, masks = data.synthetic.sample(rng)
    assert images.shape == (4, 3, 256, 448) and masks[0].sum() > 0
