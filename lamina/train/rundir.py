"""Run directories: runs/<name>-<timestamp>/ with config.json, metrics.jsonl, checkpoints/ and plots.

    runs/mnist-cnn-20250101-120000/
        config.json            the recipe the run was started with (enough to rebuild it)
        metrics.jsonl          one JSON object per line, in step order (see below)
        checkpoints/last.safetensors   everything needed to resume (lamina.save)
        checkpoints/best.safetensors   the model weights with the best monitored metric
        loss.png, metrics.png  curves per step (when matplotlib is installed)
        confusion-<split>.png  written by `lamina evaluate` for classifiers

metrics.jsonl holds three kinds of row. Epoch rows, as they always were: epoch, step, lr, time,
train_*, val_*. Step rows, every `train.metrics_every` steps: {"kind": "step", "step", "epoch",
"train_loss" (the mean since the previous step row), "lr"}. And, at the end of training, one test
row: {"kind": "test", "epoch", "step", "checkpoint", "test_*"}. `read_metrics()` gives the epoch
rows, so readers written before the other kinds existed keep working.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any


def _jsonable(v):
    """NaN and inf as strings in metrics.jsonl: strict JSON readers reject bare NaN."""
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


class RunDir:
    """One training run's folder on disk."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @classmethod
    def create(cls, name: str, root: str | os.PathLike = "runs") -> "RunDir":
        """A new, empty runs/<name>-<YYYYmmdd-HHMMSS>/ (with a -2, -3 ... suffix if taken)."""
        base = Path(root) / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        path, i = base, 1
        while True:
            try:
                path.mkdir(parents=True)
                break
            except FileExistsError:
                i += 1
                path = base.with_name(f"{base.name}-{i}")
        (path / "checkpoints").mkdir()
        return cls(path)

    @classmethod
    def open(cls, path: str | os.PathLike) -> "RunDir":
        """An existing run directory; a one-line error if it is not one."""
        run = cls(path)
        if run.path.is_file():
            raise NotADirectoryError(f"{run.path} is a file, not a run directory (a folder written by lamina train)")
        if not run.path.is_dir():
            raise FileNotFoundError(f"run directory {run.path} does not exist")
        if not (run.path / "config.json").is_file():
            raise FileNotFoundError(f"{run.path} is not a run directory: it has no config.json (a run directory "
                                    f"is what lamina train writes: config.json, metrics.jsonl, checkpoints/)")
        return run

    # ---- files ------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    def checkpoint_path(self, kind: str = "last") -> Path:
        return self.path / "checkpoints" / f"{kind}.safetensors"

    def write_config(self, config: dict[str, Any]) -> None:
        self.config_path.write_text(json.dumps(config, indent=2) + "\n")

    def read_config(self) -> dict[str, Any]:
        """config.json as a dict; a one-line error naming the file if it is not a JSON object."""
        try:
            config = json.loads(self.config_path.read_text())
        except ValueError as e:  # (JSONDecodeError, UnicodeDecodeError)
            raise ValueError(f"{self.config_path} is not valid JSON ({e}); it was cut short or edited by hand") from None
        if not isinstance(config, dict):
            raise ValueError(f"{self.config_path} is not a run's config: expected a JSON object with 'recipe' and "
                             f"'data_info', got {type(config).__name__}")
        return config

    def append_metrics(self, logs: dict[str, Any]) -> None:
        with open(self.metrics_path, "a") as f:
            f.write(json.dumps({k: _jsonable(v) for k, v in logs.items()}) + "\n")

    def write_metrics(self, history: list[dict[str, Any]], steps: list[dict[str, Any]] = ()) -> None:
        """Rewrite metrics.jsonl from epoch rows `history` and step rows `steps`, in step order
        (on resume: drop what the checkpoint never saw)."""
        rows = sorted([(r.get("step", 0), 0, i, r) for i, r in enumerate(steps)] +
                      [(r.get("step", 0), 1, i, r) for i, r in enumerate(history)])  # a step row before its epoch's
        tmp = self.metrics_path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps({k: _jsonable(v) for k, v in r.items()}) + "\n" for *_, r in rows))
        os.replace(tmp, self.metrics_path)

    def read_metrics(self, kind: str | None = "epoch") -> list[dict[str, Any]]:
        """The rows of metrics.jsonl of one kind: 'epoch' (the default), 'step' or 'test'; None: all."""
        if not self.metrics_path.is_file():
            return []
        rows = [json.loads(line) for line in self.metrics_path.read_text().splitlines() if line.strip()]
        return rows if kind is None else [r for r in rows if r.get("kind", "epoch") == kind]

    def __repr__(self):
        return f"RunDir({str(self.path)!r})"
