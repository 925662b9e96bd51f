"""LSTM language-model training step, lamina against PyTorch in one process (issue 4):
Embedding(65, 128) -> 2-layer LSTM(256) -> Linear(256, 65) -> cross entropy, sequence 64,
batch 32, forward + backward. Target: lamina <= 1.5x torch.

    python benchmarks/sequence_lstm.py [--rounds 15] [--threads 2]

Both libraries get the same thread count (2 by default). On a busy machine two threads per
library can each wait for a core and make steps many times slower; `--threads 1` then gives
the steadier comparison.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402,F401  first: it sets thread counts and imports lamina before NumPy loads
import numpy as np  # noqa: E402

from common import compare, set_threads  # noqa: E402

VOCAB, EMBED, HIDDEN, LAYERS, SEQ, BATCH = 65, 128, 256, 2, 64, 32


def build(m):
    """The same model for lamina or torch (`m`), as (embedding, lstm, head)."""
    nn = m.nn
    return nn.Embedding(VOCAB, EMBED), nn.LSTM(EMBED, HIDDEN, LAYERS, batch_first=True), nn.Linear(HIDDEN, VOCAB)


def make_step(m, modules, idx, targets):
    emb, lstm, head = modules
    F = m.nn.functional
    params = [p for mod in modules for p in mod.parameters()]

    def step():
        x = emb(idx)  # (B, T, EMBED)
        out, _ = lstm(x)  # (B, T, HIDDEN)
        logits = head(out)  # (B, T, VOCAB)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
        loss.backward()
        for p in params:
            p.grad = None

    return step


def bench_lstm(repeats: int = 15, threads: int = 2) -> dict:
    """Median ms per training step of each library and the ratio lamina / torch."""
    import torch

    import lamina

    set_threads(threads)
    torch.manual_seed(0)
    tmods = build(torch)
    lmods = build(lamina)
    for t, l in zip(tmods, lmods):  # same weights, copied by state_dict key
        l.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    rng = np.random.default_rng(0)
    idx = rng.integers(0, VOCAB, (BATCH, SEQ))
    tgt = rng.integers(0, VOCAB, (BATCH, SEQ))
    lstep = make_step(lamina, lmods, lamina.tensor(idx), lamina.tensor(tgt))
    tstep = make_step(torch, tmods, torch.tensor(idx), torch.tensor(tgt))
    return compare(lstep, tstep, rounds=repeats, inner=1, warmup=3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2, help="threads for both libraries")
    args = ap.parse_args()
    r = bench_lstm(args.rounds, args.threads)
    print(f"LSTM training step (2x256, seq {SEQ}, batch {BATCH}, threads={args.threads}): "
          f"lamina {r['lamina_ms']:.1f} ms, "
          f"torch {r['torch_ms']:.1f} ms, ratio {r['ratio']:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
