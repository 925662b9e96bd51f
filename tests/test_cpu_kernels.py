"""The optional Numba kernels agree with their NumPy twins (and so with PyTorch, which the
layer tests check for whichever path is active)."""
import numpy as np
import pytest

import lamina
import lamina.nn.functional as F
from lamina.ops import cpu_kernels

pytestmark = pytest.mark.skipif(cpu_kernels.get("bn_forward", np.zeros(1)) is None, reason="Numba is not installed")


def _batch_norm_step(dtype, affine):
    rng = np.random.default_rng(0)
    x = lamina.tensor(rng.standard_normal((6, 5, 4, 3)).astype(dtype) * 3 + 1, requires_grad=True)
    w = lamina.tensor(rng.standard_normal(5).astype(dtype), requires_grad=True) if affine else None
    b = lamina.tensor(rng.standard_normal(5).astype(dtype), requires_grad=True) if affine else None
    rm, rv = lamina.zeros(5, dtype=dtype), lamina.ones(5, dtype=dtype)
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
    (y * lamina.tensor(rng.standard_normal(y.shape).astype(dtype))).sum().backward()
    grads = [t.grad.numpy() for t in (x, w, b) if t is not None]
    return [y.detach().numpy(), rm.numpy(), rv.numpy()] + grads


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("affine", [True, False])
def test_numba_batch_norm_matches_numpy(monkeypatch, dtype, tol, affine):
    fast = _batch_norm_step(dtype, affine)
    monkeypatch.setenv("LAMINA_NUMBA", "0")
    slow = _batch_norm_step(dtype, affine)
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
