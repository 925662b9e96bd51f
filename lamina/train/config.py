"""TrainConfig: every knob of the training loop, as one typed dataclass (no globals)."""
from __future__ import annotations

from dataclasses import dataclass


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
        if self.mode not in ("min", "max"):
            raise ValueError(f"train.mode must be 'min' or 'max', got {self.mode!r}")
        if self.epochs < 1 and self.max_steps < 1:
            raise ValueError(f"train.epochs must be >= 1 (or train.max_steps > 0), got {self.epochs}")
