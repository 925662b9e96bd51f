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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import charlm  # noqa: E402  first: it sets the BLAS thread count before NumPy loads

import lamina  # noqa: E402
from lamina.models.gpt import GPT, GPTConfig  # noqa: E402
from lamina.optim import AdamW  # noqa: E402

WARMUP_STEPS, LR_MIN, WEIGHT_DECAY = 100, 1e-4, 0.1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    charlm.add_common_args(ap, minutes=15.0, batch_size=16, lr=2e-3, eval_every=250)
    args = ap.parse_args()
    text, train, val = charlm.load_text(args.data_root)

    lamina.manual_seed(args.seed)
    model = GPT(GPTConfig(vocab_size=len(text.vocab), block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0))
    print(f"model: {model.num_parameters():,} parameters, 4 layers x 4 heads x 128 wide, context 64")
    # weight decay on matrices only, as in nanoGPT: biases, LayerNorm gains and position tables stay free
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}],
                lr=args.lr, betas=(0.9, 0.99))

    def lr_at(step: int, elapsed: float) -> float:
        """Linear warm-up over the first steps, then cosine decay to LR_MIN over the time budget."""
        if step < WARMUP_STEPS:
            return args.lr * (step + 1) / WARMUP_STEPS
        frac = min(elapsed / (args.minutes * 60.0), 1.0)
        return LR_MIN + 0.5 * (args.lr - LR_MIN) * (1 + math.cos(math.pi * frac))

    block = model.config.block_size
    charlm.train_for(model, opt, lambda x, y: model(x, y)[1], lr_at, train, val, minutes=args.minutes,
                     batch_size=args.batch_size, seq_len=block, eval_every=args.eval_every, eval_seq_len=block,
                     seed=args.seed)
    prompt = lamina.tensor(text.encode("ROMEO:\n")[None])
    t0 = time.perf_counter()
    out = model.generate(prompt, 300, temperature=0.8, top_k=20, generator=lamina.Generator().manual_seed(0))
    print(f"sample (300 chars, KV-cached, {time.perf_counter() - t0:.1f} s):\n"
          + text.decode(out[0].tolist()[-300:]))


if __name__ == "__main__":
    main()
