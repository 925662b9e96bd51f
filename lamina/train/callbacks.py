"""Callbacks: small objects the training loop calls at fixed points, each with resumable state.

The loop calls, in list order: `on_after_backward` (between backward and the optimiser step),
`on_step_end` (after each optimiser step), `on_epoch_end(logs)` (after validation). Anything a
callback must remember across a restart lives in `state_dict`, which the checkpoint carries.
A callback that reads a logged metric names it in `monitors()`, and the Trainer refuses a name
that no epoch logs before the first step (a typo would otherwise never save a best checkpoint).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..nn.utils import clip_grad_norm_
from .config import check_mode

if TYPE_CHECKING:
    from .trainer import Trainer


class Callback:
    """Base class: every hook does nothing."""

    def on_after_backward(self, trainer: "Trainer") -> None:
        pass

    def on_step_end(self, trainer: "Trainer") -> None:
        pass

    def on_epoch_end(self, trainer: "Trainer", logs: dict[str, Any]) -> None:
        pass

    def monitors(self) -> tuple[str, ...]:
        """The logged metrics (e.g. 'val_loss') this callback reads; the trainer checks them before training."""
        return ()

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def _improved(value: float, best: float | None, mode: str, min_delta: float = 0.0) -> bool:
    if not math.isfinite(value):
        return False
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _monitored(logs: dict[str, Any], monitor: str, who: str) -> float:
    if monitor not in logs:
        known = ", ".join(k for k in logs if k.startswith(("train_", "val_")))
        raise KeyError(f"{who}: metric {monitor!r} is not logged; logged metrics: {known}")
    return float(logs[monitor])


class GradientClipping(Callback):
    """Scale all gradients so that their global L2 norm is at most `max_norm`."""

    def __init__(self, max_norm: float):
        self.max_norm = max_norm

    def on_after_backward(self, trainer):
        clip_grad_norm_(trainer.model.parameters(), self.max_norm)


class LRScheduling(Callback):
    """Step an lr scheduler after every optimiser step (interval='step') or every epoch.

    A ReduceLROnPlateau scheduler is stepped with the epoch's `monitor` value.
    """

    def __init__(self, scheduler, interval: str = "epoch", monitor: str = "val_loss"):
        if interval not in ("step", "epoch"):
            raise ValueError(f"LRScheduling: interval must be 'step' or 'epoch', got {interval!r}")
        self.scheduler, self.interval, self.monitor = scheduler, interval, monitor

    def on_step_end(self, trainer):
        if self.interval == "step":
            self.scheduler.step()

    def _on_plateau(self) -> bool:
        return type(self.scheduler).__name__ == "ReduceLROnPlateau"

    def on_epoch_end(self, trainer, logs):
        if self.interval != "epoch":
            return
        if self._on_plateau():
            self.scheduler.step(_monitored(logs, self.monitor, "LRScheduling"))
        else:
            self.scheduler.step()

    def monitors(self):
        return (self.monitor,) if self._on_plateau() and self.interval == "epoch" else ()

    def state_dict(self):
        return self.scheduler.state_dict()

    def load_state_dict(self, state):
        self.scheduler.load_state_dict(state)


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs."""

    def __init__(self, monitor: str = "val_loss", mode: str = "min", patience: int = 3, min_delta: float = 0.0):
        check_mode(monitor, mode, "EarlyStopping: mode")
        self.monitor, self.mode, self.patience, self.min_delta = monitor, mode, patience, min_delta
        self.best: float | None = None
        self.wait = 0

    def on_epoch_end(self, trainer, logs):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.wait = value, 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.stop(f"early stopping: {self.monitor} has not improved for {self.wait} epochs "
                         f"(best {self.best:.4g})")

    def monitors(self):
        return (self.monitor,)

    def state_dict(self):
        return {"best": self.best, "wait": self.wait}

    def load_state_dict(self, state):
        self.best, self.wait = state["best"], state["wait"]


class ModelCheckpoint(Callback):
    """Save the run's 'last' checkpoint every epoch (and every `every_n_steps` steps mid-epoch,
    so that a killed run loses little), and the 'best' weights by `monitor`.

    Put it last in the callback list: the checkpoint then holds the other callbacks' updated state.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "min", every_n_steps: int = 0):
        check_mode(monitor, mode, "ModelCheckpoint: mode")
        self.monitor, self.mode, self.every_n_steps = monitor, mode, every_n_steps
        self.best: float | None = None

    def on_step_end(self, trainer):
        if self.every_n_steps and trainer.global_step % self.every_n_steps == 0:
            trainer.save_checkpoint("last")

    def on_epoch_end(self, trainer, logs):
        value = _monitored(logs, self.monitor, "ModelCheckpoint")
        if _improved(value, self.best, self.mode):
            self.best = float(value)
            trainer.save_checkpoint("best")
        trainer.save_checkpoint("last")

    def monitors(self):
        return (self.monitor,)

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = state["best"]
