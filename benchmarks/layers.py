"""Layer benchmark (issue 3): forward + backward of single layers, lamina against PyTorch, float32,
timed alternately in this process (benchmarks/common.py), medians and the ratio lamina / torch.

Targets: Conv2d <= 1.5x PyTorch's time, the others <= 1.2x.

    python benchmarks/layers.py [--rounds 15] [--threads N] [--only conv,maxpool]
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402,F401  first: it sets thread counts and imports lamina before NumPy loads
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import cache_bandwidth, compare, gauge_line, machine, set_threads, table  # noqa: E402

TARGET = {"conv": 1.5, "maxpool": 1.2, "linear": 1.2, "batchnorm": 1.2}

# name: (make(m) -> module, input shape)
WORKLOADS = {
    "conv": (lambda m: m.nn.Conv2d(32, 64, 3, padding=1), (64, 32, 28, 28)),
    "maxpool": (lambda m: m.nn.MaxPool2d(2), (64, 32, 28, 28)),
    "linear": (lambda m: m.nn.Linear(784, 512), (128, 784)),
    "batchnorm": (lambda m: m.nn.BatchNorm2d(32), (64, 32, 28, 28)),
}
LABELS = {"conv": "Conv2d 32->64 3x3 p1, 64x28x28", "maxpool": "MaxPool2d(2), 64x32x28x28",
          "linear": "Linear 784->512, batch 128", "batchnorm": "BatchNorm2d(32), 64x32x28x28 (train)"}


def step_fns(name: str):
    """Forward + backward closures for the same layer, weights and input in both libraries."""
    import torch

    import lamina

    make, shape = WORKLOADS[name]
    torch.manual_seed(0)
    tmod, lmod = make(torch), make(lamina)
    lmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    tx, lx = torch.tensor(x, requires_grad=True), lamina.tensor(x, requires_grad=True)
    with torch.no_grad():
        out_shape = tuple(tmod(tx).shape)
    g = rng.standard_normal(out_shape).astype(np.float32)
    tg, lg = torch.tensor(g), lamina.tensor(g)

    def run_lamina():
        lx.grad = None
        lmod.zero_grad()
        lmod(lx).backward(lg)

    def run_torch():
        tx.grad = None
        tmod.zero_grad(set_to_none=True)
        tmod(tx).backward(tg)

    return run_lamina, run_torch


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=None, help="threads for torch (and BLAS, set before numpy loads)")
    ap.add_argument("--only", default=None, help="comma-separated subset of " + ",".join(WORKLOADS))
    args = ap.parse_args(argv)
    threads = set_threads(args.threads)
    names = args.only.split(",") if args.only else list(WORKLOADS)
    rows, ok, gauge = [], True, cache_bandwidth()
    for name in names:
        r = compare(*step_fns(name), rounds=args.rounds)
        r["target"] = TARGET[name]
        ok &= r["ratio"] <= TARGET[name]
        rows.append((LABELS[name], r))
    print(table(rows, f"forward + backward, float32, {threads} thread(s), median of {args.rounds} rounds"))
    for label, r in rows:
        print(f"  {label:<40} target <= {r['target']:.1f}x: {'met' if r['ratio'] <= r['target'] else 'MISSED'}")
    m = machine()
    print(m)
    print(gauge_line(gauge, m["cache_copy_GBps"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
