"""What a run shows and keeps (issue 13): the model summary, a validation split apart from the
test set with test metrics at the end, step rows in metrics.jsonl that survive a resume,
per-step smoothed plots, and extending a finished run."""
import json
import os
import signal

import numpy as np
import pytest

import lamina
from lamina.tasks import runner
from lamina.tasks.classification import holdout
from lamina.train import Callback, RunDir, plot_history
from lamina.train.callbacks import ModelCheckpoint
from lamina.train.plots import smooth

from train_synthetic import build, weights

TINY = ["model.name=mlp", "model.hidden=16", "train.progress=false", "data.batch_size=500"]  # 18 steps an epoch


def tiny_recipe(*sets):
    return runner.load_recipe("mnist-demo", TINY + list(sets))


def test_holdout_is_seeded_stratified_and_disjoint():
    targets = np.repeat(np.arange(4), [50, 30, 20, 2])
    rest, val = holdout(targets, 0.1, seed=0)
    assert sorted(np.concatenate([rest, val]).tolist()) == list(range(len(targets)))
    assert [int((targets[val] == c).sum()) for c in range(4)] == [5, 3, 2, 1]  # every class, ~10% of each
    again = holdout(targets, 0.1, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip((rest, val), again))  # deterministic
    assert not np.array_equal(holdout(targets, 0.1, seed=1)[1], val)       # and seeded
    rest, val2, test = holdout(targets, 0.1, seed=0, parts=2)  # image folders: val and test apart
    assert set(val2) <= set(val) and not set(test) & set(val2) and not set(test) & set(rest)  # (a class of 2: none)
    with pytest.raises(ValueError, match="val_fraction"):
        holdout(targets, 0.0, seed=0)


def test_validation_comes_from_the_training_images_and_test_is_the_test_split():
    from lamina.data.datasets import BundledMNIST
    recipe = tiny_recipe()
    task = runner.get_task(recipe.task)
    data = task.build_data(recipe)
    assert (len(data.train), len(data.val), len(data.test)) == (8997, 1003, 2000)
    train_raw, test_raw = BundledMNIST(train=True), BundledMNIST(train=False)
    _, val_idx = holdout(train_raw.targets, recipe.data.val_fraction, recipe.train.seed)
    # the validation images are held-out training images, standardised: never test images
    m, s = data.info.mean[0], data.info.std[0]
    val_x = np.asarray(data.val.tensors[0])[:5, 0]
    np.testing.assert_allclose(val_x, (np.asarray(train_raw.data)[val_idx[:5]] / 255 - m) / s, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(data.test.tensors[1]), np.asarray(test_raw.targets))


def test_train_prints_summary_then_scores_the_best_checkpoint_on_test(tmp_path):
    lines = []
    run, logs, trainer = runner.train(tiny_recipe("train.epochs=2"), runs_root=tmp_path, log=lines.append)
    text = "\n".join(lines)
    assert "Layer (type)" in text and "net.1 (Linear)" in text and "Total params: 12,730" in text
    assert "data: mnist-bundled, 8,997 train / 1,003 val / 2,000 test" in text
    best_epoch = lamina.load(run.checkpoint_path("best"))["epoch"]
    assert f"test (best checkpoint, epoch {best_epoch}): test_loss" in lines[-1]
    assert {"val_accuracy", "test_loss", "test_accuracy", "test_f1"} <= logs.keys()
    (test_row,) = run.read_metrics("test")
    assert test_row["checkpoint"] == "best" and test_row["epoch"] == best_epoch
    assert test_row["test_accuracy"] == logs["test_accuracy"]
    assert [r["epoch"] for r in run.read_metrics()] == [1, 2]  # the default reader: epoch rows only
    # evaluate gives the same numbers from the same weights
    ev = runner.evaluate(run.path, split="test")
    assert ev.logs["test_accuracy"] == pytest.approx(logs["test_accuracy"])
    assert ev.size == 2000 and ev.weights == f"best checkpoint, epoch {best_epoch}"
    assert runner.evaluate(run.path, split="val").logs["val_accuracy"] == pytest.approx(
        trainer.history[best_epoch - 1]["val_accuracy"])


def test_step_rows_are_written_and_survive_a_resume(tmp_path):
    reference = build(None, epochs=2, config={"metrics_every": 4})
    reference.fit()
    assert [r["step"] for r in reference.step_history] == [4, 8, 12, 16, 20, 24, 28]
    assert set(reference.step_history[0]) == {"kind", "step", "epoch", "train_loss", "lr"}
    assert [r["epoch"] for r in reference.step_history] == [1, 1, 1, 2, 2, 2, 2]

    class InterruptAt(Callback):
        def on_step_end(self, trainer):
            if trainer.global_step == 18:
                os.kill(os.getpid(), signal.SIGINT)

    run = RunDir.create("steps", tmp_path)
    first = build(run, epochs=2, config={"metrics_every": 4}, extra=[InterruptAt()])
    first.fit()
    assert first.interrupted
    resumed = build(run, epochs=2, config={"metrics_every": 4}, extra=[Callback()])
    resumed.fit(resume=run.checkpoint_path("last"))
    # the window of losses between rows (steps 17-20) spans the interruption, and comes out the same
    assert resumed.step_history == reference.step_history
    rows = [json.loads(line) for line in run.metrics_path.read_text().splitlines()]
    assert [(r.get("kind", "epoch"), r["step"]) for r in rows] == [
        ("step", 4), ("step", 8), ("step", 12), ("epoch", 15), ("step", 16), ("step", 20), ("step", 24),
        ("step", 28), ("epoch", 30)]
    assert run.read_metrics("step") == reference.step_history


def test_smoothing():
    assert np.array_equal(smooth([3.0, 1.0, 2.0]), [3.0, 1.0, 2.0])  # twenty points or fewer: as they are
    assert np.allclose(smooth([2.0] * 100), 2.0)  # debiased: a constant stays itself from the start
    noisy = 1 + np.random.default_rng(0).normal(0, 0.5, 500)
    s = smooth(noisy)
    assert s[0] == noisy[0] and np.std(s[100:]) < np.std(noisy) / 4


def test_plots_are_per_step_with_labels(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure
    saved = []
    original = Figure.savefig

    def keep(self, path, **kw):
        saved.append((path.name, [(ax.get_xlabel(), ax.get_ylabel(), [len(l.get_xdata()) for l in ax.lines
                                                                     if l.get_xdata() is not None])
                                   for ax in self.axes if ax.get_xlabel()]))
        return original(self, path, **kw)

    monkeypatch.setattr(Figure, "savefig", keep)
    steps = [{"kind": "step", "step": s, "epoch": 1, "train_loss": 2.0 / s, "lr": 0.01} for s in range(5, 141, 5)]
    history = [{"epoch": 1, "step": 141, "train_loss": 0.5, "val_loss": 0.4, "train_accuracy": 0.8,
                "val_accuracy": 0.85}]
    written = plot_history(history, tmp_path, steps)
    assert [p.name for p in written] == ["loss.png", "metrics.png"]
    (loss_name, loss_axes), (metrics_name, metrics_axes) = saved
    (xlabel, ylabel, lengths), = loss_axes
    assert (xlabel, ylabel) == ("step", "loss")
    assert lengths[:3] == [28, 28, 1]  # raw, smoothed, the one validation point: useful after one epoch
    assert [(x, y) for x, y, _ in metrics_axes] == [("step", "accuracy"), ("step", "lr")]


def test_extending_a_finished_run_and_resuming_the_extension_exactly(tmp_path, monkeypatch):
    lines = []
    run, logs, _ = runner.train(tiny_recipe("train.epochs=1"), runs_root=tmp_path / "a", log=lines.append)
    with pytest.raises(ValueError, match="must be more than the 1 epoch"):
        runner.train(None, resume=run.path, epochs=1, log=lines.append)
    import shutil
    copy, crashed = tmp_path / "b" / run.path.name, tmp_path / "c" / run.path.name
    shutil.copytree(run.path, copy)
    shutil.copytree(run.path, crashed)

    run, logs, trainer = runner.train(None, resume=run.path, epochs=3, log=lines.append)
    assert any(line.startswith(f"extending {run.path}: 1 epoch(s) done, training on to 3") for line in lines)
    assert [h["epoch"] for h in trainer.history] == [1, 2, 3] and "test_accuracy" in logs
    config = run.read_config()
    assert config["recipe"]["train"]["epochs"] == 3
    assert config["extensions"] == [{"from_epoch": 1, "from_step": 18, "epochs": 3}]
    after = [r["lr"] for r in run.read_metrics("step") if r["step"] > 18]
    assert max(after) > 1e4 * trainer.history[0]["lr"]  # a new cycle: epoch 1 had annealed the lr to ~0
    assert len(run.read_metrics("test")) == 1  # the first test row went with the resume; one for the end

    # the same extension, interrupted in epoch 2 and resumed, ends with the same weights
    original = ModelCheckpoint.on_step_end

    def interrupt(self, trainer):
        original(self, trainer)
        if trainer.global_step == 25:  # in epoch 2, the first of the extension
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(ModelCheckpoint, "on_step_end", interrupt)
    _, _, stopped = runner.train(None, resume=copy, epochs=3, log=lines.append)
    assert stopped.interrupted
    monkeypatch.setattr(ModelCheckpoint, "on_step_end", original)
    with pytest.raises(ValueError, match="has not finished"):
        runner.train(None, resume=copy, epochs=4, log=lines.append)
    runner.train(None, resume=copy, log=lines.append)

    # and so does one that crashed before its first checkpoint, resumed without --epochs
    def crash(self, trainer):
        if trainer.global_step == 20:
            raise RuntimeError("simulated crash")

    monkeypatch.setattr(ModelCheckpoint, "on_step_end", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        runner.train(None, resume=crashed, epochs=3, log=lines.append)
    monkeypatch.setattr(ModelCheckpoint, "on_step_end", original)
    assert lamina.load(crashed / "checkpoints" / "last.safetensors")["global_step"] == 18
    runner.train(None, resume=crashed, log=lines.append)
    a = lamina.load(run.checkpoint_path("last"))["model"]
    for other in (copy, crashed):
        b = lamina.load(other / "checkpoints" / "last.safetensors")["model"]
        for k in a:
            assert np.array_equal(a[k].numpy(), b[k].numpy()), (other, k)


def test_resumed_at_an_epoch_end_then_stopped_mid_epoch_resumes_exactly(tmp_path):
    """The loader's state, asked for after a resume at an epoch end and before the next epoch's
    first batch, was the generator's fresh state, not the loaded one: the second resume then
    redrew the wrong order (every extended run starts this way)."""
    class Stop(Callback):
        def __init__(self, step, crash):
            self.step, self.crash = step, crash

        def on_step_end(self, trainer):
            if trainer.global_step == self.step:
                if self.crash:
                    raise RuntimeError("simulated crash")
                os.kill(os.getpid(), signal.SIGINT)

    reference = build(None, epochs=3)
    reference.fit()
    run = RunDir.create("twice", tmp_path)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build(run, epochs=3, extra=[Stop(16, crash=True)]).fit()  # last checkpoint: the end of epoch 1
    second = build(run, epochs=3, extra=[Stop(22, crash=False)])
    second.fit(resume=run.checkpoint_path("last"))
    assert second.interrupted and second.global_step == 22
    third = build(run, epochs=3, extra=[Callback()])
    third.fit(resume=run.checkpoint_path("last"))
    for k, v in weights(reference).items():
        assert np.array_equal(v, weights(third)[k]), k
