"""SIGKILL a training process mid-epoch, after a mid-epoch checkpoint; resume it in a new process;
the final weights equal those of a run that was never stopped."""
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

from train_synthetic import Sleep, build, weights

WORKER = Path(__file__).with_name("train_synthetic.py")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tmp_path):
    run = RunDir.create("killed", tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(WORKER.parent), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, str(WORKER), str(run.path), "0.1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt = run.checkpoint_path("last")
    deadline = time.monotonic() + 120
    state = None
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if ckpt.is_file():
                state = lamina.load(ckpt)  # written atomically: always a whole file
                # a mid-epoch checkpoint in the 2nd epoch: an epoch end and a mid-epoch save are both behind us
                if state["epoch"] >= 1 and state["in_epoch"] and 0 < state["step_in_epoch"] < 15:
                    break
            time.sleep(0.02)
        else:
            pytest.fail(f"no mid-epoch checkpoint appeared (exit {proc.poll()}): {proc.stderr.read().decode()[-2000:]}")
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    killed_at = lamina.load(ckpt)["global_step"]
    assert killed_at < 45
    done = subprocess.run([sys.executable, str(WORKER), str(run.path), "0", "resume"], env=env,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    resumed = lamina.load(run.path / "final.safetensors")
    reference = build(None, epochs=3, every=4, extra=[Sleep(0)])
    reference.fit()
    expected = weights(reference)
    assert resumed.keys() == expected.keys()
    for k, v in expected.items():
        assert np.array_equal(np.asarray(resumed[k].data), v), f"{k} differs after SIGKILL + resume"
    assert [h["epoch"] for h in run.read_metrics()] == [1, 2, 3]
