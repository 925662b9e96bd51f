"""Recipe in, run directory out: what `lamina train | evaluate | predict` do, as functions."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .. import creation
from ..io import load
from ..train.rundir import RunDir
from ..train.trainer import Trainer
from . import DataInfo, Recipe, RecipeError, from_dict, get_task, override, read_toml


def load_recipe(spec: str, sets: list[str] | None = None) -> Recipe:
    """A task name or a recipe .toml file, with `--set key=value` overrides applied."""
    if spec.endswith(".toml") or Path(spec).is_file():
        values = read_toml(spec)
        task_name = values.get("task")
        if task_name is None:  # a recipe need not name a task: image folders get theirs, the rest mnist-cnn's
            dataset = values.get("data", {}).get("dataset", "mnist") if isinstance(values.get("data"), dict) else "mnist"
            task_name = "image-folder" if dataset == "image-folder" else "mnist-cnn"
        if not isinstance(task_name, str):
            raise RecipeError(f"recipe {spec}: 'task' must be a string, got {task_name!r}")
        recipe = from_dict(values, get_task(task_name).default_recipe())
        recipe.name = recipe.name or Path(spec).stem
    else:
        recipe = get_task(spec).default_recipe()
    return override(recipe, sets or [])


def _recipe_of(run: RunDir) -> tuple[Recipe, dict]:
    config = run.read_config()
    recipe = from_dict(config["recipe"], Recipe())
    return recipe, config


def train(recipe: Recipe, runs_root: str | Path = "runs", resume: str | Path | None = None,
          log: Callable[[str], None] = print) -> tuple[RunDir, dict[str, Any], Trainer]:
    """Build the task's data, model, optimiser and callbacks from `recipe` and train.

    With `resume` (a run directory), the run's own recipe is used and training continues from
    its last checkpoint; `recipe` then only contributes data.root.
    """
    run = None
    if resume is not None:
        run = RunDir.open(resume)
        saved, _ = _recipe_of(run)
        if recipe is not None and recipe.data.root:
            saved.data.root = recipe.data.root
        recipe = saved
    task = get_task(recipe.task)
    creation.manual_seed(recipe.train.seed)  # before the model: initialisation draws from it
    data = task.build_data(recipe)
    model = task.build_model(recipe, data.info)
    if recipe.train.device != "cpu":
        model.to(recipe.train.device)
    opt = task.optimizer(recipe, model)
    train_loader, val_loader = task.loaders(recipe, data)
    callbacks = task.callbacks(recipe, opt, len(train_loader))
    if run is None:
        run = RunDir.create(recipe.name or recipe.task, runs_root)
        run.write_config({"recipe": recipe.to_dict(), "data_info": data.info.to_dict()})
        log(f"run directory: {run.path}")
    trainer = Trainer(model, task.loss_fn, opt, train_loader, val_loader, metrics=task.metrics(data.info),
                      callbacks=callbacks, config=recipe.train, run_dir=run, log=log)
    last = run.checkpoint_path("last")
    if resume is not None:
        log(f"resuming {run.path}" + ("" if last.is_file() else " (no checkpoint yet: starting over)"))
    logs = trainer.fit(resume=last if resume is not None and last.is_file() else None)
    return run, logs, trainer


def load_model(run_dir: str | Path, which: str = "best"):
    """(task, recipe, model in eval mode, DataInfo) of a finished run; `which` falls back to 'last'."""
    run = RunDir.open(run_dir)
    recipe, config = _recipe_of(run)
    task = get_task(recipe.task)
    info = DataInfo(**config["data_info"])
    path = run.checkpoint_path(which)
    if not path.is_file():
        path = run.checkpoint_path("last")
    if not path.is_file():
        raise FileNotFoundError(f"{run.path} has no checkpoint yet (checkpoints/best.safetensors or last.safetensors)")
    model = task.build_model(recipe, info)
    model.load_state_dict(load(path)["model"])
    model.eval()
    return task, recipe, model, info


def evaluate(run_dir: str | Path, data_root: str | None = None) -> dict[str, float]:
    """Loss and metrics of a run's best weights on its validation data."""
    task, recipe, model, info = load_model(run_dir)
    if data_root:
        recipe.data.root = data_root
    data = task.build_data(recipe)
    _, val_loader = task.loaders(recipe, data)
    trainer = Trainer(model, task.loss_fn, None, [], metrics=task.metrics(info), config=recipe.train)
    return trainer.evaluate(val_loader)


def predict(run_dir: str | Path, inputs: list[str], k: int = 3) -> list[tuple[str, list[tuple[str, float]]]]:
    """For each input file, its top-k (class, probability) under a run's best weights."""
    from ..autograd import no_grad
    task, recipe, model, info = load_model(run_dir)
    out = []
    with no_grad():
        for path in inputs:
            x = task.load_input(path, info)
            out.append((path, task.show_prediction(model(x), info, k)))
    return out
