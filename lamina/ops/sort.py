"""Sorting and selection: sort, argsort, topk, kthvalue, median, mode, unique, searchsorted, norm.

Every op that picks values (sort, topk, kthvalue, median with a dim, mode) finds indices with
NumPy's stable sort and takes the values with `TakeAlong`, whose gradient goes back to the
chosen places. Ties keep their original order, as torch's stable sort does; where torch's
choice among ties is not specified (topk, median), ours is the stable one. NaN sorts as the
largest value, as in torch.

Public functions are listed in __all__; METHODS are also Tensor methods.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "unique",
           "unique_consecutive", "searchsorted", "bucketize", "norm"]
METHODS = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "unique",
           "unique_consecutive", "norm"]

# torch.return_types.<op>: a tuple that also has .values and .indices
_RET = {n: namedtuple(n, ["values", "indices"]) for n in ("sort", "topk", "kthvalue", "median", "nanmedian", "mode")}


class TakeAlong(Function):
    """x's values at `idx` along `dim`, each place at most once per slice (a permutation or a
    selection), so the gradient is put back without accumulating."""

    reads_inputs = False

    def forward(self, x, idx, dim):
        self.shape, self.idx, self.dim = x.shape, idx, dim
        return array_module(x).take_along_axis(x, idx, axis=dim)

    def backward(self, g):
        xp = array_module(g)
        gx = xp.zeros(self.shape, dtype=g.dtype)
        xp.put_along_axis(gx, self.idx, g, axis=self.dim)
        return gx, None, None


class EvenlyShared(Function):
    """A value of x chosen as a whole (median without a dim): its gradient is shared by every
    element equal to it (NaN counts as equal to NaN), as torch does."""

    reads_inputs = False

    def forward(self, x, value):
        xp = array_module(x)
        self.mask = (x == value) | (xp.isnan(x) & xp.isnan(value))
        return xp.asarray(value, dtype=x.dtype)

    def backward(self, g):
        return g * self.mask / max(int(self.mask.sum()), 1), None


def _dim(x: Tensor, dim: int, op: str) -> int:
    n = max(x.ndim, 1)  # a 0-d tensor takes dim 0 or -1, as in torch
    if not isinstance(dim, (int, np.integer)) or not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of shape {x.shape} "
                         f"(expected a dim in [{-n}, {n - 1}])")
    return int(dim) % n


def _long(a, out_int32=False) -> Tensor:
    return Tensor._make(array_module(a).asarray(a, dtype=np.int32 if out_int32 else np.int64), None)


def _order(a, axis: int, descending: bool):
    """Stable argsort along `axis`. Descending keeps ties in their original order and NaN
    first: the ascending stable sort of the reversed array, reversed back."""
    xp = array_module(a)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    return xp.flip(n - 1 - xp.argsort(xp.flip(a, axis), axis=axis, kind="stable"), axis)


def _take(input: Tensor, idx, dim: int, keepdim: bool = True) -> Tensor:
    """The values of `input` at `idx` (keepdim-shaped) along `dim`, differentiable."""
    values = TakeAlong.apply(input, idx, dim)
    return values if keepdim else values.squeeze(dim)


def _lifted(input: Tensor):
    """A 0-d tensor acts as a 1-element vector; the results are shaped back to 0-d."""
    return input.reshape(1) if input.ndim == 0 else input


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """(values, indices) of `input` sorted along `dim`; always stable."""
    d = _dim(input, dim, "sort")
    x = _lifted(input)
    idx = _order(x._data, d, descending)
    values, indices = _take(x, idx, d), _long(idx)
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return _RET["sort"](values, indices)


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort `input` along `dim` (stable)."""
    d = _dim(input, dim, "argsort")
    idx = _order(_lifted(input)._data, d, descending)
    return _long(idx.reshape(input.shape))


def msort(input) -> Tensor:
    """`input` sorted along its first dim."""
    if input.ndim == 0:
        raise RuntimeError("msort: expected a tensor with at least one dim, got a 0-d tensor")
    return sort(input, 0).values


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """(values, indices) of the k largest (or smallest) entries along `dim`, largest first."""
    d = _dim(input, dim, "topk")
    x = _lifted(input)
    n = x.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k={k} is larger than dim {d} of size {n}" if k > n else
                           f"topk: k={k} must be non-negative")
    xp = array_module(x._data)
    idx = xp.take(_order(x._data, d, largest), xp.arange(k), axis=d)
    values, indices = _take(x, idx, d), _long(idx)
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return _RET["topk"](values, indices)


def _at_position(input: Tensor, dim, keepdim: bool, op: str, position):
    """(values, indices) at sorted position `position(n, nan_count, xp)` along `dim` (per slice)."""
    d = _dim(input, dim, op)
    x = _lifted(input)
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"{op}: cannot select from an empty dim {d} of a tensor of shape {input.shape}")
    xp = array_module(x._data)
    a = x._data
    order = xp.argsort(a, axis=d, kind="stable")
    nans = xp.isnan(a).sum(axis=d, keepdims=True) if a.dtype.kind == "f" else xp.zeros_like(order[:1])
    pos = xp.broadcast_to(xp.asarray(position(n, nans, xp)), nans.shape)
    idx = xp.take_along_axis(order, pos, axis=d)  # keepdim-shaped
    keep = keepdim and input.ndim > 0
    values, indices = _take(x, idx, d, keep), _long(idx if keep else idx.squeeze(d))
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return _RET[op](values, indices)


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):
    """(values, indices) of the k-th smallest entry (k from 1) along `dim`."""
    n = _lifted(input).shape[_dim(input, dim, "kthvalue")]
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue: k={k} is out of range for dim {dim} of size {n} (expected 1 <= k <= {n})")
    return _at_position(input, dim, keepdim, "kthvalue", lambda n, nans, xp: k - 1)


def _whole_median(input: Tensor, op: str) -> Tensor:
    """The lower median of all elements; NaN if any is NaN (median), NaNs ignored (nanmedian)."""
    if input._data.size == 0:
        raise RuntimeError(f"{op}: cannot take the median of an empty tensor of shape {input.shape}")
    xp = array_module(input._data)
    s = xp.sort(input._data.reshape(-1))  # NaN last
    nans = int(xp.isnan(s).sum()) if s.dtype.kind == "f" else 0
    count = s.size - nans if op == "nanmedian" else s.size
    value = s[max(count - 1, 0) // 2] if op == "nanmedian" or nans == 0 else s[-1]
    return EvenlyShared.apply(input, value)


def median(input, dim=None, keepdim: bool = False):
    """median(x): the lower median of all elements. median(x, dim): (values, indices) of the lower
    median along `dim`. A NaN in the slice makes the median NaN."""
    if dim is None:
        return _whole_median(input, "median")
    return _at_position(input, dim, keepdim, "median",
                        lambda n, nans, xp: xp.where(nans > 0, n - nans, (n - 1) // 2))


def nanmedian(input, dim=None, keepdim: bool = False):
    """median, ignoring NaN (NaN only where a slice is all NaN)."""
    if dim is None:
        return _whole_median(input, "nanmedian")
    return _at_position(input, dim, keepdim, "nanmedian",
                        lambda n, nans, xp: xp.maximum(n - nans - 1, 0) // 2)


def mode(input, dim: int = -1, keepdim: bool = False):
    """(values, indices) of the most frequent value along `dim`: the smallest of equally frequent
    ones, at its last occurrence (as torch)."""
    d = _dim(input, dim, "mode")
    x = _lifted(input)
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"mode: cannot take the mode of an empty dim {d} of a tensor of shape {input.shape}")
    xp = array_module(x._data)
    a = xp.moveaxis(x._data, d, -1)  # (..., n)
    order = xp.argsort(a, axis=-1, kind="stable")
    s = xp.take_along_axis(a, order, axis=-1)
    new = xp.ones(s.shape, dtype=bool)
    new[..., 1:] = s[..., 1:] != s[..., :-1]  # where a run of equal values starts
    pos = xp.arange(n)
    start = xp.maximum.accumulate(xp.where(new, pos, 0), axis=-1)
    run = pos - start + 1  # the run's length so far: the longest run first reaches its maximum at its end
    end = xp.argmax(run, axis=-1)[..., None]
    idx = xp.moveaxis(xp.take_along_axis(order, end, axis=-1), -1, d)  # keepdim-shaped
    keep = keepdim and input.ndim > 0
    values, indices = _take(x, idx, d, keep), _long(idx if keep else idx.squeeze(d))
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return _RET["mode"](values, indices)


def unique(input, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """The distinct values (sorted), or distinct slices along `dim`; optionally where each input
    element went (inverse) and how often each value occurs (counts). Not differentiable."""
    xp = array_module(input._data)
    a = input._data
    if dim is not None:
        dim = _dim(input, dim, "unique")
        if a.ndim == 0:
            a = a.reshape(1)
    values, inverse, counts = xp.unique(a, return_inverse=True, return_counts=True, axis=dim)
    out = [Tensor._make(values, None)]
    if return_inverse:
        out.append(_long(inverse.reshape(input.shape if dim is None else (-1,))))
    if return_counts:
        out.append(_long(counts))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """Collapse each run of equal consecutive values (or slices along `dim`) to one."""
    xp = array_module(input._data)
    a = input._data
    if dim is None:
        flat = a.reshape(-1)
        new = xp.ones(flat.shape, dtype=bool)
        new[1:] = flat[1:] != flat[:-1]
        values, inverse_shape = flat[new], input.shape
    else:
        d = _dim(input, dim, "unique_consecutive")
        moved = xp.moveaxis(a.reshape(1) if a.ndim == 0 else a, d, 0)  # (n, ...)
        rows = moved.reshape(moved.shape[0], -1)
        new = xp.ones(rows.shape[0], dtype=bool)
        new[1:] = (rows[1:] != rows[:-1]).any(axis=1)
        values, inverse_shape = xp.moveaxis(moved[new], 0, d), (rows.shape[0],)
    out = [Tensor._make(xp.ascontiguousarray(values), None)]
    if return_inverse:
        out.append(_long((xp.cumsum(new) - 1).reshape(inverse_shape)))
    if return_counts:
        starts = xp.flatnonzero(new)
        out.append(_long(xp.diff(xp.append(starts, new.size))))
    return out[0] if len(out) == 1 else tuple(out)


def searchsorted(sorted_sequence, input, *, out_int32: bool = False, right: bool = False, side=None, sorter=None):
    """For each value, the index where it would be inserted into the sorted last dim of
    `sorted_sequence` (1-D, or with the same leading dims as `input`) to keep it sorted."""
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted: side='left' and right=True contradict each other")
        right = side == "right"
    seq = sorted_sequence._data
    xp = array_module(seq)
    if seq.ndim == 0:
        raise RuntimeError("searchsorted: sorted_sequence must have at least one dim, got a 0-d tensor")
    if sorter is not None:
        sorter = sorter._data if isinstance(sorter, Tensor) else xp.asarray(sorter)
        if sorter.shape != seq.shape:
            raise RuntimeError(f"searchsorted: sorter of shape {tuple(sorter.shape)} must match sorted_sequence's "
                               f"shape {tuple(seq.shape)}")
        seq = xp.take_along_axis(seq, sorter.astype(np.int64), axis=-1)
    vals = input._data if isinstance(input, Tensor) else xp.asarray(input)
    how = "right" if right else "left"
    if seq.ndim == 1:
        return _long(xp.searchsorted(seq, vals, side=how), out_int32)
    if vals.ndim == 0 or vals.shape[:-1] != seq.shape[:-1]:
        raise RuntimeError(f"searchsorted: sorted_sequence of shape {tuple(seq.shape)} must be 1-D or share all but "
                           f"its last dim with the input, of shape {tuple(vals.shape)}")
    # Many rows at once: sort every boundary and value by (row, value), queries before equal
    # boundaries for side='left' (after them for 'right'); a query's answer is the number of
    # boundaries before it, less those of earlier rows.
    m, k = seq.shape[-1], vals.shape[-1]
    rows = int(np.prod(seq.shape[:-1]))
    both = xp.concatenate([seq.reshape(rows, m), vals.reshape(rows, k).astype(seq.dtype)], axis=1)  # (rows, m+k)
    is_bound = xp.zeros(both.shape, dtype=bool)
    is_bound[:, :m] = True
    tie = is_bound if not right else ~is_bound  # secondary key: which of two equal values comes first
    row = xp.broadcast_to(xp.arange(rows)[:, None], both.shape)
    order = xp.lexsort((tie.reshape(-1), both.reshape(-1), row.reshape(-1)))
    before = xp.cumsum(is_bound.reshape(-1)[order]) - is_bound.reshape(-1)[order]  # boundaries strictly earlier
    count = xp.empty(order.shape, dtype=np.int64)
    count[order] = before
    count = count.reshape(rows, m + k)[:, m:] - (xp.arange(rows) * m)[:, None]
    return _long(count.reshape(vals.shape), out_int32)


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value between 1-D sorted `boundaries`: i with boundaries[i-1] < x <= boundaries[i]
    (right=True: boundaries[i-1] <= x < boundaries[i])."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries must be a 1-D tensor, got shape {boundaries.shape}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """torch.norm: a vector norm (p a number, or 'fro' over at most two dims) or the nuclear norm."""
    from ..linalg import _torch_norm  # lamina.linalg builds on the ops package, so it is imported late

    return _torch_norm(input, p, dim, keepdim, dtype)
