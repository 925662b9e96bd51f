"""The rest of elementwise math: trigonometric and hyperbolic functions and their inverses,
log2/log10/exp2, erf/erfc/erfinv, logaddexp, rounding and sign manipulation, and the small
composites torch users reach for (lerp, hypot, xlogy, addcmul, ...).

Each differentiable op is one Function with its backward beside it, matching torch's
derivative at the edge points too (copysign at 0, logit outside [0, 1], the zero gradient of
trunc and sgn). Ops that only make sense on floats take integer and bool inputs in the default
float dtype, as torch does; integer-valued results of integer inputs (trunc, fmod, ...) stay
integers and carry no gradient.

NumPy has no erf: without SciPy it is written here (`_erf_flat`, within 1e-15 relative of the
exact value; erfc within 5e-15), and erfinv is a polynomial guess polished by one Halley step.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Function, unbroadcast
from ..backend import array_module
from ..tensor import Tensor
from .activation import _special
from .elementwise import _float, _float_operands, _nograd, add, clamp, div, mul, operands, pow

__all__ = [
    "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh",
    "arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh", "arctanh",
    "log2", "log10", "exp2", "erf", "erfc", "erfinv", "logaddexp", "logaddexp2",
    "trunc", "fix", "frac", "fmod", "copysign", "lerp", "hypot", "isposinf", "isneginf", "isreal",
    "sinc", "deg2rad", "rad2deg", "xlogy", "nan_to_num", "float_power", "sgn", "signbit", "heaviside",
    "logit", "clamp_min", "clamp_max", "addcmul", "addcdiv",
]
METHODS: list[str] = list(__all__)  # every one is also a Tensor method in torch

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _floats(a, b):
    """Two operands as tensors of one floating dtype (torch's promotion; ints lift to the
    default float); a Python scalar becomes a 0-d tensor that needs no gradient."""
    a, b = _float_operands(a, b)
    ref = a if isinstance(a, Tensor) else b
    xp = array_module(ref._data)
    wrap = lambda v: v if isinstance(v, Tensor) else Tensor._make(xp.asarray(v, dtype=ref.dtype), None)  # noqa: E731
    return wrap(a), wrap(b)


# ---- erf, erfc, erfinv in NumPy --------------------------------------------------------------
# Polynomials fitted (Chebyshev least squares on 400 nodes against 40-digit mpmath values, then
# written as monomials around the centre of each range). Worst relative error over each range,
# measured in float64 against mpmath: 4e-16 (A), 1.2e-15 (B), 1.1e-15 (C); erf as a whole
# within 1e-15, erfc within 5e-15 (exp(-x^2) of the tail), erfinv within 2e-15.
# A: erf(x) / x as a polynomial in x^2 - 0.5, for |x| < 1
_ERF_A = (0.9654687386698677, -0.281072178045436, 0.07940998675593693, -0.01828388448904285,
          0.0034802744966349474, -0.0005611894245137695, 7.829649494262009e-05, -9.614786120099924e-06,
          1.0536521767201672e-06, -1.042985299154538e-07, 9.347216110179717e-09, -6.338490889333674e-10,
          1.317089015965439e-10)
# B: exp(x^2) erfc(x) as a polynomial in x - 2, for 1 <= x < 3
_ERFC_B = (0.25539567631050586, -0.10679646185349113, 0.04180275260352063, -0.015460637764191742,
           0.005440738537545803, -0.0018316642775015875, 0.0005924699951585217, -0.00018477835299919116,
           5.572831382747417e-05, -1.62937808177352e-05, 4.628186066943705e-06, -1.2793647370674898e-06,
           3.4482326798496054e-07, -9.098062707895731e-08, 2.3391817957895908e-08, -5.657520901724633e-09,
           1.399874096438572e-09, -4.553217887224272e-10, 1.0701348254719192e-10)
# C: x exp(x^2) erfc(x) as a polynomial in 1/x^2 - _ERFC_C0, for 3 <= x <= 28 (erfc(27.3) underflows)
_ERFC_C0 = 0.05619331065759637
_ERFC_C = (0.5495159051841803, -0.24254472975920002, 0.2945597285914242, -0.551872359511216, 1.349722914891192,
           -3.981117280695629, 13.529782005010329, -51.4381115954399, 214.37424895550438, -970.109331633867,
           4689.253852350434, -21777.42704143377, 110744.48003713124, -1091084.2009643575, 6955891.2897797255)
# erfinv(y) / y as a polynomial in w - 2.5 (w < 5) or in sqrt(w) - _ERFINV_E0 (w >= 5), w = -log(1 - y^2):
# Giles's variable ("Approximating the erfinv function", 2010), our own fits, good to ~1e-9 relative
_ERFINV_D = (1.5014093517282394, 0.2466402893894105, -0.004177324921932612, -0.0012527484164571072,
             0.00021826392314331077, -4.9597434946457785e-06, -3.426175951282214e-06, 4.6542873039242084e-07,
             1.6487176741786795e-08, -8.739830967367088e-09, 4.3511473777183153e-10)
_ERFINV_E0 = 4.218033988749895
_ERFINV_E = (4.059939742317721, 1.0099363947130682, 0.0007624765802430638, -0.0006617611119441866,
             0.0002514835567420167, -3.6840869397455835e-05, -5.243987418727452e-06, -2.5359268820748216e-05,
             1.9894421169170916e-05, -2.82761544444686e-06, -4.492128649813041e-07)

_BLOCK = 1 << 15  # elements per block: the ~40 passes of an erf stay in the L2 cache


def _horner(coef, v):
    y = np.full_like(v, coef[-1])
    for c in coef[-2::-1]:
        y *= v
        y += c
    return y


def _exp_neg_sq(x):
    """exp(-x^2) without the rounding of x^2 (worth 1e-13 relative at x = 27): x = h + l with h
    x's float32 value, so h^2 is exact in float64 and x^2 = h^2 + (x - h)(x + h)."""
    h = x.astype(np.float32).astype(np.float64)
    return np.exp(-(h * h)) * np.exp((h - x) * (x + h))


def _erfc_pos(x):
    """erfc for x >= 1 (float64 NumPy, nan passes through)."""
    x = np.minimum(x, 28.0)  # erfc is 0 in float64 beyond 27.3; also keeps inf out of the algebra
    r = np.empty_like(x)
    mid = x < 3.0
    r[mid] = _horner(_ERFC_B, x[mid] - 2.0)
    far = ~mid
    xf = x[far]
    r[far] = _horner(_ERFC_C, 1.0 / (xf * xf) - _ERFC_C0) / xf
    return r * _exp_neg_sq(x)


def _blocks(fn, x):
    """fn over flat blocks of a float64 array (fn's passes stay in cache); returns a new array."""
    flat = x.reshape(-1)
    if flat.size <= _BLOCK:
        return fn(flat).reshape(x.shape)
    out = np.empty_like(flat)
    for i in range(0, flat.size, _BLOCK):
        out[i:i + _BLOCK] = fn(flat[i:i + _BLOCK])
    return out.reshape(x.shape)


def _erf_flat(x):
    a = np.abs(x)
    out = np.empty_like(x)
    small = a < 1.0
    s = x[small]
    out[small] = s * _horner(_ERF_A, s * s - 0.5)
    big = ~small  # and nan
    out[big] = np.copysign(1.0 - _erfc_pos(np.minimum(a[big], 6.0)), x[big])  # erf(5.93) rounds to 1
    return out


def _erfc_flat(x):
    out = np.empty_like(x)
    small = np.abs(x) < 1.0
    s = x[small]
    out[small] = 1.0 - s * _horner(_ERF_A, s * s - 0.5)
    pos = x >= 1.0
    out[pos] = _erfc_pos(x[pos])
    neg = ~(small | pos)  # x <= -1, and nan
    out[neg] = 2.0 - _erfc_pos(-x[neg])
    return out


def _erfinv_flat(y):
    a = np.abs(y)
    with np.errstate(all="ignore"):  # |y| = 1 and beyond are fixed up below or stay nan
        w = -np.log((1.0 - a) * (1.0 + a))  # inf at |y| = 1, nan beyond
        near = w >= 5.0
        x = np.empty_like(a)
        x[~near] = _horner(_ERFINV_D, w[~near] - 2.5)
        x[near] = _horner(_ERFINV_E, np.sqrt(w[near]) - _ERFINV_E0)
        x *= a
        # one Halley step on f(x) = erf(x) - a, written (1 - a) - erfc(x) above 0.5 where
        # 1 - a is exact and erf(x) - a would cancel; the guess's 1e-9 becomes ~1e-16
        f = np.empty_like(a)
        lo = a <= 0.5
        f[lo] = _erf_flat(x[lo]) - a[lo]
        f[~lo] = (1.0 - a[~lo]) - _erfc_flat(x[~lo])
        d = f * np.exp(x * x) * (1.0 / _TWO_OVER_SQRT_PI)  # f / f'
        x -= d / (1.0 + x * d)
    x[a == 1.0] = np.inf
    return np.copysign(x, y)


def _in_float64(fn, x):
    """Run a float64 NumPy kernel on any float array (CuPy arrays go through the host)."""
    xp = array_module(x)
    x64 = backend.to_device(x, backend.CPU).astype(np.float64, copy=False)
    out = _blocks(fn, x64).astype(x.dtype, copy=False)
    return out if xp is np else backend.to_device(out, backend.device_of(x))


# SciPy's kernels (the `fast` extra; cupyx's on the GPU) are used when present: ~40 NumPy passes
# per element make ours 2.5x slower (1M float64: erf 75 ms against 29, erfinv 140 against 40).
def _erf(x):
    sp = _special(x)
    return sp.erf(x) if sp is not None else _in_float64(_erf_flat, x)


def _erfc(x):
    sp = _special(x)
    return sp.erfc(x) if sp is not None else _in_float64(_erfc_flat, x)


def _erfinv(x):
    sp = _special(x)
    return sp.erfinv(x) if sp is not None else _in_float64(_erfinv_flat, x)


class Erf(Function):
    def forward(self, x):
        self.x = x
        return _erf(x)

    def backward(self, g):
        x = self.x
        return g * (_TWO_OVER_SQRT_PI * array_module(x).exp(-x * x))


class Erfc(Function):
    def forward(self, x):
        self.x = x
        return _erfc(x)

    def backward(self, g):
        x = self.x
        return g * (-_TWO_OVER_SQRT_PI * array_module(x).exp(-x * x))


class Erfinv(Function):
    def forward(self, x):
        self.y = _erfinv(x)
        return self.y

    def backward(self, g):  # 1 / erf'(y) = sqrt(pi)/2 exp(y^2)
        y = self.y
        return g * ((1.0 / _TWO_OVER_SQRT_PI) * array_module(y).exp(y * y))


def erf(input) -> Tensor:
    """The error function, 2/sqrt(pi) * integral of exp(-t^2) from 0 to x."""
    return Erf.apply(_float(input))


def erfc(input) -> Tensor:
    """1 - erf(x), without the cancellation for large x (erfc(10) = 2.1e-45)."""
    return Erfc.apply(_float(input))


def erfinv(input) -> Tensor:
    """The inverse of erf on (-1, 1): +-inf at +-1, nan outside."""
    return Erfinv.apply(_float(input))


# ---- trigonometric and hyperbolic ------------------------------------------------------------
class Tan(Function):
    def forward(self, x):
        self.y = array_module(x).tan(x)
        return self.y

    def backward(self, g):
        return g * (1 + self.y * self.y)


class Asin(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).arcsin(x)

    def backward(self, g):
        x = self.x
        return g / array_module(x).sqrt(1 - x * x)


class Acos(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).arccos(x)

    def backward(self, g):
        x = self.x
        return -g / array_module(x).sqrt(1 - x * x)


class Atan(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).arctan(x)

    def backward(self, g):
        return g / (1 + self.x * self.x)


class Sinh(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).sinh(x)

    def backward(self, g):
        return g * array_module(g).cosh(self.x)


class Cosh(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).cosh(x)

    def backward(self, g):
        return g * array_module(g).sinh(self.x)


class Asinh(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).arcsinh(x)

    def backward(self, g):
        x = self.x
        return g / array_module(x).sqrt(x * x + 1)


class Acosh(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).arccosh(x)

    def backward(self, g):
        x = self.x
        return g / array_module(x).sqrt(x * x - 1)


class Atanh(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).arctanh(x)

    def backward(self, g):
        return g / (1 - self.x * self.x)


class Atan2(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return array_module(a).arctan2(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        gr = g / (a * a + b * b)
        return (unbroadcast(gr * b, a.shape) if na else None), (unbroadcast(-gr * a, b.shape) if nb else None)


class Sinc(Function):
    def forward(self, x):
        xp = array_module(x)
        self.x, px = x, x * math.pi
        with np.errstate(invalid="ignore", divide="ignore"):
            self.px, y = px, xp.where(x == 0, 1, xp.sin(px) / px).astype(x.dtype, copy=False)
        return y

    def backward(self, g):  # (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 at x = 0
        xp, x, px = array_module(g), self.x, self.px
        with np.errstate(invalid="ignore", divide="ignore"):
            d = (px * xp.cos(px) - xp.sin(px)) / (px * x)
        return g * xp.where(x == 0, 0, d).astype(x.dtype, copy=False)


def tan(input) -> Tensor:
    """tan(x); its gradient is 1 + tan(x)^2."""
    return Tan.apply(_float(input))


def asin(input) -> Tensor:
    """arcsin(x) on [-1, 1], in [-pi/2, pi/2]."""
    return Asin.apply(_float(input))


def acos(input) -> Tensor:
    """arccos(x) on [-1, 1], in [0, pi]."""
    return Acos.apply(_float(input))


def atan(input) -> Tensor:
    """arctan(x), in (-pi/2, pi/2)."""
    return Atan.apply(_float(input))


def atan2(input, other) -> Tensor:
    """The angle of the point (other, input), in (-pi, pi], quadrant-aware."""
    return Atan2.apply(*_floats(input, other))


def sinh(input) -> Tensor:
    """sinh(x)."""
    return Sinh.apply(_float(input))


def cosh(input) -> Tensor:
    """cosh(x)."""
    return Cosh.apply(_float(input))


def asinh(input) -> Tensor:
    """arcsinh(x)."""
    return Asinh.apply(_float(input))


def acosh(input) -> Tensor:
    """arccosh(x) on [1, inf)."""
    return Acosh.apply(_float(input))


def atanh(input) -> Tensor:
    """arctanh(x) on (-1, 1)."""
    return Atanh.apply(_float(input))


def sinc(input) -> Tensor:
    """sin(pi x) / (pi x), 1 at x = 0 (the normalised sinc, as torch.sinc)."""
    return Sinc.apply(_float(input))


def deg2rad(input) -> Tensor:
    """Degrees to radians (integers give the default float)."""
    return mul(_float(input), math.pi / 180.0)


def rad2deg(input) -> Tensor:
    """Radians to degrees (integers give the default float)."""
    return mul(_float(input), 180.0 / math.pi)


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh


# ---- logs and exponentials ---------------------------------------------------------------------
class Log2(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).log2(x)

    def backward(self, g):
        return g / (self.x * _LN2)


class Log10(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).log10(x)

    def backward(self, g):
        return g / (self.x * _LN10)


class Exp2(Function):
    def forward(self, x):
        self.y = array_module(x).exp2(x)
        return self.y

    def backward(self, g):
        return g * (self.y * _LN2)


class LogAddExp(Function):
    """log(e^a + e^b) = max + log1p(e^-|a - b|), or its base-2 twin; equal infinities give themselves."""

    def forward(self, a, b, base2):
        xp = array_module(a)
        self.a, self.b, self.base2 = a, b, base2
        with np.errstate(invalid="ignore"):
            d = -xp.abs(a - b)
            tail = xp.log1p(xp.exp2(d)) * (1 / _LN2) if base2 else xp.log1p(xp.exp(d))
            return xp.where(xp.isinf(a) & (a == b), a, xp.maximum(a, b) + tail)

    def backward(self, g):  # d/da = 1 / (1 + e^(b - a)) (2^(b - a) in base 2)
        xp, a, b = array_module(g), self.a, self.b
        na, nb = self.needs_input_grad[:2]
        e = xp.exp2 if self.base2 else xp.exp
        with np.errstate(over="ignore", invalid="ignore"):
            ga = unbroadcast(g / (1 + e(b - a)), a.shape) if na else None
            gb = unbroadcast(g / (1 + e(a - b)), b.shape) if nb else None
        return ga, gb, None


def log2(input) -> Tensor:
    """Base-2 logarithm."""
    return Log2.apply(_float(input))


def log10(input) -> Tensor:
    """Base-10 logarithm."""
    return Log10.apply(_float(input))


def exp2(input) -> Tensor:
    """2 ** x."""
    return Exp2.apply(_float(input))


def logaddexp(input, other) -> Tensor:
    """log(exp(input) + exp(other)), without overflow."""
    return LogAddExp.apply(*_floats(input, other), False)


def logaddexp2(input, other) -> Tensor:
    """log2(2**input + 2**other), without overflow."""
    return LogAddExp.apply(*_floats(input, other), True)


class Xlogy(Function):
    def forward(self, x, y):
        xp = array_module(x)
        self.x, self.y = x, y
        with np.errstate(divide="ignore", invalid="ignore"):
            self.logy = xp.log(y)
            return xp.where((x == 0) & ~xp.isnan(y), 0, x * self.logy).astype(x.dtype, copy=False)

    def backward(self, g):  # log y (0 where x == 0 and y <= 0, as torch) and x / y
        xp, x, y = array_module(g), self.x, self.y
        nx, ny = self.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            gx = unbroadcast(xp.where((x == 0) & (y <= 0), 0, g * self.logy), x.shape).astype(g.dtype) if nx else None
            gy = unbroadcast(g * x / y, y.shape) if ny else None
        return gx, gy


def xlogy(input, other) -> Tensor:
    """input * log(other), 0 where input is 0 (unless other is nan): the entropy term."""
    return Xlogy.apply(*_floats(input, other))


def float_power(input, exponent) -> Tensor:
    """input ** exponent computed in float64, as torch.float_power."""
    to64 = lambda v: v.to(np.float64) if isinstance(v, Tensor) else float(v)  # noqa: E731
    return pow(to64(input), to64(exponent))


# ---- rounding and sign -------------------------------------------------------------------------
class Step(Function):
    # a piecewise-constant fn (trunc, sign): torch's gradient is zero, not missing, so the graph stays connected
    reads_inputs = False

    def forward(self, x, fn):
        return fn(x)

    def backward(self, g):
        return array_module(g).zeros_like(g), None


class Frac(Function):
    reads_inputs = False

    def forward(self, x):
        return x - array_module(x).trunc(x)

    def backward(self, g):
        return g


def trunc(input) -> Tensor:
    """Round towards zero; its gradient is zero."""
    xp = array_module(input._data)
    if input.dtype.kind != "f":
        return input.clone()  # integers are whole already
    return Step.apply(input, xp.trunc)


fix = trunc


def frac(input) -> Tensor:
    """The fractional part, x - trunc(x), with the sign of x; its gradient is 1."""
    if input.dtype.kind != "f":
        raise TypeError(f"frac: expected a floating point tensor, got {input.dtype} (its fraction is always 0)")
    return Frac.apply(input)


def sgn(input) -> Tensor:
    """-1, 0 or +1 (torch's sgn of a real tensor is its sign); its gradient is zero."""
    xp = array_module(input._data)
    if input.dtype.kind != "f":
        return _nograd(xp.sign, input)
    return Step.apply(input, xp.sign)


def signbit(input) -> Tensor:
    """True where the sign bit is set, including -0.0 and negative nan."""
    return _nograd(array_module(input._data).signbit, input)


class Fmod(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return array_module(a if hasattr(a, "shape") else b).fmod(a, b)

    def backward(self, g):  # d/db = -trunc(a / b)
        xp, a, b = array_module(g), self.a, self.b
        na, nb = self.needs_input_grad
        gb = unbroadcast(-g * xp.trunc(a / b), np.shape(b)) if nb else None
        return (unbroadcast(g, np.shape(a)) if na else None), gb


def fmod(input, other) -> Tensor:
    """C's fmod: the remainder of input / other rounded towards zero, with the sign of the
    dividend (torch.remainder's follows the divisor)."""
    a, b = operands(input, other)
    ref = a if isinstance(a, Tensor) else b
    if ref.dtype.kind in "iub":
        bd = b._data if isinstance(b, Tensor) else b
        if not array_module(ref._data).all(bd != 0):
            raise RuntimeError("fmod: integer division by zero (a divisor is 0)")
    return Fmod.apply(a, b)


class Copysign(Function):
    def forward(self, a, b):
        self.a = a
        self.sb = np.shape(b)
        self.y = array_module(a).copysign(a, b)
        return self.y

    def backward(self, g):  # d/da = y / a (+-1), 0 where a == 0; d/db = 0, as torch
        xp, a = array_module(g), self.a
        na, nb = self.needs_input_grad
        ga = None
        if na:
            with np.errstate(invalid="ignore", divide="ignore"):
                ga = unbroadcast(g * xp.where(a == 0, 0, self.y / a), a.shape).astype(g.dtype, copy=False)
        return ga, (xp.zeros(self.sb, dtype=g.dtype) if nb else None)


def copysign(input, other) -> Tensor:
    """|input| with the sign of other (sign bit included: copysign(1, -0.0) = -1); always float."""
    return Copysign.apply(*_floats(input, other))


def heaviside(input, values) -> Tensor:
    """0 where input < 0, `values` where input == 0, 1 where input > 0 (and 0 at nan, as torch)."""
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside: values must be a Tensor, got {type(values).__name__}")
    if values.dtype != input.dtype:
        raise RuntimeError(f"heaviside: input and values must have the same dtype, got {input.dtype} and {values.dtype}")
    return Heaviside.apply(input, values)


class Heaviside(Function):
    reads_inputs = False

    def forward(self, x, v):
        xp = array_module(x)
        return xp.where(x == 0, v, x > 0).astype(x.dtype, copy=False)

    def backward(self, g):
        raise RuntimeError("heaviside: the derivative is not implemented (as in torch); it is 0 almost "
                           "everywhere, so use a smooth step such as sigmoid(k * x) to train through it")


def isposinf(input) -> Tensor:
    """True where the input is +inf (never for integers)."""
    xp = array_module(input._data)
    return _nograd(lambda x: xp.isposinf(x) if x.dtype.kind == "f" else xp.zeros(x.shape, dtype=bool), input)


def isneginf(input) -> Tensor:
    """True where the input is -inf (never for integers)."""
    xp = array_module(input._data)
    return _nograd(lambda x: xp.isneginf(x) if x.dtype.kind == "f" else xp.zeros(x.shape, dtype=bool), input)


def isreal(input) -> Tensor:
    """True everywhere: lamina's tensors are real (torch's answer for every real dtype)."""
    return _nograd(lambda x: array_module(x).ones(x.shape, dtype=bool), input)


class NanToNum(Function):
    def forward(self, x, nan, posinf, neginf):
        self.x = x
        return array_module(x).nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):  # the replaced entries are constants
        return g * array_module(g).isfinite(self.x), None, None, None


def nan_to_num(input, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """nan -> `nan`, +-inf -> `posinf`/`neginf` (by default the dtype's largest finite values)."""
    if input.dtype.kind != "f":
        return input.clone()  # integers have neither
    return NanToNum.apply(input, nan, posinf, neginf)


# ---- binary and ternary composites ---------------------------------------------------------------
class Hypot(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = array_module(a).hypot(a, b)
        return self.y

    def backward(self, g):  # a / y and b / y
        na, nb = self.needs_input_grad
        gy = g / self.y
        return (unbroadcast(gy * self.a, self.a.shape) if na else None), (unbroadcast(gy * self.b, self.b.shape) if nb else None)


def hypot(input, other) -> Tensor:
    """sqrt(input^2 + other^2) without overflow or underflow in the squares."""
    return Hypot.apply(*_floats(input, other))


class Lerp(Function):
    def forward(self, a, b, w):
        xp = array_module(a)
        self.d, self.w = b - a, w
        self.sa, self.sb, self.sw = a.shape, b.shape, np.shape(w)
        # torch's two-sided form: exact at both ends (w = 0 gives a, w = 1 gives b)
        return xp.where(xp.asarray(w) < 0.5, a + w * self.d, b - self.d * (1 - w)).astype(self.d.dtype, copy=False)

    def backward(self, g):
        na, nb, nw = self.needs_input_grad
        w = self.w
        return (unbroadcast(g * (1 - w), self.sa) if na else None,
                unbroadcast(g * w, self.sb) if nb else None,
                unbroadcast(g * self.d, self.sw) if nw else None)


def lerp(input, end, weight) -> Tensor:
    """input + weight * (end - input), weight a number or a tensor (broadcast)."""
    a, b = _floats(input, end)
    if isinstance(weight, Tensor):
        weight = weight.to(a.dtype)
    elif not isinstance(weight, (int, float)):
        raise TypeError(f"lerp: weight must be a number or a Tensor, got {type(weight).__name__}")
    else:
        weight = float(weight)
    return Lerp.apply(a, b, weight)


class ClampBy(Function):
    """max(x, bound) or min(x, bound) with a tensor bound: at a tie the gradient goes to x, as
    torch's clamp_min/clamp_max give it (maximum() would split it in halves)."""

    def forward(self, x, bound, upper):
        xp = array_module(x)
        self.x, self.bound, self.upper = x, bound, upper
        return xp.minimum(x, bound) if upper else xp.maximum(x, bound)

    def backward(self, g):
        x, b = self.x, self.bound
        nx, nb = self.needs_input_grad[:2]
        keep = (x <= b) if self.upper else (x >= b)
        return (unbroadcast(g * keep, x.shape) if nx else None,
                unbroadcast(g * ~keep, b.shape) if nb else None, None)


def _clamp_by(input, bound, upper: bool, op: str) -> Tensor:
    if bound is None:
        raise TypeError(f"{op}: the bound must be a number or a Tensor, got None")
    if not isinstance(bound, Tensor):
        return clamp(input, max=bound) if upper else clamp(input, min=bound)
    a, b = operands(input, bound)
    return ClampBy.apply(a, b, upper)


def clamp_min(input, min) -> Tensor:
    """max(input, min), min a number or a tensor; the gradient flows to input where input >= min."""
    return _clamp_by(input, min, False, "clamp_min")


def clamp_max(input, max) -> Tensor:
    """min(input, max), max a number or a tensor; the gradient flows to input where input <= max."""
    return _clamp_by(input, max, True, "clamp_max")


def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """input + value * tensor1 * tensor2."""
    prod = mul(tensor1, tensor2)
    return add(input, prod if value == 1 else mul(prod, value))


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """input + value * tensor1 / tensor2 (an Adam-style update in one call)."""
    if all(isinstance(t, Tensor) and t.dtype.kind in "iub" for t in (tensor1, tensor2)):
        raise RuntimeError(f"addcdiv: integer tensor1 and tensor2 ({tensor1.dtype}, {tensor2.dtype}) are not "
                           "supported, as in torch; convert them to float first")
    quot = div(tensor1, tensor2)
    return add(input, quot if value == 1 else mul(quot, value))


class Logit(Function):
    def forward(self, x, eps):
        xp = array_module(x)
        z = x if eps is None else xp.clip(x, eps, 1 - eps)
        self.x, self.z, self.eps = x, z, eps
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.log(z / (1 - z))

    def backward(self, g):  # 1 / (z (1 - z)); 0 outside [eps, 1 - eps], nan outside [0, 1] without eps
        xp, x, z, eps = array_module(g), self.x, self.z, self.eps
        with np.errstate(divide="ignore", invalid="ignore"):
            d = g / (z * (1 - z))
        if eps is None:
            return xp.where((x < 0) | (x > 1), np.nan, d).astype(g.dtype, copy=False), None
        return xp.where((x < eps) | (x > 1 - eps), 0, d).astype(g.dtype, copy=False), None


def logit(input, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), the inverse of sigmoid; with eps, p is clamped to [eps, 1 - eps] first."""
    return Logit.apply(_float(input), eps)

