"""Gradient clipping, as torch.nn.utils: rescale gradients by their total norm, or clamp them.

Gradient arrays may be shared between tensors, so clipping gives each parameter a new
gradient tensor instead of scaling the old one in place.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ...backend import array_module, get_default_dtype
from ...ops import cat
from ...tensor import Tensor


def _params(parameters) -> list[Tensor]:
    """The parameters as a list, read once: `model.parameters()` is a generator, which a
    second pass would find empty."""
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _norm(xp, g, p: float):
    """The p-norm of an array, as a 0-d array (inf: max |g|, 0: number of non-zeros)."""
    if p == math.inf:
        return xp.abs(g).max() if g.size else xp.zeros((), g.dtype)
    if p == -math.inf:
        return xp.abs(g).min() if g.size else xp.full((), math.inf, g.dtype)
    if p == 0:
        return xp.asarray(xp.count_nonzero(g), dtype=g.dtype)
    if p == 2:
        flat = g.reshape(-1)
        return xp.sqrt(xp.dot(flat, flat))
    return (xp.abs(g) ** p).sum() ** (1.0 / p)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so that their total `norm_type`-norm is at most `max_norm`;
    returns the total norm before clipping.

    >>> total = lamina.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    """
    params = [p for p in _params(parameters) if p.grad is not None]
    grads = [p.grad._data for p in params]
    norm_type = float(norm_type)
    if not grads:
        return Tensor._make(np.zeros((), dtype=get_default_dtype()), None)
    xp = array_module(grads[0])
    dtype = grads[0].dtype
    norms = xp.stack([_norm(xp, g, norm_type).astype(dtype) for g in grads])
    total = _norm(xp, norms, norm_type)  # the norm of the per-tensor norms is the norm of everything
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {float(total)}; "
                           "set error_if_nonfinite=False to clip anyway")
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)  # 1e-6 keeps an all-zero gradient finite, as torch
    for p in params:
        p.grad = Tensor._make(p.grad._data * coef.astype(p.grad.dtype), None)
    return Tensor._make(total, None)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            p.grad = Tensor._make(array_module(p.grad._data).clip(p.grad._data, -clip_value, clip_value), None)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one vector (differentiable)."""
    return cat([p.reshape(-1) for p in _params(parameters)])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of `vec` into the parameters, in place (the inverse of parameters_to_vector)."""
    params = _params(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(f"vector_to_parameters: expected a vector of {total} elements for the parameters, "
                         f"got shape {vec.shape}")
    data = vec._data if isinstance(vec, Tensor) else vec
    start = 0
    for p in params:
        n = p.numel()
        p._data[...] = data[start:start + n].reshape(p.shape)
        p._version += 1
        start += n
