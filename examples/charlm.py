"""What the character-level language-model examples share: tiny-shakespeare split 90/10,
a training loop that runs for a time budget with progress and periodic validation, and
the final report. Each example brings its model, optimiser, loss and learning-rate rule.

Import this before NumPy: it sets the BLAS thread count from --threads (1 by default: the
matmuls are small, and on a busy 2-core machine a second BLAS thread that has to wait for
a core makes every step several times slower).
"""
from __future__ import annotations

import os
import sys
import time

_threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _threads)

import numpy as np  # noqa: E402

import lamina  # noqa: E402
from lamina.data.datasets import TinyShakespeare, random_windows  # noqa: E402
from lamina.nn.utils import clip_grad_norm_  # noqa: E402

try:
    from tqdm import tqdm
except ImportError:  # progress is printed periodically instead
    tqdm = None


def add_common_args(ap, minutes: float, batch_size: int, lr: float, eval_every: int) -> None:
    ap.add_argument("--data-root", default=os.environ.get("LAMINA_DATA", "/work/shared/data"))
    ap.add_argument("--minutes", type=float, default=minutes)
    ap.add_argument("--batch-size", type=int, default=batch_size)
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--eval-every", type=int, default=eval_every)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (read before NumPy loads)")


def load_text(data_root: str):
    """(text, train ids, validation ids): the first 90% of the characters train."""
    text = TinyShakespeare(root=data_root)  # checksum-verified, encoded over its 65 characters
    n = int(0.9 * len(text.ids))
    train, val = text.ids[:n], text.ids[n:]
    print(f"tiny-shakespeare: {len(text.ids):,} chars, vocab {len(text.vocab)}, train {len(train):,}, val {len(val):,}")
    return text, train, val


@lamina.no_grad()
def evaluate(model, loss_of, data: np.ndarray, batch_size: int, seq_len: int, batches: int) -> float:
    """Mean validation loss in nats/char over fixed windows (the same ones every time)."""
    model.eval()
    rng = np.random.default_rng(1234)
    losses = [loss_of(*random_windows(data, batch_size, seq_len, rng)).item() for _ in range(batches)]
    model.train()
    return float(np.mean(losses))


def train_for(model, opt, loss_of, lr_at, train, val, *, minutes: float, batch_size: int, seq_len: int,
              eval_every: int, eval_seq_len: int, eval_batches: int = 20, clip: float = 1.0, seed: int = 0):
    """Train on random windows until `minutes` have passed, setting the learning rate to
    lr_at(step, elapsed seconds) before each step and clipping the gradient norm; validates
    every `eval_every` steps. Returns (steps, seconds, final validation loss)."""
    rng = np.random.default_rng(seed)
    budget = minutes * 60.0

    def validate(batches):
        return evaluate(model, loss_of, val, batch_size, eval_seq_len, batches)

    start = time.perf_counter()
    bar = tqdm(total=int(budget), unit="s", bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt}s {postfix}") if tqdm else None
    step, smooth, val_loss, last_print = 0, None, float("nan"), start
    while True:
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step, elapsed)
        loss = loss_of(*random_windows(train, batch_size, seq_len, rng))
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), clip)
        opt.step()
        step += 1
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
        if step % eval_every == 0:
            val_loss = validate(eval_batches)
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
    seconds = time.perf_counter() - start
    val_loss = validate(4 * eval_batches)
    print(f"final: {step} steps in {seconds / 60:.1f} min, val loss {val_loss:.3f} nats/char")
    return step, seconds, val_loss
