"""GPT training step, lamina against PyTorch in one process (issue 4): the tiny-shakespeare
config (4 layers, 4 heads, width 128, context 64, vocab 65, about 0.8M parameters), batch
12; forward, loss, backward and an AdamW step. Target: lamina <= 1.3x torch.

The PyTorch model below is the same architecture with the same parameter names as
lamina.models.GPT, so weights copy across by state_dict key (tests/models/test_gpt.py
checks that the two agree).

    python benchmarks/gpt.py [--rounds 15] [--threads 2]

`import lamina` asks glibc to keep freed memory for reuse (lamina.backend.keep_freed_memory);
both libraries run in this one process and share that. Without it every step of lamina's
NumPy temporaries pays fresh page faults (measured 1.3-1.4x torch with glibc's defaults on a
busy 2-core machine, 1.0-1.05x with them kept). LAMINA_MALLOC=system measures glibc's defaults.
"""
from __future__ import annotations

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402,F401  first: it sets thread counts and imports lamina before NumPy loads
import numpy as np  # noqa: E402

from common import compare, set_threads  # noqa: E402

CONFIG = dict(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=True,
              tie_weights=True)
BATCH = 12


def torch_gpt(vocab_size, block_size, n_layer, n_head, n_embd, dropout=0.0, bias=True, tie_weights=True):
    """nanoGPT's model in PyTorch, with lamina.models.GPT's names and GPT-2's initialisation."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
            self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
            self.resid_dropout = nn.Dropout(dropout)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(x).reshape(B, T, 3, n_head, C // n_head).permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout if self.training else 0.0, is_causal=True)
            return self.resid_dropout(self.c_proj(y.transpose(1, 2).reshape(B, T, C)))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
            self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn = nn.LayerNorm(n_embd, bias=bias), CausalSelfAttention()
            self.ln_2, self.mlp = nn.LayerNorm(n_embd, bias=bias), MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(vocab_size, n_embd), wpe=nn.Embedding(block_size, n_embd), drop=nn.Dropout(dropout),
                h=nn.ModuleList([Block() for _ in range(n_layer)]), ln_f=nn.LayerNorm(n_embd, bias=bias)))
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            if tie_weights:
                self.lm_head.weight = self.transformer.wte.weight
            for mod in self.modules():
                if isinstance(mod, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(mod.weight, 0.0, 0.02)
                if isinstance(mod, nn.Linear) and mod.bias is not None:
                    nn.init.zeros_(mod.bias)
            for name, p in self.named_parameters():
                if name.endswith("c_proj.weight"):
                    nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))

        def forward(self, idx, targets=None):
            B, T = idx.shape
            pos = torch.arange(T, device=idx.device)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            loss = None if targets is None else F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(B * T))
            return logits, loss

    return GPT()


def make_models(seed: int = 0):
    """(lamina GPT, torch GPT) with identical float32 weights."""
    import torch

    import lamina
    import lamina.optim  # noqa: F401  (not imported by `import lamina`)
    from lamina.models.gpt import GPT, GPTConfig

    torch.manual_seed(seed)
    tmodel = torch_gpt(**CONFIG)
    lmodel = GPT(GPTConfig(**CONFIG))
    lmodel.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    assert lamina.get_default_dtype() == lamina.float32
    return lmodel, tmodel


def make_step(m, model, idx, targets):
    """One training step: forward, loss, backward, AdamW update."""
    opt = m.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)

    def step():
        _, loss = model(idx, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, CONFIG["vocab_size"], (BATCH, CONFIG["block_size"]))
    return idx, np.roll(idx, -1, axis=1)


def bench_gpt(repeats: int = 15, threads: int = 2) -> dict:
    """Median ms per GPT training step of each library and the ratio lamina / torch."""
    import torch

    import lamina
    import lamina.optim  # noqa: F401  (not imported by `import lamina`)

    set_threads(threads)
    lmodel, tmodel = make_models()
    idx, tgt = batch()
    lstep = make_step(lamina, lmodel, lamina.tensor(idx), lamina.tensor(tgt))
    tstep = make_step(torch, tmodel, torch.tensor(idx), torch.tensor(tgt))
    return compare(lstep, tstep, rounds=repeats, inner=3, warmup=3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2, help="torch threads; BLAS threads for NumPy")
    args = ap.parse_args()
    from lamina.backend import MALLOC_TUNED as kept
    r = bench_gpt(args.rounds, args.threads)
    print(f"GPT training step (batch {BATCH}, context {CONFIG['block_size']}, width {CONFIG['n_embd']}): "
          f"lamina {r['lamina_ms']:.2f} ms, torch {r['torch_ms']:.2f} ms, ratio {r['ratio']:.2f} (target <= 1.3), "
          f"{args.threads} threads, freed memory {'kept' if kept else 'released (glibc default)'}")


if __name__ == "__main__":
    main()
