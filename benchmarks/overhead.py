"""Per-op cost: forward + backward of common ops on tiny (16 elements) and medium (256x256)
tensors, lamina against PyTorch in the same process. Targets (issue 2): tiny <= 2x,
medium <= 1.1x.

    python benchmarks/overhead.py [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import common  # noqa: E402,F401  first: it sets thread counts and imports lamina before NumPy loads
import numpy as np  # noqa: E402
import torch  # noqa: E402

import lamina  # noqa: E402

from common import compare, machine, set_threads, table  # noqa: E402

OPS = {
    "add": lambda m, a, b: a + b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / (b * b + 1),
    "matmul": lambda m, a, b: a @ b,
    "exp": lambda m, a, b: a.exp(),
    "tanh": lambda m, a, b: a.tanh(),
    "relu": lambda m, a, b: m.relu(a),
    "sigmoid": lambda m, a, b: a.sigmoid(),
    "sum(dim)": lambda m, a, b: a.sum(-1),
    "mean": lambda m, a, b: a.mean(),
    "softmax": lambda m, a, b: m.softmax(a, -1),
    "transpose+reshape": lambda m, a, b: a.t().reshape(-1),
    "getitem": lambda m, a, b: a[1:, :2],
}


def step(m, fn, a, b):
    y = fn(m, a, b)
    y.sum().backward()
    a.grad = b.grad = None


def run(rounds: int) -> list:
    rows = []
    for size_name, shape in (("tiny 4x4", (4, 4)), ("medium 256x256", (256, 256))):
        rng = np.random.default_rng(0)
        na, nb = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
        la, lb = lamina.tensor(na, requires_grad=True), lamina.tensor(nb, requires_grad=True)
        ta, tb = torch.tensor(na, requires_grad=True), torch.tensor(nb, requires_grad=True)
        for name, fn in OPS.items():
            r = compare(lambda: step(lamina, fn, la, lb), lambda: step(torch, fn, ta, tb), rounds=rounds)
            rows.append((f"{name} [{size_name}]", r))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--json")
    args = ap.parse_args()
    set_threads()
    rows = run(args.rounds)
    print(table(rows, "forward+backward per op (lamina / torch)"))
    for size in ("tiny", "medium"):
        ratios = [r["ratio"] for n, r in rows if size in n]
        print(f"{size}: median ratio {np.median(ratios):.2f}, worst {max(ratios):.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "rows": [{"name": n, **r} for n, r in rows]}, f, indent=1)


if __name__ == "__main__":
    main()
