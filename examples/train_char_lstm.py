"""Train a character-level LSTM language model on tiny-shakespeare, within a time budget.

First 90% of the text trains, the last 10% validates; the vocabulary is the text's 65
characters. Adam with gradient clipping; validation loss (nats/char) is printed
periodically; at the end the final validation loss, the time and a sample are printed.

    python examples/train_char_lstm.py [--minutes 20] [--data-root /work/shared/data] [--threads 1]
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass

# BLAS reads its thread count when NumPy is first loaded, so --threads is looked at before that.
# One thread by default: the per-step matmuls are small, and on a busy 2-core machine a second
# BLAS thread that has to wait for a core makes every step several times slower.
_threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _threads)

import numpy as np  # noqa: E402

import lamina  # noqa: E402
from lamina.data.datasets import TinyShakespeare, random_windows  # noqa: E402
import lamina.nn.functional as F  # noqa: E402
from lamina.models import CharLSTM, CharLSTMConfig  # noqa: E402
from lamina.nn.utils import clip_grad_norm_  # noqa: E402
from lamina.optim import Adam  # noqa: E402

try:
    from tqdm import tqdm  # noqa: E402
except ImportError:  # progress is printed periodically instead
    tqdm = None


@dataclass
class TrainConfig:
    minutes: float = 20.0
    batch_size: int = 32
    seq_len: int = 64
    lr: float = 3e-3
    lr_min: float = 3e-4
    clip: float = 1.0
    eval_every: int = 200
    eval_batches: int = 20
    seed: int = 0


def loss_of(model: CharLSTM, x, y):
    logits, _ = model(x)  # (B, T, V)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


@lamina.no_grad()
def evaluate(model: CharLSTM, data: np.ndarray, cfg: TrainConfig) -> float:
    """Mean validation loss in nats/char over fixed windows (the same ones every time)."""
    model.eval()
    rng = np.random.default_rng(1234)
    losses = [loss_of(model, *random_windows(data, cfg.batch_size, cfg.seq_len * 2, rng)).item()
              for _ in range(cfg.eval_batches)]
    model.train()
    return float(np.mean(losses))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=os.environ.get("LAMINA_DATA", "/work/shared/data"))
    ap.add_argument("--minutes", type=float, default=TrainConfig.minutes)
    ap.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    ap.add_argument("--seq-len", type=int, default=TrainConfig.seq_len)
    ap.add_argument("--lr", type=float, default=TrainConfig.lr)
    ap.add_argument("--hidden", type=int, default=CharLSTMConfig.hidden_size)
    ap.add_argument("--layers", type=int, default=CharLSTMConfig.num_layers)
    ap.add_argument("--embed", type=int, default=CharLSTMConfig.embed_dim)
    ap.add_argument("--eval-every", type=int, default=TrainConfig.eval_every)
    ap.add_argument("--seed", type=int, default=TrainConfig.seed)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (read before NumPy loads)")
    args = ap.parse_args()
    cfg = TrainConfig(minutes=args.minutes, batch_size=args.batch_size, seq_len=args.seq_len, lr=args.lr,
                      eval_every=args.eval_every, seed=args.seed)

    text = TinyShakespeare(root=args.data_root)  # checksum-verified, encoded over its 65 characters
    chars, data = text.vocab, text.ids
    n = int(0.9 * len(data))
    train, val = data[:n], data[n:]
    print(f"tiny-shakespeare: {len(data):,} chars, vocab {len(chars)}, train {len(train):,}, val {len(val):,}")

    lamina.manual_seed(cfg.seed)
    model = CharLSTM(CharLSTMConfig(vocab_size=len(chars), embed_dim=args.embed, hidden_size=args.hidden,
                                    num_layers=args.layers))
    print(f"model: {model.num_parameters():,} parameters, {args.layers}x{args.hidden} LSTM")
    opt = Adam(model.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed)
    budget = cfg.minutes * 60.0

    start = time.perf_counter()
    bar = tqdm(total=int(budget), unit="s", bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt}s {postfix}") if tqdm else None
    step, smooth, val_loss, last_print = 0, None, float("nan"), start
    while True:
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            break
        # cosine decay of the learning rate over the time budget
        for g in opt.param_groups:
            g["lr"] = cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * elapsed / budget))
        x, y = random_windows(train, cfg.batch_size, cfg.seq_len, rng)
        loss = loss_of(model, x, y)
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        step += 1
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
        if step % cfg.eval_every == 0:
            val_loss = evaluate(model, val, cfg)
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
    val_loss = evaluate(model, val, cfg)
    print(f"final: {step} steps in {train_time / 60:.1f} min, val loss {val_loss:.3f} nats/char")
    prompt = lamina.tensor(text.encode("ROMEO:\n")[None])
    out = model.generate(prompt, 300, temperature=0.8, generator=lamina.Generator().manual_seed(0))
    print("sample:\n" + text.decode(out[0].tolist()))


if __name__ == "__main__":
    main()
