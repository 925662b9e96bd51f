"""Rows of the op checker (tests/test_ops.py) for lamina/ops/sort.py: one per exported name.

Inputs are random floats, so values are distinct unless a row makes ties on purpose (mode,
unique): torch's choice among tied values in topk and median is not specified.
"""
S = [((3, 4),), ((5,),), ((),), ((0, 3),), ((2, 3, 4),)]  # selections along a dim
M = [((3, 4),), ((2, 3, 4),), ((1, 4),)]  # non-empty, at least 2-D
NAN = float("nan")


def _with_nans(m, x):
    """x with its entries above 1.2 replaced by NaN (differentiable in the others)."""
    return m.where(x > 1.2, m.full_like(x, NAN), x)


def _sorted(m, a):
    return m.sort(a, -1).values


def _ints(m, x):
    """Small integers as floats, with many ties (no gradient)."""
    return m.round(x * 1.5).to(x.dtype)


OPS = {
    "sort": (lambda m, x: (*m.sort(x), *x.sort(0, descending=True), *m.sort(x, dim=-1, stable=True)), S, {}),
    "argsort": (lambda m, x: (m.argsort(x), x.argsort(0, descending=True), m.argsort(_ints(m, x), stable=True),
                              m.argsort(_ints(m, x), descending=True, stable=True)), S, dict(grad=False)),
    "msort": (lambda m, x: m.msort(x) * 2, [((3, 4),), ((5,),), ((0, 3),)], {}),
    "topk": (lambda m, x: (*m.topk(x, 2), *x.topk(1, dim=0, largest=False), *x.topk(0)), M, {}),
    "kthvalue": (lambda m, x: (*m.kthvalue(x, 2), *x.kthvalue(1, 0, keepdim=True)), M, {}),
    "median": (lambda m, x: (m.median(x), *x.median(-1), *x.median(0, keepdim=True)), M + [((5,),), ((),)], {}),
    "nanmedian": (lambda m, x: (m.nanmedian(_with_nans(m, x)), *_with_nans(m, x).nanmedian(-1),
                                *m.nanmedian(x, 0, keepdim=True)), M, {}),
    "mode": (lambda m, x: (*m.mode(m.cat([x, x[..., :2]], -1)), *x.mode(0), *m.mode(x, keepdim=True)), M, {}),
    "unique": (lambda m, x: (m.unique(_ints(m, x)),
                             *m.unique(_ints(m, x), return_inverse=True, return_counts=True),
                             *m.unique(m.cat([_ints(m, x), _ints(m, x)[:1]], 0), dim=0, return_inverse=True,
                                       return_counts=True),
                             *m.unique(_ints(m, x), sorted=True, return_counts=True, dim=-1)),
               [((3, 4),), ((2, 3, 4),)], dict(grad=False)),
    "unique_consecutive": (lambda m, x: (m.unique_consecutive((x > 0).long()),
                                         *m.unique_consecutive(_ints(m, x), return_inverse=True, return_counts=True),
                                         *m.unique_consecutive(m.cat([_ints(m, x), _ints(m, x)], 0), dim=0,
                                                               return_inverse=True, return_counts=True),
                                         *m.unique_consecutive((x > 0).long(), return_counts=True, dim=-1)),
                           [((3, 4),), ((2, 3, 4),), ((5, 1),)], dict(grad=False)),
    "searchsorted": (lambda m, a, b: (m.searchsorted(_sorted(m, a), b), m.searchsorted(_sorted(m, a), b, right=True),
                                      m.searchsorted(_sorted(m, a), m.cat([b, _sorted(m, a)], -1), side="right"),
                                      m.searchsorted(_sorted(m, a), m.cat([b, _sorted(m, a)], -1), out_int32=True),
                                      m.searchsorted(a, b, sorter=m.argsort(a)),
                                      m.searchsorted(_sorted(m, a.reshape(-1)), b),
                                      m.searchsorted(_sorted(m, a.reshape(-1)), 0.5)),
                     [((3, 4), (3, 5)), ((2, 3, 4), (2, 3, 2)), ((2, 3), (2, 0))], dict(grad=False)),
    "bucketize": (lambda m, a, b: (m.bucketize(b, _sorted(m, a)), m.bucketize(b, _sorted(m, a), right=True),
                                   m.bucketize(m.cat([b.reshape(-1), a]), _sorted(m, a), right=True),
                                   m.bucketize(m.cat([b.reshape(-1), a]), _sorted(m, a), out_int32=True)),
                  [((4,), (3, 5)), ((1,), (2,)), ((5,), ())], dict(grad=False)),
    "norm": (lambda m, x: (m.norm(x), x.norm(dim=-1), x.norm(p=1, dim=0), m.norm(x, p=float("inf")),
                           x.norm(p=3, dim=-1, keepdim=True), m.norm(x, p="nuc", dim=(-2, -1)),
                           m.norm(x, p=0),
                           m.norm(x, p="fro", dim=(0, 1)), x.norm(-float("inf"), 1), x.norm(0.5, 0),
                           m.norm(x, 2, dtype=m.float64)), M, {}),
    # NaN sorts as the largest value; a NaN in a slice makes its median NaN (at the first NaN)
    "sort-nan": (lambda m, x: (*m.sort(_with_nans(m, x)), *m.sort(_with_nans(m, x), descending=True),
                               *m.median(_with_nans(m, x), -1),
                               m.median(_with_nans(m, x)), m.nanmedian(_with_nans(m, x)),
                               *m.kthvalue(_with_nans(m, x), 1, 0)), M, dict(fd=False)),
    # ties: the stable sort's order, and mode's choice (the smallest, at its last occurrence)
    "sort-ties": (lambda m, x: (*m.sort(_ints(m, x), stable=True),
                                *m.sort(_ints(m, x), dim=0, descending=True, stable=True),
                                *m.mode(_ints(m, x)), *m.mode(_ints(m, x), 0)), M + [((6, 5),)], dict(grad=False)),
}

