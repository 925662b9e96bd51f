"""Reductions: sum, mean, var/std, max/min, logsumexp, prod, cumsum, argmax/argmin.

`dim` may be None (all dims), an int or a tuple, and `keepdim` keeps reduced dims as size 1,
as in PyTorch. Backward re-expands the gradient with `_expand_back`, the one helper that
undoes a reduction.
"""
from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor
from .elementwise import _float, sqrt

values_indices = namedtuple("values_indices", ["values", "indices"])


# Array helpers for fused ops (norms, softmax, attention): sums over the last axis through
# BLAS, where NumPy's own reductions are slow.
def rowsum(a):
    """a.sum(-1) as one matrix-vector product with ones: 3x faster than NumPy's reduction."""
    return a @ array_module(a).ones(a.shape[-1], dtype=a.dtype)


def rowdot(a, b):
    """(a * b).sum(-1) without an a-sized temporary (`vecdot`: 4x faster)."""
    xp = array_module(a)
    vecdot = getattr(xp, "vecdot", None)
    if vecdot is not None:
        return vecdot(a, b)
    return xp.einsum("...i,...i->...", a, b)


def channel_sum(a):
    """a (N, C, *) summed to (C,): each (n, c) row summed through BLAS, then the N partial
    sums added, several times faster than NumPy's reduction over axes (0, 2, ...)."""
    n, c = a.shape[:2]
    if a.ndim == 2 or a.size == n * c:
        return array_module(a).ones(n, dtype=a.dtype) @ a.reshape(n, c)
    if not a.flags.c_contiguous:
        return a.sum(axis=(0,) + tuple(range(2, a.ndim)))
    return rowsum(a.reshape(n * c, -1)).reshape(n, c).sum(axis=0)


def _axes(x: Tensor, dim, op: str):
    """Normalise `dim` to a tuple of non-negative axes (None means all), checking the range."""
    nd = x.ndim
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) == 0:
        return None
    out = []
    for d in dims:
        if not -builtins.max(nd, 1) <= d < builtins.max(nd, 1):
            raise IndexError(f"{op}: dim {d} is out of range for a tensor of shape {x.shape} "
                             f"(expected a dim in [{-builtins.max(nd, 1)}, {builtins.max(nd, 1) - 1}])")
        out.append(d % nd if nd else 0)
    return tuple(out) if nd else None


def _expand_back(g, shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input's shape."""
    xp = array_module(g)
    if not keepdim and axes is not None:
        g = xp.expand_dims(g, axes)
    return xp.broadcast_to(g, shape)


class Sum(Function):
    reads_inputs = False

    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(g, self.shape, self.axes, self.keepdim), None, None


class Mean(Function):
    reads_inputs = False

    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        self.n = (math.prod(x.shape[a] for a in axes) if axes is not None else x.size)
        return x.mean(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(g / builtins.max(self.n, 1), self.shape, self.axes, self.keepdim), None, None


class Var(Function):
    def forward(self, x, axes, correction, keepdim):
        self.axes, self.keepdim = axes, keepdim
        n = math.prod(x.shape[a] for a in axes) if axes is not None else x.size
        self.centered = x - x.mean(axis=axes, keepdims=True)
        self.denom = builtins.max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.centered * self.centered).sum(axis=axes, keepdims=keepdim) / self.denom

    def backward(self, g):
        c = self.centered
        g = _expand_back(g, c.shape, self.axes, self.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * c * (2.0 / self.denom if self.denom else float("nan")), None, None, None


class Amax(Function):
    """max over dims; ties share the gradient equally (PyTorch's amax/amin rule)."""

    def forward(self, x, axes, keepdim, largest):
        y = x.max(axis=axes, keepdims=True) if largest else x.min(axis=axes, keepdims=True)
        self.mask = x == y
        self.axes, self.keepdim = axes, keepdim
        return y if keepdim else (y.squeeze(axis=axes) if axes is not None else y.reshape(()))

    def backward(self, g):
        m = self.mask
        if not self.keepdim:
            g = array_module(g).expand_dims(g, self.axes) if self.axes is not None else g.reshape((1,) * m.ndim)
        return g * m / m.sum(axis=self.axes, keepdims=True), None, None, None


def _with_indices(fn, *args):
    """Apply `fn` and also return the indices its forward found (a second output without
    gradient): forward appends them to the list passed as its last argument."""
    found = []
    values = fn.apply(*args, found)
    return values, found[0]


class MaxDim(Function):
    """max/min along one dim with indices; the gradient goes to the chosen index only."""

    def forward(self, x, dim, keepdim, largest, found):
        xp = array_module(x)
        idx = xp.argmax(x, axis=dim) if largest else xp.argmin(x, axis=dim)
        self.idx = xp.expand_dims(idx, dim)
        self.shape, self.dim, self.keepdim = x.shape, dim, keepdim
        vals = xp.take_along_axis(x, self.idx, axis=dim)
        found.append(self.idx if keepdim else idx)
        return vals if keepdim else vals.squeeze(axis=dim)

    def backward(self, g):
        xp = array_module(g)
        gx = xp.zeros(self.shape, dtype=g.dtype)
        if not self.keepdim:
            g = xp.expand_dims(g, self.dim)
        xp.put_along_axis(gx, self.idx, g, axis=self.dim)
        return gx, None, None, None, None


class LogSumExp(Function):
    def forward(self, x, axes, keepdim):
        xp = array_module(x)
        m = x.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf rows give -inf, not nan
        y = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        self.x, self.y, self.axes, self.keepdim = x, y, axes, keepdim
        return y if keepdim else (y.squeeze(axis=axes) if axes is not None else y.reshape(()))

    def backward(self, g):
        xp = array_module(g)
        if not self.keepdim:
            g = xp.expand_dims(g, self.axes) if self.axes is not None else g.reshape((1,) * self.x.ndim)
        return g * xp.exp(self.x - self.y), None, None


class Prod(Function):
    def forward(self, x, dim, keepdim):
        self.x, self.dim, self.keepdim = x, dim, keepdim
        return x.prod(axis=dim, keepdims=keepdim)

    def backward(self, g):
        # d prod / d x_i = product of all the others: exclusive cumprods from both sides,
        # which stays exact when some x are zero (unlike prod / x).
        xp = array_module(g)
        x, dim = self.x, self.dim
        flat = dim is None
        if flat:
            x = x.reshape(-1)
            dim = 0
        ones = xp.ones_like(xp.take(x, [0], axis=dim))
        left = xp.cumprod(xp.concatenate([ones, xp.take(x, range(x.shape[dim] - 1), axis=dim)], axis=dim), axis=dim)
        rev = xp.flip(x, axis=dim)
        right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.take(rev, range(x.shape[dim] - 1), axis=dim)], axis=dim),
                                   axis=dim), axis=dim)
        if flat:
            return (g * (left * right)).reshape(self.x.shape), None, None
        if not self.keepdim:
            g = xp.expand_dims(g, dim)
        return g * left * right, None, None


class Cumsum(Function):
    reads_inputs = False

    def forward(self, x, dim):
        self.dim = dim
        return array_module(x).cumsum(x, axis=dim)

    def backward(self, g):
        return _revcumsum(g, self.dim), None


class Cumprod(Function):
    def forward(self, x, dim):
        self.x, self.dim = x, dim
        self.out = array_module(x).cumprod(x, axis=dim)
        return self.out

    def backward(self, g):
        # grad_i = prod(x[:i]) * h_i with h_i = g_i + x_{i+1} * h_{i+1}: exact with zeros in x,
        # where the usual revcumsum(g * out) / x divides by them
        xp = array_module(g)
        x, out, d = self.x, self.out, self.dim
        if xp.all(x != 0):
            return _revcumsum(g * out, d) / x, None
        x, g = xp.moveaxis(x, d, 0), xp.moveaxis(g, d, 0)
        h = xp.empty_like(g)
        h[-1] = g[-1]
        for i in range(len(g) - 2, -1, -1):
            h[i] = g[i] + x[i + 1] * h[i + 1]
        before = xp.concatenate([xp.ones_like(x[:1]), xp.cumprod(x[:-1], axis=0)])
        return xp.moveaxis(before * h, 0, d), None


class CumExtreme(Function):
    """cummax / cummin: the running max (min) and the index it came from; ties and NaNs take the
    latest index, as torch. The gradient goes to that index."""

    def forward(self, x, dim, largest, found):
        xp = array_module(x)
        xs = xp.moveaxis(x, dim, 0)
        vals, idx = xp.empty_like(xs), xp.zeros(xs.shape, dtype=np.int64)
        # (an empty dim has no first element: the loop does not run, and best is never read)
        best, at = (xs[0].copy() if len(xs) else None), xp.zeros(xs.shape[1:], dtype=np.int64)
        for j in range(len(xs)):
            v = xs[j]
            take = (v >= best) if largest else (v <= best)
            if v.dtype.kind == "f":
                take = (take | xp.isnan(v)) & ~(xp.isnan(best) & ~xp.isnan(v))
            best, at = xp.where(take, v, best), xp.where(take, j, at)
            vals[j], idx[j] = best, at
        self.idx, self.dim = xp.moveaxis(idx, 0, dim), dim
        found.append(self.idx)
        return xp.moveaxis(vals, 0, dim)

    def backward(self, g):
        from .index import _scatter_add_into

        gx = array_module(g).zeros(g.shape, dtype=g.dtype)
        _scatter_add_into(gx, self.dim, self.idx, g)
        return gx, None, None, None


class LogCumSumExp(Function):
    def forward(self, x, dim):
        self.x, self.dim = x, dim
        self.out = array_module(x).logaddexp.accumulate(x, axis=dim)
        return self.out

    def backward(self, g):
        # grad_i = sum_{j>=i} g_j exp(x_i - out_j), summed in log space for the positive and the
        # negative parts of g separately, so no exp overflows
        xp = array_module(g)
        x, out, d = self.x, self.out, self.dim
        with np.errstate(divide="ignore", invalid="ignore"):
            def part(gp):
                t = xp.flip(xp.log(gp) - out, axis=d)
                return xp.exp(xp.flip(xp.logaddexp.accumulate(t, axis=d), axis=d) + x)
            gx = part(xp.maximum(g, 0)) - part(xp.maximum(-g, 0))
        return xp.nan_to_num(gx, nan=0.0, posinf=0.0, neginf=0.0) if xp.isinf(x).any() else gx, None


def _revcumsum(a, axis):
    xp = array_module(a)
    return xp.flip(xp.cumsum(xp.flip(a, axis=axis), axis=axis), axis=axis)


def _sum_dtype(x: Tensor, dtype):
    if dtype is not None:
        if isinstance(dtype, str):  # x.to(str) would read it as a device; torch refuses a string dtype with TypeError
            raise TypeError(f"dtype must be a lamina dtype such as lamina.float32, got the string {dtype!r}")
        return x.to(dtype)
    if x.dtype.kind in "biu":  # integer sums are int64, as in PyTorch
        return x.to(backend.int64)
    return x


def sum(input, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Sum over `dim` (an int, a tuple, or None for all)."""
    return Sum.apply(_sum_dtype(input, dtype), _axes(input, dim, "sum"), keepdim)


def mean(input, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    if input.dtype.kind != "f" and dtype is None:
        raise RuntimeError(f"mean: expected a floating point input, got {input.dtype}; call .float() first")
    x = input if dtype is None else input.to(dtype)
    return Mean.apply(x, _axes(input, dim, "mean"), keepdim)


def var(input, dim=None, unbiased=None, keepdim: bool = False, correction=None) -> Tensor:
    """Variance with Bessel's correction by default (correction=1), as in PyTorch."""
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return Var.apply(_float(input), _axes(input, dim, "var"), correction, keepdim)


def std(input, dim=None, unbiased=None, keepdim: bool = False, correction=None) -> Tensor:
    return sqrt(var(input, dim, unbiased, keepdim, correction))


def var_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):
    return var(input, dim, unbiased, keepdim, correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):
    return std(input, dim, unbiased, keepdim, correction), mean(input, dim, keepdim)


def _check_nonempty(x: Tensor, axes, op):
    if x._data.size == 0 and (axes is None or builtins.any(x.shape[a] == 0 for a in axes)):
        raise IndexError(f"{op}: cannot reduce over an empty dimension of a tensor of shape {x.shape}")


def amax(input, dim=None, keepdim: bool = False) -> Tensor:
    axes = _axes(input, dim, "amax")
    _check_nonempty(input, axes, "amax")
    return Amax.apply(input, axes, keepdim, True)


def amin(input, dim=None, keepdim: bool = False) -> Tensor:
    axes = _axes(input, dim, "amin")
    _check_nonempty(input, axes, "amin")
    return Amax.apply(input, axes, keepdim, False)


def _max_min(input, dim, keepdim, largest, op):
    if dim is None:
        return amax(input) if largest else amin(input)
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        from .elementwise import maximum, minimum

        return maximum(input, dim) if largest else minimum(input, dim)
    (axis,) = _axes(input, dim, op) or (0,)
    _check_nonempty(input, (axis,), op)
    values, indices = _with_indices(MaxDim, input, axis, keepdim, largest)
    return values_indices(values, Tensor._make(indices.astype(np.int64), None))


def max(input, dim=None, keepdim: bool = False):
    """max(x) is the largest value; max(x, dim) returns (values, indices); max(x, y) is elementwise."""
    return _max_min(input, dim, keepdim, True, "max")


def min(input, dim=None, keepdim: bool = False):
    return _max_min(input, dim, keepdim, False, "min")


def _arg(input, dim, keepdim, largest):
    xp = array_module(input._data)
    fn = xp.argmax if largest else xp.argmin
    if dim is None:
        out = fn(input._data.reshape(-1))
        return Tensor._make(xp.asarray(out, dtype=np.int64).reshape((1,) * input.ndim if keepdim else ()), None)
    (axis,) = _axes(input, dim, "argmax" if largest else "argmin") or (0,)
    return Tensor._make(xp.asarray(fn(input._data, axis=axis, keepdims=keepdim) if input.ndim else fn(input._data),
                                   dtype=np.int64), None)


def argmax(input, dim=None, keepdim: bool = False) -> Tensor:
    return _arg(input, dim, keepdim, True)


def argmin(input, dim=None, keepdim: bool = False) -> Tensor:
    return _arg(input, dim, keepdim, False)


def logsumexp(input, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) along `dim`, computed stably."""
    return LogSumExp.apply(_float(input), _axes(input, dim, "logsumexp"), keepdim)


def prod(input, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    x = _sum_dtype(input, dtype)
    axes = _axes(input, dim, "prod")
    return Prod.apply(x, None if axes is None else axes[0], keepdim)


def cumsum(input, dim: int, dtype=None) -> Tensor:
    (axis,) = _axes(input, dim, "cumsum") or (0,)
    x = _sum_dtype(input, dtype)
    if x.ndim == 0:
        return x.clone()
    return Cumsum.apply(x, axis)


def cumprod(input, dim: int, dtype=None) -> Tensor:
    """Running product along dim (integers and bools give int64, as torch)."""
    (axis,) = _axes(input, dim, "cumprod") or (0,)
    x = _sum_dtype(input, dtype)
    return x.clone() if x.ndim == 0 else Cumprod.apply(x, axis)


def _cum_extreme(input, dim, largest, op):
    (axis,) = _axes(input, dim, op) or (0,)
    if input.ndim == 0:
        return values_indices(input.clone(), Tensor._make(array_module(input._data).zeros((), np.int64), None))
    values, indices = _with_indices(CumExtreme, input, axis, largest)
    return values_indices(values, Tensor._make(indices, None))


def cummax(input, dim: int):
    """(values, indices): the running maximum along dim and where each came from."""
    return _cum_extreme(input, dim, True, "cummax")


def cummin(input, dim: int):
    """(values, indices): the running minimum along dim and where each came from."""
    return _cum_extreme(input, dim, False, "cummin")


def logcumsumexp(input, dim: int) -> Tensor:
    """log(cumsum(exp(x))) along dim, without overflow."""
    (axis,) = _axes(input, dim, "logcumsumexp") or (0,)
    x = _float(input)
    return x.clone() if x.ndim == 0 else LogCumSumExp.apply(x, axis)


def all(input, dim=None, keepdim=False) -> Tensor:
    return Tensor._make(array_module(input._data).asarray(input._data.all(axis=_axes(input, dim, "all"), keepdims=keepdim)), None)


def any(input, dim=None, keepdim=False) -> Tensor:
    return Tensor._make(array_module(input._data).asarray(input._data.any(axis=_axes(input, dim, "any"), keepdims=keepdim)), None)


def count_nonzero(input, dim=None) -> Tensor:
    return sum(input != 0, dim)


def nansum(input, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """sum with NaNs counted as zero (their gradient is zero)."""
    from .elementwise import isnan, where

    x = where(isnan(input), 0.0, input) if input.dtype.kind == "f" else input
    return sum(x, dim, keepdim, dtype)


def nanmean(input, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """mean over the non-NaN elements (NaN where all are NaN)."""
    from .elementwise import isnan, logical_not

    if input.dtype.kind != "f":
        raise RuntimeError(f"nanmean: expected a floating point input, got {input.dtype}")
    n = sum(logical_not(isnan(input)), dim, keepdim).to(input.dtype)
    return nansum(input, dim, keepdim, dtype) / n


aminmax_result = namedtuple("aminmax", ["min", "max"])


def aminmax(input, *, dim=None, keepdim: bool = False):
    """(min, max) over dim, as amin and amax."""
    return aminmax_result(amin(input, dim, keepdim), amax(input, dim, keepdim))
