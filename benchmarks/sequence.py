"""Sequence-model workloads, lamina against PyTorch side by side in one process (issue 4):

- LSTM LM training step (2 layers, 256 hidden, sequence 64, batch 32), from sequence_lstm.py;
- MultiheadAttention forward + backward (batch 32, sequence 64, width 128, 4 heads);
- TransformerEncoderLayer forward + backward (same sizes, feed-forward 512);
- GPT training step (4 layers, 4 heads, width 128, context 64, batch 12, AdamW), from gpt.py.

Both libraries get the same weights (copied by state_dict key) and inputs, and are timed
alternately; the table gives medians and the ratio lamina / torch. Targets: LSTM <= 1.5x,
attention, Transformer block and GPT <= 1.3x.

    python benchmarks/sequence.py [--rounds 15] [--threads 2]

As in gpt.py, `import lamina` asks glibc to keep freed memory for reuse (both libraries share the
process); LAMINA_MALLOC=system measures with glibc's defaults instead.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402,F401  first: it sets thread counts and imports lamina before NumPy loads
import numpy as np  # noqa: E402

from common import compare, machine, set_threads, table  # noqa: E402

BATCH, SEQ, WIDTH, HEADS, FF = 32, 64, 128, 4, 512
TARGETS = {"LSTM": 1.5, "MultiheadAttention": 1.3, "TransformerEncoderLayer": 1.3, "GPT": 1.3}


def _fwd_bwd(m, module, x, g, attention: bool):
    """forward + backward of `module` on x with upstream gradient g (inputs get gradients too)."""
    def step():
        out = module(x, x, x, need_weights=False)[0] if attention else module(x)
        out.backward(g)
        module.zero_grad()
        x.grad = None

    return step


def bench_block(name: str, repeats: int) -> dict:
    """MultiheadAttention or TransformerEncoderLayer forward + backward, lamina vs torch."""
    import torch

    import lamina

    torch.manual_seed(0)
    if name == "MultiheadAttention":
        make = lambda m: m.nn.MultiheadAttention(WIDTH, HEADS, batch_first=True)  # noqa: E731
    else:
        make = lambda m: m.nn.TransformerEncoderLayer(WIDTH, HEADS, FF, dropout=0.0, batch_first=True)  # noqa: E731
    tmod, lmod = make(torch), make(lamina)
    lmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SEQ, WIDTH)).astype(np.float32)
    g = rng.standard_normal((BATCH, SEQ, WIDTH)).astype(np.float32)
    attention = name == "MultiheadAttention"
    lstep = _fwd_bwd(lamina, lmod, lamina.tensor(x, requires_grad=True), lamina.tensor(g), attention)
    tstep = _fwd_bwd(torch, tmod, torch.tensor(x, requires_grad=True), torch.tensor(g), attention)
    return compare(lstep, tstep, rounds=repeats, inner=3, warmup=3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2, help="torch threads; BLAS threads for NumPy")
    args = ap.parse_args()
    from gpt import BATCH as GPT_BATCH, bench_gpt

    from lamina.backend import MALLOC_TUNED as kept
    threads = set_threads(args.threads)
    from sequence_lstm import bench_lstm

    rows = [(f"LSTM LM step (2x256, T{SEQ}, B{BATCH})", "LSTM", bench_lstm(args.rounds, args.threads))]
    rows.append((f"MHA fwd+bwd (B{BATCH}, T{SEQ}, E{WIDTH}, H{HEADS})", "MultiheadAttention",
                 bench_block("MultiheadAttention", args.rounds)))
    rows.append((f"EncoderLayer fwd+bwd (ff {FF})", "TransformerEncoderLayer",
                 bench_block("TransformerEncoderLayer", args.rounds)))
    rows.append((f"GPT train step (B{GPT_BATCH}, AdamW)", "GPT", bench_gpt(args.rounds, args.threads)))
    memory = "freed memory kept" if kept else "glibc default memory release"
    print(table([(label, r) for label, _, r in rows], f"sequence models, float32, {threads} threads, {memory}"))
    for label, key, r in rows:
        verdict = "ok" if r["ratio"] <= TARGETS[key] else "over target"
        print(f"  {key:<26} ratio {r['ratio']:.2f}  target <= {TARGETS[key]}  {verdict}")
    print(machine())


if __name__ == "__main__":
    main()
