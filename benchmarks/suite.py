"""The end-to-end speed suite (issue 6): full float32 training steps, lamina against PyTorch.

Each workload is built once per library from the same definition (`m` is lamina or torch;
their nn APIs match), with the same initial weights copied by state_dict key, then timed
alternately in this process. Peak memory is measured per (workload, library) in a child
process that imports only that library, as the growth of peak RSS over the RSS before the
first step (VmHWM - VmRSS, from /proc/self/status).

    python benchmarks/suite.py [--only W1,W3] [--rounds 7] [--json benchmarks/results-cpu.json]
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402,F401  first: it sets thread counts and imports lamina before NumPy loads
import numpy as np  # noqa: E402

TARGET = {"W1": 1.0, "W2": 1.0, "W3": 1.2, "W4": 1.0, "W5": 1.0, "W6": 1.2}


# ---- models, written once for both libraries ----------------------------------------------
def mlp(m):
    nn = m.nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


def lenet(m):
    nn = m.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def resnet(m):
    """About 8 conv layers with BatchNorm: a stem, three residual stages, a linear head."""
    nn, F = m.nn, m.nn.functional

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) \
                if stride != 1 or cin != cout else nn.Identity()

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(out)) + self.short(x))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
            self.layers = nn.Sequential(Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2))
            self.head = nn.Linear(64, 10)

        def forward(self, x):
            x = self.layers(self.stem(x))  # (B, 64, 8, 8)
            return self.head(x.mean((2, 3)))

    return ResNet()


def lstm_lm(m):
    nn = m.nn

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(65, 128)
            self.lstm = nn.LSTM(128, 256, num_layers=2, batch_first=True)
            self.head = nn.Linear(256, 65)

        def forward(self, idx):
            out, _ = self.lstm(self.embed(idx))  # (B, T, 256)
            return self.head(out)

    return LM()


def gpt(m, block_size: int = 64):
    config = dict(vocab_size=65, block_size=block_size, n_layer=4, n_head=4, n_embd=128, dropout=0.0)
    if m.__name__ == "torch":
        from gpt import torch_gpt  # the reference PyTorch GPT lives beside its own benchmark

        return torch_gpt(**config)
    from lamina.models.gpt import GPT, GPTConfig

    return GPT(GPTConfig(**config))


def gpt_decoder(m):
    """The same GPT with room for 100 new tokens, so KV-cached decoding never restarts."""
    return gpt(m, block_size=128)


def torch_generate(model, idx, max_new_tokens: int):
    """Greedy decoding with a key/value cache for the reference PyTorch GPT (as lamina's generate)."""
    import torch
    import torch.nn.functional as F

    tr, heads = model.transformer, 4
    cache = [None] * len(tr.h)
    out, new, past = idx, idx, 0
    for _ in range(max_new_tokens):
        B, T = new.shape
        x = tr.wte(new) + tr.wpe(torch.arange(past, past + T))  # (B, T, C)
        for i, blk in enumerate(tr.h):
            C = x.shape[-1]
            q, k, v = blk.attn.c_attn(blk.ln_1(x)).reshape(B, T, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
            if cache[i] is not None:
                k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)  # (B, H, past+T, hd)
            cache[i] = (k, v)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=past == 0 and T > 1)
            x = x + blk.attn.c_proj(y.transpose(1, 2).reshape(B, T, C))
            x = x + blk.mlp(blk.ln_2(x))
        nxt = model.lm_head(tr.ln_f(x[:, -1])).argmax(-1, keepdim=True)  # (B, 1)
        out, new, past = torch.cat([out, nxt], 1), nxt, past + T
    return out


# ---- workloads -------------------------------------------------------------------------------
def _ce(m, logits, y):
    return m.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


WORKLOADS = {
    # name: (description, model factory, input shape or token batch, optimiser, mode)
    "W1": ("MLP 784-512-512-10, b128", mlp, ("image", (128, 784), 10), "sgd", "train"),
    "W2": ("LeNet-5 1x28x28, b64", lenet, ("image", (64, 1, 28, 28), 10), "sgd", "train"),
    "W3": ("ResNet-8 3x32x32, b64", resnet, ("image", (64, 3, 32, 32), 10), "sgd", "train"),
    "W4": ("LSTM LM 2x256, T64 b32", lstm_lm, ("tokens", (32, 64), 65), "adamw", "train"),
    "W5": ("GPT 4L d128 T64 b12", gpt, ("tokens", (12, 64), 65), "adamw", "train"),
    "W6a": ("CNN inference b1", resnet, ("image", (1, 3, 32, 32), 10), None, "infer"),
    "W6b": ("GPT 100 tokens, KV cache", gpt_decoder, ("tokens", (1, 1), 65), None, "generate"),
}


def build(name: str, m, seed: int = 0):
    """Model, optimiser and a step function for library `m`; weights from one seeded source."""
    desc, factory, (kind, shape, classes), opt_name, mode = WORKLOADS[name]
    model = factory(m)
    rng = np.random.default_rng(seed)
    state = {k: rng.standard_normal(v.shape).astype(np.float32) * 0.05 if "weight" in k or "bias" in k
             else np.asarray(v.detach().numpy() if hasattr(v, "detach") else v.numpy())
             for k, v in model.state_dict().items()}
    if m.__name__ == "torch":
        import torch

        model.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    else:
        model.load_state_dict(state)
    if kind == "image":
        x = m.tensor(rng.standard_normal(shape).astype(np.float32))
        y = m.tensor(rng.integers(0, classes, shape[0]))
    else:
        x = m.tensor(rng.integers(0, classes, shape))
        y = m.tensor(rng.integers(0, classes, shape))
    if mode == "train":
        opt = (m.optim.SGD(model.parameters(), lr=0.01, momentum=0.9) if opt_name == "sgd"
               else m.optim.AdamW(model.parameters(), lr=1e-3))
        model.train()

        def step():
            out = model(x)
            logits = out[0] if isinstance(out, tuple) else out
            loss = _ce(m, logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
    elif mode == "infer":
        model.eval()

        def step():
            with m.no_grad():
                return model(x)
    else:
        model.eval()

        def step():
            with m.no_grad():
                if m.__name__ == "torch":
                    return torch_generate(model, x, 100)
                return model.generate(x, 100, temperature=0.0)
    return step


def time_workload(name: str, rounds: int) -> dict:
    import lamina
    import torch
    from common import compare

    ls, ts = build(name, lamina), build(name, torch)
    inner = 1 if name in ("W4", "W5", "W6b", "W3") else 3
    return compare(ls, ts, rounds=rounds, inner=inner, warmup=2)


def peak_memory(name: str, lib: str, steps: int = 5) -> float:
    """Peak RSS growth in MB while running `steps` steps, in a fresh process with one library."""
    # VmHWM (peak resident set of this address space) starts afresh at exec, unlike ru_maxrss,
    # which a child inherits from the parent it was forked from.
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
            f"import {lib}, suite; "
            f"step = suite.build({name!r}, {lib}); "
            "status = lambda key: float(next(l.split()[1] for l in open('/proc/self/status') if l.startswith(key))); "
            "before = status('VmRSS:'); "
            f"[step() for _ in range({steps})]; "
            "print((status('VmHWM:') - before) / 1024)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "OMP_NUM_THREADS": str(os.cpu_count())})
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "failed")
    return max(0.0, float(out.stdout.strip().splitlines()[-1]))


def main():
    from common import machine, set_threads

    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=",".join(WORKLOADS))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    threads = set_threads()
    results = []
    head = f"{'':<5}{'workload':<28}{'lamina ms':>10}{'torch ms':>10}{'ratio':>7}{'target':>7}{'mem x':>7}{'items/s':>10}"
    print(head)
    for name in args.only.split(","):
        t0 = time.time()
        try:
            r = time_workload(name, args.rounds)
        except Exception as e:  # a workload whose model is missing is reported, not fatal
            print(f"{name:<5}{WORKLOADS[name][0]:<28} skipped: {type(e).__name__}: {e}")
            results.append({"name": name, "workload": WORKLOADS[name][0], "error": str(e)})
            continue
        if not args.no_memory:
            try:
                r["lamina_peak_mb"] = peak_memory(name, "lamina")
                r["torch_peak_mb"] = peak_memory(name, "torch")
                r["memory_ratio"] = r["lamina_peak_mb"] / max(r["torch_peak_mb"], 1.0)
            except Exception as e:
                r["memory_error"] = str(e)
        batch = WORKLOADS[name][2][1][0]
        r["items_per_s"] = batch / (r["lamina_ms"] / 1e3)
        key = name[:2]
        r.update(name=name, workload=WORKLOADS[name][0], target=TARGET[key], seconds=time.time() - t0)
        results.append(r)
        mem = f"{r['memory_ratio']:>7.2f}" if "memory_ratio" in r else f"{'-':>7}"
        print(f"{name:<5}{r['workload']:<28}{r['lamina_ms']:>10.2f}{r['torch_ms']:>10.2f}{r['ratio']:>7.2f}"
              f"{r['target']:>7.1f}{mem}{r['items_per_s']:>10.0f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": {**machine(), "threads": threads}, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
