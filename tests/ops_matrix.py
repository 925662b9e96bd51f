"""Rows of the op checker (tests/test_ops.py) for lamina/ops/matrix.py: one per exported name,
plus rows for the lamina.linalg functions that the module's aliases reach (matrix_exp,
matrix_power, lu_factor).

Random matrices are made well conditioned where the op needs it (x + 4I before inverting,
x x^T + nI before a Cholesky), and svd's rows look only at what does not depend on the signs
of the singular vectors (S, |U|, |V|, U S V^T), so finite differences are meaningful.
"""
import numpy as np

SQ = [((3, 3),), ((2, 4, 4),), ((1, 1),), ((2, 1, 3, 3),)]  # batches of square matrices
RECT = [((3, 4),), ((4, 3),), ((2, 3, 5),), ((2, 5, 2),), ((1, 1),)]  # any matrices
INF = float("inf")


def _eye(m, x):
    return m.eye(x.shape[-1], dtype=x.dtype)


def _wc(m, x):
    """x moved away from singular: x + 4I (inputs are in [-2, 2])."""
    return x + 4 * _eye(m, x)


def _spd(m, x):
    """A symmetric positive-definite matrix built from x."""
    return x @ x.mT + x.shape[-1] * _eye(m, x)


def _svd_parts(m, x, **kw):
    U, S, V = m.svd(x, **kw)
    k = S.shape[-1]
    return S, U[..., :k].abs(), V[..., :k].abs(), (U[..., :k] * S.unsqueeze(-2)) @ V[..., :k].mT


def _values_only(x):
    """svd(compute_uv=False): S, then the zero U and V (last: the finite differences pair the
    float outputs with the gradients of those that have one, in order)."""
    U, S, V = x.svd(compute_uv=False)
    return S, U, V


def _qr(m, x):
    square_or_wide = x.shape[-2] <= x.shape[-1]  # complete Q of a tall matrix has no gradient
    return (*m.qr(x), *x.qr(some=not square_or_wide))


def _ints(m, x):
    """Small non-negative integers (0..8) from inputs in [-2, 2]."""
    return ((x + 2) * 2).long()


def _with_zero(m, x):
    return m.cat([x, x[:1] * 0])


def _fw(m, x):
    """Frequency weights 1, 2, 0, 1, 2, 0, ... for x's observations."""
    return m.tensor(np.arange(1, x.shape[-1] + 1) % 3)


OPS = {
    # lamina.linalg under torch's names
    "det": (lambda m, x: (m.det(_wc(m, x)), x.det()), SQ, {}),
    "logdet": (lambda m, x: (m.logdet(_wc(m, x)), _spd(m, x).logdet()), SQ, {}),
    "slogdet": (lambda m, x: (*m.slogdet(_wc(m, x)), *x.slogdet()), SQ, {}),
    "inverse": (lambda m, x: (m.inverse(_wc(m, x)), _wc(m, x).inverse()), SQ + [((0, 0),)], {}),
    "pinverse": (lambda m, x: (m.pinverse(x), x.pinverse(rcond=1e-10)), RECT, {}),
    "cholesky": (lambda m, x: (m.cholesky(_spd(m, x)), m.cholesky(_spd(m, x), upper=True), _spd(m, x).cholesky()),
                 SQ, {}),
    "qr": (_qr, [((3, 3),), ((4, 3),), ((3, 5),), ((2, 4, 2),), ((2, 2, 4),)], {}),
    "svd": (lambda m, x: (*_svd_parts(m, x), *_svd_parts(m, x, some=False), *_values_only(x)),
            RECT, {}),
    "matrix_power": (lambda m, x: (m.matrix_power(x, 3), x.matrix_power(0), x.matrix_power(1), x.matrix_power(2),
                                   m.matrix_power(_wc(m, x), -2)), SQ + [((0, 2, 2),)], {}),
    "matrix_exp": (lambda m, x: (m.matrix_exp(x), x.matrix_exp(), m.matrix_exp(x * 3)),
                   SQ + [((0, 0),), ((6, 6),)], {}),
    "trace": (lambda m, x: (m.trace(x), x.trace()), [((3, 3),), ((2, 4),), ((4, 2),), ((1, 1),), ((0, 3),)], {}),
    # products
    "kron": (lambda m, a, b: (m.kron(a, b), a.kron(b)),
             [((2, 3), (3, 2)), ((3,), (2,)), ((2, 1, 3), (2, 2)), ((), (2, 3)), ((0, 2), (3, 1)), ((2,), (3, 2, 2))],
             {}),
    "tensordot": (lambda m, a, b: (m.tensordot(a, b), m.tensordot(a, b, dims=1), m.tensordot(a, b, 0)),
                  [((2, 3, 3), (3, 3, 2)), ((3, 3), (3, 3)), ((1, 2, 2), (2, 2, 1)), ((0, 2, 2), (2, 2, 3))], {}),
    "tensordot-lists": (lambda m, a, b: (m.tensordot(a, b, dims=([1, 0], [0, 2])), m.tensordot(a, b, ([1], [0])),
                                         m.tensordot(a, b, dims=[[0], [2]])),
                        [((3, 2), (2, 4, 3)), ((2, 2), (2, 1, 2)), ((3, 0), (0, 2, 3))], {}),
    "inner": (lambda m, a, b: (m.inner(a, b), a.inner(b)),
              [((3, 4), (2, 4)), ((4,), (4,)), ((), (2, 3)), ((2, 3, 4), (4,)), ((0, 4), (3, 4)), ((2, 0), (0,))], {}),
    "mv": (lambda m, a, v: (m.mv(a, v), a.mv(v)), [((3, 4), (4,)), ((0, 4), (4,)), ((3, 0), (0,)), ((1, 1), (1,))],
           {}),
    "addmm": (lambda m, i, a, b: (m.addmm(i, a, b), m.addmm(i, a, b, beta=0.5, alpha=-2), i.addmm(a, b, beta=0),
                                  i.addmm(a, b, alpha=0)),
              [((2, 4), (2, 3), (3, 4)), ((4,), (2, 3), (3, 4)), ((1, 1), (2, 3), (3, 4)), ((), (1, 3), (3, 2)),
               ((2, 4), (2, 0), (0, 4))], {}),
    "addmv": (lambda m, i, a, v: (m.addmv(i, a, v), i.addmv(a, v, beta=2, alpha=0.5), m.addmv(i, a, v, beta=0)),
              [((3,), (3, 4), (4,)), ((1,), (3, 4), (4,)), ((), (2, 2), (2,)), ((0,), (0, 2), (2,))], {}),
    "addbmm": (lambda m, i, a, b: (m.addbmm(i, a, b), i.addbmm(a, b, beta=-1, alpha=3)),
               [((3, 4), (2, 3, 5), (2, 5, 4)), ((4,), (2, 3, 5), (2, 5, 4)), ((3, 4), (0, 3, 5), (0, 5, 4))], {}),
    "baddbmm": (lambda m, i, a, b: (m.baddbmm(i, a, b), i.baddbmm(a, b, beta=0.5, alpha=2), m.baddbmm(i, a, b, beta=0)),
                [((2, 3, 4), (2, 3, 5), (2, 5, 4)), ((3, 4), (2, 3, 5), (2, 5, 4)), ((1, 1, 4), (2, 3, 1), (2, 1, 4))],
                {}),
    "addr": (lambda m, i, a, b: (m.addr(i, a, b), i.addr(a, b, beta=2, alpha=-1)),
             [((3, 4), (3,), (4,)), ((4,), (3,), (4,)), ((), (2,), (1,)), ((0, 2), (0,), (2,))], {}),
    "chain_matmul": (lambda m, a, b, c: (m.chain_matmul(a, b, c), m.chain_matmul(a), m.chain_matmul(a, b)),
                     [((2, 3), (3, 4), (4, 2)), ((1, 5), (5, 5), (5, 1)), ((3, 1), (1, 3), (3, 3))], {}),
    # distances, cross products
    "cdist": (lambda m, a, b: (m.cdist(a, b), m.cdist(a, b, p=1), m.cdist(a, b, p=3), m.cdist(a, b, p=INF),
                               m.cdist(a, b, p=0.5), m.cdist(a, b, p=0), m.cdist(a, a), m.cdist(a, a, p=1.5),
                               m.cdist(a, b, compute_mode="use_mm_for_euclid_dist")),
              [((3, 4), (5, 4)), ((2, 3, 4), (2, 5, 4)), ((2, 1, 3, 2), (4, 3, 2)), ((0, 3), (2, 3)), ((3, 0), (2, 0)),
               ((1, 1), (1, 1))], {}),
    "cdist-mm": (lambda m, a, b: (m.cdist(a, b), m.cdist(b, a, compute_mode="donot_use_mm_for_euclid_dist")),
                 [((30, 3), (4, 3)), ((2, 4, 2), (27, 2))], {}),
    "cross": (lambda m, a, b: (m.cross(a, b), a.cross(b, dim=-1), m.cross(a, b, -1)),
              [((3, 3), (3, 3)), ((4, 3), (4, 3)), ((2, 3, 3), (1, 3, 3)), ((3,), (3,)), ((0, 3), (1, 3))], {}),
    "cross-first-dim": (lambda m, a, b: (m.cross(a, b), a.cross(b)), [((3, 4), (3, 4)), ((2, 3, 4), (1, 3, 1))], {}),
    # statistics
    "cov": (lambda m, x, w: (m.cov(x), m.cov(x, correction=0), m.cov(x, fweights=_fw(m, x), aweights=w.abs() + 0.1),
                             m.cov(x, aweights=w.abs() + 0.1, correction=2), m.cov(x[0]), x.cov(fweights=_fw(m, x)),
                             m.cov(x.t(), correction=0)),
            [((3, 5), (5,)), ((1, 4), (4,)), ((2, 7), (7,)), ((4, 3), (3,))], {}),
    "corrcoef": (lambda m, x: (m.corrcoef(x), x.corrcoef(), m.corrcoef(x[0])),
                 [((3, 5),), ((2, 4),), ((1, 6),), ((4, 2),)], {}),
    "vander": (lambda m, x: (m.vander(x), m.vander(x, 4, True), m.vander(x, N=0), m.vander(x, 1), m.vander(_with_zero(m, x)),
                             m.vander(_with_zero(m, x), increasing=True)),
               [((3,),), ((1,),), ((5,),)], dict(grad=False)),  # torch 2.13's vander has no working backward:
    # lamina's gradient is checked in tests/test_matrix.py
    # integration
    "trapezoid": (lambda m, y, x: (m.trapezoid(y), m.trapezoid(y, dx=0.5), m.trapezoid(y, x), m.trapezoid(y, x * 0 + y),
                                   m.trapezoid(y, dim=0), m.trapezoid(y, dx=2, dim=0)),
                  [((3, 4), (4,)), ((2, 3, 4), (4,)), ((3, 4), (3, 4)), ((2, 1), (1,)), ((3, 0), (0,)),
                   ((2, 3, 4), (3, 4))], {}),
    "trapz": (lambda m, y, x: (m.trapz(y), m.trapz(y, dx=0.5), m.trapz(y, x), m.trapz(y, dim=0)),
              [((3, 4), (4,)), ((2, 3, 4), (3, 4))], {}),
    "cumulative_trapezoid": (lambda m, y, x: (m.cumulative_trapezoid(y), m.cumulative_trapezoid(y, dx=0.5),
                                              m.cumulative_trapezoid(y, x), m.cumulative_trapezoid(y, dim=0),
                                              m.cumulative_trapezoid(y, x * 0 + y)),
                             [((3, 4), (4,)), ((2, 3, 4), (4,)), ((3, 4), (3, 4)), ((2, 1), (1,)), ((2, 3, 4), (3, 4))],
                             {}),
    # counting
    "histc": (lambda m, x: (m.histc(x), m.histc(x, bins=5, min=-1, max=1), x.histc(3), m.histc(x.round(), bins=4),
                            m.histc(x, 7, -3, 0.5)),
              [((3, 4),), ((10,),), ((0,),), ((1,),), ((2, 3, 5),)], dict(grad=False)),
    "bincount": (lambda m, x: (m.bincount(_ints(m, x)), m.bincount(_ints(m, x), weights=x),
                               _ints(m, x).bincount(minlength=12), m.bincount(_ints(m, x), x.float()),
                               m.bincount(_ints(m, x), _ints(m, x))),
                 [((5,),), ((0,),), ((1,),), ((12,),)], dict(grad=False)),
}
