"""Rows of the op checker (tests/test_ops.py) for the ops added by the op-surface fixes
(lamina issue 14): bitwise ops, diagonals, grids, scatter_reduce, cumulative ops, einsum's
friends. One row per exported name; focused tests of the fixes are in tests/test_op_fixes.py."""
import numpy as np

IDX = np.array([[0, 2, 1], [1, 0, 0]])  # gathered along dim 0 of a (3, 4): repeats on purpose
U = [((3, 4),), ((1, 5),), ((),), ((0, 3),), ((2, 3, 4),)]
R = [((3, 4),), ((2, 3, 4),), ((1, 4),), ((5,),)]
M = [((3, 4),), ((4, 4),), ((2, 3, 4),), ((1, 3),)]  # at least 2-D


def _ints(m, x):
    return (x * 9).long()


def _idx(m):
    return m.tensor(IDX)


def _ties(m, x):
    """x with many equal values (amax/amin ties share the gradient)."""
    return m.round(x * 2) / 2


OPS = {
    # bitwise (no gradient)
    "bitwise_xor": (lambda m, a, b: (m.bitwise_xor(_ints(m, a), _ints(m, b)), _ints(m, a) ^ 5, 6 ^ _ints(m, b),
                                     (a > 0) ^ (b > 0)), [((3, 4), (3, 4)), ((3, 1), (4,))], dict(grad=False)),
    "bitwise_not": (lambda m, x: (m.bitwise_not(_ints(m, x)), ~_ints(m, x), ~(x > 0)), U, dict(grad=False)),
    "bitwise_left_shift": (lambda m, a, b: (m.bitwise_left_shift(_ints(m, a).abs(), _ints(m, b).abs() % 8),
                                            _ints(m, a) << 3, 1 << (_ints(m, b).abs() % 8)),
                           [((3, 4), (3, 4)), ((3, 1), (4,))], dict(grad=False)),
    "bitwise_right_shift": (lambda m, a, b: (m.bitwise_right_shift(_ints(m, a), _ints(m, b).abs() % 8),
                                             _ints(m, a) >> 2, 1000 >> (_ints(m, b).abs() % 8)),
                            [((3, 4), (3, 4)), ((3, 1), (4,))], dict(grad=False)),
    # diagonals and grids
    "diagonal": (lambda m, x: (m.diagonal(x), x.diagonal(1), x.diagonal(-1, -1, 0) * 2), M, {}),
    "diag_embed": (lambda m, x: (m.diag_embed(x), m.diag_embed(x, 1, 0, 2), m.diag_embed(x, -2, -1, 0)), R[:3], {}),
    "diag": (lambda m, x: (m.diag(x), m.diag(x, 1), x.diag(-2)), [((3, 4),), ((4,),), ((1,),), ((0,),)], {}),
    "meshgrid": (lambda m, a, b, c: (*m.meshgrid(a, b, c, indexing="ij"), *m.meshgrid([a, b], indexing="xy"),
                                     *m.meshgrid(a, c, b, indexing="xy")), [((3,), (4,), (2,)), ((1,), (0,), ())], {}),
    "cartesian_prod": (lambda m, a, b: (m.cartesian_prod(a, b), m.cartesian_prod(a, b, a), m.cartesian_prod(a)),
                       [((3,), (4,)), ((1,), (2,))], {}),
    "block_diag": (lambda m, a, b, c: m.block_diag(a, b, c), [((2, 3), (4,), ()), ((1, 1), (3,), (2, 2))], {}),
    # (an empty 1-D block is a (1, 0) row in both, but torch 2.13's backward then reads the next block
    # one row early; ours follows the forward, so that case is in tests/test_op_fixes.py, not here)
    # cumulative ops (a zero block sends cumprod's backward through its exact loop)
    "cumprod": (lambda m, x: (m.cumprod(x, -1), x.cumprod(0), m.cumprod(m.cat([x, x[:1] * 0, x], 0), 0)), R, {}),
    "cummax": (lambda m, x: (*m.cummax(x, -1), *m.cummax(_ties(m, x), 0)), R, {}),
    "cummin": (lambda m, x: (*m.cummin(x, 0), *_ties(m, x).cummin(-1)), R, {}),
    "logcumsumexp": (lambda m, x: (m.logcumsumexp(x, -1), (x * 40).logcumsumexp(0)), R, {}),
    "repeat_interleave": (lambda m, x: (m.repeat_interleave(x, 2), x.repeat_interleave(3, dim=0),
                                        m.repeat_interleave(x, m.tensor([2] * x.shape[-1]), dim=-1)), R, {}),
    # scatter_reduce: every reduction, with and without the input's own values
    "scatter_reduce": (lambda m, x, s: tuple(m.scatter_reduce(x, 0, _idx(m), s, r, include_self=inc)
                                             for r in ("sum", "mean") for inc in (True, False))
                       + tuple(_ties(m, x).scatter_reduce(0, _idx(m), _ties(m, s), r, include_self=inc)
                               for r in ("amax", "amin") for inc in (True, False))
                       + (x.scatter_reduce(0, _idx(m), s, "prod"), x.scatter_reduce(0, _idx(m), s, "prod",
                                                                                     include_self=False)),
                       [((3, 4), (2, 3)), ((4, 5), (2, 3))], dict(low=0.3)),
}
