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


def _nans(m, x):
    """x with NaN where it exceeds 0.8 (differentiable elsewhere)."""
    return m.where(x > 0.8, m.full_like(x, float("nan")), x)


def _first_nan(m, x):
    """x with NaN at the first place of every last-dim row."""
    return m.where(m.arange(x.shape[-1]) == 0, m.full_like(x, float("nan")), x)


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
    # NumPy-flavoured shape helpers
    "moveaxis": (lambda m, x: (m.moveaxis(x, 0, -1), m.movedim(x, (0, -1), (-1, 0)) * 2), M, {}),
    "swapdims": (lambda m, x: m.swapdims(x, 0, -1), M, {}),
    "ravel": (lambda m, x: (m.ravel(x), x.ravel() * 2), R, {}),
    "fliplr": (lambda m, x: x.fliplr(), M, {}),
    "flipud": (lambda m, x: m.flipud(x), R, {}),
    "rot90": (lambda m, x: (m.rot90(x), x.rot90(2), m.rot90(x, -1, (-1, 0)), m.rot90(x, 4) * 2), M, {}),
    "atleast_1d": (lambda m, x: m.atleast_1d(x) * 2, U, {}),
    "atleast_2d": (lambda m, x, y: (*m.atleast_2d(x, y), *m.atleast_2d([x])), [((), (4,)), ((2, 3), (1, 2, 3))], {}),
    "atleast_3d": (lambda m, x, y: m.atleast_3d((x, y)), [((), (4,)), ((2, 3), (1, 2, 3))], {}),
    "hstack": (lambda m, a, b: m.hstack([a, b]), [((3,), (2,)), ((2, 3), (2, 1)), ((2, 1, 3), (2, 4, 3))], {}),
    "vstack": (lambda m, a, b: m.vstack((a, b)), [((3,), (3,)), ((2, 3), (3,)), ((2, 1, 3), (4, 1, 3))], {}),
    "row_stack": (lambda m, a, b: m.row_stack((a, b)), [((3,), (2, 3))], {}),
    "dstack": (lambda m, a, b: m.dstack([a, b]), [((3,), (3,)), ((2, 3), (2, 3, 2))], {}),
    "column_stack": (lambda m, a, b: m.column_stack([a, b]), [((3,), (3,)), ((3,), (3, 2)), ((), ())], {}),
    "tensor_split": (lambda m, x: (*m.tensor_split(x, 3, -1), *x.tensor_split([1, -1], 0), *m.tensor_split(x, (3, 1))),
                     M, {}),
    "hsplit": (lambda m, x: (*m.hsplit(x, 2), *x.hsplit([1, 3])), [((3, 4),), ((2, 4, 3),), ((6,),)], {}),
    "vsplit": (lambda m, x: (*m.vsplit(x, [1]), *x.vsplit(2)), [((4, 3),), ((2, 3, 4),)], {}),
    "dsplit": (lambda m, x: (*m.dsplit(x, 2), *x.dsplit([1])), [((2, 3, 4),)], {}),
    "select": (lambda m, x: (m.select(x, 0, -1), x.select(-1, 1)), M, {}),
    "diff": (lambda m, x: (m.diff(x), x.diff(2, 0), m.diff(x, dim=-1, prepend=x, append=x[..., :1]), m.diff(x > 0)),
             M, {}),
    # slices along one dim by a 1-D index; gathers with broadcasting; masks
    "index_add": (lambda m, x, s: (m.index_add(x, 0, m.tensor([0, 2, 0]), s), x.index_add(0, m.tensor([1, 1, 2]), s,
                                                                                       alpha=-2)),
                  [((3, 4), (3, 4)), ((4, 2, 3), (3, 2, 3))], {}),
    "index_copy": (lambda m, x, s: m.index_copy(x, 0, m.tensor([2, 0]), s), [((3, 4), (2, 4)), ((4, 2), (2, 2))], {}),
    "index_fill": (lambda m, x: (m.index_fill(x, -1, m.tensor([0, 1]), -2.5), x.index_fill(0, m.tensor([0]), 7.0)),
                   M, {}),
    "take_along_dim": (lambda m, x: (m.take_along_dim(x, m.argsort(x, -1), -1), m.take_along_dim(x, m.tensor([0, 2])),
                                     x.take_along_dim(m.argmax(x, 0, keepdim=True), 0)), M, {}),
    "masked_scatter": (lambda m, x, s: x.masked_scatter(x > 0, s), [((3, 4), (12,)), ((2, 3), (4, 5))], {}),
    "argwhere": (lambda m, x: (m.argwhere(x > 0), m.argwhere(_ints(m, x))), R, dict(grad=False)),
    "isin": (lambda m, a, b: (m.isin(_ints(m, a), _ints(m, b)), m.isin(_ints(m, a), 2, invert=True)),
             [((3, 4), (5,)), ((4,), (2, 2))], dict(grad=False)),
    # NaN-skipping reductions, aminmax
    "nansum": (lambda m, x: (m.nansum(_nans(m, x)), _nans(m, x).nansum(-1), m.nansum(x, 0, keepdim=True)), R, {}),
    # (one NaN per row: an all-NaN row's mean is NaN, which finite differences cannot check)
    "nanmean": (lambda m, x: (m.nanmean(_first_nan(m, x), -1), _first_nan(m, x).nanmean()), R, {}),
    "aminmax": (lambda m, x: (*m.aminmax(x), *m.aminmax(x, dim=-1, keepdim=True)), R, {}),
    # aliases
    "absolute": (lambda m, x: m.absolute(x), U, {}),
    "negative": (lambda m, x: (m.negative(x), x.negative()), U, {}),
    "positive": (lambda m, x: m.positive(x) * 2, U, {}),
    "rsub": (lambda m, a, b: (m.rsub(a, b), m.rsub(a, 2.0, alpha=3)), [((3, 4), (3, 4)), ((3, 1), (4,))], {}),
    # scatter_reduce: every reduction, with and without the input's own values
    "scatter_reduce": (lambda m, x, s: tuple(m.scatter_reduce(x, 0, _idx(m), s, r, include_self=inc)
                                             for r in ("sum", "mean") for inc in (True, False))
                       + tuple(_ties(m, x).scatter_reduce(0, _idx(m), _ties(m, s), r, include_self=inc)
                               for r in ("amax", "amin") for inc in (True, False))
                       + (x.scatter_reduce(0, _idx(m), s, "prod"), x.scatter_reduce(0, _idx(m), s, "prod",
                                                                                     include_self=False)),
                       [((3, 4), (2, 3)), ((4, 5), (2, 3))], dict(low=0.3)),
}
OPS.update({
    # tuples nested in an index are advanced indices, as lists are (repeats add up in the gradient)
    "getitem_nested_tuples": (lambda m, x: (x[((0,),)], x[(1, 0), [1, 2]], x[(m.tensor([0, 1]), (1, 1))],
                                            x[:, (2, 0, 2)], x[(0, 1), :, (3, 3)]), [((2, 5, 6),)], {}),
})
OPS.update({
    # a zero-length dim: empty values and indices, and an empty gradient
    "cummax_cummin_empty": (lambda m, x: (*m.cummax(x, 1), *m.cummin(x, 1), *m.cummax(x, 0)), [((2, 0, 4),), ((3, 0),)], {}),
})
OPS.update({
    # a subscript repeated within one operand takes its diagonal; the gradient lands on it
    "einsum_diagonal": (lambda m, a, b: (m.einsum("ii->", a), m.einsum("ii->i", a), m.einsum("ii,ij->j", a, b),
                                         m.einsum("ij,jj->i", b.t(), a)), [((3, 3), (3, 4))], {}),
})
