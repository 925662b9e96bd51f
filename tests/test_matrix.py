"""lamina/ops/matrix.py beyond the op checker: errors against torch's, torch's legacy semantics
(cross without dim, svd's V, qr's some=, deprecation warnings), the dtypes that integer inputs
give, and the gradients the checker cannot compare (vander: torch 2.13's has no backward).
"""
import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina.ops import matrix

RNG = np.random.default_rng(0)


def both(fn, *arrays):
    """fn(m, *tensors) with m = lamina and m = torch, on the same arrays."""
    return fn(lamina, *[lamina.tensor(a) for a in arrays]), fn(torch, *[torch.tensor(a) for a in arrays])


def close(a, b, **kw):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **kw)


A23, A33, A34, A43 = (RNG.standard_normal(s) for s in ((2, 3), (3, 3), (3, 4), (4, 3)))
V2, V3, V4 = (RNG.standard_normal(n) for n in (2, 3, 4))
B233, B234, B343 = (RNG.standard_normal(s) for s in ((2, 3, 3), (2, 3, 4), (3, 4, 3)))
INT33 = np.arange(9).reshape(3, 3)

# (name, fn(m, *tensors), arrays): torch raises, so must lamina, with an exception of torch's type
ERRORS = [
    ("mv-shapes", lambda m, a, v: m.mv(a, v), (A34, V3)),
    ("mv-ndim", lambda m, a, v: m.mv(a, v), (V3, V3)),
    ("addmm-align", lambda m, i, a, b: m.addmm(i, a, b), (A33, A34, A34)),
    ("addmm-input", lambda m, i, a, b: m.addmm(i, a, b), (A34, A33, A34[:, :3])),
    ("addmm-1d", lambda m, i, a, b: m.addmm(i, a, b), (V3, V3, A34)),
    ("addmv-shapes", lambda m, i, a, v: m.addmv(i, a, v), (V3, A34, V3)),
    ("addbmm-batches", lambda m, i, a, b: m.addbmm(i, a, b), (A33, B234, B343)),
    ("addbmm-2d", lambda m, i, a, b: m.addbmm(i, a, b), (A33, A33, B343)),
    ("baddbmm-align", lambda m, i, a, b: m.baddbmm(i, a, b), (B233, B233, B234.swapaxes(1, 2))),
    ("addr-2d", lambda m, i, a, b: m.addr(i, a, b), (A23, A23, V3)),
    ("inner-last", lambda m, a, b: m.inner(a, b), (V2, V3)),
    ("tensordot-sizes", lambda m, a, b: m.tensordot(a, b, dims=1), (A23, A43)),
    ("tensordot-too-many", lambda m, a, b: m.tensordot(a, b, dims=3), (A23, A34)),
    ("tensordot-negative", lambda m, a, b: m.tensordot(a, b, dims=-1), (A23, A34)),
    ("tensordot-lengths", lambda m, a, b: m.tensordot(a, b, dims=([1], [0, 1])), (A23, A34)),
    ("trace-3d", lambda m, a: m.trace(a), (B233,)),
    ("trace-1d", lambda m, a: m.trace(a), (V3,)),
    ("det-int", lambda m, a: m.det(a), (INT33,)),
    ("det-rect", lambda m, a: m.det(a), (A34,)),
    ("inverse-int", lambda m, a: m.inverse(a), (INT33,)),
    ("inverse-1d", lambda m, a: m.inverse(a), (V3,)),
    ("matrix_power-rect", lambda m, a: m.matrix_power(a, 2), (A34,)),
    ("matrix_power-int-inverse", lambda m, a: m.matrix_power(a, -1), (INT33,)),
    ("matrix_exp-rect", lambda m, a: m.matrix_exp(a), (A34,)),
    ("lu_factor-singular", lambda m, a: m.linalg.lu_factor(a * 0), (A33,)),
    ("cdist-1d", lambda m, a, b: m.cdist(a, b), (V3, A33)),
    ("cdist-columns", lambda m, a, b: m.cdist(a, b), (A23, A34)),
    ("cdist-negative-p", lambda m, a, b: m.cdist(a, b, p=-1), (A23, A23)),
    ("cdist-int", lambda m, a, b: m.cdist(a, b), (INT33, INT33)),
    ("cdist-batch", lambda m, a, b: m.cdist(a, b), (B233, RNG.standard_normal((3, 2, 3)))),
    ("cdist-mode", lambda m, a, b: m.cdist(a, b, compute_mode="fast"), (A23, A23)),
    ("cross-no-3", lambda m, a, b: m.cross(a, b), (A34[:2], A34[:2])),
    ("cross-dim-size", lambda m, a, b: m.cross(a, b, dim=1), (A34, A34)),
    ("cov-3d", lambda m, a: m.cov(a), (B233,)),
    ("cov-fweights-float", lambda m, a: m.cov(a, fweights=a[0]), (A34,)),
    ("cov-fweights-numel", lambda m, a: m.cov(a, fweights=m.ones(3, dtype=m.int64)), (A34,)),
    ("cov-fweights-negative", lambda m, a: m.cov(a, fweights=-m.ones(4, dtype=m.int64)), (A34,)),
    ("cov-aweights-int", lambda m, a: m.cov(a, aweights=m.ones(4, dtype=m.int64)), (A34,)),
    ("cov-aweights-negative", lambda m, a: m.cov(a, aweights=-a[0].abs()), (A34,)),
    ("cov-correction-float", lambda m, a: m.cov(a, correction=0.5), (A34,)),
    ("vander-2d", lambda m, a: m.vander(a), (A33,)),
    ("vander-negative-N", lambda m, a: m.vander(a, -1), (V3,)),
    ("trapezoid-x-length", lambda m, y, x: m.trapezoid(y, x), (A34, V3)),
    ("trapezoid-scalar-x", lambda m, y: m.trapezoid(y, 2.0), (A34,)),
    ("cumulative_trapezoid-x-length", lambda m, y, x: m.cumulative_trapezoid(y, x), (A34, V3)),
    ("histc-int", lambda m, a: m.histc(a), (INT33,)),
    ("histc-bins", lambda m, a: m.histc(a, bins=0), (V3,)),
    ("histc-min-max", lambda m, a: m.histc(a, min=2, max=1), (V3,)),
    ("histc-infinite", lambda m, a: m.histc(a / 0.0), (np.abs(V3),)),
    ("bincount-negative", lambda m, a: m.bincount(a - 5), (np.arange(4),)),
    ("bincount-2d", lambda m, a: m.bincount(a), (INT33,)),
    ("bincount-float", lambda m, a: m.bincount(a), (V3,)),
    ("bincount-weights", lambda m, a: m.bincount(a, m.ones(3)), (np.arange(4),)),
    ("bincount-minlength", lambda m, a: m.bincount(a, minlength=-1), (np.arange(4),)),
    ("chain_matmul-1d", lambda m, a, b: m.chain_matmul(a, b), (V3, A34)),
]


@pytest.mark.parametrize("fn,arrays", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_match_torch(fn, arrays):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as want:
            fn(torch, *[torch.tensor(a) for a in arrays])
        with pytest.raises(want.type) as got:
            fn(lamina, *[lamina.tensor(a) for a in arrays])
    assert str(got.value), "the error says nothing"


def test_errors_name_the_shapes():
    a, v = lamina.tensor(A34), lamina.tensor(V3)
    with pytest.raises(RuntimeError, match=r"\(3, 4\).*\(3,\)"):
        lamina.mv(a, v)
    with pytest.raises(RuntimeError, match="3x4 and 3x4"):
        lamina.addmm(a, a, a)
    with pytest.raises(RuntimeError, match=r"X1: 3 X2: 4"):
        lamina.cdist(lamina.tensor(A23), a)
    with pytest.raises(RuntimeError, match="does not broadcast"):
        lamina.addmm(lamina.ones(4, 4), a, lamina.tensor(A43))


def test_chain_matmul_needs_a_matrix():
    with pytest.warns(UserWarning, match="deprecated"), pytest.raises(RuntimeError, match="one or more"):
        lamina.chain_matmul()


# ---- legacy semantics ---------------------------------------------------------------------------
def test_cross_without_dim_takes_the_first_dim_of_size_3_and_warns():
    a, b = RNG.standard_normal((3, 3, 4)), RNG.standard_normal((3, 3, 4))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        got = lamina.cross(lamina.tensor(a), lamina.tensor(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.cross(torch.tensor(a), torch.tensor(b))
    close(got, want, rtol=1e-12)
    close(got, torch.linalg.cross(torch.tensor(a), torch.tensor(b), dim=0), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an explicit dim does not warn
        lamina.cross(lamina.tensor(a), lamina.tensor(b), dim=1)
        lamina.tensor(a).cross(lamina.tensor(b), 0)


@pytest.mark.parametrize("call", [lambda m, a: m.cholesky(a @ a.mT + 3 * m.eye(3, dtype=a.dtype)),
                                  lambda m, a: m.chain_matmul(a, a)], ids=["cholesky", "chain_matmul"])
def test_deprecated_names_warn_as_torch(call):
    with pytest.warns(UserWarning, match="deprecated"):
        got = call(lamina, lamina.tensor(A33))
    with warnings.catch_warnings():  # torch warns once per process
        warnings.simplefilter("ignore")
        want = call(torch, torch.tensor(A33))
    close(got, want, rtol=1e-12)


def test_svd_gives_V_and_its_options():
    x = lamina.tensor(A43)
    U, S, V = lamina.svd(x)
    assert U.shape == (4, 3) and S.shape == (3,) and V.shape == (3, 3)
    close((U * S) @ V.mT, torch.tensor(A43), atol=1e-12)  # V, not Vh
    out = x.svd(some=False)
    assert type(out).__name__ == "svd" and out.U.shape == (4, 4) and out.V.shape == (3, 3)
    U, S, V = lamina.svd(lamina.tensor(A34), compute_uv=False)
    assert U.shape == (3, 3) and V.shape == (4, 4) and not U.numpy().any() and not V.numpy().any()
    close(S, torch.linalg.svdvals(torch.tensor(A34)), rtol=1e-12)


def test_qr_some_and_return_types():
    q = lamina.qr(lamina.tensor(A43), some=False)
    assert type(q).__name__ == "qr" and q.Q.shape == (4, 4) and q.R.shape == (4, 3)
    s = lamina.tensor(A33).slogdet()
    assert s.sign.shape == () and s.logabsdet.shape == ()
    lu = lamina.linalg.lu_factor(lamina.tensor(A34))
    assert lu.LU.shape == (3, 4) and lu.pivots.dtype == lamina.int32


def test_logdet_of_negative_and_zero_determinants():
    flip = np.diag([1.0, 1.0, -1.0])
    got, want = both(lambda m, a, f: (m.logdet(a @ a.mT @ f), m.logdet(a * 0), m.logdet(a @ a.mT)), A33, flip)
    assert np.isnan(got[0].item()) and np.isnan(want[0].item())
    assert got[1].item() == want[1].item() == -np.inf
    close(got[2], want[2], rtol=1e-12)


def test_pinverse_rcond_drops_small_singular_values():
    a = np.diag([1.0, 1e-8, 2.0])
    got, want = both(lambda m, x: (m.pinverse(x), m.pinverse(x, rcond=1e-6)), a)
    close(got[0], want[0], rtol=1e-12)
    close(got[1], want[1], rtol=1e-12)
    assert got[1].numpy()[1, 1] == 0


def test_zero_factors_drop_nan_as_torch():
    nan = np.full((2, 4), np.nan)
    got, want = both(lambda m, i, a, b: (m.addmm(i, a, b, beta=0), m.addmm(a @ b, a * np.nan, b, alpha=0),
                                         m.matrix_power(i[:, :2] + a[:, :2], 0)),
                     nan, A23, A34)
    for g, w in zip(got, want):
        assert not np.isnan(g.numpy()).any()
        close(g, w, rtol=1e-12)


def test_matrix_power_zero_has_a_zero_gradient():
    x = lamina.tensor(A33, requires_grad=True)
    x.matrix_power(0).sum().backward()
    assert x.grad is not None and not x.grad.numpy().any()
    close(x.matrix_power(0), torch.eye(3, dtype=torch.float64))


def test_matrix_exp_far_from_zero_and_in_float32():
    for scale in (1e-3, 1.0, 20.0, 60.0):
        got, want = both(lambda m, a: m.matrix_exp(a), A33 * scale)
        close(got, want, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(want.numpy()).max()))
    got, want = both(lambda m, a: m.matrix_exp(a), B233.astype(np.float32))
    assert got.dtype == lamina.float32
    close(got, want, rtol=1e-5, atol=1e-6)
    d = np.diag([0.5, -1.0, 2.0])
    close(lamina.matrix_exp(lamina.tensor(d)), torch.tensor(np.diag(np.exp([0.5, -1.0, 2.0]))), rtol=1e-14)


def test_lu_factor_gradient_is_for_square_matrices():
    x = lamina.tensor(A34, requires_grad=True)
    LU, _ = lamina.linalg.lu_factor(x)
    with pytest.raises(NotImplementedError, match="square"):
        LU.sum().backward()


def test_cov_without_degrees_of_freedom_warns_and_divides_by_zero():
    with pytest.warns(UserWarning, match="degrees of freedom"):
        got = lamina.cov(lamina.tensor(A34), correction=4)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        want = torch.cov(torch.tensor(A34), correction=4)
    close(got, want)


def test_cov_gradient_reaches_aweights():
    x, w = lamina.tensor(A34, requires_grad=True), lamina.tensor(np.abs(V4) + 0.1, requires_grad=True)
    tx, tw = torch.tensor(A34, requires_grad=True), torch.tensor(np.abs(V4) + 0.1, requires_grad=True)
    lamina.cov(x, aweights=w, correction=1).sum().backward()
    torch.cov(tx, aweights=tw, correction=1).sum().backward()
    close(w.grad, tw.grad, rtol=1e-10)
    close(x.grad, tx.grad, rtol=1e-10)


def test_histc_edges_nan_and_constant_input():
    a = np.array([0.0, 1.0, 2.0, 3.0, 4.0, np.nan, -0.5, 4.5])
    got, want = both(lambda m, x: (m.histc(x, 4, 0, 4), m.histc(x[:5], 3), m.histc(x[:1] + 1, 4)), a)
    for g, w in zip(got, want):
        assert g.dtype == lamina.float64
        close(g, w)
    got, want = both(lambda m, x: m.histc(x, 10, -1, 1), RNG.uniform(-1.2, 1.2, 1000).astype(np.float32))
    assert got.dtype == lamina.float32
    close(got, want)


IF_NEEDED = "use_mm_for_euclid_dist_if_necessary"  # torch's default; torch refuses None


def test_cdist_gradient_where_points_coincide_and_the_matmul_path():
    a = RNG.standard_normal((30, 3))
    b = np.concatenate([a[:4], RNG.standard_normal((3, 3))])
    for p, mode in ((2.0, "donot_use_mm_for_euclid_dist"), (1.0, IF_NEEDED), (3.0, IF_NEEDED), (np.inf, IF_NEEDED)):
        la, lb = lamina.tensor(a[:5], requires_grad=True), lamina.tensor(b, requires_grad=True)
        ta, tb = torch.tensor(a[:5], requires_grad=True), torch.tensor(b, requires_grad=True)
        g = RNG.standard_normal((5, 7))
        (lamina.cdist(la, lb, p, compute_mode=mode) * lamina.tensor(g)).sum().backward()
        (torch.cdist(ta, tb, p, compute_mode=mode) * torch.tensor(g)).sum().backward()
        close(la.grad, ta.grad, rtol=1e-10, atol=1e-12)
        close(lb.grad, tb.grad, rtol=1e-10, atol=1e-12)
    got, want = both(lambda m, x, y: m.cdist(x, y), a, RNG.standard_normal((40, 3)))  # past 25 rows: matmul form
    close(got, want, rtol=1e-10, atol=1e-12)


def test_vander_gradient_against_powers():
    x = np.array([0.5, -1.5, 2.0, 0.0])
    g = RNG.standard_normal((4, 5))
    lx = lamina.tensor(x, requires_grad=True)
    (lamina.vander(lx, 5) * lamina.tensor(g)).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    powers = torch.stack([tx ** k if k else torch.ones_like(tx) for k in range(4, -1, -1)], 1)
    (powers * torch.tensor(g)).sum().backward()
    close(lx.grad, tx.grad, rtol=1e-12)


# ---- dtypes of integer inputs -------------------------------------------------------------------
I = np.arange(1, 7).reshape(2, 3)
DTYPES = [
    ("trace", lambda m, a: m.trace(a), (np.arange(9, dtype=np.int32).reshape(3, 3),)),
    ("kron", lambda m, a, b: m.kron(a, b), (I, I.astype(np.int32))),
    ("tensordot", lambda m, a, b: m.tensordot(a, b, ([1], [1])), (I, I)),
    ("inner", lambda m, a, b: m.inner(a, b), (I, I)),
    ("mv", lambda m, a, v: m.mv(a, v), (I, I[0])),
    ("addmm", lambda m, i, a, b: m.addmm(i, a, b, beta=2, alpha=3), (I[:, :2], I, I.T)),
    ("addr", lambda m, i, a, b: m.addr(i, a, b), (I, I[:, 0], I[0])),
    ("matrix_power", lambda m, a: m.matrix_power(a, 3), (I[:, :2],)),
    ("matrix_power-0", lambda m, a: m.matrix_power(a, 0), (I[:, :2],)),
    ("cov", lambda m, a: m.cov(a), (I,)),
    ("cov-fweights", lambda m, a: m.cov(a.double(), fweights=a[0]), (I,)),
    ("corrcoef", lambda m, a: m.corrcoef(a), (I,)),
    ("vander", lambda m, a: m.vander(a, 3), (I[0],)),
    ("vander-int32", lambda m, a: m.vander(a), (I[0].astype(np.int32),)),
    ("vander-bool", lambda m, a: m.vander(a), (np.array([True, False]),)),
    ("trapezoid", lambda m, y: m.trapezoid(y), (I,)),
    ("trapezoid-dx", lambda m, y: m.trapezoid(y, dx=2), (I.astype(np.int32),)),
    ("trapezoid-x", lambda m, y: m.trapezoid(y, y), (I,)),
    ("cumulative_trapezoid", lambda m, y: m.cumulative_trapezoid(y), (I,)),
    ("cumulative_trapezoid-x", lambda m, y: m.cumulative_trapezoid(y, y[0]), (I,)),
    ("bincount", lambda m, a: m.bincount(a), (I[0],)),
    ("bincount-float32", lambda m, a: m.bincount(a, a.float()), (I[0],)),
    ("bincount-int-weights", lambda m, a: m.bincount(a, a), (I[0],)),
    ("bincount-empty", lambda m, a: m.bincount(a[:0], a[:0].double(), minlength=3), (I[0],)),
]


@pytest.mark.parametrize("fn,arrays", [d[1:] for d in DTYPES], ids=[d[0] for d in DTYPES])
def test_integer_inputs_give_torch_dtypes(fn, arrays):
    got, want = both(fn, *arrays)
    assert str(got.dtype) == str(want.dtype).replace("torch.", "")
    assert tuple(got.shape) == tuple(want.shape)
    close(got, want, rtol=1e-6)


def test_every_method_is_a_tensor_method_in_both():
    for name in matrix.METHODS:
        assert hasattr(torch.Tensor, name), name
        assert getattr(lamina.Tensor, name) is getattr(lamina.ops, name)
    for name in matrix.__all__:
        assert hasattr(torch, name), name
    for name in ("matrix_exp", "matrix_power", "lu_factor"):
        assert hasattr(torch.linalg, name) and callable(getattr(lamina.linalg, name))
