"""Scaled dot-product attention as one fused primitive: scores, mask, softmax, dropout and
the weighted sum of values in one forward, and all their gradients in one backward.

Fused because attention sits on every transformer layer's hot path: composed from
matmul, masked_fill, softmax, dropout and matmul it would record five graph nodes and
keep five intermediate (..., L, S) arrays alive; fused it records one and keeps one.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import Function, unbroadcast
from ..backend import array_module
from ..tensor import Tensor
from .reduce import rowdot, rowsum

__all__ = ["scaled_dot_product_attention"]


def _additive_mask(xp, mask, L: int, S: int, is_causal: bool, dtype):
    """One float mask to add to the (..., L, S) scores: 0 where attending, -inf where not.
    A bool mask is True where a query may attend (PyTorch's SDPA convention)."""
    out = None
    if mask is not None:
        out = xp.where(mask, 0.0, -math.inf).astype(dtype) if mask.dtype.kind == "b" else mask
    if is_causal:  # query i sees keys j <= i, aligned at the top left as in PyTorch
        causal = xp.triu(xp.full((L, S), -math.inf, dtype=dtype), 1)
        out = causal if out is None else out + causal
    return out


class AttentionWeights(Function):
    """softmax(q @ k^T * scale + mask): the attention probabilities (..., L, S)."""

    def forward(self, q, k, mask, scale, is_causal):
        xp = array_module(q)
        s = q @ k.swapaxes(-1, -2)  # (..., L, S)
        s *= scale
        add = _additive_mask(xp, mask, q.shape[-2], k.shape[-2], is_causal, s.dtype)
        if add is not None:
            s += add  # the mask broadcasts to the scores' shape (checked by the caller)
            # a row with every key masked would be 0/0: PyTorch's SDPA gives it zero weights
            m = s.max(axis=-1, keepdims=True)
            m[~xp.isfinite(m)] = 0.0
        else:
            m = s.max(axis=-1, keepdims=True)
        s -= m
        xp.exp(s, out=s)
        den = rowsum(s)[..., None]
        if add is not None:
            den[den == 0] = 1.0
        s *= 1.0 / den  # a multiply by the reciprocal is faster than a broadcast divide
        self.q, self.k, self.p, self.scale = q, k, s, scale
        self.mask_shape = None if mask is None or mask.dtype.kind == "b" else mask.shape
        return s

    def backward(self, g):
        need_q, need_k, need_mask = self.needs_input_grad
        return self._score_grads(g, need_q, need_k, need_mask)

    def _score_grads(self, dp, need_q, need_k, need_mask):
        """From the gradient of the probabilities to those of q, k and a float mask."""
        q, k, p = self.q, self.k, self.p
        ds = dp - rowdot(dp, p)[..., None]
        ds *= p  # softmax backward: p * (dp - sum(dp * p))
        gmask = None
        if need_mask and self.mask_shape is not None:
            gmask = unbroadcast(ds, self.mask_shape)
        if gmask is ds:  # unbroadcast returns ds itself for a score-shaped mask: scale a copy
            ds = ds * self.scale
        else:
            ds *= self.scale
        gq = unbroadcast(ds @ k, q.shape) if need_q else None
        gk = unbroadcast(ds.swapaxes(-1, -2) @ q, k.shape) if need_k else None
        return gq, gk, gmask


class ScaledDotProductAttention(AttentionWeights):
    """dropout(softmax(q @ k^T * scale + mask)) @ v, with the softmax part shared with
    AttentionWeights."""

    def forward(self, q, k, v, mask, keep, scale, is_causal):
        p = super().forward(q, k, mask, scale, is_causal)
        self.v, self.keep = v, keep
        if keep is not None:  # keep holds 0 or 1/(1-p): dropout on the probabilities
            p = p * keep
        return p @ v  # (..., L, Ev)

    def backward(self, g):
        p, v, keep = self.p, self.v, self.keep
        pd = p if keep is None else p * keep
        gv = unbroadcast(pd.swapaxes(-1, -2) @ g, v.shape) if self.needs_input_grad[2] else None
        dp = g @ v.swapaxes(-1, -2)  # (..., L, S)
        if keep is not None:
            dp *= keep
        need_q, need_k, _, need_mask, _ = self.needs_input_grad
        gq, gk, gmask = self._score_grads(dp, need_q, need_k, need_mask)
        return gq, gk, gv, gmask, None


def _check(query: Tensor, key: Tensor, value: Tensor, attn_mask, op: str) -> None:
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(f"{op}: query, key and value need at least 2 dims (..., L, E), got shapes "
                           f"{query.shape}, {key.shape} and {value.shape}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"{op}: query of shape {query.shape} and key of shape {key.shape} have different "
                           f"embedding sizes: {query.shape[-1]} != {key.shape[-1]}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}: key of shape {key.shape} and value of shape {value.shape} have different "
                           f"sequence lengths: {key.shape[-2]} != {value.shape[-2]}")
    L, S = query.shape[-2], key.shape[-2]
    if attn_mask is not None:
        batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2])
        try:
            ok = np.broadcast_shapes(attn_mask.shape, batch + (L, S)) == batch + (L, S)
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"{op}: attn_mask of shape {attn_mask.shape} does not broadcast to "
                               f"(..., L, S) = {batch + (L, S)}")


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value, as torch.nn.functional.scaled_dot_product_attention.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). A bool attn_mask
    is True where a query may attend; a float one is added to the scores. `is_causal` lets
    query i see keys j <= i. Dropout (rate `dropout_p`) is applied to the probabilities
    whenever dropout_p > 0, as in PyTorch: pass 0 in evaluation. `enable_gqa` lets key and
    value have fewer heads (dim -3) than query, each shared by a group of query heads.

    >>> out = scaled_dot_product_attention(q, k, v, is_causal=True)   # (B, heads, T, head_dim)
    """
    op = "scaled_dot_product_attention"
    if attn_mask is not None and is_causal:
        raise RuntimeError(f"{op}: pass attn_mask or is_causal=True, not both (fold the causal mask into attn_mask)")
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk or value.shape[-3] != hk:
            raise RuntimeError(f"{op}: with enable_gqa, query's {hq} heads must be a multiple of key's and value's "
                               f"(got key shape {key.shape}, value shape {value.shape})")
        key, value = key.repeat_interleave(hq // hk, dim=-3), value.repeat_interleave(hq // hk, dim=-3)
    _check(query, key, value, attn_mask, op)
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1), got {dropout_p}")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    if attn_mask is not None and attn_mask.dtype.kind != "b" and attn_mask.dtype != query.dtype:
        attn_mask = attn_mask.to(query.dtype)
    keep = None
    if dropout_p > 0.0:
        keep = _dropout_keep(query, key, dropout_p)
    return ScaledDotProductAttention.apply(query, key, value, attn_mask, keep, scale=scale, is_causal=is_causal)


def attention_weights(query: Tensor, key: Tensor, attn_mask: Tensor | None = None, is_causal: bool = False,
                      scale: float | None = None) -> Tensor:
    """softmax(query @ key^T * scale + mask), the (..., L, S) probabilities that
    scaled_dot_product_attention multiplies the values by (for need_weights and inspection)."""
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    if attn_mask is not None and attn_mask.dtype.kind != "b" and attn_mask.dtype != query.dtype:
        attn_mask = attn_mask.to(query.dtype)
    return AttentionWeights.apply(query, key, attn_mask, scale=scale, is_causal=is_causal)


def _dropout_keep(query: Tensor, key: Tensor, p: float):
    """An array of 0 or 1/(1-p), shaped like the scores, drawn from lamina's default generator."""
    from ..creation import rand

    shape = np.broadcast_shapes(query.shape[:-2], key.shape[:-2]) + (query.shape[-2], key.shape[-2])
    u = rand(*shape, dtype=query.dtype, device=query.device)._data
    return (u >= p).astype(query.dtype) * (1.0 / (1.0 - p))
