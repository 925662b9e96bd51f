"""Composed neural-network functions, used as `import lamina.nn.functional as F`.

Activations, softmax and pad are primitives in lamina.ops and re-exported here so that
`F.relu`, `F.gelu`, `F.pad` read as they do in PyTorch. So are the fused layer primitives
(linear, embedding, layer_norm, batch_norm in lamina/ops/dense.py and norm.py), convolution
and pooling (lamina/ops/conv.py, pool.py) and the losses (lamina/nn/losses.py). What is
written here is composed from primitives and has no backward of its own.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..backend import CPU as _CPU, to_device as _to_device
from ..creation import _rng
from ..ops import elu, gelu, leaky_relu, log_softmax, one_hot, pad, relu, silu, softmax, softplus  # noqa: F401
from ..ops import sigmoid, tanh  # noqa: F401
from ..ops.activation import logsigmoid  # noqa: F401
from ..ops.activation import (  # noqa: F401
    celu, glu, hardshrink, hardsigmoid, hardswish, hardtanh, mish, prelu, relu6, rrelu, selu, softmin, softshrink,
    softsign, tanhshrink, threshold,
)
from ..ops import clamp as _clamp, rsqrt as _rsqrt
from ..ops.dense import embedding, linear  # noqa: F401
from ..ops.norm import batch_norm, layer_norm  # noqa: F401
from ..ops.conv import *  # noqa: F401,F403
from ..ops.pool import *  # noqa: F401,F403
from ..ops.spatial import *  # noqa: F401,F403
from ..tensor import Tensor


def _keep_mask(input: Tensor, shape: tuple, p: float) -> Tensor:
    """A mask of 0 and 1/(1-p), drawn from lamina's default generator (so manual_seed fixes it)."""
    keep = _rng(None).random(shape, dtype=np.float32) >= p
    mask = np.multiply(keep, 1.0 / (1.0 - p), dtype=input.dtype)
    return Tensor._make(_to_device(mask, input.device), None)


def _check_p(p: float, op: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p); identity when not training."""
    _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return input * _keep_mask(input, input.shape, p)


def _channel_dropout(input: Tensor, p: float, training: bool, spatial: int, op: str) -> Tensor:
    """Zero whole channels: one draw per (N, C) of an (N, C, *spatial) input, or per C of (C, *spatial)."""
    _check_p(p, op)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{op}: expected a {spatial + 1}-D or {spatial + 2}-D input, got shape {input.shape}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return input * _keep_mask(input, input.shape[:-spatial] + (1,) * spatial, p)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, L) or (C, L) input with probability p."""
    return _channel_dropout(input, p, training, 1, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, H, W) or (C, H, W) input with probability p.

    As torch: a 2-D input is dropped element by element and a 3-D one is taken as (N, C, L),
    each with a warning, since neither is what dropout2d is for."""
    if input.ndim == 2:
        warnings.warn("dropout2d: received a 2-D input, which is dropped element by element; use dropout "
                      "for that (dropout2d is for (N, C, H, W) or (C, H, W) inputs)", UserWarning, stacklevel=2)
        return dropout(input, p, training)
    if input.ndim == 3:
        warnings.warn("dropout2d: received a 3-D input, taken as (N, C, L) with one draw per channel, as torch "
                      "does today; use dropout1d for that", UserWarning, stacklevel=2)
        return _channel_dropout(input, p, training, 1, "dropout2d")
    return _channel_dropout(input, p, training, 2, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    return _channel_dropout(input, p, training, 3, "dropout3d")


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each group of C // num_groups channels of an (N, C, *) input over the group's
    channels and spatial dims, then scale and shift per channel."""
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError(f"group_norm: {c} channels (input {input.shape}) do not split into {num_groups} groups")
    x = input.reshape(n, num_groups, -1)  # (N, G, C/G * spatial)
    y = layer_norm(x, (x.shape[-1],), eps=eps).reshape(input.shape)
    per_channel = (c,) + (1,) * (input.ndim - 2)  # (C, 1, 1) against (N, C, H, W)
    if weight is not None:
        y = y * weight.reshape(per_channel)
    if bias is not None:
        y = y + bias.reshape(per_channel)
    return y


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) * weight over the trailing dims; eps=None means the dtype's epsilon."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"rms_norm: input of shape {input.shape} does not end in normalized_shape {shape}")
    eps = float(np.finfo(input.dtype).eps) if eps is None else eps
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    y = input * _rsqrt((input * input).mean(dims, keepdim=True) + eps)
    return y if weight is None else y * weight


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """input / max(||input||_p, eps) along `dim`."""
    if p == 2.0:  # sqrt(max(s, eps^2)) == max(sqrt(s), eps) and has no infinite slope at s = 0
        norm = _clamp((input * input).sum(dim, keepdim=True), min=eps * eps).sqrt()
    else:  # any order, 0 (a count) and +-inf (max, min |x|) too, as torch.linalg.vector_norm
        from ..linalg import vector_norm

        norm = _clamp(vector_norm(input, p, dim=dim, keepdim=True), min=eps)
    return input / norm


# The losses are written in nn/losses.py, which lists its function names in FUNCTIONS.
from . import losses as _losses  # noqa: E402

globals().update({name: getattr(_losses, name) for name in getattr(_losses, "FUNCTIONS", [])})
from ..ops.attention import scaled_dot_product_attention  # noqa: F401


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm=None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sum, mean or max of the embeddings in each bag: the rows of a 2-D `input`, or the runs
    of a 1-D `input` that start at `offsets`. Bags are padded to one length and masked, so the
    whole thing is an embedding lookup and one masked reduction (an empty bag gives zeros)."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights only works with mode='sum', got mode={mode!r}")
    idx = np.asarray(_to_device(input._data, _CPU))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding_bag: input must hold integer indices, got {idx.dtype}")
    psw = per_sample_weights
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: offsets must be None when input is 2-D (each row is a bag)")
        rows, keep = idx, np.ones(idx.shape, bool)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag: offsets are required when input is 1-D")
        off = np.asarray(_to_device(offsets._data, _CPU)).astype(np.int64)
        if off.ndim != 1 or (off.size and (off[0] != 0 or np.any(np.diff(off) < 0) or off[-1] > idx.size)):
            raise ValueError(f"embedding_bag: offsets must be a 1-D increasing sequence starting at 0 and within "
                             f"the input's {idx.size} indices, got {off.tolist()[:10]}")
        starts = off[:-1] if include_last_offset else off
        ends = np.append(starts[1:], off[-1] if include_last_offset else idx.size)
        lengths = ends - starts
        width = max(int(lengths.max(initial=0)), 1)
        pos = starts[:, None] + np.arange(width)  # (bags, width) positions into input
        keep = np.arange(width) < lengths[:, None]
        pos = np.where(keep, pos, 0)
        rows = idx[pos] if idx.size else np.zeros(pos.shape, idx.dtype)
        if psw is not None:
            psw = psw[Tensor._make(_to_device(pos, psw.device), None)]
    else:
        raise ValueError(f"embedding_bag: input must be 1-D (with offsets) or 2-D, got shape {input.shape}")
    if padding_idx is not None:
        keep = keep & (rows != padding_idx % weight.shape[0])
    emb = embedding(Tensor._make(_to_device(rows, weight.device), None), weight, None, max_norm, norm_type,
                    scale_grad_by_freq)  # (bags, width, dim)
    mask = Tensor._make(_to_device(keep[..., None], weight.device), None)
    if psw is not None:
        emb = emb * psw.unsqueeze(-1)
    if mode == "max":
        out = emb.masked_fill(~mask, float("-inf")).amax(1)
        return out.masked_fill(~mask.any(1), 0.0)  # an empty bag gives zeros, as torch
    total = (emb * mask).sum(1)
    if mode == "sum":
        return total
    count = Tensor._make(_to_device(np.maximum(keep.sum(1, keepdims=True), 1).astype(weight.dtype), weight.device), None)
    return total / count
