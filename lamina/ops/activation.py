"""Activation primitives and softmax / log_softmax, each with its backward beside it.

These are primitives rather than compositions because they sit on every layer's hot path:
one fused forward and one fused backward beat four or five small ops.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import Function, unbroadcast
from ..backend import array_module, blockwise
from ..tensor import Tensor
from .elementwise import _float, operands
from .reduce import rowdot, rowsum

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class ReLU(Function):
    # The mask is kept as bool, a quarter of the memory of a float one (which NumPy would
    # multiply about 1.8x faster: 20 MB more activation memory on a ResNet-8 step for 0.2 ms)
    def forward(self, x):
        xp = array_module(x)
        self.mask, out = xp.empty(x.shape, dtype=bool), xp.empty_like(x)

        def relu(x, mask, out):
            xp.greater(x, 0, out=mask)
            xp.multiply(x, mask, out=out)
        blockwise(relu, x, self.mask, out)
        return out

    def backward(self, g):
        xp = array_module(g)
        gx = xp.empty_like(g)
        blockwise(lambda g, mask, gx: xp.multiply(g, mask, out=gx), g, self.mask, gx)
        return gx


ReLU.reads_inputs = False  # backward reads only its own mask


class LeakyReLU(Function):
    def forward(self, x, slope):
        self.mask = x > 0
        self.slope = slope
        return array_module(x).where(self.mask, x, x * slope)

    def backward(self, g):
        return array_module(g).where(self.mask, g, g * self.slope), None


class ELU(Function):
    def forward(self, x, alpha):
        xp = array_module(x)
        self.mask, self.x, self.alpha = x > 0, x, alpha
        return xp.where(self.mask, x, alpha * xp.expm1(xp.minimum(x, 0)))  # alpha * (e^x - 1) below 0

    def backward(self, g):
        # alpha e^x, not (forward's value) + alpha: that sum cancels to 0 below about -17 (float32)
        xp = array_module(g)
        return xp.where(self.mask, g, g * (self.alpha * xp.exp(xp.minimum(self.x, 0)))), None


class GELU(Function):
    # Written pass by pass, in place where it can be: every NumPy ufunc is one trip through
    # memory and a temporary, and GELU sits on every Transformer MLP (GPT's was 14% of a step).
    def forward(self, x, approximate):
        xp = array_module(x)
        self.x, self.approximate = x, approximate
        if approximate == "tanh":  # 0.5 x (1 + tanh(c (x + 0.044715 x^3)))
            t = xp.multiply(x, x, out=xp.empty_like(x))  # out= keeps 0-d results arrays
            t *= 0.044715 * _SQRT_2_OVER_PI
            t += _SQRT_2_OVER_PI
            t *= x
            self.t = xp.tanh(t, out=t)
            y = t + 1.0
            y *= x
            y *= 0.5
            return y
        # x Phi(x), Phi(x) = 0.5 (1 + erf(x / sqrt 2))
        cdf = _erf(xp.multiply(x, _INV_SQRT_2, out=xp.empty_like(x)))
        cdf += 1.0
        cdf *= 0.5
        self.cdf = cdf
        return x * cdf

    def backward(self, g):
        x, xp = self.x, array_module(g)
        if self.approximate == "tanh":  # 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 * 0.044715 x^2)
            t = self.t
            d = xp.multiply(t, t, out=xp.empty_like(t))
            xp.subtract(1.0, d, out=d)
            d *= x
            d *= 0.5 * _SQRT_2_OVER_PI
            s = xp.multiply(x, x, out=xp.empty_like(x))
            s *= 3 * 0.044715
            s += 1.0
            d *= s
            d += xp.multiply(t, 0.5, out=s)
            d += 0.5
        else:  # Phi(x) + x phi(x)
            d = xp.multiply(x, x, out=xp.empty_like(x))
            d *= -0.5
            xp.exp(d, out=d)
            d *= x
            d *= _INV_SQRT_2PI
            d += self.cdf
        d *= g
        return d, None


_scipy = []  # scipy.special once loaded (or None without it): imported on first use, not with lamina


def _special(x):
    """scipy.special (cupyx.scipy.special on the GPU) for the erf kernel NumPy lacks; None
    when SciPy (the `fast` extra) is not installed."""
    if array_module(x) is not np:
        import cupyx.scipy.special as sp

        return sp
    if not _scipy:
        try:
            import scipy.special as sp
        except ImportError:
            sp = None
        _scipy.append(sp)
    return _scipy[0]


def _erf(x):
    """erf on NumPy or CuPy arrays, keeping the dtype (NumPy itself has no erf)."""
    if x.dtype == np.float32 and array_module(x) is np:
        return _erf32(x)
    sp = _special(x)
    if sp is not None:
        return sp.erf(x)
    return np.vectorize(math.erf, otypes=[x.dtype])(x)  # exact but slow: install the `fast` extra


# Abramowitz & Stegun 7.1.26: erf(x) = 1 - (a1 t + ... + a5 t^5) exp(-x^2), t = 1 / (1 + p|x|)
_AS_P = 0.3275911
_AS_A = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)  # a5 .. a1


def _erf32(x):
    """erf for float32 NumPy arrays in NumPy's SIMD ufuncs: within 6e-7 of the exact value,
    a few float32 ulps, and 6x faster than scipy.special.erf, which loops element by element."""
    ax = np.abs(x, out=np.empty_like(x))  # out= keeps 0-d results arrays
    t = np.multiply(ax, np.float32(_AS_P), out=np.empty_like(x))
    t += 1.0
    np.reciprocal(t, out=t)
    y = np.multiply(t, np.float32(_AS_A[0]), out=np.empty_like(x))
    for a in _AS_A[1:]:  # Horner
        y += np.float32(a)
        y *= t
    np.square(ax, out=ax)
    np.negative(ax, out=ax)
    np.exp(ax, out=ax)
    y *= ax
    np.subtract(1.0, y, out=y)
    return np.copysign(y, x, out=y)


def _sigmoid(x):
    """1 / (1 + exp(-x)), as torch computes it: accurate to a few ulps at both tails (the old
    0.5 * (1 + tanh(x / 2)) lost every digit below about -17 in float32, giving sigmoid(-20) = 0),
    and faster, as NumPy's SIMD exp beats its tanh (1M float32: 4.0 ms against 6.6 ms; float64 3x).
    Computed in place in one new array."""
    xp = array_module(x)
    y = xp.negative(x, out=xp.empty_like(x))  # out= keeps 0-d results arrays
    with np.errstate(over="ignore"):  # exp(-x) = inf below about -88 (float32) gives 1 / inf = 0, the limit
        xp.exp(y, out=y)
    y += 1.0
    return xp.reciprocal(y, out=y)


class SiLU(Function):
    def forward(self, x):
        self.x = x
        self.s = _sigmoid(x)
        return x * self.s

    def backward(self, g):
        s = self.s
        return g * s * (1 + self.x * (1 - s))


class Softplus(Function):
    def forward(self, x, beta, threshold):
        xp = array_module(x)
        self.x, self.beta, self.threshold = x, beta, threshold
        bx = x * beta
        # log(1 + e^bx) / beta, computed stably; linear above the threshold as in PyTorch
        soft = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
        return xp.where(bx > threshold, x, soft)

    def backward(self, g):
        xp = array_module(g)
        bx = self.x * self.beta
        return xp.where(bx > self.threshold, g, g * _sigmoid(bx)), None, None


class Softmax(Function):
    def forward(self, x, dim):
        xp = array_module(x)
        e = xp.subtract(x, x.max(axis=dim, keepdims=True), out=xp.empty_like(x))  # the one new array
        xp.exp(e, out=e)
        last = dim in (-1, x.ndim - 1)
        total = rowsum(e)[..., None] if last else e.sum(axis=dim, keepdims=True)
        e *= 1.0 / total  # a multiply by the reciprocal is faster than a broadcast divide
        self.y, self.dim = e, dim
        return e

    def backward(self, g):
        y, xp = self.y, array_module(g)
        if self.dim in (-1, y.ndim - 1):
            s = rowdot(g, y)[..., None]
        else:
            s = xp.multiply(g, y, out=xp.empty_like(y)).sum(axis=self.dim, keepdims=True)
        gy = xp.subtract(g, s, out=xp.empty_like(y))  # y * (g - sum(g * y))
        gy *= y
        return gy, None


class LogSoftmax(Function):
    def forward(self, x, dim):
        xp = array_module(x)
        shifted = xp.subtract(x, x.max(axis=dim, keepdims=True), out=xp.empty_like(x))
        e = xp.exp(shifted)
        shifted -= xp.log(e.sum(axis=dim, keepdims=True))
        self.y, self.dim = shifted, dim
        return shifted

    def backward(self, g):
        xp = array_module(g)
        out = xp.exp(self.y, out=xp.empty_like(self.y))  # softmax, then g - softmax * sum(g) in place
        out *= g.sum(axis=self.dim, keepdims=True)
        xp.subtract(g, out, out=out)
        return out, None


def relu(input, inplace: bool = False) -> Tensor:
    return ReLU.apply(input)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return LeakyReLU.apply(input, negative_slope)


def elu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return ELU.apply(input, alpha)


def gelu(input, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit; approximate='tanh' is GPT-2's form."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(input, approximate)


def silu(input, inplace: bool = False) -> Tensor:
    return SiLU.apply(input)


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return Softplus.apply(input, beta, threshold)


def logsigmoid(input) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), stable at both tails (the threshold is off: no linear cut)."""
    return -Softplus.apply(-input, 1.0, math.inf)


def _dim(x: Tensor, dim, op: str) -> int:
    if dim is None:
        raise TypeError(f"{op}: dim must be given (an int), as in torch.{op}(x, dim=-1)")
    nd = max(x.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of shape {x.shape}")
    return dim % nd if x.ndim else None


def softmax(input, dim=None, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`, computed stably."""
    x = _float(input) if dtype is None else input.to(dtype)
    return Softmax.apply(x, _dim(x, dim, "softmax"))


def log_softmax(input, dim=None, dtype=None) -> Tensor:
    """x - logsumexp(x) along `dim`."""
    x = _float(input) if dtype is None else input.to(dtype)
    return LogSoftmax.apply(x, _dim(x, dim, "log_softmax"))


# ---- the rest of torch's activations (issue 14) ------------------------------------------------
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class Gated(Function):
    """A piecewise-linear y = fn(x) of slope 1 where its mask holds and 0 elsewhere (hardtanh,
    threshold, the shrinks): fn returns (y, mask), and backward is g * mask. Where the pieces meet,
    the mask is what torch's backward uses (hardtanh's gradient is 0 at min_val and max_val)."""

    reads_inputs = False

    def forward(self, x, fn):
        y, self.mask = fn(x)
        return y

    def backward(self, g):
        return g * self.mask, None


class Hardsigmoid(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).clip(x + 3, 0, 6) / 6

    def backward(self, g):
        x = self.x
        return g * (((x > -3) & (x < 3)) * (1 / 6))


class Hardswish(Function):
    def forward(self, x):
        self.x = x
        return x * (array_module(x).clip(x + 3, 0, 6) / 6)

    def backward(self, g):  # 0 up to -3 (included, as torch), x/3 + 1/2 below 3, then 1
        xp, x = array_module(g), self.x
        return g * xp.where(x <= -3, 0, xp.where(x < 3, x / 3 + 0.5, 1)).astype(g.dtype, copy=False)


class CELU(Function):
    def forward(self, x, alpha):
        xp = array_module(x)
        self.x, self.alpha, self.mask = x, alpha, x > 0
        return xp.where(self.mask, x, alpha * xp.expm1(xp.minimum(x, 0) / alpha))

    def backward(self, g):  # exp(x / alpha) below 0
        xp = array_module(g)
        return xp.where(self.mask, g, g * xp.exp(xp.minimum(self.x, 0) / self.alpha)), None


class Mish(Function):
    def forward(self, x):
        xp = array_module(x)
        self.x = x
        sp = xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))  # softplus, stable at both tails
        self.t = xp.tanh(sp)
        return x * self.t

    def backward(self, g):  # tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2)
        x, t = self.x, self.t
        return g * (t + x * _sigmoid(x) * (1 - t * t))


class PReLU(Function):
    def forward(self, x, w):
        self.x, self.w, self.mask = x, w, x > 0
        return array_module(x).where(self.mask, x, w * x)

    def backward(self, g):
        xp = array_module(g)
        nx, nw = self.needs_input_grad
        gx = xp.where(self.mask, g, g * self.w) if nx else None
        gw = unbroadcast(xp.where(self.mask, 0, g * self.x), self.w.shape) if nw else None
        return gx, gw


def hardsigmoid(input, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between."""
    return Hardsigmoid.apply(_float(input))


def hardswish(input, inplace: bool = False) -> Tensor:
    """x * hardsigmoid(x) (MobileNetV3)."""
    return Hardswish.apply(_float(input))


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val); the gradient is 1 strictly between the two."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")

    def fn(x):
        return array_module(x).clip(x, min_val, max_val), (x > min_val) & (x < max_val)
    return Gated.apply(input, fn)


def relu6(input, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6), hardtanh(x, 0, 6)."""
    return hardtanh(input, 0.0, 6.0)


def threshold(input, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value."""
    def fn(x):
        keep = x > threshold
        return array_module(x).where(keep, x, value).astype(x.dtype, copy=False), keep
    return Gated.apply(input, fn)


def _check_lambd(lambd: float, op: str) -> None:
    if not lambd >= 0:
        raise ValueError(f"{op}: lambd must be >= 0, got {lambd}")


def softshrink(input, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between (both ends included)."""
    _check_lambd(lambd, "softshrink")

    def fn(x):
        keep = array_module(x).abs(x) > lambd
        return (x - array_module(x).sign(x) * lambd) * keep, keep
    return Gated.apply(_float(input), fn)


def hardshrink(input, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0."""
    def fn(x):
        keep = array_module(x).abs(x) > lambd
        return x * keep, keep
    return Gated.apply(_float(input), fn)


class Softsign(Function):
    # one primitive rather than x / (1 + |x|) composed: the composed gradient, 1/d - x sign(x)/d^2,
    # cancels (torch's float32 gradient at 1e4 is 1e-4 off); 1/d^2 directly is exact
    def forward(self, x):
        self.d = array_module(x).abs(x) + 1
        return x / self.d

    def backward(self, g):
        return g / (self.d * self.d)


def softsign(input) -> Tensor:
    """x / (1 + |x|)."""
    return Softsign.apply(_float(input))


def tanhshrink(input) -> Tensor:
    """x - tanh(x)."""
    x = _float(input)
    return x - x.tanh()


def celu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)): ELU that stays C1 for any alpha."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (it divides x)")
    return CELU.apply(_float(input), alpha)


def selu(input, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017)."""
    return ELU.apply(_float(input), _SELU_ALPHA) * _SELU_SCALE


def mish(input, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    return Mish.apply(_float(input))


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along `dim`."""
    return softmax(-input, dim=dim, dtype=dtype)


def prelu(input, weight) -> Tensor:
    """x where x > 0, else weight * x, with one learned slope or one per channel (dim 1)."""
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: expected weight to be a scalar or 1-D tensor, got shape {weight.shape}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    n = weight.numel()
    if n != 1 and n != channels:
        raise RuntimeError(f"prelu: weight has {n} parameters but the input (shape {input.shape}) has "
                           f"{channels} channels in dim 1; expected 1 or {channels}")
    w = weight.reshape(()) if n == 1 else weight.reshape((n,) + (1,) * (input.ndim - 2))  # (C, 1, 1...)
    x, w = operands(input, w)
    return PReLU.apply(x, w)


def glu(input, dim: int = -1) -> Tensor:
    """a * sigmoid(b), where a and b are the two halves of the input along `dim`."""
    if input.ndim == 0:
        raise RuntimeError("glu: does not support 0-d tensors: there is no dimension to halve")
    d = _dim(input, dim, "glu")
    if input.shape[d] % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    a, b = _float(input).chunk(2, d)
    return a * b.sigmoid()


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomised leaky ReLU: in training each negative element gets its own slope drawn from
    U(lower, upper) (lamina's generator, so manual_seed fixes it); in eval the mean slope."""
    if lower > upper:
        raise ValueError(f"rrelu: the lower bound ({lower}) should be less than or equal to the upper bound ({upper})")
    x = _float(input)
    if not training:
        return LeakyReLU.apply(x, (lower + upper) / 2)
    from ..backend import to_device
    from ..creation import _rng

    slopes = _rng(None).uniform(lower, upper, x.shape).astype(x.dtype)
    return LeakyReLU.apply(x, to_device(slopes, x.device))
