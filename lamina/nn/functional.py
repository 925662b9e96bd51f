"""Composed neural-network functions, used as `import lamina.nn.functional as F`.

Activations, softmax and pad are primitives in lamina.ops and re-exported here so that
`F.relu`, `F.gelu`, `F.pad` read as they do in PyTorch. So are the fused layer primitives
(linear, embedding, layer_norm, batch_norm in lamina/ops/dense.py and norm.py), convolution
and pooling (lamina/ops/conv.py, pool.py) and the losses (lamina/nn/losses.py). What is
written here is composed from primitives and has no backward of its own.
"""
from __future__ import annotations

import numpy as np

from ..backend import to_device as _to_device
from ..creation import _rng
from ..ops import elu, gelu, leaky_relu, log_softmax, one_hot, pad, relu, silu, softmax, softplus  # noqa: F401
from ..ops import sigmoid, tanh  # noqa: F401
from ..ops.activation import logsigmoid  # noqa: F401
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


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, H, W) or (C, H, W) input with probability p."""
    _check_p(p, "dropout2d")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"dropout2d: expected a 3-D or 4-D input, got shape {input.shape}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return input * _keep_mask(input, input.shape[:-2] + (1, 1), p)  # one draw per (N, C)


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
    else:
        norm = _clamp((input.abs() ** p).sum(dim, keepdim=True) ** (1.0 / p), min=eps)
    return input / norm


# The losses are written in nn/losses.py, which lists its function names in FUNCTIONS.
from . import losses as _losses  # noqa: E402

globals().update({name: getattr(_losses, name) for name in getattr(_losses, "FUNCTIONS", [])})
from ..ops.attention import scaled_dot_product_attention  # noqa: F401
