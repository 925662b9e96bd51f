"""Recipes: TOML files and --set overrides into typed dataclasses, with errors that name the key."""
from pathlib import Path

import pytest

from lamina.tasks import RecipeError, demo_recipe, get_task, override
from lamina.tasks.runner import load_recipe

RECIPES = sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.toml"))


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_shipped_recipes_load(path):
    recipe = load_recipe(str(path))
    get_task(recipe.task)


def test_recipe_files_match_their_tasks():
    root = RECIPES[0].parent
    assert load_recipe(str(root / "mnist_cnn.toml")).to_dict() == {**get_task("mnist-cnn").default_recipe().to_dict(),
                                                                  "name": "mnist_cnn"}
    assert load_recipe(str(root / "demo.toml")).to_dict() == demo_recipe().to_dict()


def test_set_overrides_nested_keys_with_types():
    r = override(get_task("mnist-cnn").default_recipe(),
                 ["optim.lr=0.01", "data.path=/x", "model.channels=8,16,32", "train.progress=false",
                  "train.epochs=2", "name=abc"])
    assert r.optim.lr == 0.01 and isinstance(r.optim.lr, float)
    assert r.data.path == "/x" and r.model.channels == [8, 16, 32]
    assert r.train.progress is False and r.train.epochs == 2 and r.name == "abc"


@pytest.mark.parametrize("assignment, message", [
    ("optim.lrr=1", "unknown key 'optim.lrr'; valid keys in [optim]: name, lr"),
    ("trian.epochs=1", "unknown key 'trian.epochs'; valid keys: task, name, data"),
    ("train.epochs=two", "train.epochs expects an integer"),
    ("train.mode=up", "train.mode must be 'min' or 'max'"),
    ("optim", "--set expects key=value"),
])
def test_set_errors(assignment, message):
    with pytest.raises(RecipeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        override(get_task("mnist-cnn").default_recipe(), [assignment])


def test_toml_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\nname = 1\n")
    with pytest.raises(RecipeError, match="invalid TOML"):
        load_recipe(str(bad))
    bad.write_text('[model]\nchannels = "many"\n')
    with pytest.raises(RecipeError, match="model.channels expects"):
        load_recipe(str(bad))
