"""Train a small GPT (4 layers, 4 heads, width 128, context 64) on tiny-shakespeare, within a time budget.

First 90% of the text trains, the last 10% validates; the vocabulary is the text's 65
characters. AdamW with a linear warm-up then cosine decay over the time budget, gradient
clipping; validation loss (nats/char) is printed periodically; at the end the final
validation loss, the time and a 300-character sample (KV-cached generation) are printed.

    python examples/train_gpt.py [--minutes 15] [--data-root /work/shared/data] [--threads 1]
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass

# BLAS reads its thread count when NumPy is first loaded, so --threads is looked at before that.
# One thread by default: the matmuls here are small, and on a busy 2-core machine a second
# BLAS thread that has to wait for a core makes every step several times slower.
_threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _threads)

import numpy as np  # noqa: E402


import lamina  # noqa: E402
from lamina.data.datasets import TinyShakespeare, random_windows  # noqa: E402
from lamina.models.gpt import GPT, GPTConfig  # noqa: E402
from lamina.nn.utils import clip_grad_norm_  # noqa: E402
from lamina.optim import AdamW  # noqa: E402

try:
    from tqdm import tqdm
except ImportError:  # progress is printed periodically instead
    tqdm = None


@dataclass
class TrainConfig:
    minutes: float = 15.0
    batch_size: int = 16
    lr: float = 2e-3
    lr_min: float = 1e-4
    warmup_steps: int = 100
    weight_decay: float = 0.1
    clip: float = 1.0
    eval_every: int = 250
    eval_batches: int = 20
    seed: int = 0


@lamina.no_grad()
def evaluate(model: GPT, data: np.ndarray, batch_size: int, batches: int) -> float:
    """Mean validation loss in nats/char over fixed windows (the same ones every time)."""
    model.eval()
    rng = np.random.default_rng(1234)
    losses = [model(*random_windows(data, batch_size, model.config.block_size, rng))[1].item() for _ in range(batches)]
    model.train()
    return float(np.mean(losses))


def learning_rate(step: int, elapsed: float, cfg: TrainConfig) -> float:
    """Linear warm-up over the first steps, then cosine decay to lr_min over the time budget."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    frac = min(elapsed / (cfg.minutes * 60.0), 1.0)
    return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * frac))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=os.environ.get("LAMINA_DATA", "/work/shared/data"))
    ap.add_argument("--minutes", type=float, default=TrainConfig.minutes)
    ap.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    ap.add_argument("--lr", type=float, default=TrainConfig.lr)
    ap.add_argument("--eval-every", type=int, default=TrainConfig.eval_every)
    ap.add_argument("--seed", type=int, default=TrainConfig.seed)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (read before NumPy loads)")
    args = ap.parse_args()
    cfg = TrainConfig(minutes=args.minutes, batch_size=args.batch_size, lr=args.lr, eval_every=args.eval_every,
                      seed=args.seed)

    text = TinyShakespeare(root=args.data_root)  # checksum-verified, encoded over its 65 characters
    chars, data = text.vocab, text.ids
    n = int(0.9 * len(data))
    train, val = data[:n], data[n:]
    print(f"tiny-shakespeare: {len(data):,} chars, vocab {len(chars)}, train {len(train):,}, val {len(val):,}")

    lamina.manual_seed(cfg.seed)
    model = GPT(GPTConfig(vocab_size=len(chars), block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0))
    print(f"model: {model.num_parameters():,} parameters, 4 layers x 4 heads x 128 wide, context 64")
    # weight decay on matrices only, as in nanoGPT: biases, LayerNorm gains and position tables stay free
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = AdamW([{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                lr=cfg.lr, betas=(0.9, 0.99))
    rng = np.random.default_rng(cfg.seed)
    budget = cfg.minutes * 60.0

    start = time.perf_counter()
    bar = tqdm(total=int(budget), unit="s", bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt}s {postfix}") if tqdm else None
    step, smooth, val_loss, last_print = 0, None, float("nan"), start
    while True:
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            break
        for g in opt.param_groups:
            g["lr"] = learning_rate(step, elapsed, cfg)
        x, y = random_windows(train, cfg.batch_size, model.config.block_size, rng)
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        step += 1
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
        if step % cfg.eval_every == 0:
            val_loss = evaluate(model, val, cfg.batch_size, cfg.eval_batches)
            msg = f"step {step}: train {smooth:.3f}, val {val_loss:.3f} nats/char ({elapsed / 60:.1f} min)"
            bar.write(msg) if bar else print(msg, flush=True)
        now = time.perf_counter()
        if bar:
            bar.n = min(int(now - start), int(budget))
            bar.set_postfix_str(f"step {step} loss {smooth:.3f} val {val_loss:.3f}")
        elif now - last_print > 30:
            print(f"step {step}: train {smooth:.3f} ({(now - start) / 60:.1f} min)", flush=True)
            last_print = now
    if bar:
        bar.close()
    train_time = time.perf_counter() - start
    val_loss = evaluate(model, val, cfg.batch_size, 4 * cfg.eval_batches)
    print(f"final: {step} steps in {train_time / 60:.1f} min, val loss {val_loss:.3f} nats/char")
    prompt = lamina.tensor(text.encode("ROMEO:\n")[None])
    t0 = time.perf_counter()
    out = model.generate(prompt, 300, temperature=0.8, top_k=20, generator=lamina.Generator().manual_seed(0))
    print(f"sample (300 chars, KV-cached, {time.perf_counter() - t0:.1f} s):\n"
          + text.decode(out[0].tolist()[-300:]))


if __name__ == "__main__":
    main()
