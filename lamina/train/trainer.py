"""The training loop: plain code that trains, validates, logs, checkpoints and resumes.

>>> trainer = Trainer(model, F.cross_entropy, opt, train_loader, val_loader,
...                   metrics=lambda: {"accuracy": metrics.Accuracy()},
...                   callbacks=[ModelCheckpoint()], config=TrainConfig(epochs=3), run_dir=RunDir.create("demo"))
>>> trainer.fit()
{'epoch': 3, ..., 'val_loss': 0.05, 'val_accuracy': 0.984}

Resuming is exact: a checkpoint holds the model, the optimiser, every callback's state (the lr
scheduler's among them), the epoch and the step within it, lamina's global random state and
the training loader's position (the generator state its epoch began from and the batches
already done). A resumed run redraws the same epoch order, skips the done batches and then
makes the same random draws as a run that was never stopped, so its weights match bit for bit.
"""
from __future__ import annotations

import math
import signal
import threading
import time
from itertools import islice
from typing import Any, Callable, Iterable

from .. import creation
from ..autograd import no_grad
from ..io import load, save
from ..metrics.functional import to_numpy
from ..metrics.streaming import Mean, Metric
from ..nn.module import Module
from ..tensor import Tensor
from .callbacks import Callback
from .config import TrainConfig
from .progress import Progress, format_metrics
from .rundir import RunDir


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. the loss became NaN); the message says where and why."""


class _DeferredInterrupt:
    """Within this block, Ctrl-C sets `self.requested` instead of raising, so the loop can stop
    between steps with consistent state; a second Ctrl-C raises KeyboardInterrupt at once."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\ninterrupted: finishing this step and saving a checkpoint (Ctrl-C again to abort)", flush=True)

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _to_device(batch, device):
    if isinstance(batch, Tensor):
        return batch if device is None or str(batch.device) == str(device) else batch.to(device)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch


def _batch_size(target) -> int:
    shape = getattr(target, "shape", None)
    return int(shape[0]) if shape else 1


class Trainer:
    """Trains `model` on `train_loader` with `loss_fn(output, target)` and `optimizer`.

    Batches are (input, target) pairs. `metrics` is a factory giving fresh streaming metrics
    {name: Metric}, each updated with (output, target) and logged as train_<name> and
    val_<name> per epoch. Without `run_dir` nothing is written to disk.
    """

    def __init__(self, model: Module, loss_fn: Callable, optimizer, train_loader: Iterable,
                 val_loader: Iterable | None = None, *, metrics: Callable[[], dict[str, Metric]] | None = None,
                 callbacks: list[Callback] | None = None, config: TrainConfig | None = None,
                 run_dir: RunDir | None = None, log: Callable[[str], None] | None = None):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.train_loader, self.val_loader = train_loader, val_loader
        self.metrics = metrics or (lambda: {})
        self.callbacks = list(callbacks or [])
        self.config = config or TrainConfig()
        self.run_dir = run_dir
        self.log = log or (lambda line: print(line, flush=True))
        self.device = None if self.config.device == "cpu" else self.config.device
        # where training stands; everything here goes into a checkpoint
        self.epoch = 0            # epochs completed (validation included)
        self.step_in_epoch = 0    # optimiser steps done in the current epoch
        self.global_step = 0
        self.in_epoch = False     # True between an epoch's first step and its validation's end
        self.history: list[dict[str, Any]] = []       # one row per epoch
        self.step_history: list[dict[str, Any]] = []  # a row every config.metrics_every steps
        self.stop_reason: str | None = None
        self.interrupted = False
        self._epoch_loader_state: dict | None = None  # the loader's state when this epoch began
        self._train_loss = Mean()
        self._step_loss = Mean()  # the batch losses since the last step row
        self._train_metrics: dict[str, Metric] = self.metrics()
        self._epoch_time = 0.0
        self._resume_rng: dict | None = None
        self._check_monitors()

    def logged_metrics(self) -> list[str]:
        """The names each epoch logs, that callbacks may monitor: val_* (with a val_loader), train_*."""
        names = ["loss", *self._train_metrics]
        return ([f"val_{n}" for n in names] if self.val_loader is not None else []) + [f"train_{n}" for n in names]

    def _check_monitors(self) -> None:
        """A monitored name that is never logged would silently never save a best checkpoint (or
        never stop early): refuse it now, before any step, listing the names that exist."""
        known = self.logged_metrics()
        for cb in self.callbacks:
            for name in cb.monitors():
                if name not in known:
                    who = (f"train.monitor: unknown metric {name!r} (read by {type(cb).__name__})"
                           if name == self.config.monitor else
                           f"{type(cb).__name__}: unknown metric {name!r} to monitor")
                    raise ValueError(f"{who}; known: {', '.join(known)}")

    # ---- the loop ---------------------------------------------------------------------------
    def fit(self, resume: str | None = None) -> dict[str, Any]:
        """Train until `config.epochs` (or `max_steps`, or a callback stops it); return the last logs.

        Seed lamina (`lamina.manual_seed`) before building the model: fit does not reseed.

        `resume`: a checkpoint file written by `save_checkpoint`; training continues exactly
        where it stopped. On Ctrl-C, a checkpoint is saved, `self.interrupted` is set and fit returns.
        """
        if resume is not None:
            self.load_checkpoint(resume)
        with _DeferredInterrupt() as interrupt:
            while not self._done():
                finished = self._train_epoch(interrupt)
                if not finished:
                    return self._interrupt()
                val_logs = self.evaluate(self.val_loader, interrupt) if self.val_loader is not None else {}
                if interrupt.requested:
                    return self._interrupt()
                self._end_epoch(val_logs)
        return self.history[-1] if self.history else {}

    def _done(self) -> bool:
        cfg = self.config
        if self.stop_reason is not None:
            return True
        if cfg.max_steps and self.global_step >= cfg.max_steps and not self.in_epoch:
            return True
        return self.epoch >= cfg.epochs and not self.in_epoch

    def _train_epoch(self, interrupt: _DeferredInterrupt) -> bool:
        """Run (the rest of) one epoch's steps; False if interrupted."""
        cfg, loader, model = self.config, self.train_loader, self.model
        if not self.in_epoch:  # a fresh epoch: remember where the loader's order comes from
            self._epoch_loader_state = loader.state_dict() if hasattr(loader, "state_dict") else None
            self._train_loss, self._train_metrics = Mean(), self.metrics()
            self._epoch_time = 0.0
            self.in_epoch = True
        elif self._epoch_loader_state is not None:  # resuming mid-epoch: same order, skip what was done
            loader.load_state_dict({**self._epoch_loader_state, "batches_done": self.step_in_epoch})
        batches = iter(loader)
        if self._resume_rng is not None:  # after iter(): a loader on the global generator rewinds it
            creation.set_rng_state(self._resume_rng)
            self._resume_rng = None
        if cfg.max_steps:  # counted before each step: a run resumed after its last step takes none
            batches = islice(batches, max(cfg.max_steps - self.global_step, 0))
        total = len(loader) if hasattr(loader, "__len__") else 0
        if cfg.max_steps:
            total = min(total, self.step_in_epoch + cfg.max_steps - self.global_step) if total else 0
        bar = Progress(total, self.step_in_epoch, f"epoch {self.epoch + 1}/{cfg.epochs}", cfg.progress,
                       cfg.log_every)
        start = time.perf_counter()
        model.train()
        try:
            for batch in batches:
                inputs, target = _to_device(batch, self.device)
                output = model(inputs)
                loss = self.loss_fn(output, target)
                value = float(loss.item())
                if not math.isfinite(value):
                    raise TrainingError(
                        f"loss is {value} at step {self.global_step + 1} (epoch {self.epoch + 1}, batch "
                        f"{self.step_in_epoch + 1}); training stopped. Try a lower learning rate or "
                        f"gradient clipping (--set train.grad_clip=1.0)")
                self.optimizer.zero_grad()
                loss.backward()
                for cb in self.callbacks:
                    cb.on_after_backward(self)
                lr = self.optimizer.param_groups[0]["lr"]  # the lr of this step, before a scheduler moves it
                self.optimizer.step()
                self.global_step += 1
                self.step_in_epoch += 1
                n = _batch_size(target)
                self._train_loss.update(value, n)
                self._step_loss.update(value, n)
                if cfg.metrics_every and self.global_step % cfg.metrics_every == 0:
                    self._log_step(lr)
                if self._train_metrics:  # (a task may measure only its loss)
                    out_np, tgt_np = to_numpy(output.detach()), to_numpy(target)
                    for m in self._train_metrics.values():
                        m.update(out_np, tgt_np)
                for cb in self.callbacks:
                    cb.on_step_end(self)
                bar.update(self._running())
                if interrupt.requested:
                    return False
        finally:
            self._epoch_time += time.perf_counter() - start
            bar.close()
        return True

    def _log_step(self, lr: float) -> None:
        row = {"kind": "step", "step": self.global_step, "epoch": self.epoch + 1,
               "train_loss": self._step_loss.compute(), "lr": float(lr)}
        self._step_loss = Mean()
        self.step_history.append(row)
        if self.run_dir is not None:
            self.run_dir.append_metrics(row)

    def _running(self) -> dict[str, float]:
        out = {"loss": self._train_loss.compute()}
        for name, m in self._train_metrics.items():
            v = m.compute()
            if isinstance(v, float):
                out[name] = v
        return out

    def _end_epoch(self, val_logs: dict[str, float]) -> None:
        logs: dict[str, Any] = {"epoch": self.epoch + 1, "step": self.global_step,
                                "lr": float(self.optimizer.param_groups[0]["lr"]),
                                "time": round(self._epoch_time, 3)}
        logs.update({f"train_{k}": v for k, v in self._running().items()})
        logs.update({f"val_{k}": v for k, v in val_logs.items()})
        self.epoch += 1
        self.step_in_epoch = 0
        self.in_epoch = False
        self.history.append(logs)
        self.log(f"epoch {logs['epoch']}/{self.config.epochs} "
                 + format_metrics({k: v for k, v in logs.items() if k.startswith(("train_", "val_"))})
                 + f" ({self._epoch_time:.1f} s)")
        if self.run_dir is not None:
            self.run_dir.append_metrics(logs)
        for cb in self.callbacks:
            cb.on_epoch_end(self, logs)
        if self.run_dir is not None:
            from .plots import plot_history
            try:
                plot_history(self.history, self.run_dir.path, self.step_history)
            except Exception as e:  # a plot is never worth losing a run over
                self.log(f"warning: could not draw plots: {e}")

    def stop(self, reason: str) -> None:
        """Ask the loop to stop after this epoch (used by callbacks such as EarlyStopping)."""
        self.stop_reason = reason
        self.log(reason)

    def _interrupt(self) -> dict[str, Any]:
        self.interrupted = True
        where = f"epoch {self.epoch + 1}, step {self.step_in_epoch}"
        if self.run_dir is not None:
            self.save_checkpoint("last")
            self.log(f"interrupted at {where}; checkpoint saved. Resume with: "
                     f"lamina train --resume {self.run_dir.path}")
        else:
            self.log(f"interrupted at {where}")
        return self.history[-1] if self.history else {}

    # ---- evaluation -------------------------------------------------------------------------
    def evaluate(self, loader: Iterable, interrupt: _DeferredInterrupt | None = None) -> dict[str, float]:
        """Mean loss and metrics of the model over `loader`, in eval mode and without gradients."""
        model = self.model
        was_training = model.training
        model.eval()
        loss, metrics = Mean(), self.metrics()
        try:
            with no_grad():
                for batch in loader:
                    inputs, target = _to_device(batch, self.device)
                    output = model(inputs)
                    loss.update(float(self.loss_fn(output, target).item()), _batch_size(target))
                    if metrics:
                        out_np, tgt_np = to_numpy(output), to_numpy(target)
                        for m in metrics.values():
                            m.update(out_np, tgt_np)
                    if interrupt is not None and interrupt.requested:
                        break
        finally:
            model.train(was_training)
        return {"loss": loss.compute(), **{k: m.compute() for k, m in metrics.items()
                                           if isinstance(m.compute(), float)}}

    def test(self, loader: Iterable, checkpoint: str = "best") -> dict[str, float]:
        """After training: load the `checkpoint` weights (if the run has them), evaluate on
        `loader` (the test set) and log, return and append to metrics.jsonl the test_* values.

        Best-checkpoint selection looked at validation data only, so these numbers are unbiased.
        """
        which, epoch = "last weights", self.epoch
        path = self.run_dir.checkpoint_path(checkpoint) if self.run_dir is not None else None
        if path is not None and path.is_file():
            state = load(path)
            self.model.load_state_dict(state["model"])
            which, epoch = f"{checkpoint} checkpoint, epoch {state['epoch']}", state["epoch"]
        logs = {f"test_{k}": v for k, v in self.evaluate(loader).items()}
        self.log(f"test ({which}): " + format_metrics(logs))
        if self.run_dir is not None:
            self.run_dir.append_metrics({"kind": "test", "epoch": epoch, "step": self.global_step,
                                         "checkpoint": checkpoint if which != "last weights" else "last", **logs})
        return logs

    # ---- checkpoints ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs (see the module docstring)."""
        if self.in_epoch:
            loader_state = {**(self._epoch_loader_state or {}), "batches_done": self.step_in_epoch}
        else:
            loader_state = self.train_loader.state_dict() if hasattr(self.train_loader, "state_dict") else None
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "callbacks": [cb.state_dict() for cb in self.callbacks],
            "epoch": self.epoch, "step_in_epoch": self.step_in_epoch, "global_step": self.global_step,
            "in_epoch": self.in_epoch, "epoch_time": self._epoch_time,
            "loader": loader_state,
            "rng": creation.get_rng_state(),
            "history": self.history,
            "step_history": self.step_history, "step_loss": self._step_loss.state_dict(),
            "stop_reason": self.stop_reason,
            "train_loss": self._train_loss.state_dict(),
            "train_metrics": {k: m.state_dict() for k, m in self._train_metrics.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if len(state["callbacks"]) != len(self.callbacks):
            raise ValueError(f"resume: the checkpoint has state for {len(state['callbacks'])} callbacks, "
                             f"this trainer has {len(self.callbacks)}; resume with the same configuration")
        for cb, s in zip(self.callbacks, state["callbacks"]):
            cb.load_state_dict(s)
        self.epoch, self.step_in_epoch = state["epoch"], state["step_in_epoch"]
        self.global_step, self.in_epoch = state["global_step"], state["in_epoch"]
        self._epoch_time = state["epoch_time"]
        self.history = list(state["history"])
        self.step_history = list(state.get("step_history", []))  # (checkpoints from before step rows)
        self._step_loss = Mean()
        if "step_loss" in state:
            self._step_loss.load_state_dict(state["step_loss"])
        self.stop_reason = state["stop_reason"]
        self._train_loss = Mean()
        self._train_loss.load_state_dict(state["train_loss"])
        self._train_metrics = self.metrics()
        for k, m in self._train_metrics.items():
            m.load_state_dict(state["train_metrics"][k])
        loader_state = state["loader"]
        if loader_state is not None:
            if self.in_epoch:
                self._epoch_loader_state = {k: v for k, v in loader_state.items() if k != "batches_done"}
            else:
                self.train_loader.load_state_dict(loader_state)
        creation.set_rng_state(state["rng"])
        self._resume_rng = state["rng"] if self.in_epoch else None

    def save_checkpoint(self, kind: str = "last") -> None:
        """Write checkpoints/<kind>.safetensors: the full state for 'last', the weights for others."""
        if self.run_dir is None:
            return
        if kind == "last":
            state = self.state_dict()
        else:
            state = {"model": self.model.state_dict(), "epoch": self.epoch, "global_step": self.global_step,
                     "logs": self.history[-1] if self.history else {}}
        save(state, self.run_dir.checkpoint_path(kind))

    def load_checkpoint(self, path) -> None:
        """Restore the state `save_checkpoint('last')` wrote; metrics.jsonl is cut back to match."""
        self.load_state_dict(load(path))
        if self.run_dir is not None:
            self.run_dir.write_metrics(self.history, self.step_history)
