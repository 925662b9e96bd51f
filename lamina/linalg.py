"""lamina.linalg: torch.linalg's names, each with a gradient.

The forwards are NumPy's LAPACK routines (`xp.linalg`: CuPy's on the GPU), batched over
leading dims; the backwards are written here, as torch writes them (its FunctionsManual.cpp
is the reference for the formulas). svd, qr and eigh have gradients where the factorisation is well defined:
distinct singular values / eigenvalues, as in torch. Ops with several outputs (slogdet, qr,
svd, eigh) are one graph node whose outputs travel packed in one array (`Packed`).

>>> A = lamina.randn(3, 3, requires_grad=True)
>>> lamina.linalg.solve(A @ A.mT + 3 * lamina.eye(3), lamina.ones(3)).sum().backward()
"""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .autograd import Function, unbroadcast
from .backend import array_module
from .tensor import Tensor

__all__ = ["LinAlgError", "norm", "vector_norm", "matrix_norm", "inv", "solve", "det", "slogdet", "qr", "svd",
           "svdvals", "cholesky", "eigh", "eigvalsh", "pinv", "matrix_rank", "cross", "vecdot", "multi_dot",
           "matrix_power", "matrix_exp", "lu_factor"]


class LinAlgError(RuntimeError):
    """A matrix that the operation cannot handle: singular, not positive-definite (torch.linalg.LinAlgError)."""


slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
qr_result = namedtuple("qr", ["Q", "R"])
svd_result = namedtuple("svd", ["U", "S", "Vh"])
lu_factor_result = namedtuple("lu_factor", ["LU", "pivots"])
eigh_result = namedtuple("eigh", ["eigenvalues", "eigenvectors"])


# ---- checks and array helpers --------------------------------------------------------------
def _float(A: Tensor, op: str) -> Tensor:
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    if A.dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}: expected a float32 or float64 tensor, got {A.dtype}")
    return A


def _matrices(A: Tensor, op: str, square: bool = True) -> Tensor:
    """A batch of matrices (..., m, n), square unless told otherwise."""
    _float(A, op)
    if A.ndim < 2:
        raise RuntimeError(f"{op}: expected a tensor of at least 2 dims (..., m, n), got shape {A.shape}")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: expected batches of square matrices, got {A.shape[-2]} by {A.shape[-1]} "
                           f"matrices (shape {A.shape})")
    return A


def _first_bad(bad) -> str:
    """' (batch element i)' for the first True of a batch of flags, '' for a single matrix."""
    if getattr(bad, "ndim", 0) == 0 or not bad.any():
        return ""
    return f" (batch element {int(bad.reshape(-1).argmax())})"


def _T(a):
    return a.swapaxes(-1, -2)


def _inv(a, op: str):
    xp = array_module(a)
    try:
        return xp.linalg.inv(a)
    except np.linalg.LinAlgError:
        where = _first_bad(xp.linalg.slogdet(a)[0] == 0) if a.ndim > 2 else ""
        raise LinAlgError(f"{op}: the matrix is singular{where}, so it has no inverse") from None


def _eye_minus(a):
    """I - a for a batch of square matrices."""
    xp = array_module(a)
    return xp.eye(a.shape[-1], dtype=a.dtype) - a


class Packed(Function):
    """Base for ops with several outputs. `outputs(A, *params)` returns arrays sharing A's batch
    dims; they leave as one (..., total) array that `_unpack` slices into tensors, so the
    graph has one node. `grads(*gs)` gets one gradient per output (zeros where unused)."""

    def forward(self, A, params, found):
        xp = array_module(A)
        outs = self.outputs(A, *params)
        batch = A.shape[:-2]
        self.shapes = [o.shape[len(batch):] for o in outs]
        found.append(self.shapes)
        return xp.concatenate([o.reshape(batch + (-1,)) for o in outs], axis=-1)

    def backward(self, g):
        parts, at = [], 0
        for s in self.shapes:
            n = math.prod(s)
            parts.append(g[..., at:at + n].reshape(g.shape[:-1] + s))
            at += n
        return self.grads(*parts), None, None

    @classmethod
    def run(cls, A, *params):
        found = []
        packed = cls.apply(A, params, found)
        out, at = [], 0
        for s in found[0]:
            n = math.prod(s)
            out.append(packed[..., at:at + n].reshape(A.shape[:-2] + s))
            at += n
        return out


# ---- inverse, solve, determinants ------------------------------------------------------------
class Inv(Function):
    def forward(self, A):
        self.Y = _inv(A, "linalg.inv")
        return self.Y

    def backward(self, g):  # d(A^-1) = -A^-1 dA A^-1
        Yt = _T(self.Y)
        return -(Yt @ g @ Yt)


def inv(A) -> Tensor:
    """The inverse of each square matrix in A (..., n, n). A singular matrix raises LinAlgError."""
    return Inv.apply(_matrices(A, "linalg.inv"))


class Solve(Function):
    def forward(self, A, B):
        xp = array_module(A)
        try:
            self.X = xp.linalg.solve(A, B)
        except np.linalg.LinAlgError:
            where = _first_bad(xp.linalg.slogdet(A)[0] == 0) if A.ndim > 2 else ""
            raise LinAlgError(f"linalg.solve: the matrix A is singular{where}, so the system has no unique "
                              "solution") from None
        self.A, self.sa, self.sb = A, A.shape, B.shape
        return self.X

    def backward(self, g):  # X = A^-1 B: gB = A^-T g, gA = -gB X^T
        gB = array_module(g).linalg.solve(_T(self.A), g)
        gA = unbroadcast(-(gB @ _T(self.X)), self.sa) if self.needs_input_grad[0] else None
        return gA, unbroadcast(gB, self.sb)


def solve(A, B, *, left: bool = True) -> Tensor:
    """X with A X = B (left=False: X A = B). B is (..., n, k), or a vector (n,) / a batch of
    vectors (..., n) with A's batch dims, as torch decides."""
    _matrices(A, "linalg.solve")
    _float(B, "linalg.solve")
    if B.dtype != A.dtype:
        raise TypeError(f"linalg.solve: A and B must have the same dtype, got {A.dtype} and {B.dtype}")
    n = A.shape[-1]
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    if vector:
        if not left:
            raise RuntimeError("linalg.solve: left=False needs B to be a matrix (..., k, n), got a vector")
        B = B.unsqueeze(-1)
    if B.ndim < 2:
        raise RuntimeError(f"linalg.solve: B must be a vector or a batch of matrices, got shape {B.shape}")
    rows = B.shape[-2] if left else B.shape[-1]
    if rows != n:
        side = "rows" if left else "columns"
        raise RuntimeError(f"linalg.solve: A of shape {A.shape} needs B with {n} {side}, got B of shape "
                           f"{B.shape if not vector else B.shape[:-1]}")
    try:
        np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    except ValueError:
        raise RuntimeError(f"linalg.solve: the batch dims of A {A.shape} and B {B.shape} do not broadcast") from None
    X = Solve.apply(A, B) if left else Solve.apply(A.mT, B.mT).mT
    return X.squeeze(-1) if vector else X


class Det(Function):
    def forward(self, A):
        xp = array_module(A)
        self.A = A
        return xp.linalg.det(A)

    def backward(self, g):
        xp = array_module(g)
        # d det = tr(adj(A) dA), so the gradient is adj(A)^T = det(U) det(Vh) U diag(p) Vh with
        # p_i the product of all singular values but s_i: right for singular A as well.
        U, S, Vh = xp.linalg.svd(self.A)
        ones = xp.ones_like(S[..., :1])
        left = xp.cumprod(xp.concatenate([ones, S[..., :-1]], -1), -1)
        right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(S, -1)[..., :-1]], -1), -1), -1)
        c = xp.linalg.det(U) * xp.linalg.det(Vh) * g
        return (U * (c[..., None] * left * right)[..., None, :]) @ Vh


def det(A) -> Tensor:
    """The determinant of each square matrix in A (..., n, n)."""
    return Det.apply(_matrices(A, "linalg.det"))


class LogAbsDet(Function):
    def forward(self, A):
        xp = array_module(A)
        self.A = A
        return xp.linalg.slogdet(A)[1]

    def backward(self, g):  # d log|det A| = tr(A^-1 dA)
        return g[..., None, None] * _T(_inv(self.A, "linalg.slogdet (backward)"))


def slogdet(A):
    """(sign, logabsdet) with det(A) = sign * exp(logabsdet), stable where det under/overflows."""
    xp = array_module(A._data)
    _matrices(A, "linalg.slogdet")
    sign = Tensor._make(xp.asarray(xp.linalg.slogdet(A._data)[0]), None)
    return slogdet_result(sign, LogAbsDet.apply(A))


# ---- factorisations ------------------------------------------------------------------------
class Cholesky(Function):
    def forward(self, A, upper):
        xp = array_module(A)
        try:
            L = xp.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            bad = (xp.linalg.eigvalsh(A) <= 0).any(-1) if A.ndim > 2 else False
            raise LinAlgError(f"linalg.cholesky: the input is not positive-definite{_first_bad(bad)}") from None
        self.L, self.upper = L, upper
        return _T(L) if upper else L

    def backward(self, g):
        xp = array_module(g)
        # A = L L^T. With Phi(X) = tril(X) with its diagonal halved, symmetrised:
        # gA = L^-T Phi(L^T gL) L^-1, the formula torch uses (tril(gL) suffices: L^T triu(gL, 1) is upper).
        L = self.L
        gL = _T(g) if self.upper else g
        P = xp.tril(_T(L) @ gL)
        P = 0.5 * (P + _T(xp.tril(P, -1)))
        Linv = xp.linalg.inv(L)
        return _T(Linv) @ P @ Linv, None


def cholesky(A, *, upper: bool = False) -> Tensor:
    """L (lower) with A = L L^T for symmetric positive-definite A (upper=True: U = L^T, A = U^T U).
    Only the lower triangle of A is read."""
    return Cholesky.apply(_matrices(A, "linalg.cholesky"), upper)


def _qr_square_backward(gQ, gR, Q, R):
    """The QR gradient for m >= n (Q (m, n), R (n, n)): with M = R gR^T - gQ^T Q,
    gA = (gQ + Q copyltu(M)) R^-T, copyltu(M) = tril(M) + tril(M, -1)^T."""
    xp = array_module(gQ)
    M = R @ _T(gR) - _T(gQ) @ Q
    M = xp.tril(M) + _T(xp.tril(M, -1))
    return _T(xp.linalg.solve(R, _T(gQ + Q @ M)))


class QR(Packed):
    def outputs(self, A, mode):
        xp = array_module(A)
        self.mode = mode
        if mode == "r":
            self.R = xp.linalg.qr(A, mode="r")
            return [xp.zeros(A.shape[:-2] + (0,), dtype=A.dtype), self.R]
        self.Q, self.R = xp.linalg.qr(A, mode=mode)
        self.A = A
        return [self.Q, self.R]

    def grads(self, gQ, gR):
        xp = array_module(gQ)
        if self.mode == "r":
            raise RuntimeError("linalg.qr: the gradient depends on Q, which mode='r' does not compute; "
                               "use mode='reduced' to differentiate through linalg.qr")
        Q, R, A = self.Q, self.R, self.A
        m, n = A.shape[-2:]
        if m >= n:
            if self.mode == "complete" and m > n:
                raise RuntimeError("linalg.qr: the decomposition is not differentiable when mode='complete' "
                                   f"and rows > columns (got {m} by {n})")
            return _qr_square_backward(gQ, gR, Q, R)
        # m < n: A = Q [U | V] splits into X = Q U, whose QR it is, and Y = Q V
        Y, gU, gV = A[..., m:], gR[..., :m], gR[..., m:]
        gX = _qr_square_backward(gQ + Y @ _T(gV), gU, Q, R[..., :m])
        return xp.concatenate([gX, Q @ gV], axis=-1)


def qr(A, mode: str = "reduced"):
    """(Q, R) with A = Q R, Q with orthonormal columns and R upper triangular. mode='reduced':
    Q (m, k), R (k, n) with k = min(m, n); 'complete': Q (m, m); 'r': R only (Q empty)."""
    xp = array_module(A._data)
    _matrices(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    Q, R = QR.run(A, mode)
    if mode == "r":
        Q = Tensor._make(xp.zeros((0,), dtype=A.dtype), None)
    return qr_result(Q, R)


class SVD(Packed):
    def outputs(self, A, full_matrices):
        xp = array_module(A)
        U, S, Vh = xp.linalg.svd(A, full_matrices=full_matrices)
        self.U, self.S, self.Vh = U, S, Vh
        return [U, S, Vh]

    def grads(self, gU, gS, gVh):
        xp = array_module(gU)
        # Written as torch's svd_backward. With full matrices only the first k = min(m, n)
        # singular vectors have a gradient (the others are not unique), as in torch.
        U, S, Vh = self.U, self.S, self.Vh
        k = S.shape[-1]
        U, gU, Vh, gVh = U[..., :k], gU[..., :k], Vh[..., :k, :], gVh[..., :k, :]
        m, n = U.shape[-2], Vh.shape[-1]
        UgU = _T(U) @ gU
        VgV = Vh @ _T(gVh)
        UgU, VgV = UgU - _T(UgU), VgV - _T(VgV)  # skew parts
        S2 = S * S
        E = S2[..., None, :] - S2[..., :, None]  # E_jk = s_k^2 - s_j^2, 1 on the diagonal
        i = xp.arange(k)
        E[..., i, i] = 1
        inner = (UgU * S[..., None, :] + S[..., :, None] * VgV) / E
        inner[..., i, i] += gS
        if m > n:  # the part of gU outside U's span
            gUS = gU / S[..., None, :]
            return (U @ inner + gUS - U @ (_T(U) @ gUS)) @ Vh
        if m < n:
            gVS = gVh / S[..., :, None]
            return U @ (inner @ Vh + gVS - (gVS @ _T(Vh)) @ Vh)
        return U @ inner @ Vh


def svd(A, full_matrices: bool = True):
    """(U, S, Vh) with A = U diag(S) Vh, S descending. full_matrices=False gives the reduced
    factors (U (m, k), Vh (k, n), k = min(m, n))."""
    _matrices(A, "linalg.svd", square=False)
    return svd_result(*SVD.run(A, bool(full_matrices)))


class SVDVals(Function):
    def forward(self, A):
        xp = array_module(A)
        self.U, S, self.Vh = xp.linalg.svd(A, full_matrices=False)
        return S

    def backward(self, g):  # dS = diag(U^T dA V): no division, so repeated values are fine
        return (self.U * g[..., None, :]) @ self.Vh


def svdvals(A) -> Tensor:
    """The singular values of A (..., m, n), descending."""
    return SVDVals.apply(_matrices(A, "linalg.svdvals", square=False))


def _uplo(UPLO: str, op: str) -> str:
    if UPLO not in ("L", "U"):
        raise ValueError(f"{op}: UPLO must be 'L' or 'U', got {UPLO!r}")
    return UPLO


class Eigh(Packed):
    def outputs(self, A, UPLO):
        xp = array_module(A)
        self.L, self.V = xp.linalg.eigh(A, UPLO=UPLO)
        return [self.L, self.V]

    def grads(self, gL, gV):
        xp = array_module(gL)
        # gA = V (diag(gL) + skew(V^T gV) / E) V^T with E_ij = l_j - l_i: torch's formula
        L, V = self.L, self.V
        VgV = _T(V) @ gV
        VgV = 0.5 * (VgV - _T(VgV))
        E = L[..., None, :] - L[..., :, None]
        i = xp.arange(L.shape[-1])
        E[..., i, i] = 1
        inner = VgV / E
        inner[..., i, i] = gL
        return V @ inner @ _T(V)


def eigh(A, UPLO: str = "L"):
    """(eigenvalues ascending, eigenvectors as columns) of symmetric A; reads one triangle."""
    _matrices(A, "linalg.eigh")
    return eigh_result(*Eigh.run(A, _uplo(UPLO, "linalg.eigh")))


class EigvalsH(Function):
    def forward(self, A, UPLO):
        xp = array_module(A)
        L, self.V = xp.linalg.eigh(A, UPLO=UPLO)
        return L

    def backward(self, g):  # dl_i = v_i^T dA v_i
        return (self.V * g[..., None, :]) @ _T(self.V), None


def eigvalsh(A, UPLO: str = "L") -> Tensor:
    """The eigenvalues of symmetric A, ascending."""
    return EigvalsH.apply(_matrices(A, "linalg.eigvalsh"), _uplo(UPLO, "linalg.eigvalsh"))


# ---- pseudo-inverse and rank ---------------------------------------------------------------
def _cutoff(S, atol, rtol, shape):
    """torch's threshold: max(atol, rtol * largest singular value); rtol defaults to
    eps * max(m, n) when neither tolerance is given, and to 0 when only atol is."""
    xp = array_module(S)
    eps = np.finfo(S.dtype).eps
    if rtol is None:
        rtol = eps * max(shape[-2:]) if atol is None or (np.ndim(atol) == 0 and atol == 0) else 0.0
    atol = 0.0 if atol is None else atol
    atol = atol._data if isinstance(atol, Tensor) else atol
    rtol = rtol._data if isinstance(rtol, Tensor) else rtol
    smax = S[..., :1] if S.shape[-1] else xp.zeros(S.shape[:-1] + (1,), S.dtype)
    return xp.maximum(xp.asarray(atol)[..., None], xp.asarray(rtol)[..., None] * smax)


def _singular_values(A, hermitian):
    xp = array_module(A)
    return xp.abs(xp.linalg.eigvalsh(A)) if hermitian else xp.linalg.svd(A, compute_uv=False)


class Pinv(Function):
    def forward(self, A, atol, rtol, hermitian):
        xp = array_module(A)
        if hermitian:
            L, V = xp.linalg.eigh(A)
            S = xp.abs(L)
            order = xp.argsort(-S, axis=-1)  # largest first, so the cutoff reads S[..., :1]
            S = xp.take_along_axis(S, order, -1)
            keep = S > _cutoff(S, atol, rtol, A.shape)
            Linv = xp.take_along_axis(xp.where(keep, 1 / xp.where(keep, xp.take_along_axis(L, order, -1), 1), 0),
                                      xp.argsort(order, axis=-1), -1)
            P = (V * Linv[..., None, :]) @ _T(V)
        else:
            U, S, Vh = xp.linalg.svd(A, full_matrices=False)
            keep = S > _cutoff(S, atol, rtol, A.shape)
            Sinv = xp.where(keep, 1 / xp.where(keep, S, 1), 0)
            P = (_T(Vh) * Sinv[..., None, :]) @ _T(U)
        self.A, self.P = A, P
        return P

    def backward(self, g):
        # For A of constant rank, dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P, so
        # gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A).
        A, P = self.A, self.P
        Pt, gt = _T(P), _T(g)
        gA = -(Pt @ g @ Pt) + _eye_minus(A @ P) @ gt @ (P @ Pt) + (Pt @ P) @ gt @ _eye_minus(P @ A)
        return gA, None, None, None


def pinv(A, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse, dropping singular values at or below
    max(atol, rtol * largest); hermitian=True takes A as symmetric (uses eigh)."""
    _matrices(A, "linalg.pinv", square=hermitian)
    return Pinv.apply(A, atol, rtol, bool(hermitian))


def matrix_rank(A, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The number of singular values above max(atol, rtol * largest), as int64 (no gradient)."""
    xp = array_module(A._data)
    _matrices(A, "linalg.matrix_rank", square=hermitian)
    S = _singular_values(A._data, hermitian)
    if hermitian:
        S = -xp.sort(-S, axis=-1)
    rank = (S > _cutoff(S, atol, rtol, A.shape)).sum(-1)
    return Tensor._make(xp.asarray(rank, dtype=np.int64), None)


# ---- norms ---------------------------------------------------------------------------------
class VectorNorm(Function):
    def forward(self, x, ord, axes, keepdim):
        xp = array_module(x)
        self.x, self.ord, self.axes, self.keepdim = x, ord, axes, keepdim
        a = xp.abs(x)
        if ord == math.inf or ord == -math.inf:
            if x.size == 0 or axes is not None and any(x.shape[i] == 0 for i in axes):
                raise RuntimeError(f"linalg.vector_norm: the {ord} norm of an empty dim is not defined "
                                   f"(shape {x.shape})")
            y = a.max(axis=axes, keepdims=True) if ord > 0 else a.min(axis=axes, keepdims=True)
        elif ord == 0:
            y = (x != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        elif ord == 1:
            y = a.sum(axis=axes, keepdims=True)
        elif ord == 2:
            y = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        else:
            with np.errstate(divide="ignore"):
                y = (a ** ord).sum(axis=axes, keepdims=True) ** (1.0 / ord)
        self.y = y
        return y if keepdim else (y.squeeze(axis=axes) if axes is not None else y.reshape(()))

    def backward(self, g):
        xp = array_module(g)
        x, y, p = self.x, self.y, self.ord
        if not self.keepdim:
            g = xp.expand_dims(g, self.axes) if self.axes is not None else g.reshape((1,) * x.ndim)
        if p == 0:
            return xp.zeros_like(x), None, None, None
        if p == 1:
            return xp.sign(x) * g, None, None, None
        if p == math.inf or p == -math.inf:  # ties share the gradient, as torch's amax does
            mask = xp.abs(x) == y
            return xp.sign(x) * mask * (g / mask.sum(axis=self.axes, keepdims=True)), None, None, None
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = xp.where(y == 0, 0, g / y ** (p - 1))  # a zero vector gets zero gradient, as in torch
            if p == 2:
                return x * scale, None, None, None
            a = xp.abs(x)
            xs = xp.sign(x) * xp.where(x == 0, 0, a ** (p - 1))  # |x|^(p-1) is inf at 0 for p < 1
        return xs * scale, None, None, None


def _norm_dims(x: Tensor, dim, op: str):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    n = max(x.ndim, 1)
    for d in dims:
        if not -n <= d < n:
            raise IndexError(f"{op}: dim {d} is out of range for a tensor of shape {x.shape}")
    out = tuple(sorted({int(d) % n for d in dims}))
    if len(out) != len(dims):
        raise RuntimeError(f"{op}: dim {dim} names a dim twice")
    return out if x.ndim and out else None


def _cast(x: Tensor, dtype, op: str) -> Tensor:
    if dtype is not None:
        x = x.to(dtype)
    return _float(x, op)


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """(sum |x|^ord)^(1/ord) over `dim` (None: every element). ord may be any number, inf
    (max |x|), -inf (min |x|) or 0 (the number of non-zeros)."""
    x = _cast(x, dtype, "linalg.vector_norm")
    if isinstance(ord, str) or not isinstance(ord, (int, float, np.number)):
        raise ValueError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    axes = _norm_dims(x, dim, "linalg.vector_norm")  # None: every element
    return VectorNorm.apply(x, float(ord), axes, keepdim)


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """A norm of each matrix over the two dims `dim`: 'fro', 'nuc' (sum of singular values),
    2 / -2 (largest / smallest singular value), 1 / -1 (max / min column sum of |A|),
    inf / -inf (max / min row sum)."""
    A = _cast(A, dtype, "linalg.matrix_norm")
    if ord not in _MATRIX_ORDS:
        raise ValueError(f"linalg.matrix_norm: ord must be one of 'fro', 'nuc', 1, -1, 2, -2, inf, -inf; got {ord!r}")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: expected a tensor of at least 2 dims, got shape {A.shape}")
    dim = tuple(dim)
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must name 2 dims, got {dim}")
    d0, d1 = (int(d) % A.ndim for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dim {dim} names the same dim twice")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        rows, cols = (d0, d1) if abs(ord) == 1 else (d1, d0)  # 1: sum down columns, then over them
        sums = vector_norm(A, 1, rows, keepdim=True)
        y = sums.amax(cols, keepdim=True) if ord > 0 else sums.amin(cols, keepdim=True)
        return y if keepdim else y.squeeze((d0, d1))
    rest = [i for i in range(A.ndim) if i not in (d0, d1)]
    S = svdvals(A.permute(*rest, d0, d1))  # (..., k)
    y = S.sum(-1) if ord == "nuc" else (S.amax(-1) if ord == 2 else S.amin(-1))
    if keepdim:
        for d in sorted((d0, d1)):
            y = y.unsqueeze(d)
    return y


def norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """torch.linalg.norm: a vector norm over one dim (or all elements when neither ord nor dim
    is given), a matrix norm over two dims; with ord and no dim, A must be 1-D or 2-D."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: dim must name 1 or 2 dims, got {dim}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: with ord={ord!r} and no dim the input must be 1-D (a vector norm, ord a number) "
                       f"or 2-D (a matrix norm), got shape {A.shape}")


def _torch_norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """torch.norm's rules: p='fro' (or a number, or None) is a vector norm over `dim` (all dims
    when None); p='nuc' is the nuclear matrix norm over `dim` (a 2-D input's two by default)."""
    if p is None:
        p = "fro"
    if isinstance(p, str):
        if p == "fro":
            if dim is not None and not isinstance(dim, (int, np.integer)) and len(tuple(dim)) > 2:
                raise RuntimeError(f"norm: p='fro' takes at most 2 dims, got dim={dim}")
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        if p == "nuc":
            if dim is None and input.ndim != 2:
                raise RuntimeError(f"norm: p='nuc' without dim needs a 2-D input, got shape {input.shape}; "
                                   "pass dim=(-2, -1) for a batch of matrices")
            return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
        raise ValueError(f"norm: p must be a number, 'fro' or 'nuc', got {p!r}")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


# ---- products ------------------------------------------------------------------------------
def cross(input, other, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along `dim`, broadcasting input and other."""
    from .ops import broadcast_tensors

    a, b = broadcast_tensors(input, other)
    n = max(a.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"linalg.cross: dim {dim} is out of range for the broadcast shape {a.shape}")
    if a.ndim == 0 or a.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: dim {dim} must have size 3, got shapes {input.shape} and {other.shape}")
    # c_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}, indices mod 3: rolled copies do it for all i at once
    return a.roll(-1, dim) * b.roll(-2, dim) - a.roll(-2, dim) * b.roll(-1, dim)


def vecdot(x, y, *, dim: int = -1) -> Tensor:
    """The dot product of x and y along `dim`, broadcasting (real tensors)."""
    return (x * y).sum(dim)


def _chain_order(sizes):
    """The cheapest parenthesisation of a matrix chain, by dynamic programming over the
    n matrices (sizes[i] x sizes[i + 1] each): split[i][j] is where (i..j) splits."""
    n = len(sizes) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for span in range(1, n):
        for i in range(n - span):
            j = i + span
            cost[i][j], split[i][j] = min((cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1], k)
                                          for k in range(i, j))
    return split


def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices, multiplied in the cheapest order. The first may be
    a 1-D row vector and the last a 1-D column vector."""
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"linalg.multi_dot: expected at least 2 tensors, got {len(ts)}")
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_vec:
        ts[0] = ts[0].unsqueeze(0)
    if last_vec:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i, t in enumerate(ts):
        if t.ndim != 2:
            raise RuntimeError(f"linalg.multi_dot: tensor {i} must be 2-D (the first and last may be 1-D), "
                               f"got shape {tensors[i].shape}")
        if i and ts[i - 1].shape[1] != t.shape[0]:
            raise RuntimeError(f"linalg.multi_dot: tensors {i - 1} and {i} of shapes {tensors[i - 1].shape} and "
                               f"{tensors[i].shape} do not align")
    split = _chain_order([ts[0].shape[0]] + [t.shape[1] for t in ts])

    def product(i, j):
        if i == j:
            return ts[i]
        k = split[i][j]
        return product(i, k) @ product(k + 1, j)

    out = product(0, len(ts) - 1)
    if first_vec:
        out = out.squeeze(0)
    if last_vec:
        out = out.squeeze(-1)
    return out


# ---- matrix functions: powers, exponential, LU --------------------------------------------------
def _square(A: Tensor, op: str) -> Tensor:
    """A batch of square matrices of any dtype (matrix_power takes integers too)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices (..., n, n), got shape {A.shape}")
    return A


def matrix_power(A, n: int) -> Tensor:
    """A multiplied by itself n times (n = 0: the identity; n < 0: the inverse's power), by
    repeated squaring, for each square matrix of A (..., m, m)."""
    _square(A, "linalg.matrix_power")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    if n == 0:  # the identity, with a zero gradient for A (NaNs in A stay out)
        from .ops import masked_fill

        xp = array_module(A._data)
        eye = Tensor._make(xp.broadcast_to(xp.eye(A.shape[-1], dtype=A.dtype), A.shape), None)
        return masked_fill(A, Tensor._make(xp.ones(A.shape, dtype=bool), None), 0) + eye
    if n < 0:
        if A.dtype.kind != "f":
            raise RuntimeError(f"linalg.matrix_power: a negative power needs a float matrix to invert, got {A.dtype}")
        A, n = inv(A), -int(n)
    result, base = None, A
    while True:  # binary powering: base = A^(2^k), multiplied in where bit k of n is set
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if not n:
            return result
        base = base @ base


# Higham (2005), "The scaling and squaring method for the matrix exponential revisited": the
# degree-13 Pade approximant, accurate to double precision for ||A||_1 <= theta_13.
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
           10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm(A):
    """exp of each matrix in A (..., n, n): scale each by 2^-s so that its 1-norm is at most
    theta_13, take the Pade approximant, then square it s times (per matrix)."""
    xp = array_module(A)
    if A.shape[-1] == 0:
        return A.copy()
    norm = xp.abs(A).sum(-2).max(-1)  # (...,) the 1-norm: the largest column sum
    with np.errstate(divide="ignore", invalid="ignore"):
        s = xp.ceil(xp.log2(norm / _THETA13))
    s = xp.where(xp.isfinite(s) & (s > 0), s, 0).astype(np.int64)
    A = A / xp.asarray(2.0 ** s, dtype=A.dtype)[..., None, None]
    b = _PADE13
    eye = xp.eye(A.shape[-1], dtype=A.dtype)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
    R = xp.linalg.solve(V - U, V + U)
    for k in range(int(s.max()) if s.size else 0):
        R = xp.where((s > k)[..., None, None], R @ R, R)
    return R


class MatrixExp(Function):
    def forward(self, A):
        self.A = A
        return _expm(A)

    def backward(self, g):
        # The gradient is the Frechet derivative at A^T applied to g, which is the top-right
        # block of exp([[A^T, g], [0, A^T]]) (Najfeld and Havel 1995; torch does the same).
        xp = array_module(g)
        n = g.shape[-1]
        At = _T(self.A)
        block = xp.zeros(g.shape[:-2] + (2 * n, 2 * n), dtype=g.dtype)
        block[..., :n, :n] = At
        block[..., n:, n:] = At
        block[..., :n, n:] = g
        return _expm(block)[..., :n, n:]


def matrix_exp(A) -> Tensor:
    """e^A = sum_k A^k / k! for each square matrix of A (..., n, n)."""
    return MatrixExp.apply(_matrices(A, "linalg.matrix_exp"))


def _lu(A):
    """LU with partial pivoting (LAPACK's getrf) for a batch (..., m, n): the packed factors
    (L's strict lower part, unit diagonal implied, over U) and 1-based row swaps (int32)."""
    xp = array_module(A)
    m, n = A.shape[-2:]
    k = min(m, n)
    batch = A.shape[:-2]
    a = A.reshape((-1, m, n)).copy()
    rows = xp.arange(a.shape[0])
    piv = xp.empty((a.shape[0], k), dtype=np.int32)
    for j in range(k):
        p = j + xp.abs(a[:, j:, j]).argmax(-1)  # (b,) the pivot row: the first largest |entry|
        piv[:, j] = p + 1
        top = a[rows, j].copy()
        a[rows, j] = a[rows, p]
        a[rows, p] = top
        pivot = a[:, j, j]
        with np.errstate(divide="ignore", invalid="ignore"):
            col = xp.where((pivot != 0)[:, None], a[:, j + 1:, j] / pivot[:, None], a[:, j + 1:, j])
        a[:, j + 1:, j] = col
        a[:, j + 1:, j + 1:] -= col[:, :, None] * a[:, j, None, j + 1:]
    return a.reshape(batch + (m, n)), piv.reshape(batch + (k,))


def _permutation(piv, m, dtype):
    """P (..., m, m) with A = P L U, from 1-based row swaps."""
    xp = array_module(piv)
    flat = piv.reshape((-1, piv.shape[-1])) - 1
    order = xp.broadcast_to(xp.arange(m), (flat.shape[0], m)).copy()
    rows = xp.arange(flat.shape[0])
    for j in range(flat.shape[1]):  # the swaps applied to the row order, in turn
        p = flat[:, j]
        top = order[rows, j].copy()
        order[rows, j] = order[rows, p]
        order[rows, p] = top
    P = xp.zeros((flat.shape[0], m, m), dtype=dtype)
    P[rows[:, None], order, xp.arange(m)[None, :]] = 1  # row order[i] of A is row i of L U
    return P.reshape(piv.shape[:-1] + (m, m))


class LUFactor(Function):
    def forward(self, A, found):
        self.LU, self.piv = _lu(A)
        found.append(self.piv)  # the pivots leave beside the graph: they have no gradient
        return self.LU

    def backward(self, g):
        # Square A = P L U (torch's linalg_lu_backward): gA = P L^-T [tril(L^T gL, -1) + triu(gU U^T)] U^-T
        # with gL, gU the strict lower and the upper parts of g.
        xp = array_module(g)
        m, n = g.shape[-2:]
        if m != n:
            raise NotImplementedError(f"linalg.lu_factor: the gradient is written for square matrices only, "
                                      f"got {m} by {n}")
        L = xp.tril(self.LU, -1) + xp.eye(n, dtype=g.dtype)
        U = xp.triu(self.LU)
        inner = xp.tril(_T(L) @ xp.tril(g, -1), -1) + xp.triu(xp.triu(g) @ _T(U))
        gA = _T(xp.linalg.solve(U, _T(xp.linalg.solve(_T(L), inner))))  # L^-T inner U^-T
        return _permutation(self.piv, n, g.dtype) @ gA, None


def lu_factor(A, *, pivot: bool = True):
    """(LU, pivots): the LU factorisation with partial pivoting of each matrix of A (..., m, n),
    packed as LAPACK does (L's unit diagonal implied), and the 1-based row swaps (int32).
    A zero pivot (a singular square matrix) raises, as torch does."""
    xp = array_module(A._data)
    _matrices(A, "linalg.lu_factor", square=False)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU (as in torch)")
    found = []
    LU = LUFactor.apply(A, found)
    k = min(A.shape[-2:])
    diag = xp.diagonal(LU._data, axis1=-2, axis2=-1)[..., :k]
    zero = diag == 0
    if A.shape[-2] == A.shape[-1] and zero.any():
        j = int(zero.reshape(-1, k).any(0).argmax())
        raise LinAlgError(f"linalg.lu_factor: U[{j},{j}] is zero{_first_bad(zero.any(-1))}, so the matrix is "
                          "singular; its factors would divide by zero in lu_solve")
    return lu_factor_result(LU, Tensor._make(found[0], None))
