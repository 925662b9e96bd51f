"""TrainConfig: every knob of the training loop, as one typed dataclass (no globals)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


def check(ok: bool, key: str, expected: str, value: Any) -> None:
    """Raise ValueError("<key> must be <expected>, got <value>") unless `ok`: one line that names
    the setting, says what it takes and shows what it got."""
    if not ok:
        raise ValueError(f"{key} must be {expected}, got {value!r}")


def check_mode(monitor: str, mode: str, key: str) -> None:
    """Refuse a metric watched the wrong way round: the 'best' checkpoint of a loss under
    mode=max (or of an accuracy under min) is the worst one, and nothing would say so."""
    lower = monitor.endswith(("loss", "error", "perplexity", "wer", "cer"))
    higher = monitor.endswith(("accuracy", "f1", "precision", "recall", "auc", "map", "bleu", "dice", "iou",
                               "exact_match"))
    want = "min" if lower else "max" if higher else mode
    check(mode == want, key, f"'{want}' for monitor={monitor} (lower is better for a loss or an error, "
          "higher for an accuracy or a score)", mode)


def finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@dataclass
class TrainConfig:
    """How to train; 0 switches a feature off (TOML has no None).

    epochs: passes over the training set; max_steps: stop after this many optimiser steps
    (0: no limit); seed: seeds lamina's global generator (initialisation, dropout) and the
    training loader's shuffle; grad_clip: max global gradient norm (0: off);
    early_stopping: epochs without improvement of `monitor` before stopping (0: off);
    checkpoint_every: also save a checkpoint every N steps, mid-epoch (0: only at epoch ends);
    log_every: print progress every N steps when tqdm is not installed; progress: show a bar;
    metrics_every: write a step row (train loss, lr) to metrics.jsonl every N steps, for the
    per-step plots (0: off).
    """
    epochs: int = 5
    max_steps: int = 0
    seed: int = 0
    grad_clip: float = 0.0
    early_stopping: int = 0
    monitor: str = "val_loss"
    mode: str = "min"
    checkpoint_every: int = 200
    log_every: int = 50
    metrics_every: int = 10
    progress: bool = True
    device: str = "cpu"

    def __post_init__(self):
        check(self.mode in ("min", "max"), "train.mode", "'min' or 'max'", self.mode)
        check(self.epochs >= 1 or self.max_steps >= 1, "train.epochs", ">= 1 (or train.max_steps > 0)", self.epochs)
        for key in ("epochs", "max_steps", "early_stopping", "checkpoint_every", "metrics_every"):
            check(getattr(self, key) >= 0, f"train.{key}", "an integer >= 0 (0: off)", getattr(self, key))
        check(self.log_every >= 1, "train.log_every", "an integer >= 1", self.log_every)
        check(finite(self.grad_clip) and self.grad_clip >= 0, "train.grad_clip", "a finite number >= 0 (0: off)",
              self.grad_clip)
        check(bool(self.monitor), "train.monitor", "a logged metric such as val_loss", self.monitor)
        check_mode(self.monitor, self.mode, "train.mode")
