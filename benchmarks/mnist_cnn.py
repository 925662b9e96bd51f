"""The mnist-cnn task's network and recipe, lamina against PyTorch in one process.

Same architecture (SmallCNN: 2 x [conv 5x5 - BatchNorm - ReLU - maxpool 2], dense 128, dropout
0.3), same optimiser (Adam, one-cycle lr peaking at 3e-3), batch 128, the same batches of real
MNIST (or the bundled subset). Training steps alternate between the two frameworks in rounds,
and the median step time is extrapolated to one epoch (60,000 images = 469 steps). Target
(issue 5): lamina / torch <= 1.3x.

    python benchmarks/mnist_cnn.py [--data-root ../shared/data] [--steps 20] [--rounds 5] [--threads N] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import common  # noqa: E402,F401  first: it sets thread counts and imports lamina before NumPy loads
import numpy as np  # noqa: E402
import torch  # noqa: E402

import lamina  # noqa: E402
from lamina.models.lenet import SmallCNN
from lamina.nn import functional as F

from common import cache_bandwidth, gauge_line, machine, set_threads, settle  # noqa: E402

BATCH, EPOCH_IMAGES = 128, 60_000


def load_images(data_root: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    """Standardised (N, 1, 28, 28) float32 images and int64 labels: MNIST if found, else the bundled subset."""
    from lamina.data.datasets import MNIST, BundledMNIST, DataError
    try:
        ds, name = MNIST(root=data_root, train=True), "MNIST train"
    except DataError:
        ds, name = BundledMNIST(train=True), "bundled MNIST subset"
    x = np.asarray(ds.data, np.float32)[:, None] / 255
    x = (x - x.mean()) / x.std()
    return x.astype(np.float32), np.asarray(ds.targets, np.int64), name


def torch_model() -> torch.nn.Module:
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))


class Runner:
    """One framework's model, optimiser and schedule, stepping through the shared batches."""

    def __init__(self, kind: str, x: np.ndarray, y: np.ndarray, total_steps: int):
        self.kind, self.x, self.y, self.i = kind, x, y, 0
        if kind == "lamina":
            lamina.manual_seed(0)
            self.model = SmallCNN(1, 10, (16, 32), 5, 128, 0.3, 28)
            self.opt = lamina.optim.Adam(self.model.parameters(), lr=3e-3)
            self.sched = lamina.optim.lr_scheduler.OneCycleLR(self.opt, max_lr=3e-3, total_steps=total_steps,
                                                              pct_start=0.2)
        else:
            torch.manual_seed(0)
            self.model = torch_model()
            self.opt = torch.optim.Adam(self.model.parameters(), lr=3e-3)
            self.sched = torch.optim.lr_scheduler.OneCycleLR(self.opt, max_lr=3e-3, total_steps=total_steps,
                                                             pct_start=0.2)
        self.model.train()

    def step(self) -> float:
        lo = (self.i * BATCH) % (len(self.x) - BATCH)
        self.i += 1
        xb, yb = self.x[lo:lo + BATCH], self.y[lo:lo + BATCH]
        if self.kind == "lamina":
            out = self.model(lamina.from_numpy(xb))
            loss = F.cross_entropy(out, lamina.from_numpy(yb))
        else:
            out = self.model(torch.from_numpy(xb))
            loss = torch.nn.functional.cross_entropy(out, torch.from_numpy(yb))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.sched.step()
        return float(loss.item())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", default=None)
    p.add_argument("--steps", type=int, default=20, help="steps per framework per round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores, as NumPy's BLAS); "
                   "with 1, also run with OPENBLAS_NUM_THREADS=1")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    threads = set_threads(args.threads or None)
    x, y, source = load_images(args.data_root)
    total = args.rounds * (args.steps + 1) + 10  # each round also has one untimed step per library
    runners = {k: Runner(k, x, y, total) for k in ("lamina", "torch")}
    for r in runners.values():  # warm-up: allocations, BLAS thread pools
        for _ in range(3):
            r.step()
    gauge = cache_bandwidth()
    per_step = {k: [] for k in runners}
    losses = {k: 0.0 for k in runners}
    for _ in range(args.rounds):
        for k, r in runners.items():
            settle()  # the other library's thread pool goes idle first
            r.step()  # and an untimed step wakes this one's
            t0 = time.perf_counter()
            for _ in range(args.steps):
                losses[k] = r.step()
            per_step[k].append((time.perf_counter() - t0) / args.steps)
    steps_per_epoch = math.ceil(EPOCH_IMAGES / BATCH)
    lm, tm = statistics.median(per_step["lamina"]), statistics.median(per_step["torch"])
    result = {"data": source, "batch": BATCH, "steps_per_epoch": steps_per_epoch, "threads": threads,
              "lamina_ms_per_step": lm * 1e3, "torch_ms_per_step": tm * 1e3,
              "lamina_s_per_epoch": lm * steps_per_epoch, "torch_s_per_epoch": tm * steps_per_epoch,
              "ratio": lm / tm, "last_loss": losses, "machine": machine()}
    print(f"mnist-cnn training step, batch {BATCH}, {threads} threads, data: {source}")
    print(f"{'':<10}{'ms/step':>10}{'s/epoch':>10}")
    for k, m in (("lamina", lm), ("torch", tm)):
        print(f"{k:<10}{m * 1e3:>10.1f}{m * steps_per_epoch:>10.1f}")
    print(f"ratio lamina/torch: {lm / tm:.2f}x (target <= 1.3x)")
    print(gauge_line(gauge, result["machine"]["cache_copy_GBps"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
