"""Recipe in, run directory out: what `lamina train | evaluate | predict` do, as functions."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import creation
from ..data.datasets import DataError
from ..io import load
from ..metrics import ConfusionMatrix, classification_report
from ..nn.summary import summary
from ..train.callbacks import LRScheduling
from ..train.plots import plot_confusion
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
    """The run's recipe and config.json; errors name the file, since it is what to fix."""
    config, where = run.read_config(), run.config_path
    if not isinstance(config.get("recipe"), dict) or not isinstance(config.get("data_info"), dict):
        raise RunError(f"{where} is not a run's config: expected a JSON object with 'recipe' and 'data_info', "
                       f"got keys {sorted(config)}")
    try:
        recipe = from_dict(config["recipe"], Recipe())
        DataInfo(**config["data_info"])
    except RecipeError as e:
        raise RecipeError(f"{where}: {e}") from None
    except TypeError as e:
        raise RunError(f"{where}: its 'data_info' does not fit: {e}") from None
    return recipe, config


class RunError(ValueError):
    """A run cannot do what was asked (e.g. extend it to fewer epochs than it has done)."""


def _extend(run: RunDir, recipe: Recipe, config: dict, epochs: int, log: Callable[[str], None]) -> None:
    """Raise the run's planned epochs to `epochs` in `recipe` and `config`, noting where the
    extension starts, so that this and any later resume rebuild the same schedule (the caller
    writes config.json once the run is known to build)."""
    last = run.checkpoint_path("last")
    if not last.is_file():
        raise RunError(f"{run.path} has no checkpoint yet; resume it without --epochs")
    state = load(last)
    done, t = state["epoch"], recipe.train
    stopped_by_steps = bool(t.max_steps) and state["global_step"] >= t.max_steps
    if state["in_epoch"] or (done < t.epochs and not stopped_by_steps and state["stop_reason"] is None):
        raise RunError(f"{run.path} has not finished ({done} of {t.epochs} epochs done); resume it without "
                       f"--epochs first, then extend it")
    if epochs <= done:
        raise RunError(f"--epochs is the new total and must be more than the {done} epoch(s) {run.path} has "
                       f"done, got {epochs}")
    why = f"; train.max_steps={t.max_steps} no longer applies" if t.max_steps else ""
    log(f"extending {run.path}: {done} epoch(s) done, training on to {epochs} "
        f"(a per-step lr schedule starts a new cycle{why})")
    t.epochs, t.max_steps = epochs, 0
    config["recipe"] = recipe.to_dict()
    config.setdefault("extensions", []).append({"from_epoch": done, "from_step": state["global_step"],
                                                "epochs": epochs})


def train(recipe: Recipe | None, runs_root: str | Path = "runs", resume: str | Path | None = None,
          log: Callable[[str], None] = print, epochs: int | None = None) -> tuple[RunDir, dict[str, Any], Trainer]:
    """Build the task's data, model, optimiser and callbacks from `recipe` and train; then score
    the best checkpoint on the test split (test_* in the returned logs).

    With `resume` (a run directory), the run's own recipe is used and training continues from
    its last checkpoint; `recipe` then only contributes data.root. With `resume` and `epochs`, a
    finished run is extended to `epochs` epochs in all.
    """
    run, extending, start = None, False, {}  # start: where the current (last) extension began
    if resume is not None:
        run = RunDir.open(resume)
        saved, config = _recipe_of(run)
        if recipe is not None and recipe.data.root:
            saved.data.root = recipe.data.root
        recipe = saved
        if epochs is not None:
            _extend(run, recipe, config, epochs, log)
            extending = True
        start = (config.get("extensions") or [{}])[-1]
    task = get_task(recipe.task)
    creation.manual_seed(recipe.train.seed)  # before the model: initialisation draws from it
    data = task.build_data(recipe)
    model = task.build_model(recipe, data.info)
    if recipe.train.device != "cpu":
        model.to(recipe.train.device)
    opt = task.optimizer(recipe, model)
    train_loader, val_loader, test_loader = task.loaders(recipe, data)

    def callbacks():
        return task.callbacks(recipe, opt, len(train_loader), start.get("from_epoch", 0), start.get("from_step", 0))

    shape, dtype = task.example_input(data.info)
    log(summary(model, shape, dtype=dtype, device=recipe.train.device, print_fn=None))
    sizes = [f"{len(d):,} {name}" for name, d in (("train", data.train), ("val", data.val), ("test", data.test))
             if d is not None]
    log(f"data: {recipe.data.dataset}, " + " / ".join(sizes))
    trainer = Trainer(model, task.loss_fn, opt, train_loader, val_loader, metrics=task.metrics(data.info),
                      callbacks=callbacks(), config=recipe.train, run_dir=run, log=log)  # checks train.monitor
    if run is None:  # only now: a recipe, model or monitor that fails above leaves no empty run directory
        run = RunDir.create(recipe.name or recipe.task, runs_root)
        run.write_config({"recipe": recipe.to_dict(), "data_info": data.info.to_dict()})
        log(f"run directory: {run.path}")
        trainer.run_dir = run
    last = run.checkpoint_path("last")
    if resume is not None:
        log(f"resuming {run.path}" + ("" if last.is_file() else " (no checkpoint yet: starting over)"))
        if last.is_file():
            trainer.load_checkpoint(last)
    if extending:
        run.write_config(config)
    if start and not trainer.in_epoch and trainer.global_step == start["from_step"]:
        # an extension's first step (also when it was stopped before its first checkpoint): the
        # checkpoint's schedule has ended, so a fresh one; every other callback's state is kept
        for group in opt.param_groups:
            group["lr"] = group.get("initial_lr", group["lr"])
        fresh = callbacks()
        for new, old in zip(fresh, trainer.callbacks):
            if not (isinstance(new, LRScheduling) and new.interval == "step"):
                new.load_state_dict(old.state_dict())
        trainer.callbacks, trainer.stop_reason = fresh, None
    logs = trainer.fit()
    if not trainer.interrupted and test_loader is not None:
        logs = {**logs, **trainer.test(test_loader)}
    return run, logs, trainer


def load_model(run_dir: str | Path, which: str = "best"):
    """(task, recipe, model in eval mode, DataInfo) of a finished run; `which` falls back to 'last'."""
    task, recipe, model, info, _ = _load_model(run_dir, which)
    return task, recipe, model, info


def _load_model(run_dir: str | Path, which: str = "best"):
    run = RunDir.open(run_dir)
    recipe, config = _recipe_of(run)
    task = get_task(recipe.task)
    info = DataInfo(**config["data_info"])
    path = run.checkpoint_path(which)
    if not path.is_file():
        path = run.checkpoint_path("last")
    if not path.is_file():
        raise FileNotFoundError(f"{run.path} has no checkpoint yet (checkpoints/best.safetensors or last.safetensors)")
    state = load(path)
    model = task.build_model(recipe, info)
    model.load_state_dict(state["model"])
    model.eval()
    return task, recipe, model, info, f"{path.stem} checkpoint, epoch {state['epoch']}"


@dataclass
class Evaluation:
    """What `evaluate` found: the split, its size, which weights, loss and metrics, and for a
    classifier the confusion matrix, its per-class report and where its plot went."""
    split: str
    size: int
    weights: str
    logs: dict[str, float]
    confusion: Any = None
    report: str = ""
    plot: Path | None = None


def evaluate(run_dir: str | Path, data_root: str | None = None, split: str = "test") -> Evaluation:
    """Loss and metrics of a run's best weights on its test split (or `split='val'`)."""
    if split not in ("val", "test"):
        raise ValueError(f"evaluate: split must be 'val' or 'test', got {split!r}")
    task, recipe, model, info, weights = _load_model(run_dir)
    if data_root:
        recipe.data.root = data_root
    data = task.build_data(recipe)
    dataset = data.test if split == "test" else data.val
    if dataset is None:
        raise ValueError(f"evaluate: {recipe.data.dataset} has no {split} split here; use --split val")
    metrics = task.metrics(info)
    confusion = ConfusionMatrix(len(info.classes)) if task.classifier else None
    if confusion is not None:  # one instance, so that it can be read after the evaluation
        metrics = (lambda base: lambda: {**base(), "confusion": confusion})(metrics)
    trainer = Trainer(model, task.loss_fn, None, [], metrics=metrics, config=recipe.train)
    logs = {f"{split}_{k}": v for k, v in trainer.evaluate(task.eval_loader(recipe, dataset)).items()}
    out = Evaluation(split, len(dataset), weights, logs)
    if confusion is not None:
        out.confusion = confusion.compute()
        out.report = classification_report(out.confusion, info.classes)
        out.plot = plot_confusion(out.confusion, info.classes, Path(run_dir) / f"confusion-{split}.png",
                                  f"{recipe.name or recipe.task}: {split} split ({weights})")
    return out


def image_files(inputs: list[str]) -> list[str]:
    """`inputs` with each folder replaced by the image files in it (sorted)."""
    from ..data.datasets import IMG_EXTENSIONS
    out = []
    for name in inputs:
        p = Path(name)
        if p.is_dir():
            found = sorted(str(f) for f in p.iterdir() if f.is_file() and f.suffix.lower() in IMG_EXTENSIONS)
            out += found or [name]  # an empty folder stays, to be reported as such
        else:
            out.append(name)
    return out


@dataclass
class Prediction:
    path: str
    top: list[tuple[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def predict(run_dir: str | Path, inputs: list[str], k: int = 3) -> list[Prediction]:
    """For each input file (a folder: its images), its top-k (class, probability) under a run's
    best weights, with notes on how the image was fitted to the model; a file that cannot be
    read gets an `error` instead, and the others go on."""
    from ..autograd import no_grad
    task, recipe, model, info = load_model(run_dir)
    out = []
    with no_grad():
        for path in image_files(inputs):
            if Path(path).is_dir():
                out.append(Prediction(path, error=f"{path} is a folder with no image files in it"))
                continue
            try:
                x, notes = task.load_input(path, info)
            except (OSError, ValueError, DataError) as e:  # unreadable, missing: this file only
                out.append(Prediction(path, error=str(e).strip().splitlines()[0]))
                continue
            out.append(Prediction(path, task.show_prediction(model(x), info, k), notes))
    return out
