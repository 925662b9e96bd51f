"""Indexing: x[index] and its gradient, gather/scatter, index_select, masked_fill, one_hot."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor


def index_key(index, shape, op: str = "getitem"):
    """Turn a PyTorch-style index into one NumPy understands, checking integer bounds so the
    error names the op and the shape instead of NumPy's internals."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    dim = 0  # which input dim the next index entry addresses
    consumed = sum(_consumes(i) for i in index)
    for i in index:
        if isinstance(i, Tensor):
            i = i._data
        elif isinstance(i, list):
            i = np.asarray(i)
        if i is Ellipsis:
            dim += len(shape) - consumed
            out.append(i)
            continue
        if i is None:
            out.append(i)
            continue
        if isinstance(i, slice):
            dim += 1
            out.append(i)
            continue
        if hasattr(i, "dtype") and i.dtype.kind == "b":
            nd = i.ndim
            if tuple(i.shape) != tuple(shape[dim:dim + nd]):
                raise IndexError(f"{op}: boolean mask of shape {tuple(i.shape)} does not match the indexed dims "
                                 f"{tuple(shape[dim:dim + nd])} of a tensor of shape {tuple(shape)}")
            dim += nd
            out.append(i)
            continue
        if dim >= len(shape):
            raise IndexError(f"{op}: too many indices for a tensor of shape {tuple(shape)}")
        size = shape[dim]
        if isinstance(i, (int, np.integer)):
            if not -size <= i < size:
                raise IndexError(f"{op}: index {i} is out of range for dim {dim} of size {size} (tensor shape {tuple(shape)})")
        elif hasattr(i, "dtype"):
            if i.dtype.kind not in "iu":
                raise IndexError(f"{op}: tensors used as indices must be integer or bool, got {i.dtype}")
            if i.size and (int(i.max()) >= size or int(i.min()) < -size):
                bad = int(i.max()) if int(i.max()) >= size else int(i.min())
                raise IndexError(f"{op}: index {bad} is out of range for dim {dim} of size {size} (tensor shape {tuple(shape)})")
        else:
            raise IndexError(f"{op}: unsupported index of type {type(i).__name__}")
        dim += 1
        out.append(i)
    return tuple(out)


def _consumes(i) -> int:
    """How many input dims one index entry addresses: a bool mask all of its own."""
    if i is None or i is Ellipsis:
        return 0
    d = i._data if isinstance(i, Tensor) else i
    if getattr(d, "dtype", None) is not None and d.dtype.kind == "b":
        return d.ndim
    return 1


def _has_int_array(key) -> bool:
    return any(hasattr(i, "shape") and not isinstance(i, np.integer) and i.dtype.kind in "iu" for i in key)


class GetItem(Function):
    reads_inputs = False

    def forward(self, x, key):
        self.shape, self.dtype, self.key = x.shape, x.dtype, key
        out = x[key]
        if out.__class__ is not x.__class__ and Ellipsis not in key:  # every dim taken by an int: NumPy
            out = x[key + (Ellipsis,)]  # copies out a scalar, torch gives a 0-d view (w[0].mul_(2) writes w)
        return out

    def backward(self, g):
        xp = array_module(g)
        gx = xp.zeros(self.shape, dtype=g.dtype)
        if _has_int_array(self.key):
            xp.add.at(gx, self.key, g)  # repeated indices must add up
        else:
            gx[self.key] = g
        return gx, None


def getitem(input, index) -> Tensor:
    """input[index] with ints, slices, None, Ellipsis, integer tensors and boolean masks."""
    if type(index) is int and input.ndim:  # x[i], the commonest index: no need for the general parser
        n = input.shape[0]
        if not -n <= index < n:
            raise IndexError(f"getitem: index {index} is out of range for dim 0 of size {n} (tensor shape {input.shape})")
        return GetItem.apply(input, (index,))
    return GetItem.apply(input, index_key(index, input.shape))


def index_select(input, dim: int, index) -> Tensor:
    d = dim % max(input.ndim, 1)
    return getitem(input, (slice(None),) * d + (index,))


class Gather(Function):
    def forward(self, x, dim, index):
        self.shape, self.dim, self.index = x.shape, dim, index
        return array_module(x).take_along_axis(x, index, axis=dim)

    def backward(self, g):
        xp = array_module(g)
        gx = xp.zeros(self.shape, dtype=g.dtype)
        _scatter_add_into(gx, self.dim, self.index, g)
        return gx, None, None


Gather.reads_inputs = False


def _full_index(dim, index):
    """Index arrays addressing every element named by a gather/scatter `index` along `dim`."""
    xp = array_module(index)
    grids = list(xp.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _scatter_add_into(out, dim, index, src):
    array_module(out).add.at(out, _full_index(dim, index), src[tuple(slice(0, s) for s in index.shape)])


def _check_gather(x: Tensor, dim: int, index: Tensor, op: str):
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: index must be an integer tensor, got {index.dtype}")
    if index.ndim != x.ndim:
        raise RuntimeError(f"{op}: index has {index.ndim} dims (shape {index.shape}) but input has {x.ndim} (shape {x.shape})")
    n = x.shape[dim]
    if index._data.size and (int(index._data.max()) >= n or int(index._data.min()) < -n):
        raise IndexError(f"{op}: index out of range for dim {dim} of size {n} (input shape {x.shape})")


def gather(input, dim: int, index) -> Tensor:
    """out[i][j] = input[i][index[i][j]] for dim=1, and so on."""
    d = dim % input.ndim
    _check_gather(input, d, index, "gather")
    return Gather.apply(input, d, index._data)


class Scatter(Function):
    def forward(self, x, dim, index, src, reduce_add):
        xp = array_module(x)
        self.dim, self.index, self.reduce_add = dim, index, reduce_add
        out = x.copy()
        full = _full_index(dim, index)
        s = src if not hasattr(src, "shape") else src[tuple(slice(0, k) for k in index.shape)]
        if reduce_add:
            xp.add.at(out, full, s)
        else:
            out[full] = s
        self.src_shape = np.shape(src)
        return out

    def backward(self, g):
        xp = array_module(g)
        full = _full_index(self.dim, self.index)
        gx = g
        if not self.reduce_add:  # overwritten positions got no gradient from x
            gx = g.copy()
            gx[full] = 0
        gsrc = None
        if len(self.src_shape):
            gsrc = xp.zeros(self.src_shape, dtype=g.dtype)
            gsrc[tuple(slice(0, k) for k in self.index.shape)] = g[full]
        return gx, None, None, gsrc, None


Scatter.reads_inputs = False


def scatter(input, dim: int, index, src) -> Tensor:
    """out = input with out[i][index[i][j]] = src[i][j] (dim=1); src may be a scalar."""
    d = dim % input.ndim
    _check_gather(input, d, index, "scatter")
    return Scatter.apply(input, d, index._data, src, False)


def scatter_add(input, dim: int, index, src) -> Tensor:
    """out = input with src added at the positions named by index; repeats accumulate."""
    d = dim % input.ndim
    _check_gather(input, d, index, "scatter_add")
    return Scatter.apply(input, d, index._data, src, True)


def masked_fill(input, mask, value) -> Tensor:
    """Replace values where `mask` (broadcastable) is True."""
    from .elementwise import where

    if mask.dtype.kind != "b":
        raise RuntimeError(f"masked_fill: mask must be a bool tensor, got {mask.dtype}")
    try:
        np.broadcast_shapes(mask.shape, input.shape)
    except ValueError:
        raise RuntimeError(f"masked_fill: mask of shape {mask.shape} does not broadcast to input shape {input.shape}") from None
    if isinstance(value, Tensor):
        value = value.to(input.dtype)
    return where(mask, value, input)


def masked_select(input, mask) -> Tensor:
    shape = np.broadcast_shapes(input.shape, mask.shape)
    from .shape import expand

    return getitem(expand(input, shape), expand(mask, shape))


def take(input, index) -> Tensor:
    from .shape import reshape

    return getitem(reshape(input, -1), index)


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """(…,) int64 class indices -> (…, num_classes) int64 with a 1 at each index."""
    if tensor.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot: expected an integer tensor of class indices, got {tensor.dtype}")
    xp = array_module(tensor._data)
    n = int(tensor._data.max()) + 1 if num_classes < 0 else num_classes
    if tensor._data.size and (int(tensor._data.max()) >= n or int(tensor._data.min()) < 0):
        raise RuntimeError(f"one_hot: class values must be in [0, {n}), got range "
                           f"[{int(tensor._data.min())}, {int(tensor._data.max())}]")
    out = (tensor._data[..., None] == xp.arange(n)).astype(backend.int64)
    return Tensor._make(out, None)
