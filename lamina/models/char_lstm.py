"""A character-level LSTM language model: Embedding -> LSTM -> Linear.

>>> model = CharLSTM(CharLSTMConfig(vocab_size=65))
>>> logits, state = model(idx)                 # idx (B, T) int64 -> logits (B, T, vocab)
>>> out = model.generate(idx, 300, temperature=0.8, top_k=20)
"""
from __future__ import annotations

from dataclasses import dataclass

from ..autograd import no_grad
from ..ops import cat
from ..tensor import Tensor
from .. import nn
from .sampling import sample_next


@dataclass
class CharLSTMConfig:
    vocab_size: int = 65
    embed_dim: int = 64
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.0


class CharLSTM(nn.Module):
    """Predicts the next character at every position; the LSTM state can be carried across calls."""

    def __init__(self, config: CharLSTMConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim)
        self.lstm = nn.LSTM(config.embed_dim, config.hidden_size, config.num_layers, batch_first=True,
                            dropout=config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, idx: Tensor, state=None):
        """idx (B, T) token ids; state (h, c) from a previous call or None.
        Returns logits (B, T, vocab_size) and the new state (h_n, c_n)."""
        x = self.embedding(idx)  # (B, T, embed_dim)
        out, state = self.lstm(x, state)  # (B, T, hidden)
        return self.head(out), state  # (B, T, vocab)

    @no_grad()
    def generate(self, idx: Tensor, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, generator=None) -> Tensor:
        """Continue each row of idx (B, T) by max_new_tokens sampled characters. The prompt is
        read once; after that each step feeds only the newest character and the carried state."""
        logits, state = self(idx)
        new = []
        for _ in range(max_new_tokens):
            nxt = sample_next(logits[:, -1], temperature, top_k, top_p, generator).reshape(-1, 1)  # (B, 1)
            new.append(nxt)
            logits, state = self(nxt, state)
        return cat([idx] + new, 1) if new else idx
