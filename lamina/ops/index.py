"""Indexing: x[index] and its gradient, gather/scatter, index_select, masked_fill, one_hot."""
from __future__ import annotations

import builtins

import numpy as np

from .. import backend
from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor


def index_key(index, shape, op: str = "getitem"):
    """Turn a PyTorch-style index into one NumPy understands, checking integer bounds so the
    error names the op and the shape instead of NumPy's internals."""
    if isinstance(index, list) and _sequence_is_tuple(index):
        index = tuple(index)
    if not isinstance(index, tuple):
        index = (index,)
    index = tuple(_as_index(i) for i in index)
    out = []
    dim = 0  # which input dim the next index entry addresses
    consumed = sum(_consumes(i) for i in index)
    if consumed > len(shape):  # before any bound check, as torch: x[1, 77, 77] on 2 dims is too many indices
        raise IndexError(f"{op}: too many indices for a tensor of dimension {len(shape)} (shape {tuple(shape)}): "
                         f"the index addresses {consumed} dims")
    for i in index:
        if isinstance(i, Tensor):
            i = i._data
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
    return _torch_placement(tuple(out), shape, op)


def _sequence_is_tuple(index: list) -> bool:
    """torch reads x[[0, [1, 2]]] or x[[slice, None]] as the tuple x[0, [1, 2]], but a flat
    list of numbers (or one of 32 or more items) as one index tensor."""
    return len(index) < 32 and any(isinstance(i, (list, tuple, range, Tensor, slice, np.ndarray)) or i is None
                                   or i is Ellipsis for i in index)


def _as_index(i):
    """Lists, tuples and ranges become int64 arrays; a 0-d integer tensor is a plain int, as in
    torch. (A tuple is one advanced index only inside the index tuple: x[(1, 0), [1, 2]].)"""
    if isinstance(i, (list, tuple, range)):
        a = np.asarray(i if isinstance(i, range) else _unwrap_list(i))
        return a.astype(np.int64) if a.size == 0 else a
    if isinstance(i, Tensor) and i.ndim == 0 and i.dtype.kind in "iu":
        return int(i._data)
    if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu":
        return int(i)
    return i


def _unwrap_list(i):
    return [_unwrap_list(v) if isinstance(v, (list, tuple)) else (int(v) if isinstance(v, Tensor) else v) for v in i]


def _torch_placement(key: tuple, shape, op: str) -> tuple:
    """Rewrite a NumPy key so that advanced-index dims land where torch puts them.

    torch applies integer indices first (they only drop dims), then places the dims of the
    index tensors where those tensors sit when they are next to each other. NumPy counts the
    integers as advanced indices too, so in x[1, :, idx] it sees them split by a slice and
    moves idx's dims to the front. Where the two disagree, every entry from the first to
    the last advanced one becomes an index array (slices as aranges, each on its own axis),
    broadcast into torch's layout, so one NumPy key gives torch's result for get, set and
    the gradient alike."""
    is_arr = [hasattr(i, "shape") and i.ndim > 0 for i in key]
    is_int = [isinstance(i, (int, np.integer)) for i in key]
    if not any(is_arr) or not any(is_int):
        return key
    adv = [k for k in range(len(key)) if is_arr[k] or is_int[k]]
    arrs = [k for k in range(len(key)) if is_arr[k]]
    if adv == list(range(adv[0], adv[-1] + 1)):
        return key  # NumPy keeps the block in place, at the same position as torch
    if not all(is_arr[k] or is_int[k] for k in range(arrs[0], arrs[-1] + 1)):
        return key  # torch too sees the index tensors apart and puts their dims first
    lo, hi = adv[0], adv[-1]
    # spell out an Ellipsis inside the region as slices, so each dim it covers is known
    n_used = sum(_consumes(i) for i in key)
    region = []
    for k in range(lo, hi + 1):
        region += [slice(None)] * (len(shape) - n_used) if key[k] is Ellipsis else [key[k]]
    dim = sum(_consumes(i) for i in key[:lo] if i is not Ellipsis) + \
        (len(shape) - n_used if any(i is Ellipsis for i in key[:lo]) else 0)
    xp = array_module(key[arrs[0]])
    parts = []  # (kind, value, input dim): "s" a slice's axis, "n" None's, "a" index arrays, "i" an int
    for i in region:
        if i is None:  # a new size-1 axis: every array gets a 1 there, so the broadcast has it
            parts.append(("n", None, None))
        elif isinstance(i, slice):
            parts.append(("s", xp.arange(*i.indices(shape[dim])), dim))
            dim += 1
        elif hasattr(i, "shape") and i.dtype.kind == "b":
            parts += [("a", a, None) for a in xp.nonzero(i)]
            dim += i.ndim
        else:
            parts.append(("a" if hasattr(i, "shape") else "i", i, dim))
            dim += 1
    block = np.broadcast_shapes(*[tuple(v.shape) for kind, v, _ in parts if kind == "a"])
    first = next(j for j, p in enumerate(parts) if p[0] == "a")
    before = sum(1 for p in parts[:first] if p[0] in "sn")
    after = sum(1 for p in parts[first:] if p[0] in "sn")
    rank = before + len(block) + after
    new, axis = [], 0
    for kind, v, _ in parts:
        if kind == "i":
            new.append(v)
        elif kind in "sn":
            pos = axis if axis < before else axis + len(block)
            if kind == "s":
                new.append(v.reshape((1,) * pos + (-1,) + (1,) * (rank - pos - 1)))
            axis += 1
        else:
            new.append(v.reshape((1,) * before + (1,) * (len(block) - v.ndim) + tuple(v.shape) + (1,) * after))
    return key[:lo] + tuple(new) + key[hi + 1:]


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
        # torch lets index be smaller than x in the other dims: gather from x's leading corner
        if any(n != k for d, (n, k) in enumerate(zip(x.shape, index.shape)) if d != dim):
            x = x[tuple(slice(None) if d == dim else slice(0, k) for d, k in enumerate(index.shape))]
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
    for d, (k, n) in enumerate(zip(index.shape, x.shape)):
        if d != dim and k > n:
            raise RuntimeError(f"{op}: index of shape {index.shape} is larger than input of shape {x.shape} in dim {d} "
                               f"({k} > {n}); only the dim gathered along may be larger")
    n = x.shape[dim]
    if index._data.size and (int(index._data.max()) >= n or int(index._data.min()) < -n):
        raise IndexError(f"{op}: index out of range for dim {dim} of size {n} (input shape {x.shape})")


def _check_src_dtype(op: str, input: Tensor, src):
    """torch refuses a src tensor of another dtype than input for the scatter and index_*
    ops rather than casting it (a silent cast would hide a float landing in an int tensor)."""
    if isinstance(src, Tensor) and src.dtype != input.dtype:
        raise RuntimeError(f"{op}: expected src to have self's dtype {input.dtype}, got {src.dtype}; "
                           f"cast it with src.to(self.dtype)")


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


def scatter(input, dim: int, index, src=None, value=None, reduce=None) -> Tensor:
    """out = input with out[i][index[i][j]] = src[i][j] (dim=1); src (or value=) may be a
    scalar. reduce='add' or 'multiply' combines instead of overwriting."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter: expected src (a tensor or a number) or value=")
    d = dim % input.ndim
    _check_gather(input, d, index, "scatter")
    _check_src_dtype("scatter", input, src)
    if isinstance(src, Tensor) and src.ndim != input.ndim:
        raise RuntimeError(f"scatter: src has {src.ndim} dims (shape {src.shape}) but input has {input.ndim} "
                           f"(shape {input.shape})")
    if reduce is not None:
        ops = {"add": "sum", "multiply": "prod"}
        if reduce not in ops:
            raise RuntimeError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        if not isinstance(src, Tensor):
            from ..creation import full

            src = full(index.shape, src, dtype=input.dtype, device=input.device)
        return scatter_reduce(input, dim, index, src, ops[reduce])
    return Scatter.apply(input, d, index._data, src, False)


_IDENTITY = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}
_UFUNC = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


class ScatterReduce(Function):
    """out = input with src combined in at the positions index names, by sum, prod, mean,
    amax or amin; include_self=False leaves input's value out wherever something lands."""

    def forward(self, x, src, dim, index, reduce, include_self):
        xp = array_module(x)
        full = _full_index(dim, index)
        self.src_shape = src.shape
        src = src[tuple(slice(0, k) for k in index.shape)]  # src may be larger than index: its corner is used
        out = x.copy()
        hit = xp.zeros(x.shape, dtype=bool)
        hit[full] = True
        if not include_self:  # start the hit positions from the reduction's identity
            ident = _IDENTITY[reduce]
            if x.dtype.kind != "f" and not np.isfinite(ident):
                ident = np.iinfo(x.dtype).min if ident < 0 else np.iinfo(x.dtype).max
            out[hit] = ident
        getattr(xp, _UFUNC[reduce]).at(out, full, src)
        count = None
        if reduce == "mean":
            count = xp.zeros(x.shape, dtype=x.dtype)
            xp.add.at(count, full, 1)
            if include_self:
                count += 1
            count[count == 0] = 1
            out = out // count if x.dtype.kind != "f" else out / count
        self.x, self.src, self.out, self.full, self.hit, self.count = x, src, out, full, hit, count
        self.reduce, self.include_self = reduce, include_self
        return out

    def backward(self, g):
        xp = array_module(g)
        full, hit, r = self.full, self.hit, self.reduce
        if r == "sum":
            gx, gs = g, g[full]
        elif r == "mean":
            gc = g / self.count
            gx, gs = gc, gc[full]
        elif r in ("amax", "amin"):
            # ties share the gradient equally, among the input's value and the src values
            at_x = (self.x == self.out) if self.include_self else ~hit
            at_s = self.src == self.out[full]
            n = at_x.astype(g.dtype)
            xp.add.at(n, full, at_s.astype(g.dtype))
            gn = g / n
            gx, gs = gn * at_x, gn[full] * at_s
        else:  # prod: the product of the others, as out / value (torch's rule when nothing is 0)
            if not ((not self.include_self or xp.all(self.x[hit] != 0)) and xp.all(self.src != 0)):
                raise NotImplementedError("scatter_reduce: the gradient of reduce='prod' with zeros among the "
                                          "reduced values is not supported")
            go = g * self.out
            gx, gs = go / self.x, go[full] / self.src
        if not self.include_self:  # input's value did not take part where something landed
            gx = xp.where(hit, 0, gx).astype(g.dtype)
        gsrc = xp.zeros(self.src_shape, dtype=g.dtype)
        gsrc[tuple(slice(0, k) for k in gs.shape)] = gs
        return gx, gsrc, None, None, None, None


def scatter_reduce(input, dim: int, index, src, reduce: str, include_self: bool = True) -> Tensor:
    """Combine src into input at the positions index names along dim, by reduce = 'sum',
    'prod', 'mean', 'amax' or 'amin' (torch.scatter_reduce)."""
    if reduce not in _UFUNC:
        raise RuntimeError(f"scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', 'amax', 'amin', got {reduce!r}")
    d = dim % input.ndim
    _check_gather(input, d, index, "scatter_reduce")
    if not isinstance(src, Tensor) or src.ndim != input.ndim:
        raise RuntimeError(f"scatter_reduce: src must be a tensor with {input.ndim} dims like input")
    for k, (a, b) in enumerate(zip(index.shape, src.shape)):
        if a > b:
            raise RuntimeError(f"scatter_reduce: index of shape {index.shape} is larger than src of shape {src.shape} "
                               f"in dim {k}")
    _check_src_dtype("scatter_reduce", input, src)
    return ScatterReduce.apply(input, src, d, index._data, reduce, include_self)


def scatter_add(input, dim: int, index, src) -> Tensor:
    """out = input with src added at the positions named by index; repeats accumulate."""
    d = dim % input.ndim
    _check_gather(input, d, index, "scatter_add")
    _check_src_dtype("scatter_add", input, src)
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


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Repeat each element `repeats` times along dim (the flattened input when dim is None);
    repeats is an int or one count per element. repeat_interleave(counts) alone gives
    [0]*counts[0] + [1]*counts[1] + ..., as torch."""
    if repeats is None:  # the one-argument form: input is the counts
        counts = input._data if isinstance(input, Tensor) else np.asarray(input)
        xp = array_module(counts)
        return Tensor._make(xp.repeat(xp.arange(len(counts), dtype=np.int64), counts), None)
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = dim % builtins.max(input.ndim, 1)
    n = input.shape[d] if input.ndim else 1
    xp = array_module(input._data)
    r = repeats._data if isinstance(repeats, Tensor) else repeats
    if not isinstance(r, (int, np.integer)):
        r = xp.asarray(r).reshape(-1)
        if r.size == 1:
            r = int(r[0])
        elif r.shape != (n,):
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along dim {dim}, "
                               f"got {r.size} repeats for size {n}")
    if (xp.asarray(r) < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    index = xp.repeat(xp.arange(n, dtype=np.int64), r)
    if output_size is not None and len(index) != output_size:
        raise RuntimeError(f"repeat_interleave: output_size={output_size} but the repeats give {len(index)}")
    return index_select(input if input.ndim else input.reshape(1), d, Tensor._make(index, None))


# ---- index_add / index_copy / index_fill: whole slices along one dim, chosen by a 1-D index ----
def _slices_index(op: str, input, dim: int, index, source=None):
    """Check a 1-D int64 index (and source's shape) for the index_* ops; returns (dim, index array)."""
    d = dim % builtins.max(input.ndim, 1)
    if not isinstance(index, Tensor) or index.dtype.kind not in "iu" or index.ndim > 1:
        raise RuntimeError(f"{op}: index must be a 0-d or 1-D integer tensor, got "
                           f"{index.dtype if isinstance(index, Tensor) else type(index).__name__}"
                           f"{'' if not isinstance(index, Tensor) else f' of shape {index.shape}'}")
    idx = index._data.reshape(-1).astype(np.int64, copy=False)
    n = input.shape[d] if input.ndim else 1
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < -n):
        raise IndexError(f"{op}: index out of range for dim {d} of size {n}")
    if source is not None and input.ndim:
        want = input.shape[:d] + (idx.size,) + input.shape[d + 1:]
        if tuple(source.shape) != want and not (source.ndim == 0 and idx.size == 1 and input.ndim == 1):
            raise RuntimeError(f"{op}: source of shape {source.shape} does not fit: expected {want} "
                               f"(input's shape with dim {d} the index's length)")
    return d, idx % builtins.max(n, 1)


class IndexSlices(Function):
    """out = input with the index's slices along dim added to (mode 'add') or replaced by
    (mode 'copy') source's; alpha scales the added source."""

    def forward(self, x, src, dim, idx, mode, alpha):
        xp = array_module(x)
        self.dim, self.idx, self.mode, self.alpha = dim, idx, mode, alpha
        out = x.copy()
        if x.ndim == 0:
            out[...] = x + alpha * src.reshape(()) if mode == "add" else src.reshape(())
            return out
        o, s = xp.moveaxis(out, dim, 0), xp.moveaxis(src.reshape(x.shape[:dim] + (len(idx),) + x.shape[dim + 1:]), dim, 0)
        if mode == "add":
            xp.add.at(o, idx, s * alpha if alpha != 1 else s)
        else:
            o[idx] = s
        return out

    def backward(self, g):
        xp = array_module(g)
        if g.ndim == 0:
            return (g if self.mode == "add" else xp.zeros_like(g)), g * self.alpha, None, None, None, None
        gm = xp.moveaxis(g, self.dim, 0)
        gsrc = xp.moveaxis(gm[self.idx], 0, self.dim)
        gx = g
        if self.mode == "copy":  # the replaced slices did not reach the output
            gx = g.copy()
            xp.moveaxis(gx, self.dim, 0)[self.idx] = 0
        return gx, (gsrc * self.alpha if self.mode == "add" else gsrc), None, None, None, None


def index_add(input, dim: int, index, source, *, alpha=1) -> Tensor:
    """out[..., index[i], ...] += alpha * source[..., i, ...] along dim (repeats add up)."""
    d, idx = _slices_index("index_add", input, dim, index, source)
    _check_src_dtype("index_add", input, source)
    return IndexSlices.apply(input, source, d, idx, "add", alpha)


def index_copy(input, dim: int, index, source) -> Tensor:
    """out[..., index[i], ...] = source[..., i, ...] along dim."""
    d, idx = _slices_index("index_copy", input, dim, index, source)
    _check_src_dtype("index_copy", input, source)
    return IndexSlices.apply(input, source, d, idx, "copy", 1)


def index_fill(input, dim: int, index, value) -> Tensor:
    """out[..., index[i], ...] = value along dim."""
    from ..creation import full

    d, idx = _slices_index("index_fill", input, dim, index)
    value = value.item() if isinstance(value, Tensor) else value
    shape = input.shape[:d] + (idx.size,) + input.shape[d + 1:] if input.ndim else ()
    return IndexSlices.apply(input, full(shape, value, dtype=input.dtype, device=input.device), d, idx, "copy", 1)


def take_along_dim(input, indices, dim=None) -> Tensor:
    """gather with broadcasting between input and indices (dim None: over the flattened input)."""
    from .shape import broadcast_to, reshape

    if dim is None:
        return gather(reshape(input, -1), 0, reshape(indices, -1))
    d = dim % builtins.max(input.ndim, 1)
    shape = list(np.broadcast_shapes(tuple(s for i, s in enumerate(input.shape) if i != d),
                                     tuple(s for i, s in enumerate(indices.shape) if i != d)))
    xs, ishape = list(shape), list(shape)
    xs.insert(d, input.shape[d])
    ishape.insert(d, indices.shape[d])
    return gather(broadcast_to(input, tuple(xs)), d, broadcast_to(indices, tuple(ishape)))


def argwhere(input) -> Tensor:
    """(n, ndim) int64 indices of the non-zero elements, as nonzero(input)."""
    from .elementwise import nonzero

    return nonzero(input)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """True where an element of `elements` is among test_elements (either may be a number)."""
    xp = np if not isinstance(elements, Tensor) else array_module(elements._data)
    a = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    b = test_elements._data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    return Tensor._make(xp.isin(a, b, assume_unique=assume_unique, invert=invert), None)


def masked_scatter(input, mask, source) -> Tensor:
    """input with the places where mask is True filled, in order, by source's first elements."""
    from .elementwise import where
    from .reduce import cumsum
    from .shape import broadcast_to, reshape

    mask = broadcast_to(mask, input.shape) if mask.shape != input.shape else mask
    if mask.dtype.kind != "b":
        raise RuntimeError(f"masked_scatter: expected a bool mask, got {mask.dtype}")
    _check_src_dtype("masked_scatter", input, source)
    k = int(mask._data.sum())
    if k > source.numel():
        raise RuntimeError(f"masked_scatter: the mask has {k} True elements but source has only {source.numel()}")
    at = cumsum(reshape(mask, -1).long(), 0)._data - 1  # the source element each True place takes
    xp = array_module(at)
    taken = getitem(reshape(source, -1), Tensor._make(xp.maximum(at, 0), None))
    return where(mask, reshape(taken, input.shape), input)
