"""Tensor: an array plus what autograd needs to know about it.

The array (`_data`) is a NumPy or CuPy ndarray and is the single source of truth for shape,
dtype and device. `.data` is torch's: a Tensor over the same memory, outside the graph. Math lives in `lamina.ops`; the methods here only forward to it, so each
op has one home.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .backend import Device, array_module, device_of, to_device


class Tensor:
    """An n-dimensional array that can record the ops applied to it for backward."""

    # `_vc` is the version counter, a one-element list shared by every tensor that views the
    # same memory (views, detach()), so an in-place change through any of them is seen by
    # backward wherever that memory was saved.
    __slots__ = ("_data", "grad", "requires_grad", "_ctx", "_vc", "_hooks", "_retain", "__weakref__")
    __array_priority__ = 1000  # ndarray + Tensor defers to Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False):
        vc = [0]
        if isinstance(data, Tensor):
            data, vc = data._data, data._vc  # the same memory, so the same version counter
        elif not hasattr(data, "__array_interface__") and not hasattr(data, "__cuda_array_interface__"):
            data = _to_array(data, None)
        self._data = data
        self.grad = None
        self.requires_grad = False
        self._ctx = None
        self._vc = vc
        self._hooks = None
        self._retain = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, ctx):
        """Fast internal constructor: `data` is already an array, `ctx` the Function or None."""
        t = Tensor.__new__(Tensor)
        t._data = data
        t.grad = None
        t.requires_grad = ctx is not None
        t._ctx = ctx
        t._vc = [0]
        t._hooks = None
        t._retain = False
        return t

    # ---- what it is -------------------------------------------------------------------
    @property
    def data(self) -> "Tensor":
        """This tensor's memory as a Tensor outside the graph, as torch's `.data`.

        Unlike detach(), it has a version counter of its own: changes made through it are
        invisible to autograd, which is what `p.data.add_(...)` in an update rule relies on.
        """
        return Tensor._make(self._data, None)

    @data.setter
    def data(self, value) -> None:
        """`t.data = other` swaps in other's array (same shape or not), as torch allows."""
        if not isinstance(value, Tensor):
            raise TypeError(f"data: expected a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def device(self) -> Device:
        return device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def _version(self) -> int:
        """How many in-place changes the memory under this tensor has seen (torch's `_version`)."""
        return self._vc[0]

    @_version.setter
    def _version(self, v: int) -> None:
        self._vc[0] = v

    @property
    def T(self) -> "Tensor":
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> "Tensor":
        return self.transpose(-2, -1)

    # real tensors: the conjugate transposes are the transposes
    mH = mT

    @property
    def H(self) -> "Tensor":
        if self.ndim != 2:
            raise RuntimeError(f"H: expected a 2-D tensor (use mH for batches), got shape {self.shape}")
        return self.transpose(0, 1)

    def size(self, dim: int | None = None):
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel
    ndimension = dim

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"item: only a one-element tensor can be converted to a Python scalar, got shape {self.shape}")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return to_device(self._data, backend.CPU)

    def tolist(self):
        return to_device(self._data, backend.CPU).tolist()

    def __array__(self, dtype=None, copy=None):
        a = to_device(self._data, backend.CPU)
        return a if dtype is None else a.astype(dtype)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"bool: a tensor of shape {self.shape} with more than one value is ambiguous")
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    __hash__ = object.__hash__  # __eq__ is elementwise, identity is the hash

    def __format__(self, spec: str) -> str:
        """`f"{loss:.4f}"` formats a 0-d tensor's value, as torch does; others only with `{}`."""
        if self.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)


    def __repr__(self):
        xp_data = to_device(self._data, backend.CPU)
        body = np.array2string(xp_data, separator=", ", prefix="tensor(", precision=4, threshold=200, edgeitems=3)
        extra = []
        if self._data.size == 0 and self.ndim != 1:
            extra.append(f"size={self.shape}")
        if self.dtype not in (backend.get_default_dtype(), backend.int64, backend.bool_):
            extra.append(f"dtype={self.dtype}")
        if self.device.type != "cpu":
            extra.append(f"device='{self.device}'")
        if self._ctx is not None:
            extra.append(f"grad_fn=<{self._ctx.name}Backward>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    # ---- autograd ---------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"requires_grad_: only floating point tensors can require gradients, got {self.dtype}")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_: can only change requires_grad of leaf tensors; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor after backward."""
        if self._ctx is not None:
            self._retain = True

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a return value replaces it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require grad")
        self._hooks = (self._hooks or []) + [hook]
        return hook

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Backpropagate from this tensor into the `.grad` of every leaf it depends on."""
        autograd.backward(self, gradient, retain_graph)

    def detach(self) -> "Tensor":
        """The same data, cut from the graph; in-place changes to it are seen by the graph."""
        t = Tensor._make(self._data, None)
        t._vc = self._vc
        return t

    def detach_(self) -> "Tensor":
        self._ctx = None
        self.requires_grad = False
        return self

    # ---- conversion -------------------------------------------------------------------
    def to(self, *args, **kwargs) -> "Tensor":
        """`to(dtype)`, `to(device)`, `to(device, dtype)` or `to(other_tensor)`; differentiable."""
        dtype, device = kwargs.get("dtype"), kwargs.get("device")
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, (str, Device)):
                device = a
            elif a is not None:
                dtype = a
        out = self
        if device is not None and Device(device) != self.device:
            out = ops.to_device(out, Device(device))
        if dtype is not None and np.dtype(dtype) != out.dtype:
            out = ops.cast(out, np.dtype(dtype))
        return out

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self, device=None) -> "Tensor":
        return self.to("cuda" if device is None else f"cuda:{device}")

    def type(self, dtype=None):
        return str(self.dtype) if dtype is None else self.to(dtype)

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def half(self):
        return self.to(backend.float16)

    def long(self):
        return self.to(backend.int64)

    def int(self):
        return self.to(backend.int32)

    def bool(self):
        return self.to(backend.bool_)

    # ---- new tensors like this one: its dtype and device unless told otherwise ----------
    def _new(self, fn, size, fill, dtype, device, requires_grad):
        dtype = self.dtype if dtype is None else dtype
        device = self.device if device is None else device
        args = size if fill is None else (size, fill)  # zeros(*size) / full(size, fill)
        return fn(*args, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> "Tensor":
        return self._new(creation.zeros, size, None, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> "Tensor":
        return self._new(creation.ones, size, None, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> "Tensor":
        return self._new(creation.empty, size, None, dtype, device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False) -> "Tensor":
        return self._new(creation.full, size, fill_value, dtype, device, requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> "Tensor":
        """A copy of `data` (never sharing memory, as torch), with this tensor's dtype and device."""
        data = data.detach() if isinstance(data, Tensor) else data
        t = creation.tensor(data, dtype=self.dtype if dtype is None else dtype,
                            device=self.device if device is None else device)
        if isinstance(data, Tensor) and t._data is data._data:
            t = Tensor._make(t._data.copy(), None)
        return t.requires_grad_(requires_grad) if requires_grad else t

    def clone(self) -> "Tensor":
        return ops.clone(self)

    def contiguous(self) -> "Tensor":
        if self._data.flags.c_contiguous:
            return self
        return ops.clone(self)

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    # ---- in place: versioned; recorded in the graph when a gradient flows through ------------
    # Each op has a fast path (no gradient involved: write into the memory) and, when this
    # tensor or the value written requires grad, the recorded one in lamina/ops/inplace.py.
    def _inplace(self, op: str) -> None:
        """Check the memory can be written, then bump the version seen by backward."""
        if not self._data.flags.writeable:  # NumPy's broadcast views (expand) are read-only
            if 0 in self._data.strides and self._data.size > 1:
                raise RuntimeError(f"{op}: more than one element of this tensor (shape {self.shape}, an expanded "
                                   "view) refers to the same memory location; clone() it before writing in place")
            raise RuntimeError(f"{op}: this tensor (shape {self.shape}) wraps read-only memory; clone() it first")
        self._vc[0] += 1

    def _assign(self, value, op: str) -> "Tensor":
        self._inplace(op)
        xp = array_module(self._data)
        value = value._data if isinstance(value, Tensor) else value
        try:
            self._data[...] = xp.broadcast_to(xp.asarray(value), self.shape).astype(self.dtype, copy=False)
        except ValueError:
            raise RuntimeError(f"{op}: value of shape {np.shape(value)} cannot be broadcast to the tensor's shape {self.shape}") from None
        return self

    def _write(self, value, op: str) -> "Tensor":
        """Overwrite every element with `value` (a number, an array or a Tensor)."""
        if _inplace_ops.recording(self, value):
            return _inplace_ops.record(self, lambda s: _inplace_ops.SetItem.apply(s, value, (Ellipsis,)), op, reads=False)
        return self._assign(value, op)

    def copy_(self, src, non_blocking: bool = False) -> "Tensor":
        return self._write(src, "copy_")

    def fill_(self, value) -> "Tensor":
        return self._write(value, "fill_")

    def zero_(self) -> "Tensor":
        return self._write(0, "zero_")

    def add_(self, other, alpha=1) -> "Tensor":
        if _inplace_ops.recording(self, other):
            return _inplace_ops.record(self, lambda s: ops.add(s, other, alpha=alpha), "add_", reads=False)
        other = other._data if isinstance(other, Tensor) else other
        return self._assign(self._data + (other if alpha == 1 else alpha * other), "add_")

    def sub_(self, other, alpha=1) -> "Tensor":
        if _inplace_ops.recording(self, other):
            return _inplace_ops.record(self, lambda s: ops.sub(s, other, alpha=alpha), "sub_", reads=False)
        other = other._data if isinstance(other, Tensor) else other
        return self._assign(self._data - (other if alpha == 1 else alpha * other), "sub_")

    def mul_(self, other) -> "Tensor":
        if _inplace_ops.recording(self, other):
            return _inplace_ops.record(self, lambda s: ops.mul(s, other), "mul_")
        return self._assign(self._data * (other._data if isinstance(other, Tensor) else other), "mul_")

    def div_(self, other, rounding_mode=None) -> "Tensor":
        if _inplace_ops.recording(self, other) or rounding_mode is not None:
            if rounding_mode is not None and not _inplace_ops.recording(self, other):
                return self._assign(ops.div(self.detach(), other, rounding_mode=rounding_mode)._data, "div_")
            return _inplace_ops.record(self, lambda s: ops.div(s, other, rounding_mode=rounding_mode), "div_")
        return self._assign(self._data / (other._data if isinstance(other, Tensor) else other), "div_")

    def clamp_(self, min=None, max=None) -> "Tensor":
        if _inplace_ops.recording(self, min) or _inplace_ops.recording(self, max):
            return _inplace_ops.record(self, lambda s: ops.clamp(s, min, max), "clamp_")
        lo = min._data if isinstance(min, Tensor) else min
        hi = max._data if isinstance(max, Tensor) else max
        return self._assign(array_module(self._data).clip(self._data, lo, hi), "clamp_")

    clip_ = clamp_

    def masked_fill_(self, mask, value) -> "Tensor":
        if _inplace_ops.recording(self, value):
            return _inplace_ops.record(self, lambda s: ops.masked_fill(s, mask, value), "masked_fill_", reads=False)
        return self._assign(ops.masked_fill(self.detach(), mask, value)._data, "masked_fill_")

    def uniform_(self, a=0.0, b=1.0, generator=None) -> "Tensor":
        return self._write(creation._rng(generator).uniform(a, b, self.shape), "uniform_")

    def normal_(self, mean=0.0, std=1.0, generator=None) -> "Tensor":
        return self._write(creation._rng(generator).normal(mean, std, self.shape), "normal_")

    def __setitem__(self, index, value):
        if _inplace_ops.recording(self, value):
            _inplace_ops.setitem(self, ops.index_key(index, self.shape, "__setitem__"), value)
            return
        self._inplace("__setitem__")
        index = ops.index_key(index, self.shape, "__setitem__")
        value = value._data if isinstance(value, Tensor) else value
        self._data[index] = value

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # ---- operators: all math lives in lamina.ops ----------------------------------------
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __floordiv__(self, other):
        return ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return ops.floor_divide(other, self)

    def __mod__(self, other):
        return ops.remainder(self, other)

    def __rmod__(self, other):
        return ops.remainder(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __eq__(self, other):
        return ops.eq(self, other)

    def __ne__(self, other):
        return ops.ne(self, other)

    def __lt__(self, other):
        return ops.lt(self, other)

    def __le__(self, other):
        return ops.le(self, other)

    def __gt__(self, other):
        return ops.gt(self, other)

    def __ge__(self, other):
        return ops.ge(self, other)

    # & | ^ ~ << >> are bitwise, as in torch: on bools that is logic, on integers bits
    def __and__(self, other):
        return ops.bitwise_and(self, other)

    def __rand__(self, other):
        return ops.bitwise_and(other, self)

    def __or__(self, other):
        return ops.bitwise_or(self, other)

    def __ror__(self, other):
        return ops.bitwise_or(other, self)

    def __xor__(self, other):
        return ops.bitwise_xor(self, other)

    def __rxor__(self, other):
        return ops.bitwise_xor(other, self)

    def __lshift__(self, other):
        return ops.bitwise_left_shift(self, other)

    def __rlshift__(self, other):
        return ops.bitwise_left_shift(other, self)

    def __rshift__(self, other):
        return ops.bitwise_right_shift(self, other)

    def __rrshift__(self, other):
        return ops.bitwise_right_shift(other, self)

    def __invert__(self):
        if self.dtype.kind not in "biu":  # torch's ~ refuses floats with TypeError, bitwise_not with NotImplementedError
            raise TypeError(f"~ (operator.invert) is only implemented on integer and bool tensors, got {self.dtype}")
        return ops.bitwise_not(self)

    def unfold(self, dimension: int, size: int, step: int) -> "Tensor":
        """Windows of `size` every `step` along `dimension`, as a new last dim (not F.unfold)."""
        return ops.unfold_dim(self, dimension, size, step)

    def __getitem__(self, index):
        return ops.getitem(self, index)


def _to_array(data, dtype, device=None):
    """Turn nested lists, scalars, arrays or tensors into a backend array of the right dtype.

    Python floats become the default float dtype (float32), as in PyTorch; NumPy arrays
    keep their dtype.
    """
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, as torch.tensor(np.float64(1)) does
        arr = np.asarray(data)
    elif hasattr(data, "__array_interface__") or hasattr(data, "__cuda_array_interface__"):
        arr = data
    else:
        try:
            arr = np.asarray(_unwrap(data))
        except ValueError:  # NumPy's "inhomogeneous shape": say where the nested lists disagree
            raise ValueError(f"tensor: {_ragged(data)}") from None
        if dtype is None and arr.dtype.kind == "f":
            arr = arr.astype(backend.get_default_dtype())
    if dtype is None and arr.dtype.kind == "f" and arr.dtype.itemsize > 8:
        arr = arr.astype(backend.float64)
    if dtype is not None and arr.dtype != np.dtype(dtype):
        arr = arr.astype(np.dtype(dtype))
    if dtype is None and arr.dtype.kind not in "fiub":
        what = {"U": "strings", "S": "bytes", "O": "Python objects (None, or mixed types)"}.get(arr.dtype.kind, arr.dtype)
        raise TypeError(f"tensor: can't build a tensor from {what}; expected numbers or bools, "
                        "in nested lists of equal length or an array")
    if device is not None:
        arr = to_device(arr, Device(device))
    return arr


def _ragged(data, dim: int = 0) -> str:
    """Where nested lists stop being rectangular, in torch's words."""
    seqs = [d for d in data if isinstance(d, (list, tuple))]
    if seqs and len(seqs) < len(data):
        return f"at dim {dim}, some items are sequences and some are not; nested lists must be rectangular"
    if not seqs:
        return "nested lists must be rectangular"
    n = len(seqs[0])
    for s in seqs:
        if len(s) != n:
            return f"expected a sequence of length {n} at dim {dim + 1} (got {len(s)}); nested lists must be rectangular"
    for s in seqs:
        try:
            np.asarray(_unwrap(s))
        except ValueError:
            return _ragged(s, dim + 1)
    return "nested lists must be rectangular"


def _unwrap(data):
    """Lists that hold Tensors (e.g. [t1, t2]) become lists of arrays."""
    if isinstance(data, (list, tuple)):
        return [_unwrap(d) for d in data]
    if isinstance(data, Tensor):
        return to_device(data._data, backend.CPU)
    return data


from . import autograd, creation, ops  # noqa: E402  (they need the Tensor class defined above)

from .ops import inplace as _inplace_ops  # noqa: E402


def _inplace_method(name: str):
    """x.name_(...): lamina.name(x, ...) written back into x (see lamina/ops/inplace.py)."""
    def method(self, *args, **kwargs):
        fn = getattr(ops, name)
        if any(_inplace_ops.recording(self, a) for a in (self, *args, *kwargs.values())):
            return _inplace_ops.record(self, lambda s: fn(s, *args, **kwargs), name + "_")
        return self._assign(fn(self.detach(), *args, **kwargs)._data, name + "_")
    method.__name__ = name + "_"
    return method


# The in-place twins torch programs use most; each is the out-of-place op, written back.
for _name in ["abs", "ceil", "cos", "exp", "floor", "log", "neg", "pow", "reciprocal", "relu", "round", "rsqrt",
              "sigmoid", "sign", "sin", "sqrt", "square", "tanh", "remainder", "fmod", "tril", "triu", "lerp",
              "addcmul", "addcdiv", "clamp_min", "clamp_max", "index_add", "index_copy", "index_fill", "scatter",
              "scatter_add", "scatter_reduce", "logical_not", "trunc", "frac", "nan_to_num", "masked_scatter",
              "tan", "asin", "acos", "atan", "sinh", "cosh", "log2", "log10", "log1p", "expm1", "erf", "exp2"]:
    setattr(Tensor, _name + "_", _inplace_method(_name))

# Tensor methods that are the same function as lamina.<name>(tensor, ...).
for _name in ops.TENSOR_METHODS:
    setattr(Tensor, _name, getattr(ops, _name))
del _name
