"""Choosing the next token from logits: greedy, temperature, top-k and top-p (nucleus).

Shared by the language models' `generate`. Sampling is not differentiated, so it works on
the arrays directly, drawing from a lamina Generator (the default one unless given).
"""
from __future__ import annotations

import numpy as np

from ..backend import device_of, to_device
from ..creation import Generator, default_generator
from ..tensor import Tensor


def sample_next(logits: Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                generator: Generator | None = None) -> Tensor:
    """Token ids (B,) int64 drawn from logits (B, V); greedy (argmax) when temperature == 0.

    top_k keeps the k most likely tokens; top_p keeps the smallest set of most likely tokens
    whose probability adds up to at least p. Both may be combined (top-k first).

    >>> idx = sample_next(model(x)[:, -1], temperature=0.8, top_k=40)
    """
    if logits.ndim not in (1, 2):
        raise ValueError(f"sample_next: expected logits of shape (B, V) or (V,), got {tuple(logits.shape)}")
    if temperature < 0:
        raise ValueError(f"sample_next: temperature must be >= 0, got {temperature}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"sample_next: top_p must be in (0, 1], got {top_p}")
    device = device_of(logits._data)
    z = to_device(logits._data, device_of(np.empty(0))).astype(np.float64)  # sampling is cheap: do it on the CPU
    single = z.ndim == 1
    z = z.reshape(-1, z.shape[-1])
    if temperature == 0:
        idx = z.argmax(-1)
    else:
        z = z / temperature
        if top_k is not None and top_k < z.shape[-1]:
            kth = np.sort(z, axis=-1)[:, -max(int(top_k), 1)][:, None]  # the k-th largest logit per row
            z = np.where(z < kth, -np.inf, z)
        p = np.exp(z - z.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        if top_p is not None and top_p < 1.0:
            order = np.argsort(-p, axis=-1, kind="stable")
            p_sorted = np.take_along_axis(p, order, -1)
            before = np.cumsum(p_sorted, -1) - p_sorted  # mass of the more likely tokens
            drop_sorted = before >= top_p  # the most likely token is always kept
            drop = np.zeros_like(drop_sorted)
            np.put_along_axis(drop, order, drop_sorted, -1)
            p = np.where(drop, 0.0, p)
            p /= p.sum(-1, keepdims=True)
        cdf = np.cumsum(p, -1)
        u = (generator or default_generator).rng.random((z.shape[0], 1)) * cdf[:, -1:]  # below the total: never a dropped tail
        idx = (cdf < u).sum(-1)  # inverse CDF
    idx = idx.astype(np.int64)
    idx = idx[0] if single else idx
    return Tensor._make(to_device(np.asarray(idx), device), None)
