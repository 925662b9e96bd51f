"""Recipes: what to train, as typed dataclasses read from TOML and changed by `--set key=value`.

A recipe file has one table per section; every key is optional and defaults to the task's:

    task = "mnist-cnn"
    [data]
    dataset = "mnist"
    batch_size = 128
    [model]
    name = "small-cnn"
    [optim]
    name = "adam"
    lr = 0.003
    [schedule]
    name = "onecycle"
    [train]
    epochs = 5

An unknown key is an error that names the key and lists the valid ones, so a typo never
silently trains something else.
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from ..train.config import TrainConfig, check, finite


class RecipeError(ValueError):
    """A recipe (file or --set override) names a key that does not exist or a value of the wrong type."""


@dataclass
class DataConfig:
    """dataset: a registry name (mnist, fashion-mnist, mnist-bundled, image-folder, ...);
    root: the data root (default $LAMINA_DATA or ~/.cache/lamina); path: the folder of class
    sub-folders for image-folder; val_fraction: share of the training images held out (seeded,
    stratified) for validation, and for image-folder as much again for test; image_size and channels: what images are resized/converted to (0: keep)."""
    dataset: str = "mnist"
    root: str = ""
    path: str = ""
    batch_size: int = 128
    val_batch_size: int = 500
    val_fraction: float = 0.1
    image_size: int = 0
    channels: int = 0
    augment: bool = False
    num_workers: int = 0
    block_size: int = 64  # language models: characters per training window
    steps_per_epoch: int = 500  # language models: random-window batches per epoch

    def __post_init__(self):
        for key in ("batch_size", "val_batch_size", "block_size", "steps_per_epoch"):
            _at_least(self, "data", key, 1)
        for key in ("image_size", "num_workers"):
            _at_least(self, "data", key, 0)
        check(self.channels in (0, 1, 3), "data.channels", "0 (keep), 1 (grey) or 3 (RGB)", self.channels)
        check(finite(self.val_fraction) and 0 < self.val_fraction < 1, "data.val_fraction",
              "a number between 0 and 1", self.val_fraction)


@dataclass
class ModelConfig:
    """name: mlp, lenet5, small-cnn, gpt or char-lstm; hidden: the MLP's widths; channels,
    kernel_size, fc: the CNN's conv widths, kernel and dense width (the char-LSTM's embedding
    size); dropout before the last layer; layers, heads, width: the language models' shape."""
    name: str = "small-cnn"
    hidden: list[int] = field(default_factory=lambda: [256, 128])
    channels: list[int] = field(default_factory=lambda: [16, 32])
    kernel_size: int = 5
    fc: int = 128
    dropout: float = 0.3
    layers: int = 4  # language models (gpt, char-lstm): depth, GPT heads, width (LSTM hidden size)
    heads: int = 4
    width: int = 128

    def __post_init__(self):
        for key in ("hidden", "channels"):  # a layer of width 0 fails only at the first forward pass
            check(all(n >= 1 for n in getattr(self, key)), f"model.{key}", "integers >= 1", getattr(self, key))
        for key in ("kernel_size", "fc", "layers", "heads", "width"):
            _at_least(self, "model", key, 1)
        _fraction(self, "model", "dropout")


@dataclass
class OptimConfig:
    """name: sgd, adam or adamw; lr is the peak lr under onecycle."""
    name: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    nesterov: bool = False
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])

    def __post_init__(self):
        for key in ("lr", "weight_decay"):  # a nan, inf or negative lr trains to garbage, or to nan
            check(finite(getattr(self, key)) and getattr(self, key) >= 0, f"optim.{key}", "a finite number >= 0",
                  getattr(self, key))
        _fraction(self, "optim", "momentum")
        check(len(self.betas) == 2 and all(finite(b) and 0 <= b < 1 for b in self.betas), "optim.betas",
              "2 numbers in [0, 1), e.g. [0.9, 0.999]", self.betas)


@dataclass
class ScheduleConfig:
    """name: none, onecycle (per step), cosine (per step, to 0), step (StepLR per epoch: step_size,
    gamma) or plateau (ReduceLROnPlateau on train.monitor: factor = gamma, patience)."""
    name: str = "onecycle"
    pct_start: float = 0.25
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    step_size: int = 1
    gamma: float = 0.1
    patience: int = 2

    def __post_init__(self):
        check(finite(self.pct_start) and 0 <= self.pct_start <= 1, "schedule.pct_start", "a number in [0, 1]",
              self.pct_start)
        for key in ("div_factor", "final_div_factor", "gamma"):
            check(finite(getattr(self, key)) and getattr(self, key) > 0, f"schedule.{key}", "a finite number > 0",
                  getattr(self, key))
        _at_least(self, "schedule", "step_size", 1)
        _at_least(self, "schedule", "patience", 0)


@dataclass
class Recipe:
    """Everything that defines a run: the task and its data, model, optimiser, schedule and loop."""
    task: str = "mnist-cnn"
    name: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _at_least(obj, section: str, key: str, least: int) -> None:
    check(getattr(obj, key) >= least, f"{section}.{key}", f"an integer >= {least}", getattr(obj, key))


def _fraction(obj, section: str, key: str) -> None:
    check(finite(getattr(obj, key)) and 0 <= getattr(obj, key) < 1, f"{section}.{key}", "a number in [0, 1)",
          getattr(obj, key))


def _valid(obj) -> str:
    return ", ".join(f.name for f in fields(obj))


def _convert(value: Any, hint, key: str) -> Any:
    """`value` (from TOML, or a string from --set) as the field's type, or a RecipeError."""
    origin = getattr(hint, "__origin__", None)
    try:
        if hint is bool:
            if isinstance(value, str):
                low = value.strip().lower()
                if low not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return low in ("true", "1", "yes")
            if not isinstance(value, (bool, int)):
                raise ValueError
            return bool(value)
        if hint is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if hint is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if hint is str:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise ValueError
            return str(value)
        if origin is list:
            (item,) = hint.__args__
            items = value.strip("[]() ").replace(",", " ").split() if isinstance(value, str) else value
            if not isinstance(items, (list, tuple)):
                raise ValueError
            return [_convert(v, item, key) for v in items]
    except (ValueError, TypeError):  # (a RecipeError from a list's item too: the message names the list)
        if origin is list:
            plural = {bool: "true/false values", int: "integers", float: "numbers", str: "strings"}
            what = f"a list of {plural.get(hint.__args__[0], 'values')} (e.g. 1,2 or [1, 2])"
        else:
            what = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(hint, str(hint))
        raise RecipeError(f"recipe: {key} expects {what}, got {value!r}") from None
    raise RecipeError(f"recipe: {key} has an unsupported type {hint}")


def _set_field(obj, path: list[str], value: Any, full: str, section: str = "") -> None:
    """Set obj.<path> = value, converting to the declared type; errors name the key and the valid keys.

    `section` is obj's own dotted name ('' for the recipe itself), `full` the key as the user wrote it.
    """
    name = path[0]
    known = {f.name for f in fields(obj)}
    if name not in known:
        where = f" in [{section}]" if section else ""
        raise RecipeError(f"recipe: unknown key {full!r}; valid keys{where}: {_valid(obj)}")
    current = getattr(obj, name)
    inner = f"{section}.{name}" if section else name
    if dataclasses.is_dataclass(current):
        if len(path) > 1:
            _set_field(current, path[1:], value, full, inner)
            return
        if not isinstance(value, dict):
            raise RecipeError(f"recipe: {full!r} is a section; set one of its keys: "
                              + ", ".join(f"{inner}.{f.name}" for f in fields(current)))
        for k, v in value.items():
            _set_field(current, [k], v, f"{inner}.{k}", inner)
        return
    if len(path) > 1:
        raise RecipeError(f"recipe: unknown key {full!r}: {inner} is a value, not a section")
    hint = get_type_hints(type(obj))[name]
    setattr(obj, name, _convert(value, hint, full))


def apply(recipe: Recipe, values: dict[str, Any]) -> Recipe:
    """Set every (nested) key of `values` on `recipe`, checking names and types."""
    for k, v in values.items():
        _set_field(recipe, [k], v, k)
    _revalidate(recipe)
    return recipe


def override(recipe: Recipe, assignments: list[str]) -> Recipe:
    """Apply `--set` strings like 'optim.lr=0.01' or 'data.path=/x'."""
    for a in assignments:
        if "=" not in a:
            raise RecipeError(f"--set expects key=value (e.g. optim.lr=0.01), got {a!r}")
        key, value = a.split("=", 1)
        key = key.strip()
        _set_field(recipe, key.split("."), value.strip(), key)
    _revalidate(recipe)
    return recipe


def _revalidate(recipe: Recipe) -> None:
    """Check every section's values again, after keys were set one by one (a value can be of the
    right type and still make no sense: a nan lr, one beta, a layer of width 0)."""
    try:
        for section in (recipe.data, recipe.model, recipe.optim, recipe.schedule, recipe.train):
            section.__post_init__()
    except ValueError as e:
        raise RecipeError(f"recipe: {e}") from None


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file with tomllib (Python 3.11+) or the `tomli` package."""
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise RecipeError(f"reading {path} needs Python 3.11+ or the 'tomli' package "
                              f"(pip install tomli); Python {sys.version.split()[0]} has no TOML parser") from None
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"recipe file {path} not found")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise RecipeError(f"recipe {path}: invalid TOML: {e}") from None


def from_dict(values: dict[str, Any], base: Recipe | None = None) -> Recipe:
    """A Recipe from nested dicts (e.g. config.json's 'recipe'), on top of `base` (default: Recipe())."""
    return apply(base or Recipe(), values)
