"""Elementwise primitives: arithmetic, math functions, selection and comparison.

Binary ops first agree on a dtype by PyTorch's promotion rules (`operands`), then
broadcast as NumPy does; `unbroadcast` hands each gradient back in its input's shape.
Constants in backward are Python floats, never NumPy float64 scalars, so float32 stays
float32.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function, unbroadcast
from ..backend import array_module, category
from ..tensor import Tensor

# torch never warns about log(0), 0/0 or overflow: it returns -inf, nan or inf quietly. NumPy's
# warnings are turned off once here, not with np.errstate per op (that context costs ~3us,
# half the time of a small op).
np.seterr(divide="ignore", invalid="ignore", over="ignore")


# ---- dtype promotion ---------------------------------------------------------------------
def _result_dtype(a: Tensor, b: Tensor) -> np.dtype:
    """PyTorch's rule for two tensors: a 0-d tensor only decides the dtype when it is of a
    higher category (bool < int < float) than the dimensioned one."""
    if (a.ndim == 0) != (b.ndim == 0):
        dim, zero = (a, b) if b.ndim == 0 else (b, a)
        return zero.dtype if category(zero.dtype) > category(dim.dtype) else dim.dtype
    return backend.promote_types(a.dtype, b.dtype)


def operands(a, b):
    """Make the two operands of a binary op agree in dtype. Python scalars stay Python
    scalars (NumPy treats them as weak, as PyTorch does) unless they lift the category."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        if a._data.dtype == b._data.dtype:
            return a, b
        dt = _result_dtype(a, b)
        return a.to(dt), b.to(dt)
    t, s = (a, b) if ta else (b, a)
    if not isinstance(s, (bool, int, float)):
        if isinstance(s, np.generic):
            s = s.item()
        elif hasattr(s, "__array_interface__") or hasattr(s, "__cuda_array_interface__") or isinstance(s, (list, tuple)):
            s = Tensor(s)
            return operands(a if ta else s, s if ta else b)
        else:
            raise TypeError(f"unsupported operand type {type(s).__name__} for a tensor op")
    sd = backend.scalar_dtype(s)
    if category(sd) > category(t.dtype):
        t = t.to(sd)
    return (t, s) if ta else (s, t)


# ---- arithmetic ------------------------------------------------------------------------
class Add(Function):
    reads_inputs = False

    def forward(self, a, b):
        self.sa, self.sb = np.shape(a), np.shape(b)
        return a + b

    def backward(self, g):
        return unbroadcast(g, self.sa), unbroadcast(g, self.sb)


class Sub(Function):
    reads_inputs = False

    def forward(self, a, b):
        self.sa, self.sb = np.shape(a), np.shape(b)
        return a - b

    def backward(self, g):
        return unbroadcast(g, self.sa), unbroadcast(-g, self.sb)


class Mul(Function):
    def uses_value(self, i):  # a's gradient reads b and b's reads a
        return self.needs_input_grad[1 - i]

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        return (unbroadcast(g * b, np.shape(a)) if na else None,
                unbroadcast(g * a, np.shape(b)) if nb else None)


class Div(Function):
    def uses_value(self, i):  # backward reads b and the output, never a
        return i == 1

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = a / b
        return self.y

    def backward(self, g):
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        ga = g / b
        gb = None
        if nb:  # d(a/b)/db = -(a/b) / b = -y * (g / b)
            gb = -ga * self.y
            gb = unbroadcast(gb, np.shape(b))
        return (unbroadcast(ga, np.shape(a)) if na else None), gb


class Pow(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = _int_pow(a, b) if a.dtype.kind in "iu" and getattr(b, "dtype", None) is not None \
            and b.dtype.kind == "i" else a ** b
        return self.y

    def backward(self, g):
        a, b, y = self.a, self.b, self.y
        na, nb = self.needs_input_grad
        ga = gb = None
        if na:
            if isinstance(b, (int, float)):
                ga = g * b * a ** (b - 1) if b != 0 else g * 0
            else:  # where b == 0 the slope is 0, also at a == 0 (0 * inf would be nan)
                ga = unbroadcast(array_module(g).where(b == 0, 0, g * b * a ** (b - 1)).astype(g.dtype), np.shape(a))
        if nb:
            xp = array_module(y)
            a_arr = xp.asarray(a, dtype=y.dtype)
            with np.errstate(divide="ignore", invalid="ignore"):
                # d(a^b)/db = a^b log a, taken as 0 where a == 0 and b >= 0, as PyTorch does
                gb = xp.where((a_arr == 0) & (xp.asarray(b) >= 0), 0, g * y * xp.log(a_arr)).astype(y.dtype)
            gb = unbroadcast(gb, np.shape(b))
        return ga, gb


def _int_pow(a, b):
    """a ** b for integer arrays as torch computes it: NumPy refuses a negative exponent, torch
    gives 1 / a rounded towards zero: 1 for a base of 1, +-1 for -1, and 0 otherwise (0 too)."""
    xp = array_module(a)
    neg = b < 0
    if not neg.any():
        return a ** b
    y = a ** xp.where(neg, 0, b)
    odd = (b % 2).astype(bool)
    inverse = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0))
    return xp.where(neg, inverse, y).astype(y.dtype)


def _float_operands(a, b):
    """Operands for true division: integer and bool results are lifted to the default float."""
    a, b = operands(a, b)
    t = a if isinstance(a, Tensor) else b
    if t.dtype.kind != "f":
        f = backend.get_default_dtype()
        a = a.to(f) if isinstance(a, Tensor) else float(a)
        b = b.to(f) if isinstance(b, Tensor) else float(b)
    return a, b


def add(input, other, alpha=1) -> Tensor:
    """input + alpha * other, broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    return Add.apply(*operands(input, other))


def sub(input, other, alpha=1) -> Tensor:
    if alpha != 1:
        other = mul(other, alpha)
    return Sub.apply(*operands(input, other))


def mul(input, other) -> Tensor:
    return Mul.apply(*operands(input, other))


def div(input, other, rounding_mode=None) -> Tensor:
    """True division (int / int gives float); rounding_mode 'floor' or 'trunc' is not differentiable."""
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        a, b = operands(input, other)
        t = a if isinstance(a, Tensor) else b
        if t.dtype.kind in "iu":  # exact for int64: fmod leaves a - r divisible by b, rounding towards zero
            xp = array_module(t._data)
            return _nograd(lambda x, y: (x - xp.fmod(x, y)) // y, a, b)
        return _nograd(array_module(t._data).trunc, div(input, other))
    if rounding_mode is not None:
        raise RuntimeError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    return Div.apply(*_float_operands(input, other))


def pow(input, exponent) -> Tensor:
    """input ** exponent, with tensor or scalar base and exponent."""
    a, b = operands(input, exponent)
    ints = [v.dtype.kind if isinstance(v, Tensor) else "b" if isinstance(v, bool) else "i" if isinstance(v, int) else "f"
            for v in (a, b)]
    if ints == ["b", "b"]:
        if isinstance(b, Tensor):  # as torch, which has no bool pow kernel
            raise NotImplementedError("pow: not implemented for a bool base and a bool tensor exponent; "
                                      "convert one of them with .long() or .float()")
        return _nograd(lambda x, e: x | (not e), a, b)  # stays bool, as torch: x ** True is x, x ** False all True
    if ints[0] in "biu" and type(b) is int and b < 0:  # torch refuses this for a number, not a tensor, exponent
        raise RuntimeError(f"pow: integers to negative integer powers are not allowed (a {a.dtype} tensor ** {b}); "
                           f"use a float tensor or exponent")
    if not isinstance(a, Tensor):  # scalar ** tensor: the base must be an array for log()
        a = Tensor._make(array_module(b._data).asarray(a, dtype=b.dtype), None)
    return Pow.apply(a, b)


true_divide = divide = div
multiply = mul
subtract = sub


def _nograd(fn, *args):
    """Apply an array function with no gradient (integer-valued or piecewise-constant results)."""
    arrs = [a._data if isinstance(a, Tensor) else a for a in args]
    return Tensor._make(array_module(arrs[0] if isinstance(args[0], Tensor) else arrs[-1]).asarray(fn(*arrs)), None)


def floor_divide(input, other) -> Tensor:
    a, b = operands(input, other)
    xp = array_module((a if isinstance(a, Tensor) else b)._data)
    return _nograd(xp.floor_divide, a, b)


class Remainder(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        xp = array_module(a if hasattr(a, "shape") else b)
        return xp.remainder(a, b)

    def backward(self, g):
        xp = array_module(g)
        na, nb = self.needs_input_grad
        gb = unbroadcast(-g * xp.floor_divide(self.a, self.b), np.shape(self.b)) if nb else None
        return (unbroadcast(g, np.shape(self.a)) if na else None), gb


def remainder(input, other) -> Tensor:
    """Python-style modulo (sign of the divisor), as torch.remainder."""
    return Remainder.apply(*operands(input, other))


# ---- unary math --------------------------------------------------------------------------
class Neg(Function):
    reads_inputs = False

    def forward(self, x):
        return -x

    def backward(self, g):
        return -g


class Exp(Function):
    def forward(self, x):
        self.y = array_module(x).exp(x)
        return self.y

    def backward(self, g):
        return g * self.y


class Log(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).log(x)

    def backward(self, g):
        return g / self.x


class Log1p(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).log1p(x)

    def backward(self, g):
        return g / (1 + self.x)


class Expm1(Function):
    def forward(self, x):
        self.y = array_module(x).expm1(x)
        return self.y

    def backward(self, g):
        return g * (self.y + 1)


class Sqrt(Function):
    def forward(self, x):
        self.y = array_module(x).sqrt(x)
        return self.y

    def backward(self, g):
        return g / (2 * self.y)


class Rsqrt(Function):
    def forward(self, x):
        self.y = 1 / array_module(x).sqrt(x)
        return self.y

    def backward(self, g):
        return g * -0.5 * self.y ** 3


class Abs(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).abs(x)

    def backward(self, g):
        return g * array_module(g).sign(self.x)


class Sin(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).sin(x)

    def backward(self, g):
        return g * array_module(g).cos(self.x)


class Cos(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).cos(x)

    def backward(self, g):
        return -g * array_module(g).sin(self.x)


class Tanh(Function):
    def forward(self, x):
        self.y = array_module(x).tanh(x)
        return self.y

    def backward(self, g):
        return g * (1 - self.y * self.y)


class Sigmoid(Function):
    def forward(self, x):
        from .activation import _sigmoid

        self.y = _sigmoid(x)
        return self.y

    def backward(self, g):
        out = 1 - self.y
        out *= self.y
        out *= g
        return out


def _float(x: Tensor) -> Tensor:
    """Math functions on integer tensors compute in the default float dtype, as in PyTorch."""
    return x if x._data.dtype.kind == "f" else x.to(backend.get_default_dtype())


def neg(input) -> Tensor:
    return Neg.apply(input)


negative = neg


def positive(input) -> Tensor:
    """+x: the input itself, as torch (bools refused, as there)."""
    if input.dtype.kind == "b":
        raise TypeError("positive: the + operator on a bool tensor is not supported")
    return input


def rsub(input, other, alpha=1) -> Tensor:
    """other - alpha * input."""
    return sub(other, input, alpha=alpha)


def exp(input) -> Tensor:
    return Exp.apply(_float(input))


def log(input) -> Tensor:
    return Log.apply(_float(input))


def log1p(input) -> Tensor:
    return Log1p.apply(_float(input))


def expm1(input) -> Tensor:
    return Expm1.apply(_float(input))


def sqrt(input) -> Tensor:
    return Sqrt.apply(_float(input))


def rsqrt(input) -> Tensor:
    return Rsqrt.apply(_float(input))


def abs(input) -> Tensor:
    return Abs.apply(input)


absolute = abs


class Sign(Function):
    reads_inputs = False

    def forward(self, x):
        return array_module(x).sign(x)

    def backward(self, g):  # zero everywhere, as torch (a gradient, not None)
        return array_module(g).zeros_like(g)


def sign(input) -> Tensor:
    """-1, 0 or +1; its gradient is zero everywhere."""
    return Sign.apply(input)


def sin(input) -> Tensor:
    return Sin.apply(_float(input))


def cos(input) -> Tensor:
    return Cos.apply(_float(input))


def tanh(input) -> Tensor:
    return Tanh.apply(_float(input))


def sigmoid(input) -> Tensor:
    return Sigmoid.apply(_float(input))


def square(input) -> Tensor:
    return mul(input, input)


def reciprocal(input) -> Tensor:
    return div(1.0, input)


def floor(input) -> Tensor:
    return _nograd(array_module(input._data).floor, input)


def ceil(input) -> Tensor:
    return _nograd(array_module(input._data).ceil, input)


def round(input) -> Tensor:
    return _nograd(array_module(input._data).round, input)


def isnan(input) -> Tensor:
    return _nograd(array_module(input._data).isnan, input)


def isinf(input) -> Tensor:
    return _nograd(array_module(input._data).isinf, input)


def isfinite(input) -> Tensor:
    return _nograd(array_module(input._data).isfinite, input)


# ---- selection ---------------------------------------------------------------------------
class Clamp(Function):
    def forward(self, x, lo, hi):
        self.x, self.lo, self.hi = x, lo, hi
        return array_module(x).clip(x, lo, hi)

    def backward(self, g):
        x, lo, hi = self.x, self.lo, self.hi
        keep = True
        if lo is not None:
            keep = x >= lo
        if hi is not None:
            keep = keep & (x <= hi)
        return array_module(g).where(keep, g, 0), None, None  # a select: inf upstream gives 0 where clamped


def clamp(input, min=None, max=None) -> Tensor:
    """Limit values to [min, max]; the gradient flows where min <= x <= max."""
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of min and max must be given, got neither")
    if input.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        input = input.to(backend.get_default_dtype())
    return Clamp.apply(input, min, max)


clip = clamp


class Maximum(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return array_module(a).maximum(a, b)

    def backward(self, g):
        # ties share the gradient equally, as in PyTorch
        a, b = self.a, self.b
        wa = (a > b) + (a == b) * 0.5
        return unbroadcast(g * wa.astype(g.dtype), a.shape), unbroadcast(g * (1 - wa).astype(g.dtype), b.shape)


class Minimum(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return array_module(a).minimum(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        wa = (a < b) + (a == b) * 0.5
        return unbroadcast(g * wa.astype(g.dtype), a.shape), unbroadcast(g * (1 - wa).astype(g.dtype), b.shape)


def _tensor_operands(a, b):
    a, b = operands(a, b)
    ref = a if isinstance(a, Tensor) else b
    xp = array_module(ref._data)
    wrap = lambda v: v if isinstance(v, Tensor) else Tensor._make(xp.asarray(v, dtype=ref.dtype), None)  # noqa: E731
    return wrap(a), wrap(b)


def maximum(input, other) -> Tensor:
    return Maximum.apply(*_tensor_operands(input, other))


def minimum(input, other) -> Tensor:
    return Minimum.apply(*_tensor_operands(input, other))


class Where(Function):
    def forward(self, cond, a, b):
        self.cond = cond
        self.sa, self.sb = np.shape(a), np.shape(b)
        return array_module(cond).where(cond, a, b)

    def backward(self, g):
        c = self.cond
        xp = array_module(g)
        na, nb = self.needs_input_grad[1:]
        # a select, not g * c: an inf or NaN gradient on the unchosen side must give 0, as torch
        return (None,
                unbroadcast(xp.where(c, g, 0), self.sa) if na else None,
                unbroadcast(xp.where(c, 0, g), self.sb) if nb else None)


Where.reads_inputs = False  # backward reads only the condition, which has no gradient


def where(condition, input=None, other=None):
    """Elements of `input` where `condition` holds, else of `other`. With only a condition,
    the indices where it holds (as torch.where(cond))."""
    if input is None and other is None:
        return tuple(Tensor._make(i, None) for i in array_module(condition._data).nonzero(condition._data))
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        # two Python scalars: bool, int64 or the default float, from the higher category (torch)
        if not isinstance(input, (bool, int, float)) or not isinstance(other, (bool, int, float)):
            raise TypeError(f"where: input and other must be tensors or numbers, got {type(input).__name__} "
                            f"and {type(other).__name__}")
        kinds = {type(input), type(other)}
        dt = backend.get_default_dtype() if float in kinds else (backend.int64 if int in kinds else backend.bool_)
        xp = array_module(condition._data) if isinstance(condition, Tensor) else np
        input = Tensor._make(xp.asarray(input, dtype=dt), None)
    a, b = operands(input, other)
    c = condition._data if isinstance(condition, Tensor) else condition
    if c.dtype.kind != "b":
        c = c.astype(bool)
    return Where.apply(Tensor._make(c, None), a, b)


def nonzero(input, as_tuple=False):
    """Indices of the non-zero elements: (n, ndim), or a tuple of ndim (n,) tensors. A 0-d
    input is treated as one element with no dims: (1, 0) or (0, 0), as torch."""
    x = input._data
    xp = array_module(x)
    if x.ndim == 0:
        n = int(x != 0)
        if as_tuple:
            return (Tensor._make(xp.zeros(n, dtype=np.int64), None),)
        return Tensor._make(xp.zeros((n, 0), dtype=np.int64), None)
    idx = xp.nonzero(x)
    if as_tuple:
        return tuple(Tensor._make(i, None) for i in idx)
    return Tensor._make(array_module(input._data).stack(idx, axis=1), None)


# ---- comparison and logic: results are bool and carry no gradient ---------------------------
def _compare(fn_name):
    def op(input, other) -> Tensor:
        a, b = operands(input, other)
        ad = a._data if isinstance(a, Tensor) else a
        bd = b._data if isinstance(b, Tensor) else b
        xp = array_module(ad if isinstance(a, Tensor) else bd)
        return Tensor._make(xp.asarray(getattr(xp, fn_name)(ad, bd)), None)

    op.__name__ = fn_name
    op.__doc__ = f"Elementwise {fn_name} with broadcasting; returns a bool tensor (no gradient)."
    return op


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
logical_and = _compare("logical_and")
logical_or = _compare("logical_or")
logical_xor = _compare("logical_xor")
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne


def _wrap_int(s: int, dtype) -> int:
    """A Python int wider than an integer dtype, wrapped into it as torch does
    (int32 | 0xFFFFFFFF is int32 | -1)."""
    bits = 8 * dtype.itemsize
    s %= 1 << bits
    return s - (1 << bits) if dtype.kind == "i" and s >= 1 << (bits - 1) else s


def _bitwise(fn_name, name):
    def op(input, other) -> Tensor:
        a, b = operands(input, other)
        for v in (a, b):
            kind = v.dtype.kind if isinstance(v, Tensor) else ("b" if isinstance(v, bool) else "i" if isinstance(v, int) else "f")
            if kind not in "biu":  # NotImplementedError as torch's "..._cpu not implemented for 'Float'"
                raise NotImplementedError(f"{name}: expected integer or bool operands, got "
                                          f"{v.dtype if isinstance(v, Tensor) else type(v).__name__}")
        t = a if isinstance(a, Tensor) else b
        if t.dtype.kind in "iu":
            a, b = [_wrap_int(v, t.dtype) if type(v) is int else v for v in (a, b)]
        ad = a._data if isinstance(a, Tensor) else a
        bd = b._data if isinstance(b, Tensor) else b
        xp = array_module(t._data)
        return Tensor._make(xp.asarray(getattr(xp, fn_name)(ad, bd), dtype=t.dtype), None)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name} of integer or bool tensors (no gradient); bools stay bool."
    return op


bitwise_and = _bitwise("bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor")
bitwise_left_shift = _bitwise("left_shift", "bitwise_left_shift")
bitwise_right_shift = _bitwise("right_shift", "bitwise_right_shift")


def bitwise_not(input) -> Tensor:
    """~x: bitwise complement of an integer tensor, logical not of a bool one."""
    if input.dtype.kind not in "biu":  # torch: NotImplementedError (but TypeError for ~x, see Tensor.__invert__)
        raise NotImplementedError(f"bitwise_not: expected an integer or bool tensor, got {input.dtype}")
    return Tensor._make(array_module(input._data).invert(input._data), None)


def logical_not(input) -> Tensor:
    xp = array_module(input._data)
    return Tensor._make(xp.asarray(xp.logical_not(input._data)), None)


def equal(input, other) -> bool:
    """True when both tensors have the same shape and values."""
    return input.shape == other.shape and bool((input._data == other._data).all())


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    return bool(array_module(input._data).allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> Tensor:
    return _nograd(lambda a, b: array_module(a).isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan), input, other)


# ---- dtype, device and copies ------------------------------------------------------------
class Cast(Function):
    reads_inputs = False

    def forward(self, x, dtype):
        self.src = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return (g.astype(self.src) if self.src.kind == "f" else None), None


def cast(input, dtype) -> Tensor:
    if input._data.dtype.kind == "f" and np.dtype(dtype).kind != "f":
        return Tensor._make(input._data.astype(dtype), None)  # to integers: no gradient
    return Cast.apply(input, np.dtype(dtype))


class ToDevice(Function):
    reads_inputs = False

    def forward(self, x, device):
        self.src = backend.device_of(x)
        return backend.to_device(x, device)

    def backward(self, g):
        return backend.to_device(g, self.src), None


def to_device(input, device) -> Tensor:
    return ToDevice.apply(input, device)


class Clone(Function):
    reads_inputs = False

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


def clone(input) -> Tensor:
    return Clone.apply(input)
