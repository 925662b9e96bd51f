"""The training loop on a tiny synthetic problem: training, run directory, plots, early stopping,
NaN loss, max_steps, and exact resume after a crash or Ctrl-C (same weights, bit for bit)."""
import json
import os
import signal
import sys

import numpy as np
import pytest

import lamina
from lamina.nn import functional as F
from lamina.train import Callback, EarlyStopping, RunDir, TrainingError, plot_history

from train_synthetic import build, weights


class CrashAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, trainer):
        if trainer.global_step == self.step:
            raise RuntimeError("simulated crash")


class InterruptAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, trainer):
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture(scope="module")
def uninterrupted():
    trainer = build(None, epochs=3)
    logs = trainer.fit()
    return trainer, logs


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype
        assert np.array_equal(a[k], b[k]), f"{k} differs after resume"


def test_trains(uninterrupted):
    trainer, logs = uninterrupted
    assert logs["epoch"] == 3 and logs["step"] == 45
    assert logs["val_accuracy"] > 0.9
    assert logs["train_loss"] < trainer.history[0]["train_loss"]


def test_run_directory_contents(tmp_path):
    run = RunDir.create("synthetic", tmp_path)
    assert run.path.name.startswith("synthetic-") and run.path.parent == tmp_path
    build(run, epochs=2).fit()
    lines = [json.loads(line) for line in run.metrics_path.read_text().splitlines()]
    lines = [h for h in lines if "kind" not in h]  # the epoch rows (step rows have kind "step")
    assert [h["epoch"] for h in lines] == [1, 2]
    assert {"step", "lr", "time", "train_loss", "train_accuracy", "val_loss", "val_accuracy"} <= lines[0].keys()
    assert run.checkpoint_path("last").is_file() and run.checkpoint_path("best").is_file()
    last = lamina.load(run.checkpoint_path("last"))
    assert last["epoch"] == 2 and last["global_step"] == 30 and not last["in_epoch"]
    pytest.importorskip("matplotlib")
    assert (run.path / "loss.png").stat().st_size > 1000
    assert (run.path / "metrics.png").stat().st_size > 1000


def test_no_plots_and_no_failure_without_matplotlib(tmp_path, monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import matplotlib...` raise ImportError
    history = [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.1}]
    assert plot_history(history, tmp_path) == []
    run = RunDir.create("noplots", tmp_path)
    build(run, epochs=1).fit()
    assert not (run.path / "loss.png").exists() and run.metrics_path.is_file()


def test_early_stopping():
    stopper = EarlyStopping("val_loss", "min", patience=2, min_delta=10.0)  # nothing can improve by 10
    trainer = build(None, epochs=10, extra=[stopper])
    trainer.fit()
    assert trainer.epoch == 3 and "early stopping" in trainer.stop_reason


def test_max_steps():
    trainer = build(None, epochs=5, config={"max_steps": 20})
    logs = trainer.fit()
    assert trainer.global_step == 20 and logs["epoch"] == 2 and len(trainer.history) == 2


def test_nan_loss_names_the_step():
    calls = []

    def loss_fn(out, y):
        calls.append(out.requires_grad)  # validation batches (no grad) do not count
        loss = F.cross_entropy(out, y)
        return loss * float("nan") if sum(calls) == 20 else loss

    trainer = build(None, epochs=3, loss_fn=loss_fn)
    with pytest.raises(TrainingError, match=r"loss is nan at step 20 \(epoch 2, batch 5\)"):
        trainer.fit()


@pytest.mark.parametrize("crash_step", [22, 16])  # mid-epoch (checkpoint at step 20), just after an epoch end
def test_resume_after_crash_equals_uninterrupted(tmp_path, uninterrupted, crash_step):
    run = RunDir.create("crash", tmp_path)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build(run, epochs=3, every=4 if crash_step == 22 else 0, extra=[CrashAt(crash_step)]).fit()
    saved = lamina.load(run.checkpoint_path("last"))
    assert saved["global_step"] == (20 if crash_step == 22 else 15)
    resumed = build(run, epochs=3, every=4, extra=[Callback()])
    logs = resumed.fit(resume=run.checkpoint_path("last"))
    assert_same_weights(weights(resumed), weights(uninterrupted[0]))
    drop_time = lambda hs: [{k: v for k, v in h.items() if k != "time"} for h in hs]  # noqa: E731
    assert drop_time(resumed.history) == drop_time(uninterrupted[0].history)
    assert len(run.read_metrics()) == 3 and logs["epoch"] == 3


def test_ctrl_c_saves_a_checkpoint_and_resumes_exactly(tmp_path, uninterrupted):
    run = RunDir.create("sigint", tmp_path)
    messages = []
    trainer = build(run, epochs=3, extra=[InterruptAt(9)])
    trainer.log = messages.append
    trainer.fit()
    assert trainer.interrupted and trainer.global_step == 9
    assert any("lamina train --resume" in m for m in messages)
    resumed = build(run, epochs=3, extra=[Callback()])
    resumed.fit(resume=run.checkpoint_path("last"))
    assert_same_weights(weights(resumed), weights(uninterrupted[0]))


def test_plain_progress_lines_without_tqdm(monkeypatch, capsys):
    import lamina.train.progress as progress
    monkeypatch.setattr(progress, "_tqdm", None)
    build(None, epochs=1, config={"progress": True, "log_every": 5}).fit()
    err = capsys.readouterr().err
    assert "epoch 1/1 step 5/15 loss" in err and "step 15/15" in err


@pytest.mark.parametrize("schedule", [True, False])
def test_max_steps_run_interrupted_at_its_last_step_resumes_without_an_extra_step(tmp_path, schedule):
    """Ctrl-C during step 20 of max_steps=20 (mid-epoch 2) saves a mid-epoch checkpoint; the
    resumed run validates and ends. It used to take a 21st step: with a one-cycle schedule of
    20 steps that failed ("stepped 21 times"), without one the weights came out different."""
    reference = build(None, epochs=3, config={"max_steps": 20}, schedule=schedule)
    reference.fit()
    run = RunDir.create("laststep", tmp_path)
    trainer = build(run, epochs=3, config={"max_steps": 20}, schedule=schedule, extra=[InterruptAt(20)])
    trainer.fit()
    assert trainer.interrupted and trainer.global_step == 20 and trainer.in_epoch
    resumed = build(run, epochs=3, config={"max_steps": 20}, schedule=schedule, extra=[Callback()])
    logs = resumed.fit(resume=run.checkpoint_path("last"))
    assert resumed.global_step == 20 and logs["epoch"] == 2 and logs["step"] == 20
    assert_same_weights(weights(resumed), weights(reference))
    drop_time = lambda hs: [{k: v for k, v in h.items() if k != "time"} for h in hs]  # noqa: E731
    assert drop_time(resumed.history) == drop_time(reference.history)


def test_max_steps_shorter_than_a_warm_up_step():
    """max_steps=5 with one-cycle's pct_start=0.2 makes a warm-up phase that ends at step 0;
    the schedule divided by its zero length ("float division by zero") before any training."""
    from lamina.tasks import get_task
    from lamina.tasks.recipe import override
    task = get_task("mnist-cnn")
    recipe = override(task.default_recipe(), ["train.max_steps=5"])
    assert recipe.schedule.name == "onecycle" and recipe.schedule.pct_start == 0.2
    model = lamina.nn.Linear(2, 2)
    opt = task.optimizer(recipe, model)
    (sched, *_), = [[cb.scheduler] for cb in task.callbacks(recipe, opt, 469) if hasattr(cb, "scheduler")]
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(5):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[0] == pytest.approx(recipe.optim.lr)  # the warm-up is over at once: the peak lr
    assert lrs[-1] == pytest.approx(recipe.optim.lr / 25 / 1e4)
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))


@pytest.mark.parametrize("callback", ["checkpoint", "early_stopping", "plateau"])
def test_unknown_monitored_metric_is_refused_before_any_step(callback):
    """A typo in the monitored metric used to train on and never write a best checkpoint, so
    that evaluate and predict quietly used the last weights."""
    from lamina import optim
    from lamina.train import LRScheduling, ModelCheckpoint
    make = {"checkpoint": lambda opt: ModelCheckpoint("val_acc", "max"),
            "early_stopping": lambda opt: EarlyStopping("val_acc", "max"),
            "plateau": lambda opt: LRScheduling(optim.lr_scheduler.ReduceLROnPlateau(opt), "epoch", "val_acc")}[callback]
    trainer = build(None, epochs=1)
    with pytest.raises(ValueError, match=r"unknown metric 'val_acc' to monitor; known: val_loss, val_accuracy, "
                                         r"train_loss, train_accuracy"):
        build(None, epochs=1, extra=[make(trainer.optimizer)])
    with pytest.raises(ValueError, match=r"train.monitor: unknown metric 'val_acc' \(read by EarlyStopping\); known"):
        build(None, epochs=1, config={"monitor": "val_acc"}, extra=[EarlyStopping("val_acc", "max")])


def test_monitor_of_a_step_schedule_is_not_checked():
    from lamina import optim
    from lamina.train import LRScheduling
    trainer = build(None, epochs=1)
    sched = LRScheduling(optim.lr_scheduler.StepLR(trainer.optimizer, 1), "epoch", "val_whatever")  # not read
    build(None, epochs=1, extra=[sched])


def test_gradient_clipping_callback_clips_the_gradients():
    """The callback hands clip_grad_norm_ the model's parameters as a generator, which it once
    read twice: the norm was computed and nothing was clipped."""
    from lamina.train import GradientClipping
    trainer = build(None, epochs=1)
    x, y = next(iter(trainer.train_loader))
    (F.cross_entropy(trainer.model(x), y) * 100).backward()  # a gradient far above the limit
    before = {id(p): p.grad.numpy().copy() for p in trainer.model.parameters()}
    norm = lambda gs: float(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in gs)))  # noqa: E731
    assert norm(before.values()) > 1.0
    GradientClipping(0.5).on_after_backward(trainer)
    after = {id(p): p.grad.numpy().copy() for p in trainer.model.parameters()}
    assert norm(after.values()) == pytest.approx(0.5, rel=1e-4)
    scale = 0.5 / norm(before.values())
    for k, g in before.items():  # every gradient scaled by the same factor
        np.testing.assert_allclose(after[k], g * scale, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("monitor,mode", [("val_loss", "max"), ("val_accuracy", "min"), ("train_loss", "max"),
                                          ("val_f1", "min")])
def test_a_metric_watched_the_wrong_way_round_is_refused(monitor, mode):
    # the 'best' checkpoint would silently be the worst one
    from lamina.train.callbacks import EarlyStopping, ModelCheckpoint
    from lamina.train.config import TrainConfig
    for make in (lambda: TrainConfig(monitor=monitor, mode=mode), lambda: ModelCheckpoint(monitor, mode),
                 lambda: EarlyStopping(monitor, mode)):
        with pytest.raises(ValueError, match=f"mode must be '{'min' if mode == 'max' else 'max'}' for monitor={monitor}"):
            make()
    TrainConfig(monitor=monitor, mode="min" if mode == "max" else "max")
    ModelCheckpoint("my_custom_score", mode)  # a name that says nothing either way is taken as given
