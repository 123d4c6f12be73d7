"""Training the click model: the recipe, simulated people, an exact resume and a loadable result."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llb_core.errors import LLBError
from llb_core.interactive.clicks import next_click
from llb_core.interactive.session import load_click_model
from llb_core.interactive.training import (
    ClickTrainer,
    first_click,
    is_click_recipe,
    load_click_recipe,
    negative_clicks,
    paste_distractors,
    rough_mask,
)
from llb_core.train.recipe import recipe_path
from tests.evaluation.synthetic import moving_scene, write_root


@pytest.fixture
def tiny(tmp_path) -> list[str]:
    root = write_root(tmp_path / "data", {"squares": moving_scene(4, 3)})
    return [
        f'sources=[{{root="{root}", every=1}}]',
        "stills=[]",
        'init=""',
        "size=64",
        "batch=2",
        "iterations=3",
        "log_every=1",
        'precision="fp32"',
    ]


def test_shipped_recipe_is_a_click_recipe_and_bad_settings_are_named(tmp_path):
    path = recipe_path("clicks")
    assert is_click_recipe(path) and not is_click_recipe(recipe_path("cpu-default"))
    recipe = load_click_recipe(path)
    assert recipe.variant == "clicks" and "dogs-jump" in recipe.validation_sequences
    with pytest.raises(LLBError, match="unknown settings \\['colour'\\]"):
        load_click_recipe(path, ["colour=1"])
    with pytest.raises(LLBError, match="multiple of 16"):
        load_click_recipe(path, ["size=100"])


def test_simulated_starts_lie_where_people_click():
    rng = np.random.default_rng(0)
    truth = np.zeros((80, 80), bool)
    truth[20:60, 20:60] = True
    for _ in range(20):
        c = first_click(truth, rng)
        assert c.positive and 29 <= c.x <= 50 and 29 <= c.y <= 50  # at least half as deep as the centre
    for c in negative_clicks(truth, rng, 2):
        assert not c.positive and not truth[int(c.y), int(c.x)]
    image = rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)
    pool = type("Pool", (), {"draw": lambda self, r: (image, truth.astype(np.uint8))})()
    for _ in range(10):
        pasted_image, visible, pasted = paste_distractors(image, truth, pool, rng)
        assert not (visible & pasted).any() and 3 * visible.sum() >= 2 * truth.sum()
        assert np.array_equal(pasted_image[~pasted], image[~pasted])  # only the pasted pixels changed
    rough = rough_mask(truth, rng)
    assert rough.shape == truth.shape and not np.array_equal(rough, truth)
    assert next_click(rough, truth) is not None


def test_resume_continues_exactly_and_the_result_loads(tmp_path, tiny):
    recipe = load_click_recipe(recipe_path("clicks"), tiny)
    straight = ClickTrainer(recipe, tmp_path / "a")
    assert straight.train() == tmp_path / "a" / "final.pt"
    half = ClickTrainer(recipe, tmp_path / "b")
    assert half.train(max_iterations=2) is None
    resumed = ClickTrainer(recipe, tmp_path / "b", resume=True)
    assert resumed.iteration == 2
    resumed.train()
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    model = load_click_model(tmp_path / "a" / "final.pt")
    assert model.config.variant == "clicks" and model.fused
    assert len((tmp_path / "a" / "log.jsonl").read_text().splitlines()) == 3
    with pytest.raises(LLBError, match="another recipe"):
        ClickTrainer(load_click_recipe(recipe_path("clicks"), [*tiny, "lr=1.0"]), tmp_path / "b", resume=True)
