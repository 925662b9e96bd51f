"""Train a character-level LSTM language model on tiny-shakespeare, within a time budget.

First 90% of the text trains, the last 10% validates; the vocabulary is the text's 65
characters. Adam with gradient clipping and cosine decay over the time budget; validation
loss (nats/char) is printed periodically; at the end the final validation loss, the time
and a sample are printed.

    python examples/train_char_lstm.py [--minutes 20] [--data-root /work/shared/data] [--threads 1]
"""
from __future__ import annotations

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import charlm  # noqa: E402  first: it sets the BLAS thread count before NumPy loads

import lamina  # noqa: E402
import lamina.nn.functional as F  # noqa: E402
from lamina.models import CharLSTM, CharLSTMConfig  # noqa: E402
from lamina.optim import Adam  # noqa: E402

LR_MIN = 3e-4


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    charlm.add_common_args(ap, minutes=20.0, batch_size=32, lr=3e-3, eval_every=200)
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=CharLSTMConfig.hidden_size)
    ap.add_argument("--layers", type=int, default=CharLSTMConfig.num_layers)
    ap.add_argument("--embed", type=int, default=CharLSTMConfig.embed_dim)
    args = ap.parse_args()
    text, train, val = charlm.load_text(args.data_root)

    lamina.manual_seed(args.seed)
    model = CharLSTM(CharLSTMConfig(vocab_size=len(text.vocab), embed_dim=args.embed, hidden_size=args.hidden,
                                    num_layers=args.layers))
    print(f"model: {model.num_parameters():,} parameters, {args.layers}x{args.hidden} LSTM")
    opt = Adam(model.parameters(), lr=args.lr)

    def loss_of(x, y):
        logits, _ = model(x)  # (B, T, V)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    def lr_at(step: int, elapsed: float) -> float:  # cosine decay over the time budget
        return LR_MIN + 0.5 * (args.lr - LR_MIN) * (1 + math.cos(math.pi * min(elapsed / (args.minutes * 60.0), 1.0)))

    charlm.train_for(model, opt, loss_of, lr_at, train, val, minutes=args.minutes, batch_size=args.batch_size,
                     seq_len=args.seq_len, eval_every=args.eval_every, eval_seq_len=2 * args.seq_len, seed=args.seed)
    prompt = lamina.tensor(text.encode("ROMEO:\n")[None])
    out = model.generate(prompt, 300, temperature=0.8, generator=lamina.Generator().manual_seed(0))
    print("sample:\n" + text.decode(out[0].tolist()))


if __name__ == "__main__":
    main()
