"""A tiny synthetic classification problem and a Trainer for it, shared by the loop tests and
the worker process that the SIGKILL test starts (run as a script: see __main__ below)."""
from __future__ import annotations

import sys
import time

import numpy as np

import lamina
from lamina import nn, optim
from lamina.data import DataLoader, TensorDataset
from lamina.metrics import Accuracy
from lamina.nn import functional as F
from lamina.train import (Callback, GradientClipping, LRScheduling, ModelCheckpoint, RunDir, TrainConfig,
                          Trainer)


def blobs(n: int, seed: int):
    """Three Gaussian blobs in 8 dimensions."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.random.default_rng(99).standard_normal((3, 8)).astype(np.float32) * 2.5  # fixed across splits
    x = centers[y] + rng.standard_normal((n, 8)).astype(np.float32)
    return x.astype(np.float32), y.astype(np.int64)


class Sleep(Callback):
    """Slows each step down, so that a test can kill the process mid-epoch."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def on_step_end(self, trainer):
        if self.seconds:
            time.sleep(self.seconds)


class PauseAfterLastStep(Callback):
    """Sleeps at the end of the epoch that reaches train.max_steps, after its last mid-epoch
    checkpoint and before the epoch's own, so that a test can kill the process there."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def on_epoch_end(self, trainer, logs):
        if self.seconds and trainer.config.max_steps and trainer.global_step >= trainer.config.max_steps:
            time.sleep(self.seconds)


def build(run_dir=None, epochs: int = 3, every: int = 0, extra=(), lr: float = 0.05, seed: int = 0,
          loss_fn=None, config: dict | None = None, schedule: bool = True) -> Trainer:
    """A small MLP with BatchNorm and dropout, Adam + one-cycle (over max_steps when the config
    sets it; none if not `schedule`), clipping and checkpointing."""
    lamina.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    opt = optim.Adam(model.parameters(), lr=lr)
    x, y = blobs(240, 0)
    xv, yv = blobs(96, 1)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True,
                        generator=lamina.Generator().manual_seed(seed + 1))
    val = DataLoader(TensorDataset(xv, yv), batch_size=64)
    max_steps = (config or {}).get("max_steps", 0)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=min(epochs * len(loader), max_steps or 10**9))
    callbacks = [GradientClipping(1.0), *([LRScheduling(sched, "step")] if schedule else []), *extra,
                 ModelCheckpoint("val_accuracy", "max", every)]
    cfg = TrainConfig(**{"epochs": epochs, "progress": False, "monitor": "val_accuracy", "mode": "max",
                         "checkpoint_every": every, **(config or {})})
    return Trainer(model, loss_fn or F.cross_entropy, opt, loader, val, metrics=lambda: {"accuracy": Accuracy()},
                   callbacks=callbacks, config=cfg, run_dir=RunDir(run_dir) if isinstance(run_dir, str) else run_dir,
                   log=lambda line: None)


def weights(trainer: Trainer) -> dict[str, np.ndarray]:
    return {k: np.array(v.numpy() if hasattr(v, "numpy") else v) for k, v in trainer.model.state_dict().items()}


if __name__ == "__main__":  # python train_synthetic.py RUN_DIR SLEEP [resume] [max_steps=N]
    run_dir, sleep = sys.argv[1], float(sys.argv[2])
    resume = "resume" in sys.argv[3:]
    max_steps = next((int(a.split("=")[1]) for a in sys.argv[3:] if a.startswith("max_steps=")), 0)
    extra = [Sleep(sleep)] + ([PauseAfterLastStep(60 if sleep else 0)] if max_steps else [])
    trainer = build(run_dir, epochs=3, every=4, extra=extra, config={"max_steps": max_steps})
    trainer.fit(resume=RunDir(run_dir).checkpoint_path("last") if resume else None)
    lamina.save(trainer.model.state_dict(), f"{run_dir}/final.safetensors")
