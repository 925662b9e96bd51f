"""Movement ops: reshape, permute, expand, repeat, flip, roll, cat, pad, tril/triu.

Only Reshape, Permute, Expand, Repeat, Flip, Roll, Cat and Pad are primitives; view,
flatten, squeeze, transpose, stack, split, chunk and friends are compositions of them.
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from ..autograd import Function, unbroadcast
from ..backend import array_module, promote_types
from ..tensor import Tensor


def _sizes(args, op: str = "reshape") -> tuple:
    """Accept f(2, 3) and f((2, 3)); sizes must be integers (2.5 is an error, not 2)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    for a in args:
        if not isinstance(a, (int, np.integer)) and not (isinstance(a, Tensor) and a.ndim == 0 and a.dtype.kind in "iu"):
            raise TypeError(f"{op}: sizes must be integers, got {a!r} ({type(a).__name__}) in {tuple(args)}")
    return tuple(int(a) for a in args)


def _dim(x: Tensor, d: int, op: str, extra: int = 0) -> int:
    n = x.ndim + extra
    if not -max(n, 1) <= d < max(n, 1):
        raise IndexError(f"{op}: dim {d} is out of range for a tensor of shape {x.shape} "
                         f"(expected a dim in [{-max(n, 1)}, {max(n, 1) - 1}])")
    return d % n if n else 0


class Reshape(Function):
    reads_inputs = False

    def forward(self, x, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, g):
        return g.reshape(self.shape), None


def reshape(input, *shape) -> Tensor:
    """A tensor with the same values in a new shape (one dim may be -1)."""
    shape = _sizes(shape)
    if shape == input.shape:
        return input
    n, known = input._data.size, math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or (-1 not in shape and known != n) or (-1 in shape and (known == 0 or n % known)):
        raise RuntimeError(f"reshape: shape {shape} is invalid for a tensor of shape {input.shape} ({n} elements)")
    return Reshape.apply(input, shape)


def view(input, *shape) -> Tensor:
    """reshape that never copies: writes through the result reach `input`, as in torch.

    NumPy reshapes without a copy whenever the strides allow it, which is torch's rule for
    view too; where they do not (x.t().view(-1)), this raises instead of silently copying.
    """
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list, Tensor)):
        return _view_dtype(input, np.dtype(shape[0]))
    out = reshape(input, *shape)
    if out is not input and not input._data.flags.c_contiguous and out._data.size > 1 \
            and out._vc is not input._vc:
        raise RuntimeError(f"view: a tensor of shape {input.shape} with strides {_strides(input)} can't be viewed "
                           f"as shape {out.shape} without a copy (it is not contiguous); use reshape(...) "
                           "or contiguous().view(...)")
    return out


def _view_dtype(input, dtype) -> Tensor:
    """x.view(dtype): the same bytes read as another dtype (no gradient, shares memory). A
    different element size rescales the last dim, which must then be contiguous (torch's rules)."""
    x = input._data
    old, new = x.dtype.itemsize, dtype.itemsize
    if old != new:
        what = f"view {input.dtype} as {dtype} (different element sizes)"
        if x.ndim == 0:
            raise RuntimeError(f"view: self.dim() cannot be 0 to {what}")
        if x.shape[-1] != 1 and x.strides[-1] != old:
            raise RuntimeError(f"view: self.stride(-1) must be 1 to {what}, but got {x.strides[-1] // old}")
        if new > old and (x.shape[-1] * old) % new:
            raise RuntimeError(f"view: self.size(-1) must be divisible by {new // old} to {what}, but got {x.shape[-1]}")
        if x.shape[-1] == 1 and x.strides[-1] != old:
            x = x[..., :1].reshape(x.shape)  # a size-1 last dim may have any stride; NumPy wants it compact
    out = Tensor._make(x.view(dtype), None)
    out._vc = input._vc  # the same memory: in-place changes through either are seen by both
    return out


def _strides(t) -> tuple:
    """Strides in elements, as torch reports them."""
    return tuple(s // t._data.itemsize for s in t._data.strides)


def view_as(input, other) -> Tensor:
    return view(input, other.shape)


def reshape_as(input, other) -> Tensor:
    return reshape(input, other.shape)


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if input.ndim == 0:
        return reshape(input, 1)
    s, e = _dim(input, start_dim, "flatten"), _dim(input, end_dim, "flatten")
    shape = input.shape
    return reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim: int, sizes) -> Tensor:
    d = _dim(input, dim, "unflatten")
    return reshape(input, input.shape[:d] + tuple(sizes) + input.shape[d + 1:])


def squeeze(input, dim=None) -> Tensor:
    if dim is None:
        return reshape(input, tuple(s for s in input.shape if s != 1))
    dims = {_dim(input, d, "squeeze") for d in ((dim,) if isinstance(dim, int) else dim)}
    return reshape(input, tuple(s for i, s in enumerate(input.shape) if not (i in dims and s == 1)))


def unsqueeze(input, dim: int) -> Tensor:
    d = _dim(input, dim, "unsqueeze", extra=1)
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


class Permute(Function):
    reads_inputs = False

    def forward(self, x, dims):
        inv = [0] * len(dims)
        for i, d in enumerate(dims):  # the inverse permutation (np.argsort costs more on a short tuple)
            inv[d] = i
        self.inv = tuple(inv)
        return x.transpose(dims)

    def backward(self, g):
        return g.transpose(self.inv), None


def permute(input, *dims) -> Tensor:
    nd = input.ndim
    dims = tuple(d + nd if -nd <= d < 0 else d for d in _sizes(dims, "permute"))
    if sorted(dims) != list(range(nd)):
        raise RuntimeError(f"permute: dims {dims} are not a permutation of the {input.ndim} dims of shape {input.shape}")
    if dims == tuple(range(input.ndim)):
        return input
    return Permute.apply(input, dims)


def transpose(input, dim0: int, dim1: int) -> Tensor:
    if input.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    dims = list(range(input.ndim))
    a, b = _dim(input, dim0, "transpose"), _dim(input, dim1, "transpose")
    dims[a], dims[b] = dims[b], dims[a]
    return permute(input, dims)


swapaxes = transpose


def t(input) -> Tensor:
    if input.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dims, got shape {input.shape}; use transpose")
    return transpose(input, 0, -1) if input.ndim == 2 else input


def movedim(input, source, destination) -> Tensor:
    """Move dim(s) `source` to position(s) `destination`, the others keeping their order."""
    src = [_dim(input, d, "movedim") for d in (source if isinstance(source, (list, tuple)) else (source,))]
    dst = [_dim(input, d, "movedim") for d in (destination if isinstance(destination, (list, tuple)) else (destination,))]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must be equally many distinct dims")
    rest = iter(d for d in range(input.ndim) if d not in src)
    where = dict(zip(dst, src))
    return permute(input, [where[i] if i in where else next(rest) for i in range(input.ndim)])


moveaxis = movedim


class Expand(Function):
    reads_inputs = False

    def forward(self, x, shape):
        self.shape = x.shape
        return array_module(x).broadcast_to(x, shape)

    def backward(self, g):
        return unbroadcast(g, self.shape), None


def expand(input, *sizes) -> Tensor:
    """Broadcast to a larger shape without copying; -1 keeps a dim's size."""
    sizes = _sizes(sizes, "expand")
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes {sizes} must be >= the number of dims of shape {input.shape}")
    shape = tuple(input.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i, s in enumerate(input.shape):
        if s != 1 and s != shape[i + lead]:
            raise RuntimeError(f"expand: shape {input.shape} cannot be expanded to {shape} (dim {i}: {s} vs {shape[i + lead]})")
    if shape == input.shape:
        return input
    return Expand.apply(input, shape)


def broadcast_to(input, shape) -> Tensor:
    return expand(input, tuple(shape))


def expand_as(input, other) -> Tensor:
    return expand(input, other.shape)


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*[t.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


class Repeat(Function):
    reads_inputs = False

    def forward(self, x, reps):
        self.shape, self.reps = x.shape, reps
        return array_module(x).tile(x, reps)

    def backward(self, g):
        # view the output as (r0, s0, r1, s1, ...) and sum the repeat axes away
        reps, shape = self.reps, self.shape
        split = sum(((r, s) for r, s in zip(reps, shape)), ())
        return g.reshape(split).sum(axis=tuple(range(0, len(split), 2))), None


def repeat(input, *sizes) -> Tensor:
    """Tile the tensor: x.repeat(2, 3) repeats dim -2 twice and dim -1 three times."""
    reps = _sizes(sizes, "repeat")
    if len(reps) < input.ndim:
        raise RuntimeError(f"repeat: number of repeats {reps} can't be smaller than the number of dims of shape {input.shape}")
    x = reshape(input, (1,) * (len(reps) - input.ndim) + input.shape)
    return Repeat.apply(x, reps)


def tile(input, dims) -> Tensor:
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


class Flip(Function):
    reads_inputs = False

    def forward(self, x, dims):
        self.dims = dims
        return array_module(x).flip(x, axis=dims)

    def backward(self, g):
        return array_module(g).flip(g, axis=self.dims), None


def flip(input, dims) -> Tensor:
    dims = tuple(_dim(input, d, "flip") for d in ((dims,) if isinstance(dims, int) else dims))
    return Flip.apply(input, dims)


class Roll(Function):
    reads_inputs = False

    def forward(self, x, shifts, dims):
        self.shifts, self.dims = shifts, dims
        return array_module(x).roll(x, shifts, axis=dims)

    def backward(self, g):
        neg = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) else -self.shifts
        return array_module(g).roll(g, neg, axis=self.dims), None, None


def roll(input, shifts, dims=None) -> Tensor:
    """Rotate elements along dims (all flattened when dims is None), as torch.roll."""
    ns = len(shifts) if isinstance(shifts, (list, tuple)) else 1
    nd = 0 if dims is None else len(dims) if isinstance(dims, (list, tuple)) else 1
    if (dims is None and ns != 1) or (dims is not None and ns != nd):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {ns}, dims: {nd}")
    if dims is None:  # a one-element shifts tuple rolls the flattened tensor
        shifts = shifts[0] if isinstance(shifts, (list, tuple)) else shifts
    elif isinstance(dims, (list, tuple)) or isinstance(shifts, (list, tuple)):
        dims = tuple(_dim(input, d, "roll") for d in (dims if isinstance(dims, (list, tuple)) else (dims,)))
        shifts = tuple(shifts) if isinstance(shifts, (list, tuple)) else (shifts,)
    else:
        dims = _dim(input, dims, "roll")
    return Roll.apply(input, shifts, dims)


class Cat(Function):
    reads_inputs = False

    def forward(self, *xs, dim):
        self.dim = dim
        self.bounds = list(itertools.accumulate(x.shape[dim] for x in xs[:-1]))
        return array_module(xs[0]).concatenate(xs, axis=dim)

    def backward(self, g):
        return tuple(array_module(g).split(g, self.bounds, axis=self.dim))


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim."""
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0) or len(tensors) == 1]  # torch skips 1-d empties
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of tensors")
    for i, t_ in enumerate(tensors):
        if t_.ndim == 0:
            raise RuntimeError(f"cat: tensor {i} is zero-dimensional and can't be concatenated; "
                               "use stack() to join scalars into a vector")
    d = _dim(tensors[0], dim, "cat")
    ref = tensors[0]
    for i, t_ in enumerate(tensors):
        if t_.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(t_.shape, ref.shape)) if j != d):
            raise RuntimeError(f"cat: tensor {i} has shape {t_.shape} but tensor 0 has shape {ref.shape}; "
                               f"all dims except dim {d} must match")
    dtype = ref.dtype
    for t_ in tensors[1:]:
        if t_.dtype != dtype:
            from .elementwise import _result_dtype

            dtype = _result_dtype(Tensor._make(np.empty((1,), dtype), None), t_)
    if any(t_.dtype != dtype for t_ in tensors):
        tensors = [t_.to(dtype) for t_ in tensors]
    return Cat.apply(*tensors, dim=d)


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors")
    for i, t_ in enumerate(tensors):
        if t_.shape != tensors[0].shape:
            raise RuntimeError(f"stack: tensor {i} has shape {t_.shape} but tensor 0 has shape {tensors[0].shape}; all must match")
    return cat([unsqueeze(t_, dim) for t_ in tensors], dim)


def split(input, split_size_or_sections, dim: int = 0):
    """Split into chunks of a given size (the last may be smaller) or of the given sizes."""
    d = _dim(input, dim, "split")
    n = input.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        if split_size_or_sections < 0 or split_size_or_sections == 0 and n:
            raise RuntimeError(f"split: split_size must be a positive integer, got {split_size_or_sections} "
                               f"(dim {d} of shape {input.shape} has size {n})")
        if n == 0:
            return (input,)
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        if n % split_size_or_sections:
            sizes.append(n % split_size_or_sections)
    else:
        sizes = [int(z) for z in split_size_or_sections]
        if any(z < 0 for z in sizes):
            raise RuntimeError(f"split: sizes {sizes} must all be non-negative")
        if sum(sizes) != n:
            raise RuntimeError(f"split: sizes {sizes} sum to {sum(sizes)} but dim {d} of shape {input.shape} is {n}")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(input, d, start, s))
        start += s
    return tuple(out)


def chunk(input, chunks: int, dim: int = 0):
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be a positive integer, got {chunks!r}")
    n = input.shape[_dim(input, dim, "chunk")]
    if n == 0:  # torch gives `chunks` empty pieces
        return tuple(narrow(input, dim, 0, 0) for _ in range(chunks))
    return split(input, max(1, -(-n // chunks)), dim)


def unbind(input, dim: int = 0):
    if input.ndim == 0:
        raise IndexError("unbind: a zero-dimensional tensor has no dim to unbind")
    d = _dim(input, dim, "unbind")
    return tuple(squeeze(p, d) for p in split(input, 1, d))


def narrow(input, dim: int, start: int, length: int) -> Tensor:
    d = _dim(input, dim, "narrow")
    n = input.shape[d]
    start = start + n if -n <= start < 0 else start
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start {start} and length {length} do not fit in dim {d} of size {n} "
                           f"(shape {input.shape}); expected 0 <= start and start + length <= {n}")
    return input[(slice(None),) * d + (slice(start, start + length),)]


class Pad(Function):
    """Constant padding is NumPy's pad; the other modes gather: along each padded axis every
    output position copies one input position (_pad_source), which also serves negative
    widths (reflect and replicate map positions of the whole input, as PyTorch does)."""

    reads_inputs = False

    def forward(self, x, widths, mode, value):
        xp = array_module(x)
        self.widths, self.mode = widths, mode
        if mode == "constant":
            return xp.pad(x, widths, mode="constant", constant_values=value)
        for axis, (lo, hi) in enumerate(widths):
            if lo or hi:
                x = xp.take(x, xp.asarray(_pad_source(x.shape[axis], lo, hi, mode)), axis=axis)
        return x

    def backward(self, g):
        xp = array_module(g)
        if self.mode == "constant":
            return g[tuple(slice(lo, g.shape[i] - hi) for i, (lo, hi) in enumerate(self.widths))], None, None, None
        # Fold each padded axis back, last first: every output position came from one input position.
        for axis in reversed(range(len(self.widths))):
            lo, hi = self.widths[axis]
            if lo == 0 and hi == 0:
                continue
            n = g.shape[axis] - lo - hi
            moved = xp.moveaxis(g, axis, 0)
            acc = xp.zeros((n,) + moved.shape[1:], dtype=g.dtype)
            xp.add.at(acc, xp.asarray(_pad_source(n, lo, hi, self.mode)), moved)
            g = xp.moveaxis(acc, 0, axis)
        return g, None, None, None


def _pad_source(n, lo, hi, mode):
    """For each padded position along one axis of size n, the input index it copies (lo and hi may be negative)."""
    i = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1)  # reflect without repeating the edge
    i = np.abs(i) % period if period else np.zeros_like(i)
    return np.where(i >= n, period - i, i)


def _crop(input, widths):
    """Negative widths crop: the input cut down, and the widths that are left to pad."""
    if all(lo >= 0 and hi >= 0 for lo, hi in widths):
        return input, widths
    input = input[tuple(slice(max(-lo, 0), s - max(-hi, 0)) for (lo, hi), s in zip(widths, input.shape))]
    return input, [(max(lo, 0), max(hi, 0)) for lo, hi in widths]


def pad(input, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last len(pad)//2 dims: pad = (left, right, top, bottom, ...) as in PyTorch; a
    negative width crops. Modes: constant (`value`), reflect (the edge not repeated),
    replicate (the edge repeated) and circular (wrapping around once at most).

    >>> F.pad(lamina.ones(1, 3, 4), (1, 2), mode="reflect").shape   # (1, 3, 7)
    """
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(f"pad: pad {tuple(pad)} must have an even length of at most 2 * ndim for shape {input.shape}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: mode must be constant, reflect, replicate or circular, got {mode!r}")
    widths = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        widths[input.ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    for d, ((lo, hi), s) in enumerate(zip(widths, input.shape)):
        if s + lo + hi < 0:
            raise RuntimeError(f"pad: dim {d} of size {s} with padding {(lo, hi)} would have a negative size "
                               f"{s + lo + hi} (shape {input.shape})")
        if mode == "reflect" and (lo > 0 or hi > 0) and max(lo, hi) >= s:
            raise RuntimeError(f"pad: reflect padding {(lo, hi)} of dim {d} must be smaller than its size {s} "
                               f"(shape {input.shape})")
        if mode == "replicate" and (lo > 0 or hi > 0) and s == 0:
            raise RuntimeError(f"pad: replicate padding {(lo, hi)} of dim {d} needs a non-empty dim (shape {input.shape})")
    if mode in ("constant", "circular"):  # these crop first, then pad what is left (as PyTorch)
        input, widths = _crop(input, widths)
    if mode == "circular":
        for d, ((lo, hi), s) in enumerate(zip(widths, input.shape)):
            if max(lo, hi) > s:
                raise RuntimeError(f"pad: circular padding {(lo, hi)} of dim {d} is larger than its size {s} "
                                   f"(shape {input.shape}): it would wrap around more than once")
    if not any(lo or hi for lo, hi in widths):
        mode = "constant"  # nothing (more) to pad: a copy, as PyTorch returns
    return Pad.apply(input, tuple(widths), mode, value)


def _tri(input, diagonal, lower):
    from .elementwise import where

    if input.ndim < 2:
        raise RuntimeError(f"{'tril' if lower else 'triu'}: input must have at least 2 dims, got shape {input.shape}")
    xp = array_module(input._data)
    r, c = input.shape[-2:]
    keep = xp.tri(r, c, diagonal, dtype=bool) if lower else ~xp.tri(r, c, diagonal - 1, dtype=bool)
    return where(Tensor._make(keep, None), input, False if input.dtype.kind == "b" else 0)  # bool stays bool


def tril(input, diagonal: int = 0) -> Tensor:
    return _tri(input, diagonal, True)


def triu(input, diagonal: int = 0) -> Tensor:
    return _tri(input, diagonal, False)


# ---- diagonals, sliding windows and grids --------------------------------------------------
def _diag_view(a, offset, d1, d2):
    """The writable diagonal view of array `a` (NumPy hands it out read-only)."""
    d = a.diagonal(offset, d1, d2)
    flags = getattr(d, "flags", None)
    if flags is not None and not flags.writeable and a.flags.writeable:
        try:
            flags.writeable = True
        except (ValueError, AttributeError):  # CuPy's flags are fixed, and its diagonals writable
            pass
    return d


class Diagonal(Function):
    """The diagonal (offset, dim1, dim2) of x as a last dim; backward writes it into zeros."""

    reads_inputs = False

    def forward(self, x, offset, d1, d2):
        self.shape, self.args = x.shape, (offset, d1, d2)
        return _diag_view(x, offset, d1, d2)

    def backward(self, g):
        gx = array_module(g).zeros(self.shape, dtype=g.dtype)
        _diag_view(gx, *self.args)[...] = g
        return gx, None, None, None


class DiagEmbed(Function):
    """The adjoint of Diagonal: x's last dim laid on a diagonal of a zero tensor."""

    reads_inputs = False

    def forward(self, x, shape, offset, d1, d2):
        self.args = (offset, d1, d2)
        out = array_module(x).zeros(shape, dtype=x.dtype)
        _diag_view(out, offset, d1, d2)[...] = x
        return out

    def backward(self, g):
        return _diag_view(g, *self.args).copy(), None, None, None, None


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of dims dim1 and dim2 as a view, moved to the last dim (torch.diagonal)."""
    d1, d2 = _dim(input, dim1, "diagonal"), _dim(input, dim2, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 cannot be the same dim, got {dim1} and {dim2}")
    return Diagonal.apply(input, int(offset), d1, d2)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor whose (dim1, dim2) diagonals, `offset` off the main one, hold input's last dim."""
    n = input.ndim + 1
    d1, d2 = _dim(input, dim1, "diag_embed", extra=1), _dim(input, dim2, "diag_embed", extra=1)
    if d1 == d2:
        raise RuntimeError(f"diag_embed: dim1 and dim2 cannot be the same dim, got {dim1} and {dim2}")
    k = (input.shape[-1] if input.ndim else 1) + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(k if i in (d1, d2) else next(rest) for i in range(n))
    x = input if input.ndim else reshape(input, 1)
    return DiagEmbed.apply(x, shape, int(offset), d1, d2)


def diag(input, diagonal: int = 0) -> Tensor:
    """1-D: a square matrix with input on the `diagonal`-th diagonal; 2-D: that diagonal, copied."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return Diagonal.apply(input, int(diagonal), 0, 1).clone()
    raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {input.shape}")


class UnfoldDim(Function):
    """Tensor.unfold: windows of `size` every `step` along dim, as a new last dim."""

    reads_inputs = False

    def forward(self, x, dim, size, step):
        xp = array_module(x)
        self.shape, self.dim, self.size, self.step = x.shape, dim, size, step
        win = xp.lib.stride_tricks.sliding_window_view(x, size, axis=dim)  # a read-only view
        return win[(slice(None),) * dim + (slice(None, None, step),)]

    def backward(self, g):
        gx = array_module(g).zeros(self.shape, dtype=g.dtype)
        m, d = g.shape[self.dim], self.dim
        for j in range(self.size):  # one strided add per window position (size is small)
            gx[(slice(None),) * d + (slice(j, j + self.step * (m - 1) + 1, self.step),)] += g[..., j]
        return gx, None, None, None


def unfold_dim(input, dimension: int, size: int, step: int) -> Tensor:
    """x.unfold(dimension, size, step): every window of `size` elements, `step` apart, along
    `dimension`, as a new last dim (torch's Tensor.unfold; F.unfold is im2col)."""
    x = input if input.ndim else reshape(input, 1)
    d = _dim(x, dimension, "unfold")
    n = x.shape[d]
    if size < 0 or size > n:
        raise RuntimeError(f"unfold: size {size} is larger than dim {dimension} of size {n} (shape {input.shape})")
    if step <= 0:
        raise RuntimeError(f"unfold: step must be positive, got {step}")
    out = UnfoldDim.apply(x, d, int(size), int(step))
    return reshape(out, size) if input.ndim == 0 else out


def meshgrid(*tensors, indexing: str = "ij"):
    """Coordinate grids from 1-D tensors: out[i] varies along dim i ('ij'); 'xy' swaps the
    first two dims of every grid (NumPy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for i, t_ in enumerate(tensors):
        if t_.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0-D or 1-D tensors, tensor {i} has shape {t_.shape}")
    ts = [reshape(t_, -1) for t_ in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t_.shape[0] for t_ in ts)
    n = len(ts)
    out = [expand(reshape(t_, (1,) * i + (-1,) + (1,) * (n - i - 1)), shape) for i, t_ in enumerate(ts)]
    if swap:  # the grids come back in the order of the inputs
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of the 1-D inputs' elements, as rows (itertools.product order)."""
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, -1) for g in grids], 1)


def block_diag(*tensors) -> Tensor:
    """The inputs (0-D, 1-D as a row, or 2-D) as blocks along the diagonal of a zero matrix."""
    from ..creation import zeros

    mats = [reshape(t_, 1, -1) if t_.ndim < 2 else t_ for t_ in tensors]
    for i, m_ in enumerate(mats):
        if m_.ndim != 2:
            raise RuntimeError(f"block_diag: input {i} must have 2 or fewer dims, got shape {tensors[i].shape}")
    if not mats:
        return zeros(1, 0)
    dtype = functools.reduce(promote_types, (m_.dtype for m_ in mats))
    cols = sum(m_.shape[1] for m_ in mats)
    rows, left = [], 0
    for m_ in mats:
        r, c = m_.shape
        parts = [zeros(r, left, dtype=dtype, device=m_.device), m_.to(dtype),
                 zeros(r, cols - left - c, dtype=dtype, device=m_.device)]
        rows.append(cat(parts, 1))
        left += c
    return cat(rows, 0)


# ---- torch's NumPy-flavoured shape helpers, composed from the ops above --------------------
def swapdims(input, dim0: int, dim1: int) -> Tensor:
    return transpose(input, dim0, dim1)


def ravel(input) -> Tensor:
    return reshape(input, -1)


def fliplr(input) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: expected a tensor of at least 2 dims, got shape {input.shape}")
    return flip(input, (1,))


def flipud(input) -> Tensor:
    if input.ndim < 1:
        raise RuntimeError("flipud: expected a tensor of at least 1 dim, got a 0-d tensor")
    return flip(input, (0,))


def rot90(input, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees k times in the plane of dims, from the first towards the second."""
    if len(dims) != 2 or input.ndim < 2:
        raise RuntimeError(f"rot90: expected two dims of a tensor with at least 2 dims, got dims {dims} "
                           f"for shape {input.shape}")
    a, b = (_dim(input, d, "rot90") for d in dims)
    if a == b:
        raise RuntimeError(f"rot90: the two dims must differ, got {dims}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (b,)), a, b)
    if k == 2:
        return flip(input, (a, b))
    if k == 3:
        return flip(transpose(input, a, b), (b,))
    return input.clone()


# where atleast_nd puts the new size-1 dims, by the input's ndim (NumPy's and torch's rule)
_ATLEAST = {1: {0: lambda s: (1,)},
            2: {0: lambda s: (1, 1), 1: lambda s: (1,) + s},
            3: {0: lambda s: (1, 1, 1), 1: lambda s: (1,) + s + (1,), 2: lambda s: s + (1,)}}


def _atleast(n: int, tensors):
    """atleast_nd of one tensor, of several, or of one list of them (a tuple back)."""
    def one(t_):
        grow = _ATLEAST[n].get(t_.ndim)
        return reshape(t_, grow(t_.shape)) if grow else t_
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(one(t_) for t_ in tensors[0])
    return one(tensors[0]) if len(tensors) == 1 else tuple(one(t_) for t_ in tensors)


def atleast_1d(*tensors):
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    return _atleast(3, tensors)


def hstack(tensors) -> Tensor:
    ts = atleast_1d(list(tensors))
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    return cat(atleast_2d(list(tensors)), 0)


row_stack = vstack


def dstack(tensors) -> Tensor:
    return cat(atleast_3d(list(tensors)), 2)


def column_stack(tensors) -> Tensor:
    return hstack([reshape(t_, -1, 1) if t_.ndim <= 1 else t_ for t_ in tensors])


def tensor_split(input, indices_or_sections, dim: int = 0):
    """Split into n nearly equal parts (the first n % size one longer), or at the given indices."""
    d = _dim(input, dim, "tensor_split")
    n = input.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        ios = ios.tolist()
    if isinstance(ios, (int, np.integer)):
        if ios <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {ios}")
        q, r = divmod(n, int(ios))
        bounds = list(itertools.accumulate([q + 1] * r + [q] * (int(ios) - r)))[:-1]
    else:
        bounds = [int(i) for i in ios]
    edges = [0] + [min(max(b + n if b < 0 else b, 0), n) for b in bounds] + [n]  # clamped as slices are
    return tuple(narrow(input, d, a, max(b - a, 0)) for a, b in zip(edges[:-1], edges[1:]))


def _nsplit(op, input, ios, dim, need):
    if input.ndim < need:
        raise RuntimeError(f"{op}: expected a tensor of at least {need} dims, got shape {input.shape}")
    if isinstance(ios, (int, np.integer)) and input.shape[dim] % ios:
        raise RuntimeError(f"{op}: dim {dim} of size {input.shape[dim]} is not divisible into {ios} equal parts")
    return tensor_split(input, ios, dim)


def hsplit(input, indices_or_sections):
    return _nsplit("hsplit", input, indices_or_sections, 0 if input.ndim == 1 else 1, 1)


def vsplit(input, indices_or_sections):
    return _nsplit("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):
    return _nsplit("dsplit", input, indices_or_sections, 2, 3)


def select(input, dim: int, index: int) -> Tensor:
    """input[..., index, ...] at dim: that dim removed."""
    d = _dim(input, dim, "select")
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select: index {index} is out of range for dim {d} of size {n}")
    from .index import getitem

    return getitem(input, (slice(None),) * d + (int(index),))


def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The n-th forward difference along dim, after joining prepend and append."""
    d = _dim(input, dim, "diff")
    parts = [p for p in (prepend, input, append) if p is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        m = x.shape[d]
        hi, lo = narrow(x, d, min(1, m), max(m - 1, 0)), narrow(x, d, 0, max(m - 1, 0))
        x = (hi != lo) if x.dtype.kind == "b" else hi - lo
    return x
