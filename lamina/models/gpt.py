"""A GPT-style decoder (GPT-2's architecture, after nanoGPT's model.py).

Token and learned position embeddings, n_layer pre-norm blocks of causal self-attention
and a GELU MLP, a final LayerNorm and a language-model head, optionally tied to the token
embedding. Parameter names are GPT-2's (`transformer.h.0.attn.c_attn.weight`, ...), so
Hugging Face GPT-2 weights map across by key (their Conv1D weights are transposed).

>>> model = GPT(GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128))
>>> logits, loss = model(idx, targets)                  # idx, targets (B, T) int64
>>> out = model.generate(idx, 300, temperature=0.8, top_k=20)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .. import nn
from ..autograd import no_grad
from ..creation import arange
from ..nn import functional as F
from ..nn import init
from ..nn.layers.attention import KVCache, causal_mask
from ..ops import cat
from ..tensor import Tensor
from .sampling import sample_next

__all__ = ["GPTConfig", "GPT"]


@dataclass
class GPTConfig:
    vocab_size: int = 65
    block_size: int = 64  # the longest context the position embedding covers
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True  # biases in Linear and LayerNorm layers
    tie_weights: bool = True  # lm_head shares its weight with the token embedding wte


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position t sees positions <= t."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(f"GPT: n_embd {config.n_embd} is not divisible by n_head {config.n_head}")
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v in one GEMM
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout

    def forward(self, x: Tensor, cache: KVCache | None = None) -> Tensor:
        B, T, C = x.shape
        H = self.n_head
        qkv = self.c_attn(x).reshape(B, T, 3, H, C // H).permute(2, 0, 3, 1, 4)  # (3, B, H, T, head_dim)
        q, k, v = qkv[0], qkv[1], qkv[2]  # (B, H, T, head_dim) each
        past = 0
        if cache is not None:
            past = len(cache)
            k, v = cache.update(k, v)  # (B, H, past + T, head_dim)
        # the new queries are the last T positions: with a cache they also see every cached key
        mask = causal_mask(T, past + T, dtype=x.dtype, device=x.device) if past and T > 1 else None
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=past == 0)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C): heads side by side
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))  # GPT-2's tanh GELU


class Block(nn.Module):
    """x + attn(ln_1(x)), then x + mlp(ln_2(x)): pre-norm keeps the residual path clean."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: Tensor, cache: KVCache | None = None) -> Tensor:
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """A decoder-only Transformer language model predicting the next token at every position."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_weights:
            self.lm_head.weight = self.transformer.wte.weight  # one Parameter, two names (as in PyTorch)
        self.apply(self._init_weights)
        # GPT-2: scale the projections into the residual stream by 1/sqrt(2 * n_layer), since
        # each layer adds two of them and the stream's variance grows with their count
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                init.normal_(p, 0.0, 0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            init.normal_(module.weight, 0.0, 0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            init.zeros_(module.bias)

    def forward(self, idx: Tensor, targets: Tensor | None = None, cache: list[KVCache] | None = None):
        """idx (B, T) token ids -> (logits (B, T, vocab_size), mean cross-entropy loss or None).

        With `cache` (one KVCache per layer, from `new_cache()`), idx continues the tokens of
        earlier calls: positions start after them and only the new tokens are computed.
        """
        if idx.ndim != 2:
            raise RuntimeError(f"GPT: expected idx of shape (B, T), got shape {idx.shape}")
        B, T = idx.shape
        past = 0 if cache is None else len(cache[0])
        if past + T > self.config.block_size:
            raise RuntimeError(f"GPT: {past} cached + {T} new positions (idx shape {idx.shape}) exceed block_size "
                               f"{self.config.block_size}")
        pos = arange(past, past + T, device=idx.device)  # (T,)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))  # (B, T, C)
        for i, block in enumerate(self.transformer.h):
            x = block(x, None if cache is None else cache[i])
        logits = self.lm_head(self.transformer.ln_f(x))  # (B, T, vocab_size)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(B * T))
        return logits, loss

    def new_cache(self) -> list[KVCache]:
        """An empty key/value cache, one per layer, for incremental decoding."""
        return [KVCache() for _ in range(self.config.n_layer)]

    @no_grad()
    def generate(self, idx: Tensor, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, generator=None) -> Tensor:
        """Append max_new_tokens sampled tokens to idx (B, T); greedy when temperature == 0.

        The KV cache makes each new token cost one position's compute. When the context
        window (block_size) is full, learned positions cannot slide, so the cache restarts
        from the last block_size // 2 tokens: about two positions per token on average.
        """
        was_training = self.training
        self.eval()
        keep = max(1, self.config.block_size // 2)
        cache = self.new_cache()
        logits, _ = self(idx[:, -self.config.block_size:], cache=cache)  # prefill
        for i in range(max_new_tokens):
            nxt = sample_next(logits[:, -1], temperature, top_k, top_p, generator).reshape(-1, 1)  # (B, 1)
            idx = cat([idx, nxt], dim=1)
            if i == max_new_tokens - 1:
                break
            if len(cache[0]) < self.config.block_size:
                logits, _ = self(nxt, cache=cache)
            else:
                cache = self.new_cache()
                logits, _ = self(idx[:, -keep:], cache=cache)
        self.train(was_training)
        return idx
