"""Matrix products and linear-algebra functions under torch's top-level and Tensor names:
trace, kron, tensordot, inner, mv, addmm, baddbmm, addmv, cdist, det, inverse, ... (the
decompositions themselves live in lamina/linalg.py; these are the names torch also exposes
as lamina.<name> and x.<name>()).

Most are compositions of existing ops, so their gradients come for free: addmm is
beta * input + alpha * (mat1 @ mat2), kron a broadcast product, cov a centred matmul.
`CDist` is the one primitive here: a pairwise distance whose p = 2 gradient is two matmuls
and whose gradient is zero where two points coincide, as torch's.

Public functions are listed in __all__; METHODS are also Tensor methods.
"""
from __future__ import annotations

import warnings
from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd import Function, unbroadcast
from ..backend import array_module
from ..tensor import Tensor
from .elementwise import operands
from .index import masked_fill
from .linalg import bmm, matmul, mm, outer
from .reduce import cumprod, cumsum
from .shape import _dim, cat, diagonal, narrow

__all__ = ["det", "logdet", "slogdet", "inverse", "pinverse", "cholesky", "qr", "svd", "matrix_power", "matrix_exp",
           "trace", "kron", "tensordot", "inner", "mv", "addmm", "addmv", "addbmm", "baddbmm", "addr",
           "chain_matmul", "cdist", "cross", "cov", "corrcoef", "vander", "trapezoid", "trapz",
           "cumulative_trapezoid", "histc", "bincount"]
METHODS = ["det", "logdet", "slogdet", "inverse", "pinverse", "cholesky", "qr", "svd", "matrix_power", "matrix_exp",
           "trace", "kron", "inner", "mv", "addmm", "addmv", "addbmm", "baddbmm", "addr", "cross", "cov", "corrcoef",
           "histc", "bincount"]

svd_result = namedtuple("svd", ["U", "S", "V"])  # torch.svd's V, not linalg.svd's Vh


def _la():
    """lamina.linalg, which builds on the ops package, so it is imported when first used."""
    from .. import linalg

    return linalg


def _float_matrices(A, op: str) -> Tensor:
    """A batch of float matrices (..., m, n); torch raises RuntimeError for other dtypes."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    if A.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor, got {A.dtype}")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: expected a tensor of at least 2 dims (..., m, n), got shape {A.shape}")
    return A


def _const(a) -> Tensor:
    return Tensor._make(a, None)


# ---- torch's top-level names for lamina.linalg ----------------------------------------------
def det(input) -> Tensor:
    """The determinant of each square matrix of input (..., n, n)."""
    return _la().det(_float_matrices(input, "det"))


def slogdet(input):
    """(sign, logabsdet) of each square matrix, with det = sign * exp(logabsdet)."""
    return _la().slogdet(_float_matrices(input, "slogdet"))


def logdet(input) -> Tensor:
    """log(det(input)): NaN where the determinant is negative, -inf where it is zero."""
    sign, logabsdet = slogdet(input)
    xp = array_module(sign._data)
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = xp.log(sign._data)  # 0 for a positive determinant, NaN for a negative one, -inf for 0
    return logabsdet + _const(shift.astype(input.dtype, copy=False))


def inverse(input) -> Tensor:
    """The inverse of each square matrix (linalg.inv)."""
    return _la().inv(_float_matrices(input, "inverse"))


def pinverse(input, rcond: float = 1e-15) -> Tensor:
    """The pseudo-inverse, dropping singular values below rcond times the largest (linalg.pinv's rtol)."""
    return _la().pinv(_float_matrices(input, "pinverse"), rtol=rcond)


def cholesky(input, upper: bool = False) -> Tensor:
    """The Cholesky factor, lower (or upper) triangular. Deprecated in torch for linalg.cholesky."""
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release. L = torch.cholesky(A) should be replaced with L = torch.linalg.cholesky(A) and "
                  "U = torch.cholesky(A, upper=True) with U = torch.linalg.cholesky(A).mH", UserWarning, stacklevel=2)
    return _la().cholesky(_float_matrices(input, "cholesky"), upper=upper)


def qr(input, some: bool = True):
    """(Q, R) with input = Q R; some=False gives the complete Q (m, m)."""
    return _la().qr(_float_matrices(input, "qr"), "reduced" if some else "complete")


def svd(input, some: bool = True, compute_uv: bool = True):
    """(U, S, V) with input = U diag(S) V^T (V, not Vh). some=False gives the full U and V;
    compute_uv=False gives S only, with U and V zero-filled (m, m) and (n, n) matrices."""
    _float_matrices(input, "svd")
    if not compute_uv:
        xp = array_module(input._data)
        m, n = input.shape[-2:]
        batch = input.shape[:-2]
        return svd_result(_const(xp.zeros(batch + (m, m), dtype=input.dtype)), _la().svdvals(input),
                          _const(xp.zeros(batch + (n, n), dtype=input.dtype)))
    U, S, Vh = _la().svd(input, full_matrices=not some)
    return svd_result(U, S, Vh.mT)


def matrix_power(input, n: int) -> Tensor:
    """input to the n-th power (linalg.matrix_power; a negative n inverts first)."""
    return _la().matrix_power(input, n)


def matrix_exp(input) -> Tensor:
    """The matrix exponential of each square matrix (linalg.matrix_exp)."""
    return _la().matrix_exp(_float_matrices(input, "matrix_exp"))


def trace(input) -> Tensor:
    """The sum of the main diagonal of a 2-D tensor (integers sum to int64)."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix (2-D), but got a tensor of shape {input.shape}")
    return diagonal(input).sum()


# ---- products -------------------------------------------------------------------------------
def kron(input, other) -> Tensor:
    """The Kronecker product: block (i, j, ...) is input[i, j, ...] * other, with the shorter
    shape padded with leading ones."""
    a, b = operands(input, other)
    n = max(a.ndim, b.ndim)
    sa = (1,) * (n - a.ndim) + a.shape
    sb = (1,) * (n - b.ndim) + b.shape
    # interleaved dims: a as (a0, 1, a1, 1, ...) times b as (1, b0, 1, b1, ...)
    wide = a.reshape(sum(((s, 1) for s in sa), ())) * b.reshape(sum(((1, s) for s in sb), ()))
    return wide.reshape(tuple(x * y for x, y in zip(sa, sb)))


def _tensordot_dims(a: Tensor, b: Tensor, dims):
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims <= ndim of both inputs ({a.ndim} and {b.ndim}), but got "
                               f"dims={dims}")
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    try:
        da, db = dims
    except (TypeError, ValueError):
        raise TypeError(f"tensordot: dims must be an int or a pair of lists of dims, got {dims!r}") from None
    da = [da] if isinstance(da, (int, np.integer)) else list(da)
    db = [db] if isinstance(db, (int, np.integer)) else list(db)
    if len(da) != len(db):
        raise RuntimeError(f"tensordot: both dimension lists should have same length, got {da} and {db}")
    for t, ds in ((a, da), (b, db)):
        for d in ds:
            if not -max(t.ndim, 1) <= d < max(t.ndim, 1):
                raise IndexError(f"tensordot: dim {d} is out of range for a tensor of shape {t.shape}")
    return [int(d) % a.ndim for d in da], [int(d) % b.ndim for d in db]


def tensordot(a, b, dims=2, out=None) -> Tensor:
    """Sum the products of a and b over dims: the last `dims` dims of a with the first of b (an
    int), or a's dims[0] with b's dims[1] (a pair of lists). One matmul of the two reshaped."""
    a, b = operands(a, b)
    da, db = _tensordot_dims(a, b, dims)
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but the first has size "
                               f"{a.shape[i]} in dim {i} and the second has size {b.shape[j]} in dim {j} "
                               f"(shapes {a.shape} and {b.shape})")
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [j for j in range(b.ndim) if j not in db]
    size = lambda t, ds: int(np.prod([t.shape[i] for i in ds], dtype=np.int64))  # noqa: E731
    k = size(a, da)
    lhs = a.permute(*free_a, *da).reshape(size(a, free_a), k)  # (free of a, contracted)
    rhs = b.permute(*db, *free_b).reshape(k, size(b, free_b))  # (contracted, free of b)
    return matmul(lhs, rhs).reshape(tuple(a.shape[i] for i in free_a) + tuple(b.shape[j] for j in free_b))


def inner(input, other) -> Tensor:
    """The dot product over the last dim of each: shape input.shape[:-1] + other.shape[:-1]
    (a 0-d operand multiplies)."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner: the last dimension must match on both input tensors but got shapes "
                           f"{input.shape} and {other.shape}")
    return tensordot(input, other, ([-1], [-1]))


def mv(input, vec) -> Tensor:
    """The product of a matrix (n, m) and a vector (m,)."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix (2-D) and a vector (1-D), got shapes {input.shape} and {vec.shape}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"mv: size mismatch, got a matrix of shape {input.shape} and a vector of shape {vec.shape}")
    return matmul(input, vec)


def _ignored(t: Tensor) -> Tensor:
    """Zeros shaped like t, with a zero gradient for t: what a factor of 0 makes of t in torch's
    addmm family, where NaN and inf in t do not propagate."""
    return masked_fill(t, _const(array_module(t._data).ones(t.shape, dtype=bool)), 0)


def _add_scaled(input, product: Tensor, beta, alpha, op: str) -> Tensor:
    """beta * input + alpha * product, input broadcast to the product's shape; a zero factor
    drops its term, NaN included, as in torch."""
    try:
        fits = np.broadcast_shapes(input.shape, product.shape) == product.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{op}: input of shape {input.shape} does not broadcast to the product's shape "
                           f"{product.shape}")
    left = _ignored(input) if beta == 0 else (input if beta == 1 else input * beta)
    right = _ignored(product) if alpha == 0 else (product if alpha == 1 else product * alpha)
    return left + right


def _need(t, ndim: int, name: str, op: str):
    if t.ndim != ndim:
        kind = {1: "a vector", 2: "a matrix", 3: "a batch of matrices"}[ndim]
        raise RuntimeError(f"{op}: {name} must be {kind} ({ndim}-D), got shape {t.shape}")


def _mm_shapes(a, b, names, op):
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"{op}: {names[0]} and {names[1]} shapes cannot be multiplied "
                           f"({'x'.join(map(str, a.shape))} and {'x'.join(map(str, b.shape))})")


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), input broadcast to (n, p)."""
    _need(mat1, 2, "mat1", "addmm")
    _need(mat2, 2, "mat2", "addmm")
    _mm_shapes(mat1, mat2, ("mat1", "mat2"), "addmm")
    return _add_scaled(input, mm(mat1, mat2), beta, alpha, "addmm")


def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    _need(mat, 2, "mat", "addmv")
    _need(vec, 1, "vec", "addmv")
    return _add_scaled(input, mv(mat, vec), beta, alpha, "addmv")


def _bmm_shapes(b1, b2, op):
    _need(b1, 3, "batch1", op)
    _need(b2, 3, "batch2", op)
    if b1.shape[0] != b2.shape[0]:
        raise RuntimeError(f"{op}: batch1 and batch2 must have same number of batches, got {b1.shape[0]} and "
                           f"{b2.shape[0]}")
    _mm_shapes(b1, b2, ("batch1", "batch2"), op)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    _bmm_shapes(batch1, batch2, "addbmm")
    return _add_scaled(input, bmm(batch1, batch2).sum(0), beta, alpha, "addbmm")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), per batch element."""
    _bmm_shapes(batch1, batch2, "baddbmm")
    return _add_scaled(input, bmm(batch1, batch2), beta, alpha, "baddbmm")


def addr(input, vec1, vec2, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    _need(vec1, 1, "vec1", "addr")
    _need(vec2, 1, "vec2", "addr")
    return _add_scaled(input, outer(vec1, vec2), beta, alpha, "addr")


def chain_matmul(*matrices, out=None) -> Tensor:
    """The product of 2-D matrices in the cheapest order. Deprecated in torch for linalg.multi_dot."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
                  "multiple parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise RuntimeError("chain_matmul: expected one or more matrices")
    for i, t in enumerate(matrices):
        if t.ndim != 2:
            raise RuntimeError(f"chain_matmul: matrix {i} must be 2-D, got shape {t.shape}")
    if len(matrices) == 1:
        return matrices[0].clone()
    return _la().multi_dot(list(matrices))


# ---- distances ------------------------------------------------------------------------------
def _T(a):
    return a.swapaxes(-1, -2)


class CDist(Function):
    """||x1[..., i, :] - x2[..., j, :]||_p for every pair: (..., P, M), (..., R, M) -> (..., P, R).
    For p = 2 past 25 rows, the forward is ||a||^2 + ||b||^2 - 2 a.b as one matmul (torch's
    `use_mm` path); the p = 2 backward is always two matmuls."""

    def forward(self, x1, x2, p, use_mm):
        xp = array_module(x1)
        self.x1, self.x2, self.p = x1, x2, p
        if p == 2 and use_mm:
            sq = (x1 * x1).sum(-1)[..., :, None] + (x2 * x2).sum(-1)[..., None, :] - 2 * (x1 @ _T(x2))
            d = xp.sqrt(xp.maximum(sq, 0))
        else:
            diff = x1[..., :, None, :] - x2[..., None, :, :]  # (..., P, R, M)
            a = xp.abs(diff)
            if diff.shape[-1] == 0:
                d = xp.zeros(diff.shape[:-1], dtype=x1.dtype)
            elif p == 0:
                d = (a != 0).sum(-1).astype(x1.dtype)
            elif p == 1:
                d = a.sum(-1)
            elif p == 2:
                d = xp.sqrt((diff * diff).sum(-1))
            elif p == np.inf:
                d = a.max(-1)
            else:
                d = (a ** p).sum(-1) ** (1.0 / p)
        self.d = d
        return d

    def backward(self, g):
        xp = array_module(g)
        x1, x2, p, d = self.x1, self.x2, self.p, self.d
        if p == 0:
            return xp.zeros_like(x1), xp.zeros_like(x2), None, None
        if p == 2:  # w = g / d (0 where the points coincide); g1_i = x1_i sum_j w_ij - sum_j w_ij x2_j
            with np.errstate(divide="ignore", invalid="ignore"):
                w = xp.where(d == 0, 0, g / d)
            g1 = x1 * w.sum(-1)[..., None] - w @ x2
            g2 = x2 * w.sum(-2)[..., None] - _T(w) @ x1
        else:
            diff = x1[..., :, None, :] - x2[..., None, :, :]  # (..., P, R, M)
            s, gd = xp.sign(diff), g[..., None]
            if p == 1:
                h = s * gd
            elif p == np.inf:  # every coordinate at the maximum gets the whole gradient, as in torch
                h = s * (xp.abs(diff) == d[..., None]) * gd
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    h = s * xp.abs(diff) ** (p - 1) * (g / d ** (p - 1))[..., None]
                    h = xp.where((d[..., None] == 0) | (diff == 0), 0, h)
            g1, g2 = h.sum(-2), -h.sum(-3)
        return unbroadcast(g1, x1.shape), unbroadcast(g2, x2.shape), None, None


_CDIST_MODES = (None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p: float = 2.0, compute_mode=None) -> Tensor:
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M):
    (..., P, R), batch dims broadcast. compute_mode picks the matmul form for p = 2 as torch's."""
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D (shape {t.shape})")
        if t.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {t.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                           f"X2: {x2.shape[-1]} (shapes {x1.shape} and {x2.shape})")
    if not p >= 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got p={p}")
    try:
        np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise RuntimeError(f"cdist: the batch dims of X1 {x1.shape} and X2 {x2.shape} do not broadcast") from None
    x1, x2 = operands(x1, x2)
    P, R = x1.shape[-2], x2.shape[-2]
    use_mm = compute_mode == "use_mm_for_euclid_dist" or (compute_mode in (None, _CDIST_MODES[1]) and (P > 25 or R > 25))
    return CDist.apply(x1, x2, float(p), use_mm)


def cross(input, other, dim=None) -> Tensor:
    """The cross product of 3-vectors along dim. Without dim, torch's legacy default: the first
    dim of size 3 (with a deprecation warning, as torch); linalg.cross defaults to the last."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        try:
            shape = np.broadcast_shapes(input.shape, other.shape)
        except ValueError:
            raise RuntimeError(f"cross: the shapes {input.shape} and {other.shape} do not broadcast") from None
        sizes3 = [i for i, s in enumerate(shape) if s == 3]
        if not sizes3:
            raise RuntimeError(f"cross: no dimension of size 3 in input (shapes {input.shape} and {other.shape})")
        dim = sizes3[0]
    return _la().cross(input, other, dim=dim)


# ---- statistics -----------------------------------------------------------------------------
def _weights(w, n: int, name: str, kind: str) -> Tensor:
    if w.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} of shape {w.shape}")
    if w.numel() != n:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the input "
                           f"but got {w.numel()} != {n}")
    if kind == "int" and w.dtype.kind not in "iu":
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} with {w.dtype} dtype")
    if kind == "float" and w.dtype.kind != "f":
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got {name} with {w.dtype} dtype")
    if bool((w._data < 0).any()):
        raise RuntimeError(f"cov(): {name} cannot be negative")
    return w.reshape(-1)


def cov(input, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """The covariance of the variables in the rows of input (one variable if 1-D) over its
    columns (observations), with frequency (integer) and/or importance (float) weights. The
    divisor is sum(w) - correction (weighted as torch and NumPy do with aweights); a 1-by-1
    result is 0-d."""
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input of shape "
                           f"{input.shape}")
    if isinstance(correction, bool) or not isinstance(correction, (int, np.integer)):
        raise TypeError(f"cov(): argument 'correction' must be int, not {type(correction).__name__}")
    x = input if input.ndim == 2 else input.reshape(1, -1)  # (variables, observations)
    if x.dtype.kind != "f":
        x = x.to(backend.get_default_dtype())
    n = x.shape[1]
    w = None
    if fweights is not None:
        w = _weights(fweights, n, "fweights", "int").to(x.dtype)
    if aweights is not None:
        aw = _weights(aweights, n, "aweights", "float")
        w = aw if w is None else w * aw
    if w is None:
        avg, w_sum = x.mean(1), n
        norm = w_sum - correction
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if aweights is not None and correction != 0:
            norm = w_sum - correction * (w * aw).sum() / w_sum
        else:
            norm = w_sum - correction
    if float(norm._data if isinstance(norm, Tensor) else norm) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        norm = 0.0 if not isinstance(norm, Tensor) else _ignored(norm)
    xm = x - avg.unsqueeze(1)
    c = matmul(xm, (xm if w is None else xm * w).mT)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (c / norm).squeeze()


def corrcoef(input) -> Tensor:
    """Pearson's correlation coefficients of the variables in the rows of input, clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    stddev = diagonal(c).sqrt()
    c = c / stddev.reshape(-1, 1)
    c = c / stddev.reshape(1, -1)
    return c.clip(-1, 1)


def vander(x, N=None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D x: column j is x^(N-1-j) (increasing: x^j); integers
    become int64, as in torch."""
    if x.ndim != 1:
        raise RuntimeError(f"vander: x must be a one-dimensional tensor, got shape {x.shape}")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError(f"vander: N must be non-negative, got {N}")
    if x.dtype.kind != "f":
        x = x.to(np.int64)
    xp = array_module(x._data)
    ones = _const(xp.ones((x.shape[0], min(n, 1)), dtype=x.dtype))
    if n > 1:  # the powers as a running product, whose gradient is exact where x is 0
        ones = cat([ones, cumprod(x.unsqueeze(1).expand(x.shape[0], n - 1), 1)], 1)
    return ones if increasing else ones.flip(1)


# ---- integration ----------------------------------------------------------------------------
def _ends(t: Tensor, dim: int):
    """t without its last and without its first entry along dim."""
    n = t.shape[dim]
    return narrow(t, dim, 0, n - 1), narrow(t, dim, 1, n - 1)


def _spacing(y: Tensor, x: Tensor, dim: int, op: str) -> Tensor:
    """x's differences along dim, shaped to broadcast against y's (torch's rule: a 1-D x runs
    along dim, a shorter x gets leading ones)."""
    if x.dtype == np.bool_ or y.dtype == np.bool_:
        raise RuntimeError(f"{op}: received a bool input for `x` or `y`, but bool is not supported")
    if x.ndim == 1:
        if x.shape[0] != y.shape[dim]:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point (x has {x.shape[0]}, "
                               f"y has {y.shape[dim]} along dim {dim})")
        x = x.reshape(tuple(x.shape[0] if i == dim else 1 for i in range(y.ndim)))
    elif x.ndim < y.ndim:
        x = x.reshape((1,) * (y.ndim - x.ndim) + x.shape)
    left, right = _ends(x, dim)
    return right - left


def _check_spacing(x, dx, op: str):
    if x is not None and dx is not None:
        raise TypeError(f"{op}: pass either x (sample points) or dx (their spacing), not both")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{op}: x must be a Tensor of sample points, got {type(x).__name__}; "
                        f"pass a constant spacing as dx=")


def trapezoid(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along dim, with sample points x or a constant spacing dx (default 1)."""
    _check_spacing(x, dx, "trapezoid")
    d = _dim(y, dim, "trapezoid")
    if y.shape[d] == 0:  # no samples: 0, as NumPy
        return _const(array_module(y._data).zeros(y.shape[:d] + y.shape[d + 1:], dtype=y.dtype))
    if x is not None:
        left, right = _ends(y, d)
        return (_spacing(y, x, d, "trapezoid") * (right + left) / 2.0).sum(d)
    if y.dtype == np.bool_:
        raise RuntimeError("trapezoid: received a bool input for `y`, but bool is not supported")
    dx = 1 if dx is None else dx
    # (sum - (first + last) / 2) * dx: torch's form for a constant spacing, same rounding
    return (y.sum(d) - (y.select(d, 0) + y.select(d, -1)) * 0.5) * dx


def trapz(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """trapezoid's older name."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral along dim: one entry fewer than y there."""
    _check_spacing(x, dx, "cumulative_trapezoid")
    d = _dim(y, dim, "cumulative_trapezoid")
    if y.shape[d] == 0:  # nothing to integrate: an empty result of y's shape
        return y.clone() if y.dtype.kind == "f" else y.to(backend.get_default_dtype())
    left, right = _ends(y, d)
    if x is not None:
        return cumsum((left + right) * _spacing(y, x, d, "cumulative_trapezoid"), d) / 2.0
    if y.dtype == np.bool_:
        raise RuntimeError("cumulative_trapezoid: received a bool input for `y`, but bool is not supported")
    return cumsum((1 if dx is None else dx) / 2.0 * (left + right), d)


# ---- counting (no gradient) ------------------------------------------------------------------
def histc(input, bins: int = 100, min=0, max=0) -> Tensor:
    """The counts of input's elements in `bins` equal bins over [min, max] (both 0: the data's
    range); elements outside are ignored, and max falls in the last bin. Not differentiable."""
    if input.dtype.kind != "f":
        raise NotImplementedError(f"histc: not implemented for {input.dtype} tensors; convert to a float dtype")
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, but got {bins}")
    xp = array_module(input._data)
    a = input._data.reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"histc: range of [{lo}, {hi}] is not finite")
    if not lo < hi:
        raise RuntimeError(f"histc: max must be larger than min, got min={lo} and max={hi}")
    dt = input.dtype.type
    left, right = dt(lo), dt(hi)  # the outer bin edges in input's dtype, as torch's linspace gives them
    a = a[(a >= left) & (a <= right)]  # NaN fails both
    pos = ((a - left) * dt(bins) / (right - left)).astype(np.int64)  # in input's dtype, as torch
    pos = xp.minimum(pos, bins - 1)  # the last bin holds its right edge
    return _const(xp.bincount(pos, minlength=bins).astype(input.dtype))


def bincount(input, weights=None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in a 1-D tensor of non-negative integers (summing
    weights instead of ones if given): int64, or the weights' float (float64 for other weights;
    int64 for an empty input, as torch)."""
    if input.dtype.kind not in "iu":
        raise NotImplementedError(f"bincount: only integer inputs are supported, got {input.dtype}")
    a = input._data
    if a.ndim != 1 or (a.size and bool((a < 0).any())):
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs (got shape {input.shape})")
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    xp = array_module(a)
    if weights is None or a.size == 0:  # torch counts an empty input in int64 whatever the weights
        return _const(xp.bincount(a, minlength=minlength).astype(np.int64))
    if weights.ndim != 1 or weights.shape[0] != a.shape[0]:
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input, got shapes "
                           f"{weights.shape} and {input.shape}")
    dtype = np.float32 if weights.dtype == np.float32 else np.float64
    return _const(xp.bincount(a, weights=weights._data.astype(np.float64), minlength=minlength).astype(dtype))
