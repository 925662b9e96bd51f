"""Attention and Transformer layers, with PyTorch's names, arguments and parameter layouts.

MultiheadAttention keeps PyTorch's packed `in_proj_weight` (3E, E) and `out_proj`, and the
Transformer layers keep `self_attn`, `linear1`, `norm1`, ... so that a PyTorch state_dict
loads by key. The attention itself is lamina's fused scaled_dot_product_attention.

Mask conventions (as in PyTorch, and they differ): MultiheadAttention and the Transformer
layers take bool masks that are True where attending is NOT allowed; the functional
scaled_dot_product_attention takes bool masks that are True where it IS allowed. Float
masks are added to the scores in both, so `causal_mask(T)` (0 / -inf) works everywhere.
"""
from __future__ import annotations

import copy
import math
from typing import Callable

import numpy as np

from ...backend import get_default_dtype
from ...creation import full, zeros
from ...ops import cat, where
from ...ops.attention import _dropout_keep, attention_weights, scaled_dot_product_attention
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module, Parameter
from .linear import Dropout, Linear
from .norm import LayerNorm

__all__ = [
    "MultiheadAttention", "KVCache", "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
    "TransformerDecoder", "Transformer", "SinusoidalPositionalEncoding", "LearnedPositionalEmbedding",
    "RotaryEmbedding", "apply_rotary", "causal_mask",
]


def causal_mask(L: int, S: int | None = None, dtype=None, device=None) -> Tensor:
    """A float (L, S) mask, 0 where query i may attend key j and -inf where not: j <= i + (S - L).

    With S > L the queries are the last L of S positions (decoding with a cache). Being a
    float mask it means the same to MultiheadAttention and to scaled_dot_product_attention.

    >>> causal_mask(3)   # [[0, -inf, -inf], [0, 0, -inf], [0, 0, 0]]
    """
    S = L if S is None else S
    return full((L, S), -math.inf, dtype=dtype, device=device).triu(1 + S - L)


class KVCache:
    """The keys and values one attention layer has seen, (B, heads, S, head_dim) each.

    Pass the same cache to every decoding step: each step appends its new keys and values
    and attends over all of them, so a new token costs one position's projections.

    >>> cache = KVCache(); y1, _ = mha(x[:, :1], x[:, :1], x[:, :1], cache=cache, is_causal=True)
    """

    def __init__(self):
        self.key: Tensor | None = None
        self.value: Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.key is None else self.key.shape[-2]

    def update(self, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
        """Append this step's keys and values (B, heads, L, head_dim); return all so far."""
        if self.key is not None:
            key, value = cat([self.key, key], dim=-2), cat([self.value, value], dim=-2)
        self.key, self.value = key, value
        return key, value

    def reset(self) -> None:
        self.key = self.value = None


class MultiheadAttention(Module):
    """Multi-head attention: softmax(Q K^T / sqrt(head_dim)) V per head, then `out_proj`.

    Inputs are (L, N, E), or (N, L, E) with batch_first=True, or unbatched (L, E). Returns
    (attn_output, attn_weights), the weights per head (N, heads, L, S) or averaged over
    heads (N, L, S), or None when need_weights=False (the fast path).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(zeros(3 * E, E, dtype=dtype, device=device))
        else:
            self.q_proj_weight = Parameter(zeros(E, E, dtype=dtype, device=device))
            self.k_proj_weight = Parameter(zeros(E, self.kdim, dtype=dtype, device=device))
            self.v_proj_weight = Parameter(zeros(E, self.vdim, dtype=dtype, device=device))
        self.in_proj_bias = Parameter(zeros(3 * E, dtype=dtype, device=device)) if bias else None
        # add_bias_kv: one learned key and value appended to every sequence of keys and values;
        # add_zero_attn: then a zero key and value too (so a query can attend to "nothing")
        self.bias_k = Parameter(zeros(1, 1, E, dtype=dtype, device=device)) if add_bias_kv else None
        self.bias_v = Parameter(zeros(1, 1, E, dtype=dtype, device=device)) if add_bias_kv else None
        self.add_zero_attn = add_zero_attn
        self.out_proj = Linear(E, E, bias=bias, device=device, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # PyTorch's init: xavier_uniform_ on the input projections, zero biases
        for w in ([self.in_proj_weight] if self._qkv_same_embed_dim
                  else [self.q_proj_weight, self.k_proj_weight, self.v_proj_weight]):
            init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"

    def _projections(self, query: Tensor, key: Tensor, value: Tensor):
        """q, k, v = the input projections, (N, L or S, E) each."""
        E, b = self.embed_dim, self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:  # self-attention: one GEMM for all three
                qkv = F.linear(query, w, b)  # (N, L, 3E)
                return qkv[..., :E], qkv[..., E:2 * E], qkv[..., 2 * E:]
            wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False, cache: KVCache | None = None):
        """Attend from `query` to `key`/`value`; returns (attn_output, attn_weights or None).

        `cache` (a KVCache) makes it incremental: this call's keys and values are appended
        to those of earlier calls and the queries attend to all of them.
        """
        batched = self._check_inputs(query, key, value)
        if not batched:  # (L, E) -> (1, L, E)
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:  # (L, N, E) -> (N, L, E), keeping `is` for self-attention
            same_kv = key is value
            same_qk = query is key
            query = query.transpose(0, 1)
            key = query if same_qk else key.transpose(0, 1)
            value = key if same_kv else value.transpose(0, 1)
        N, L, _ = query.shape
        H, D = self.num_heads, self.head_dim

        q, k, v = self._projections(query, key, value)
        extra = int(self.bias_k is not None) + int(self.add_zero_attn)  # keys appended to every sequence
        if extra and cache is not None:
            raise RuntimeError("MultiheadAttention: a KV cache cannot be used with add_bias_kv or add_zero_attn")
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(N, 1, self.embed_dim)], dim=1)  # (N, S + 1, E)
            v = cat([v, self.bias_v.expand(N, 1, self.embed_dim)], dim=1)
        q = q.reshape(N, L, H, D).transpose(1, 2)  # (N, H, L, D)
        k = k.reshape(N, k.shape[1], H, D).transpose(1, 2)  # (N, H, S_new, D)
        v = v.reshape(N, v.shape[1], H, D).transpose(1, 2)
        if self.add_zero_attn:
            k = cat([k, zeros(N, H, 1, D, dtype=k.dtype, device=k.device)], dim=2)
            v = cat([v, zeros(N, H, 1, D, dtype=v.dtype, device=v.device)], dim=2)
        past = 0
        if cache is not None:
            past = len(cache)
            k, v = cache.update(k, v)  # (N, H, S, D), S = past + S_new
        S = k.shape[2]
        if extra:  # the appended keys are never masked
            attn_mask, key_padding_mask = (None if m is None else _allow_last(m, extra)
                                           for m in (attn_mask, key_padding_mask))

        mask = self._merge_masks(attn_mask, key_padding_mask, N, L, S, batched)
        causal = False
        if is_causal and attn_mask is None:  # PyTorch needs attn_mask here; a causal mask is implied
            if past == 0 and L == S and mask is None:
                causal = True
            else:  # a padding mask, or queries that are the last L positions (bottom-right aligned)
                cm = causal_mask(L, S, dtype=q.dtype, device=q.device)
                mask = cm if mask is None else mask + cm if mask.dtype.kind != "b" else where(mask, cm, -math.inf)

        p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            weights = attention_weights(q, k, mask, is_causal=causal)  # (N, H, L, S)
            attn = weights if p == 0.0 else weights * Tensor._make(_dropout_keep(q, k, p), None)
            out = attn @ v  # (N, H, L, D)
            weights = attn.mean(1) if average_attn_weights else attn
            if not batched:
                weights = weights.squeeze(0)
        else:
            out = scaled_dot_product_attention(q, k, v, mask, dropout_p=p, is_causal=causal)  # (N, H, L, D)
        out = self.out_proj(out.transpose(1, 2).reshape(N, L, self.embed_dim))  # (N, L, E)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)  # (L, N, E)
        return out, weights

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        """Validate ranks and sizes; return whether the input is batched."""
        name = "MultiheadAttention"
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        if query.ndim not in (2, 3):
            raise RuntimeError(f"{name}: expected query of 3 dims {layout} or 2 dims (L, E), got shape {query.shape}")
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise RuntimeError(f"{name}: query, key and value must have the same number of dims, got shapes "
                               f"{query.shape}, {key.shape} and {value.shape}")
        for t, n, want in ((query, "query", self.embed_dim), (key, "key", self.kdim), (value, "value", self.vdim)):
            if t.shape[-1] != want:
                arg = {"query": "embed_dim", "key": "kdim", "value": "vdim"}[n]
                raise RuntimeError(f"{name}: {n} of shape {t.shape} has embedding size {t.shape[-1]} but the module "
                                   f"expects {arg}={want}")
        s_dim = 1 if query.ndim == 3 and self.batch_first else 0
        if key.shape[s_dim] != value.shape[s_dim]:
            raise RuntimeError(f"{name}: key of shape {key.shape} and value of shape {value.shape} have different "
                               f"sequence lengths")
        if query.ndim == 3:
            b_dim = 0 if self.batch_first else 1
            if not query.shape[b_dim] == key.shape[b_dim] == value.shape[b_dim]:
                raise RuntimeError(f"{name}: query, key and value have different batch sizes, shapes {query.shape}, "
                                   f"{key.shape} and {value.shape}")
        return query.ndim == 3

    def _merge_masks(self, attn_mask, key_padding_mask, N: int, L: int, S: int, batched: bool):
        """attn_mask and key_padding_mask as one mask for scaled_dot_product_attention,
        broadcastable to (N, H, L, S): bool (True = attend) when both are bool, else float."""
        name, H = "MultiheadAttention", self.num_heads
        masks = []
        if attn_mask is not None:
            if attn_mask.ndim == 2:
                if attn_mask.shape != (L, S):
                    raise RuntimeError(f"{name}: attn_mask of shape {attn_mask.shape} does not match (L, S) = {(L, S)}")
            elif attn_mask.ndim == 3:
                if attn_mask.shape != (N * H, L, S):
                    raise RuntimeError(f"{name}: attn_mask of shape {attn_mask.shape} does not match "
                                       f"(N*num_heads, L, S) = {(N * H, L, S)}")
                attn_mask = attn_mask.reshape(N, H, L, S)
            else:
                raise RuntimeError(f"{name}: attn_mask must have 2 dims (L, S) or 3 dims (N*num_heads, L, S), "
                                   f"got shape {attn_mask.shape}")
            masks.append(attn_mask)
        if key_padding_mask is not None:
            want = (N, S) if batched else (1, S)
            if key_padding_mask.shape != want:
                got = key_padding_mask.shape if batched else key_padding_mask.shape[1:]
                raise RuntimeError(f"{name}: key_padding_mask of shape {got} does not match "
                                   f"{'(N, S)' if batched else '(S,)'} = {want if batched else (S,)}")
            masks.append(key_padding_mask.reshape(N, 1, 1, S))
        if not masks:
            return None
        if all(m.dtype.kind == "b" for m in masks):
            allowed = ~masks[0]  # PyTorch's MHA bool masks are True where NOT allowed
            for m in masks[1:]:
                allowed = allowed & ~m
            return allowed
        out = None
        for m in masks:
            if m.dtype.kind == "b":
                m = zeros(m.shape, dtype=self.out_proj.weight.dtype, device=m.device).masked_fill(m, -math.inf)
            out = m if out is None else out + m
        return out


def _allow_last(mask: Tensor, n: int) -> Tensor:
    """A mask (..., S) with n more columns that mask nothing: False or 0.0."""
    return cat([mask, zeros(*mask.shape[:-1], n, dtype=mask.dtype, device=mask.device)], dim=-1)


def _activation(activation) -> Callable:
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu or a callable, not {activation!r}")


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward network, each with a residual connection and
    LayerNorm: after (post-norm, the default, as in "Attention Is All You Need") or before
    (norm_first=True, pre-norm, easier to train deep)."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Masked self-attention, attention over the encoder's output (`memory`), then a
    feed-forward network; each with a residual connection and LayerNorm (post- or pre-norm)."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                                 **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """`num_layers` copies of `encoder_layer` in sequence, then an optional final norm."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        self.layers = [copy.deepcopy(encoder_layer) for _ in range(num_layers)]
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(Module):
    """`num_layers` copies of `decoder_layer` in sequence, then an optional final norm."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None):
        super().__init__()
        self.layers = [copy.deepcopy(decoder_layer) for _ in range(num_layers)]
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=bool(tgt_is_causal),
                      memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need", as torch.nn.Transformer.

    >>> model = Transformer(d_model=64, nhead=4, batch_first=True)
    >>> out = model(src, tgt, tgt_mask=Transformer.generate_square_subsequent_mask(tgt.shape[1]))
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation: str | Callable = "relu",
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        kw = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                  layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first, bias=bias,
                  device=device, dtype=dtype)
        norm = dict(eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.encoder = custom_encoder or TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **kw), num_encoder_layers, LayerNorm(d_model, **norm))
        self.decoder = custom_decoder or TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **kw), num_decoder_layers, LayerNorm(d_model, **norm))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():  # PyTorch's Transformer re-initialises every matrix
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        b = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[b] != tgt.shape[b]:
            raise RuntimeError(f"Transformer: src of shape {src.shape} and tgt of shape {tgt.shape} have different "
                               "batch sizes")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: src of shape {src.shape} and tgt of shape {tgt.shape} must both have "
                               f"d_model={self.d_model} features")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """The float (sz, sz) causal mask: 0 on and below the diagonal, -inf above."""
        return causal_mask(sz, dtype=dtype, device=device)


# ---- positional encodings --------------------------------------------------------------------
class SinusoidalPositionalEncoding(Module):
    """Adds the fixed sin/cos position code of "Attention Is All You Need" to (N, T, E) input
    ((T, N, E) with batch_first=False), then dropout. `offset` shifts positions when decoding."""

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0, batch_first: bool = True):
        super().__init__()
        pos = np.arange(max_len)[:, None]
        div = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = np.zeros((max_len, d_model))
        pe[:, 0::2] = np.sin(pos * div)
        pe[:, 1::2] = np.cos(pos * div)[:, : d_model // 2]
        self.register_buffer("pe", Tensor(pe.astype(get_default_dtype())), persistent=False)  # (max_len, E)
        self.dropout = Dropout(dropout)
        self.batch_first = batch_first

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        T = x.shape[1] if self.batch_first else x.shape[0]
        _check_positions("SinusoidalPositionalEncoding", x, offset + T, self.pe.shape[0], self.pe.shape[1])
        pe = self.pe[offset:offset + T]  # (T, E)
        return self.dropout(x + (pe if self.batch_first else pe.unsqueeze(1)))


class LearnedPositionalEmbedding(Module):
    """Adds a trained vector per position (GPT's `wpe`) to (N, T, E) input ((T, N, E) with
    batch_first=False). `weight` is (max_len, E), initialised N(0, 1) as nn.Embedding."""

    def __init__(self, max_len: int, d_model: int, batch_first: bool = True, device=None, dtype=None):
        super().__init__()
        self.weight = Parameter(zeros(max_len, d_model, dtype=dtype, device=device))
        init.normal_(self.weight)
        self.batch_first = batch_first

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        T = x.shape[1] if self.batch_first else x.shape[0]
        _check_positions("LearnedPositionalEmbedding", x, offset + T, *self.weight.shape)
        pe = self.weight[offset:offset + T]  # (T, E)
        return x + (pe if self.batch_first else pe.unsqueeze(1))


def _check_positions(name: str, x: Tensor, end: int, max_len: int, d_model: int) -> None:
    if x.ndim != 3 or x.shape[-1] != d_model:
        raise RuntimeError(f"{name}: expected input of 3 dims with {d_model} features, got shape {x.shape}")
    if end > max_len:
        raise RuntimeError(f"{name}: positions up to {end} requested but max_len is {max_len} (input shape {x.shape})")


class RotaryEmbedding(Module):
    """Rotary position embedding (RoPE, Su et al. 2021): rotates pairs of query/key features
    by a position-dependent angle, so q . k depends only on the distance between positions.

    Applied to queries and keys of shape (..., T, dim) (dim = head_dim, even), in the
    "rotate half" layout of GPT-NeoX and LLaMA. Has no parameters.

    >>> rope = RotaryEmbedding(head_dim); q, k = rope(q), rope(k)   # (B, heads, T, head_dim)
    """

    def __init__(self, dim: int, max_len: int = 4096, base: float = 10000.0):
        super().__init__()
        if dim % 2:
            raise ValueError(f"RotaryEmbedding: dim must be even, got {dim}")
        inv_freq = base ** (-np.arange(0, dim, 2) / dim)  # (dim/2,)
        angles = np.arange(max_len)[:, None] * inv_freq[None, :]  # (max_len, dim/2)
        angles = np.concatenate([angles, angles], axis=1)  # (max_len, dim)
        dt = get_default_dtype()
        self.register_buffer("cos", Tensor(np.cos(angles).astype(dt)), persistent=False)  # (max_len, dim)
        self.register_buffer("sin", Tensor(np.sin(angles).astype(dt)), persistent=False)
        self.dim = dim

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        T = x.shape[-2]
        if x.shape[-1] != self.dim or offset + T > self.cos.shape[0]:
            raise RuntimeError(f"RotaryEmbedding: input of shape {x.shape} at offset {offset} needs (..., T, "
                               f"{self.dim}) with offset + T <= max_len = {self.cos.shape[0]}")
        return apply_rotary(x, self.cos[offset:offset + T], self.sin[offset:offset + T])


def apply_rotary(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """x * cos + rotate_half(x) * sin, with rotate_half([a, b]) = [-b, a] over the last dim."""
    half = x.shape[-1] // 2
    rotated = cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos.to(x.dtype) + rotated * sin.to(x.dtype)
