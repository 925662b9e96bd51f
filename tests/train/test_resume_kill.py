"""SIGKILL a training process after a checkpoint; resume it in a new process; the final weights
equal those of a run that was never stopped."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina.train import RunDir

from train_synthetic import PauseAfterLastStep, Sleep, build, weights

WORKER = Path(__file__).with_name("train_synthetic.py")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(WORKER.parent), os.environ.get("PYTHONPATH", "")])}


def kill_when(run: RunDir, worker_args: list[str], ready) -> dict:
    """Start the worker on `run`, SIGKILL it as soon as its last checkpoint satisfies `ready`;
    return that checkpoint."""
    proc = subprocess.Popen([sys.executable, str(WORKER), str(run.path), *worker_args], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt = run.checkpoint_path("last")
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if ckpt.is_file() and ready(lamina.load(ckpt)):  # written atomically: always a whole file
                break
            time.sleep(0.02)
        else:
            pytest.fail(f"no such checkpoint appeared (exit {proc.poll()}): {proc.stderr.read().decode()[-2000:]}")
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    return lamina.load(ckpt)


def resume(run: RunDir, *worker_args: str) -> dict:
    done = subprocess.run([sys.executable, str(WORKER), str(run.path), "0", "resume", *worker_args], env=ENV,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return lamina.load(run.path / "final.safetensors")


def assert_same(resumed: dict, expected: dict) -> None:
    assert resumed.keys() == expected.keys()
    for k, v in expected.items():
        assert np.array_equal(resumed[k].numpy(), v), f"{k} differs after SIGKILL + resume"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tmp_path):
    run = RunDir.create("killed", tmp_path)
    # a mid-epoch checkpoint in the 2nd epoch: an epoch end and a mid-epoch save are both behind us
    state = kill_when(run, ["0.1"], lambda s: s["epoch"] >= 1 and s["in_epoch"] and 0 < s["step_in_epoch"] < 15)
    assert state["global_step"] < 45
    resumed = resume(run)
    reference = build(None, epochs=3, every=4, extra=[Sleep(0)])
    reference.fit()
    assert_same(resumed, weights(reference))
    assert [h["epoch"] for h in run.read_metrics()] == [1, 2, 3]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_after_the_last_of_max_steps_then_resume_takes_no_extra_step(tmp_path):
    """max_steps=20 ends mid-epoch (15 steps an epoch); the kill comes after step 20's checkpoint,
    during the last validation. The resumed run only finishes that epoch: no 21st step, which
    the one-cycle schedule (20 steps long) would refuse and which would change the weights."""
    run = RunDir.create("killed", tmp_path)
    state = kill_when(run, ["0.05", "max_steps=20"], lambda s: s["global_step"] == 20 and s["in_epoch"])
    assert state["epoch"] == 1 and state["step_in_epoch"] == 5
    resumed = resume(run, "max_steps=20")
    reference = build(None, epochs=3, every=4, extra=[Sleep(0), PauseAfterLastStep(0)], config={"max_steps": 20})
    reference.fit()
    assert reference.global_step == 20
    assert_same(resumed, weights(reference))
    last = lamina.load(run.checkpoint_path("last"))
    assert last["global_step"] == 20 and not last["in_epoch"]
    assert [(h["epoch"], h["step"]) for h in run.read_metrics()] == [(1, 15), (2, 20)]
