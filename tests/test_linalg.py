"""lamina.linalg against torch.linalg: forward and backward in float64 and float32, and float64
finite differences, through the shared checker (tests/helpers.py); then the errors.

Inputs are made well conditioned where the function needs it: A A^T + n I for symmetric
positive-definite, A + n I for invertible. Factorisations whose factors are unique only up
to signs (qr, svd, eigh) are compared as they come (NumPy and torch call the same LAPACK
routines) and also through sign-free combinations.
"""
import math

import numpy as np
import pytest
import torch

import lamina
from helpers import check_op


def L(m):
    return m.linalg


def spd(m, a):
    """A symmetric positive-definite matrix (batch) made from any square a."""
    n = a.shape[-1]
    return a @ a.mT + n * m.eye(n, dtype=a.dtype)


def well(m, a):
    """An invertible, well-conditioned matrix (batch) made from any square a."""
    return a + a.shape[-1] * m.eye(a.shape[-1], dtype=a.dtype)


def sym(m, a):
    return a + a.mT


def fixed_svd(m, u, s, vh):
    """Singular vectors are unique only up to sign (and NumPy's LAPACK and torch's pick
    differently): flip each so its first entry is positive, a gauge-free function of them."""
    return u * m.sign(u[..., :1, :]), s, vh * m.sign(vh[..., :, :1])


def full_svd_parts(m, u, s, vh):
    k = s.shape[-1]
    u, s, vh = fixed_svd(m, u, s, vh)
    u0, v0 = u[..., :, k:], vh[..., k:, :]
    return u[..., :, :k], s, vh[..., :k, :], u0 @ u0.mT, v0.mT @ v0


def signfree_svd(m, a, u, s, vh):
    return u @ vh if a.shape[-1] == a.shape[-2] else u.abs(), (u * u).sum(-1), (vh * vh).sum(-2)


def fixed_eigh(m, w, v):
    return w, v * m.sign(v[..., :1, :])


SQ = [((3, 3),), ((2, 4, 4),), ((1, 1),), ((2, 1, 2, 2),)]  # square, batched, 1x1
RECT = [((3, 3),), ((4, 2),), ((2, 3),), ((2, 5, 3),), ((2, 3, 5),)]
INF = math.inf

CASES = {
    "vector_norm": (lambda m, x: (L(m).vector_norm(x), L(m).vector_norm(x, 1, -1), L(m).vector_norm(x, INF, 0),
                                  L(m).vector_norm(x, -INF, -1, keepdim=True),
                                  L(m).vector_norm(x, 3, (0, -1) if x.ndim > 1 else 0),
                                  L(m).vector_norm(x, 0.5), L(m).vector_norm(x, 0, -1), L(m).vector_norm(x, -2, -1)),
                    [((3, 4),), ((2, 3, 4),), ((5,),)], {}),
    "vector_norm-zero": (lambda m, x: (L(m).vector_norm(x * 0), L(m).vector_norm(x * 0, 3, -1),
                                       L(m).vector_norm(x * 0, 1.5, -1)), [((3, 4),)], dict(fd=False)),
    "vector_norm-dtype": (lambda m, x: L(m).vector_norm(x, dtype=m.float64), [((3, 4),)], {}),
    "matrix_norm": (lambda m, x: tuple(L(m).matrix_norm(x, o) for o in ("fro", "nuc", 1, -1, 2, -2, INF, -INF)),
                    [((3, 4),), ((2, 3, 3),), ((4, 2),)], {}),
    "matrix_norm-dim": (lambda m, x: (L(m).matrix_norm(x, 1, dim=(0, 2), keepdim=True),
                                      L(m).matrix_norm(x, "nuc", dim=(2, 0)),
                                      L(m).matrix_norm(x, 2, dim=(-1, 0), keepdim=True),
                                      L(m).matrix_norm(x, -INF, dim=(1, 2), keepdim=True)), [((2, 3, 4),)], {}),
    "norm": (lambda m, x: (L(m).norm(x), L(m).norm(x, 2), L(m).norm(x, "nuc"), L(m).norm(x, -1),
                           L(m).norm(x, dim=0), L(m).norm(x, 3, dim=(0,)), L(m).norm(x, INF, dim=(0, 1)),
                           L(m).norm(x, keepdim=True)), [((3, 4),), ((4, 4),)], {}),
    "norm-vector": (lambda m, x: (L(m).norm(x, 1), L(m).norm(x, INF), L(m).norm(x, 0)), [((5,),)], {}),
    "norm-batch": (lambda m, x: (L(m).norm(x), L(m).norm(x, dim=-1), L(m).norm(x, "fro", dim=(-2, -1))),
                   [((2, 3, 4),)], {}),
    "inv": (lambda m, a: L(m).inv(well(m, a)), SQ, {}),
    "solve": (lambda m, a, b: L(m).solve(well(m, a), b),
              [((3, 3), (3, 2)), ((3, 3), (3,)), ((2, 3, 3), (2, 3)), ((2, 3, 3), (3, 4)), ((3, 3), (2, 3, 1)),
               ((2, 1, 3, 3), (4, 3, 2))], {}),
    "solve-right": (lambda m, a, b: L(m).solve(well(m, a), b, left=False), [((3, 3), (2, 3)), ((2, 3, 3), (4, 3))], {}),
    "det": (lambda m, a: (L(m).det(a), L(m).det(well(m, a))), SQ + [((0, 0),)], {}),
    "slogdet": (lambda m, a: (*L(m).slogdet(a), *L(m).slogdet(well(m, a))), SQ, {}),
    "cholesky": (lambda m, a: (L(m).cholesky(spd(m, a)), L(m).cholesky(spd(m, a), upper=True)), SQ, {}),
    "qr": (lambda m, a: tuple(L(m).qr(a)), [((3, 3),), ((4, 2),), ((2, 5, 3),)], {}),
    "qr-complete": (lambda m, a: tuple(L(m).qr(a, mode="complete")), [((3, 3),), ((2, 4, 4),)], {}),
    "qr-complete-tall": (lambda m, a: tuple(L(m).qr(a, mode="complete")), [((4, 2),)], dict(grad=False)),
    "qr-wide": (lambda m, a: (*L(m).qr(a), L(m).qr(a, mode="complete").R), [((2, 4),), ((2, 3, 5),)], {}),
    "qr-r": (lambda m, a: L(m).qr(a, mode="r").R, RECT, dict(grad=False)),
    "svd": (lambda m, a: fixed_svd(m, *L(m).svd(a, full_matrices=False)), RECT, {}),
    "svd-full": (lambda m, a: fixed_svd(m, *L(m).svd(a)), RECT[:1] + [((2, 4, 4),)], {}),
    # the singular vectors past min(m, n) get no gradient (as in torch), so finite differences disagree
    # and only their span is unique: compare it through its projector
    "svd-full-rect": (lambda m, a: full_svd_parts(m, *L(m).svd(a)), RECT[1:], dict(fd=False)),
    "svd-signfree": (lambda m, a: signfree_svd(m, a, *L(m).svd(a, full_matrices=False)), RECT, {}),
    "svdvals": (lambda m, a: L(m).svdvals(a), RECT + [((2, 0, 3),)], {}),
    "eigh": (lambda m, a: (*fixed_eigh(m, *L(m).eigh(sym(m, a))), *fixed_eigh(m, *L(m).eigh(sym(m, a), UPLO="U"))),
             SQ, {}),
    "eigh-signfree": (lambda m, a: (lambda w, v: (w, v * v, v @ (w[..., None] * v.mT)))(*L(m).eigh(sym(m, a))),
                      SQ, {}),
    "eigvalsh": (lambda m, a: (L(m).eigvalsh(sym(m, a)), L(m).eigvalsh(sym(m, a), UPLO="U")), SQ, {}),
    "pinv": (lambda m, a: (L(m).pinv(a), L(m).pinv(spd(m, a), hermitian=True)), SQ[:2], {}),
    "pinv-rect": (lambda m, a: L(m).pinv(a), RECT, {}),
    "pinv-tolerance": (lambda m, a: L(m).pinv((a * m.tensor([1.0, 1e-9, 1.0], dtype=a.dtype)) @ a, rtol=1e-6),
                       [((3, 3),)], dict(grad=False)),
    "matrix_rank": (lambda m, a: (L(m).matrix_rank(a), L(m).matrix_rank(a[..., :2] @ a[..., :2, :]),
                                  L(m).matrix_rank(a, atol=1.0), L(m).matrix_rank(a, rtol=0.5),
                                  L(m).matrix_rank(sym(m, a), hermitian=True)),
                    [((3, 3),), ((2, 4, 4),)], dict(grad=False)),
    "cross": (lambda m, a, b: (L(m).cross(a, b), L(m).cross(a.mT, b.mT, dim=-2)),
              [((4, 3), (4, 3)), ((2, 1, 3), (1, 5, 3))], {}),
    "vecdot": (lambda m, a, b: (L(m).vecdot(a, b), L(m).vecdot(a, b, dim=0)), [((3, 4), (3, 4))], {}),
    "vecdot-broadcast": (lambda m, a, b: L(m).vecdot(a, b), [((3, 4), (4,)), ((2, 1, 4), (3, 4))], {}),
    "matrix_exp": (lambda m, a: (L(m).matrix_exp(a @ a), L(m).matrix_exp(a * 3)), SQ, {}),
    # (a + 4I is far from singular for inputs in [-2, 2]: the inverse behind n < 0 is well conditioned)
    "matrix_power": (lambda m, a: (L(m).matrix_power(a, 5), L(m).matrix_power(a, 0),
                                   L(m).matrix_power(a + 4 * m.eye(a.shape[-1], dtype=a.dtype), -1)), SQ, {}),
    "lu_factor": (lambda m, a: L(m).lu_factor(a), SQ, {}),
    "lu_factor-rect": (lambda m, a: L(m).lu_factor(a), [((3, 5),), ((5, 3),), ((2, 2, 4),)], dict(grad=False)),
    "multi_dot": (lambda m, a, b, c: (L(m).multi_dot([a, b, c]), L(m).multi_dot([a[0], b, c[:, 0]]),
                                      L(m).multi_dot([a, b]), L(m).multi_dot([b.mT, a.mT, a, b, c])),
                  [((2, 5), (5, 3), (3, 4)), ((6, 2), (2, 7), (7, 1))], {}),
}


IDS = [(name, i) for name, (_, shapes, _) in CASES.items() for i in range(len(shapes))]


@pytest.mark.parametrize("name,case", IDS, ids=[f"{n}-{i}" for n, i in IDS])
def test_linalg(name, case):
    fn, shapes, opts = CASES[name]
    check_op(fn, shapes[case], **opts)


def test_every_function_has_a_case():
    names = {n.split("-")[0] for n in CASES}
    missing = sorted(set(lamina.linalg.__all__) - names - {"LinAlgError"})
    assert not missing, f"lamina.linalg functions without a case: {missing}"


def test_return_types():
    A = lamina.tensor(np.eye(3) * 2.0)
    s = lamina.linalg.slogdet(A)
    assert s.sign.item() == 1.0 and abs(s.logabsdet.item() - 3 * math.log(2)) < 1e-12
    q = lamina.linalg.qr(A)
    assert q.Q.shape == (3, 3) and q.R.shape == (3, 3)
    u = lamina.linalg.svd(A)
    assert u.U.shape == u.Vh.shape == (3, 3) and u.S.shape == (3,)
    e = lamina.linalg.eigh(A)
    assert e.eigenvalues.shape == (3,) and e.eigenvectors.shape == (3, 3)
    assert lamina.linalg.qr(A, mode="r").Q.shape == torch.linalg.qr(torch.eye(3), mode="r").Q.shape


def test_linalg_error_is_a_runtime_error():
    assert issubclass(lamina.linalg.LinAlgError, RuntimeError)
    assert issubclass(torch.linalg.LinAlgError, RuntimeError)


SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])


@pytest.mark.parametrize("fn", [lambda m, a: m.linalg.inv(a), lambda m, a: m.linalg.solve(a, m.ones(2, dtype=a.dtype))])
def test_singular_matrix(fn):
    for m in (lamina, torch):
        with pytest.raises(m.linalg.LinAlgError, match="singular"):
            fn(m, m.tensor(SINGULAR))
    batch = np.stack([np.eye(2), SINGULAR])
    with pytest.raises(lamina.linalg.LinAlgError, match="batch element 1"):
        fn(lamina, lamina.tensor(batch))


def test_not_positive_definite():
    for m in (lamina, torch):
        with pytest.raises(m.linalg.LinAlgError, match="positive-definite"):
            m.linalg.cholesky(m.tensor(-np.eye(3)))


@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh"])
def test_non_square(name):
    with pytest.raises(RuntimeError, match=f"linalg.{name}: expected batches of square matrices, got 2 by 3"):
        getattr(lamina.linalg, name)(lamina.ones(2, 3, dtype=lamina.float64))
    with pytest.raises(RuntimeError, match=f"linalg.{name}: expected a tensor of at least 2 dims"):
        getattr(lamina.linalg, name)(lamina.ones(3))


def test_bad_inputs():
    A = lamina.ones(3, 3)
    with pytest.raises(TypeError, match="linalg.inv: expected a float32 or float64 tensor, got int64"):
        lamina.linalg.inv(lamina.ones(3, 3, dtype=lamina.int64))
    with pytest.raises(RuntimeError, match="linalg.solve: A of shape .* needs B with 3 rows"):
        lamina.linalg.solve(A, lamina.ones(4, 2))
    with pytest.raises(RuntimeError, match="batch dims"):
        lamina.linalg.solve(lamina.ones(2, 3, 3), lamina.ones(4, 3, 1))
    with pytest.raises(ValueError, match="linalg.qr: mode must be"):
        lamina.linalg.qr(A, mode="full")
    with pytest.raises(ValueError, match="linalg.matrix_norm: ord must be one of"):
        lamina.linalg.matrix_norm(A, 3)
    with pytest.raises(RuntimeError, match="linalg.norm: with ord=2 and no dim the input must be 1-D"):
        lamina.linalg.norm(lamina.ones(2, 3, 4), 2)
    with pytest.raises(RuntimeError, match="linalg.cross: dim -1 must have size 3"):
        lamina.linalg.cross(lamina.ones(2, 4), lamina.ones(2, 4))
    with pytest.raises(RuntimeError, match="linalg.multi_dot: expected at least 2 tensors"):
        lamina.linalg.multi_dot([A])
    with pytest.raises(RuntimeError, match="linalg.multi_dot: tensors 0 and 1 .* do not align"):
        lamina.linalg.multi_dot([A, lamina.ones(2, 2)])
    with pytest.raises(RuntimeError, match="norm: p='nuc' without dim needs a 2-D input"):
        lamina.norm(lamina.ones(2, 3, 3), p="nuc")


def test_qr_gradient_refusals():
    A = lamina.randn(4, 2, dtype=lamina.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='complete' and rows > columns"):
        lamina.linalg.qr(A, mode="complete").Q.sum().backward()
    with pytest.raises(RuntimeError, match="mode='r'"):
        lamina.linalg.qr(A, mode="r").R.sum().backward()


def test_det_gradient_of_a_singular_matrix():
    """The gradient is adj(A)^T, which det(A) A^-T cannot give once A is singular: the SVD form
    does. torch 2.13 returns zeros at exactly singular A, so compare with its gradient at a
    matrix 1e-9 away, and with finite differences at A itself."""
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    la = lamina.tensor(a, requires_grad=True)
    lamina.linalg.det(la).backward()
    ta = torch.tensor(a + 1e-9 * np.random.default_rng(0).standard_normal((3, 3)), requires_grad=True)
    torch.linalg.det(ta).backward()
    np.testing.assert_allclose(la.grad.numpy(), ta.grad.numpy(), atol=1e-6)
    eps, numeric = 1e-6, np.zeros((3, 3))
    for i, j in np.ndindex(3, 3):
        d = np.zeros((3, 3))
        d[i, j] = eps
        numeric[i, j] = (np.linalg.det(a + d) - np.linalg.det(a - d)) / (2 * eps)
    np.testing.assert_allclose(la.grad.numpy(), numeric, atol=1e-6)


def test_multi_dot_picks_the_cheap_order():
    from lamina.linalg import _chain_order

    # (10x100)(100x5)(5x50): ((AB)C) costs 7500, (A(BC)) 75000
    assert _chain_order([10, 100, 5, 50])[0][2] == 1
    assert _chain_order([50, 5, 100, 10])[0][2] == 0


# ---- lamina.norm and the sort family (their op rows are in tests/ops_sort.py) --------------------
def test_sort_family_return_types():
    x = lamina.tensor([[3.0, 1.0, 2.0]])
    for name, out in [("sort", x.sort()), ("topk", x.topk(2)), ("kthvalue", x.kthvalue(1)),
                      ("median", x.median(1)), ("nanmedian", x.nanmedian(1)), ("mode", x.mode())]:
        values, indices = out
        assert type(out).__name__ == name and isinstance(out, tuple)
        assert out.values is values and out.indices is indices and indices.dtype == lamina.int64
    assert x.norm().item() == pytest.approx(math.sqrt(14)) and lamina.norm(x, 1).item() == 6.0


def test_sort_family_errors():
    x = lamina.ones(2, 3)
    with pytest.raises(RuntimeError, match="topk: k=5 is larger than dim 1 of size 3"):
        x.topk(5)
    with pytest.raises(RuntimeError, match=r"kthvalue: k=0 is out of range .* \(expected 1 <= k <= 3\)"):
        x.kthvalue(0)
    with pytest.raises(IndexError, match=r"sort: dim 2 is out of range for a tensor of shape \(2, 3\)"):
        x.sort(2)
    with pytest.raises(IndexError, match="median: cannot select from an empty dim"):
        lamina.ones(2, 0).median(1)
    with pytest.raises(RuntimeError, match="median: cannot take the median of an empty tensor"):
        lamina.ones(0).median()
    with pytest.raises(RuntimeError, match="bucketize: boundaries must be a 1-D tensor"):
        lamina.bucketize(x, x)
    with pytest.raises(RuntimeError, match="searchsorted: sorted_sequence of shape .* must be 1-D or share"):
        lamina.searchsorted(x, lamina.ones(3, 3))
    with pytest.raises(RuntimeError, match="searchsorted: side='left' and right=True contradict"):
        lamina.searchsorted(x[0], x, right=True, side="left")
    with pytest.raises(TypeError, match="linalg.vector_norm: expected a float32 or float64 tensor, got int64"):
        lamina.norm(lamina.ones(3, dtype=lamina.int64))
    with pytest.raises(ValueError, match="norm: p must be a number, 'fro' or 'nuc'"):
        x.norm("max")


def test_searchsorted_many_rows_matches_numpy():
    """The lexsort path for N-D boundaries against np.searchsorted row by row, ties included."""
    rng = np.random.default_rng(0)
    seq = np.sort(rng.integers(0, 6, (7, 9)).astype(np.float64), -1)
    vals = rng.integers(-1, 7, (7, 11)).astype(np.float64)
    for side in ("left", "right"):
        got = lamina.searchsorted(lamina.tensor(seq), lamina.tensor(vals), side=side).numpy()
        want = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(seq, vals)])
        np.testing.assert_array_equal(got, want)
