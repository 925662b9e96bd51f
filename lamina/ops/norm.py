"""Fused normalisation primitives: layer norm and batch norm, forward and backward side by side.

These are primitives rather than compositions (mean, sub, pow, rsqrt, mul, add) because
they sit on every block of a deep network: composed, each makes a dozen graph nodes and as
many input-sized temporaries; fused, each direction allocates two input-sized arrays.
Layer norm saves the normalised input `xhat` and the reciprocal std `rstd`; batch norm
saves its input, the mean and `rstd` (see BatchNorm). Both compute the variance from the
centred input (two passes), so a large mean does not cancel it away.

Sums go through BLAS where NumPy's own reductions are slow (`reduce.rowsum`, `reduce.rowdot`).
"""
from __future__ import annotations

import math

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor
from .reduce import channel_sum as _channel_sum, rowdot as _rowdot, rowsum as _rowsum

__all__ = ["layer_norm", "batch_norm"]


def _channel_dot(a3, b3):
    """Per-channel sum(a * b) of two (N, C, L) arrays: (C,)."""
    if a3.shape[2] == 1:
        return array_module(a3).einsum("nc,nc->c", a3[:, :, 0], b3[:, :, 0])
    return _rowdot(a3, b3).sum(axis=0, dtype="float64").astype(a3.dtype)  # float64 across rows: cheap, and halves the error


def _affine(xhat, w, b):
    """xhat * w + b (either may be None) with one new array; xhat is kept for backward."""
    if w is None:
        return xhat if b is None else xhat + b
    y = xhat * w
    if b is not None:
        y += b
    return y


class LayerNorm(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias, statistics over the last `k` dims."""

    def forward(self, x, weight, bias, k, eps):
        xp = array_module(x)
        d = math.prod(x.shape[x.ndim - k:])
        x2 = x.reshape(-1, d)  # (rows, d)
        xhat = x2 - (_rowsum(x2) / d)[:, None]
        rstd = 1.0 / xp.sqrt(_rowdot(xhat, xhat) / d + eps)  # (rows,); two passes, so no cancellation
        xhat *= rstd[:, None]
        self.xhat, self.rstd, self.weight, self.has_bias = xhat, rstd, weight, bias is not None
        w = None if weight is None else weight.reshape(-1)
        b = None if bias is None else bias.reshape(-1)
        return _affine(xhat, w, b).reshape(x.shape)

    def backward(self, g):
        xhat, rstd, w = self.xhat, self.rstd, self.weight
        xp = array_module(g)
        g2 = g.reshape(xhat.shape)
        gx = gw = gb = None
        if self.needs_input_grad[0]:
            # gx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)), row by row
            gxhat = g2 if w is None else g2 * w.reshape(-1)
            d = xhat.shape[1]
            gx = xhat * (rstd * _rowdot(gxhat, xhat) / d)[:, None]
            gx += (rstd * _rowsum(gxhat) / d)[:, None]
            gx = xp.subtract(gxhat * rstd[:, None] if w is None else xp.multiply(gxhat, rstd[:, None], out=gxhat),
                             gx, out=gx)
            gx = gx.reshape(g.shape)
        if w is not None and self.needs_input_grad[1]:
            gw = xp.einsum("rd,rd->d", g2, xhat).reshape(w.shape)
        if self.has_bias and self.needs_input_grad[2]:
            gb = (xp.ones(g2.shape[0], dtype=g2.dtype) @ g2).reshape(w.shape if w is not None else (-1,))
        return gx, gw, gb, None, None


def _in_blocks(fn, out, block_bytes=1 << 19):
    """fn(rows) over slices of about `block_bytes` of the rows of `out` (the 2-D array the
    passes write): a pass made block by block over several arrays finds each block still in
    L2 cache when the next pass over it comes. One thread: these passes are bound by memory,
    and neither handing each block to a thread (BatchNorm on 3 MB: 1.2 -> 2 ms) nor one run
    of blocks per thread on OpenBLAS's threads (backend.parallel; layers.py's BatchNorm ratio
    1.14-1.18 -> 1.33-1.42) paid."""
    n = out.shape[0]
    step = max(1, block_bytes // max(out.nbytes // max(n, 1), 1))
    for i in range(0, n, step):
        fn(slice(i, min(i + step, n)))


def _at(v, rows):
    """The part of a `BatchNorm._spread` vector that meets the block `rows` of `_rows(x3)`: all
    of a (C*L,) row, or those rows of a (C, 1) column (one sample, where rows are channels)."""
    return v[rows] if v.ndim == 2 else v


def _rows(x3):
    """The 2-D view BatchNorm's elementwise passes run over: x3 (N, C, L) as (N, C*L), or as
    (C, L) for a single sample, where repeating each per-channel value L times would cost as
    much as the pass itself (batch-1 inference)."""
    return x3.reshape(x3.shape[1], -1) if x3.shape[0] == 1 else x3.reshape(x3.shape[0], -1)


class BatchNorm(Function):
    """Per-channel normalisation of an (N, C, *) input over N and the spatial dims.

    Training uses the batch's statistics and, like PyTorch's kernel, updates the running
    buffers (plain arrays, changed in place) with the unbiased variance. Evaluation uses
    the running statistics, so the input's gradient is then a plain per-channel scale.

    Written for memory traffic, which is all its time:
    - The input is viewed as (N, C*L), L the product of the spatial dims, and each per-channel
      vector is repeated L times into a (C*L,) row (`_spread`): NumPy runs `x2 * row` at the
      speed of a plain multiply, but `x3 * v[:, None]` about 1.6x slower.
    - Only the output is allocated in forward (the centred input, scaled in place), and only
      x, mean and rstd are kept, as PyTorch does; backward writes the input's gradient as
      g*A - x*B - C with per-channel A, B, C.
    - The elementwise passes run in row blocks (`_in_blocks`), so the second pass over a block
      reads it from cache. All this takes a training step from 1.8x PyTorch's time to 0.9-1.2x.
    """

    def forward(self, x, weight, bias, running_mean, running_var, training, momentum, eps):
        xp = array_module(x)
        n, c = x.shape[:2]
        x3 = x.reshape(n, c, -1)
        m = x.size // c
        if training:
            mean = _channel_sum(x3) / m
            out = _rows(x3) - self._spread(mean, x3)  # centred first: two passes, no cancellation
            var = _channel_dot(out.reshape(x3.shape), out.reshape(x3.shape)) / m
            if running_mean is not None:
                running_mean *= 1.0 - momentum
                running_mean += momentum * mean.astype(running_mean.dtype, copy=False)
                running_var *= 1.0 - momentum
                running_var += (momentum * m / max(m - 1, 1)) * var.astype(running_var.dtype, copy=False)
            rstd = 1.0 / xp.sqrt(var + eps)
            a = rstd if weight is None else rstd * weight
            shift = bias
        else:  # evaluation: a fixed per-channel a * x + b
            mean, var = running_mean.astype(x.dtype, copy=False), running_var.astype(x.dtype, copy=False)
            rstd = 1.0 / xp.sqrt(var + eps)
            a = rstd if weight is None else rstd * weight
            shift = -mean * a if bias is None else bias - mean * a
            out = xp.empty_like(_rows(x3))
        src = out if training else _rows(x3)
        ea = self._spread(a, x3)
        eb = None if shift is None else self._spread(shift, x3)

        def affine(rows):
            o = xp.multiply(src[rows], _at(ea, rows), out=out[rows])
            if eb is not None:
                o += _at(eb, rows)
        _in_blocks(affine, out)
        self.x3, self.mean, self.rstd, self.weight = x3, mean, rstd, weight
        self.has_bias, self.training = bias is not None, training
        return out.reshape(x.shape)

    @staticmethod
    def _spread(v, x3):
        """A (C,) vector lined up with `_rows(x3)`: a (C, 1) column for one sample, else a (C*L,) row."""
        if x3.shape[0] == 1:
            return v[:, None]
        return v if x3.shape[2] == 1 else array_module(v).repeat(v, x3.shape[2])

    def backward(self, g):
        x3, mean, rstd, w = self.x3, self.mean, self.rstd, self.weight
        xp = array_module(g)
        n, m = x3.shape[0], x3.shape[0] * x3.shape[2]
        g3 = g.reshape(x3.shape)
        need_x, need_w, need_b = self.needs_input_grad[:3]
        need_w = need_w and w is not None
        need_b = need_b and self.has_bias
        both = need_x and self.training
        gsum = _channel_sum(g3) if need_w or need_b or both else None
        # sum(g * xhat) per channel, as rstd * (sum(g * x) - mean * sum(g)), so x - mean is never
        # stored. In float32 this cancels when |mean| >> std: at mean/std = 100 the weight's
        # gradient is good to about 2e-5 relative (PyTorch's, centring on the fly: 2e-6).
        gdot = rstd * (_channel_dot(g3, x3) - mean * gsum) if need_w or both else None
        gx = None
        if need_x:
            scale = rstd if w is None else rstd * w  # (C,)
            g2, x2 = _rows(g3), _rows(x3)
            ea = self._spread(scale, x3)
            if not self.training:
                gx = xp.multiply(g2, ea)
            else:  # the batch statistics depend on x too
                b = scale * rstd * gdot / m
                eb, ec = self._spread(b, x3), self._spread(scale * gsum / m - mean * b, x3)
                gx = xp.empty_like(g2)

                def grad(rows):
                    o = xp.multiply(g2[rows], _at(ea, rows), out=gx[rows])
                    o -= x2[rows] * _at(eb, rows)  # a block-sized temporary, which stays in cache
                    o -= _at(ec, rows)
                _in_blocks(grad, gx)
            gx = gx.reshape(g.shape)
        return gx, gdot if need_w else None, gsum if need_b else None, None, None, None, None, None


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing dims `normalized_shape`, then scale by weight and add bias."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != shape or input.ndim < k:
        raise RuntimeError(f"layer_norm: input of shape {input.shape} does not end in normalized_shape {shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise RuntimeError(f"layer_norm: {name} has shape {p.shape}, expected normalized_shape {shape}")
    return LayerNorm.apply(input, weight, bias, k, float(eps))


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of an (N, C, *) input by the batch's statistics (training) or by
    the running ones (evaluation); training updates `running_mean` and `running_var` in place."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, *), got {input.shape}")
    c = input.shape[1]
    for name, p in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if p is not None and tuple(p.shape) != (c,):
            raise RuntimeError(f"batch_norm: {name} has shape {p.shape}, expected ({c},) for input {input.shape}")
    if training:
        if input._data.size // max(c, 1) <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input {input.shape}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var are needed when training=False")
    rm = None if running_mean is None else running_mean._data
    rv = None if running_var is None else running_var._data
    out = BatchNorm.apply(input, weight, bias, rm, rv, bool(training), float(momentum or 0.0), float(eps))
    if training and running_mean is not None:
        running_mean._version += 1
        running_var._version += 1
    return out
