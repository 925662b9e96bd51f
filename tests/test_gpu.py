"""The same ops on CuPy arrays: results and gradients equal the NumPy ones. Skipped cleanly
when CuPy is missing or finds no CUDA device."""
import numpy as np
import pytest

import lamina

pytestmark = pytest.mark.skipif(not lamina.cuda_available(), reason="CuPy with a CUDA device is not available")

CASES = [
    lambda m, a, b: (a * b + a / (b.abs() + 1)).exp().sum(),
    lambda m, a, b: (a @ b.T).tanh().mean(),
    lambda m, a, b: m.softmax(a, -1).log().sum() + m.log_softmax(b, 0).sum(),
    lambda m, a, b: m.nn.functional.gelu(a).max(dim=1).values.sum() + b[:, 1:].var(),
    lambda m, a, b: m.cat([a, b], 0).reshape(-1, 2).permute(1, 0).sum(),
]


@pytest.mark.parametrize("fn", CASES)
def test_cuda_matches_cpu(fn):
    rng = np.random.default_rng(0)
    na, nb = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    results = []
    for device in ("cpu", "cuda"):
        a = lamina.tensor(na, device=device, requires_grad=True)
        b = lamina.tensor(nb, device=device, requires_grad=True)
        out = fn(lamina, a, b)
        out.backward()
        assert str(out.device).startswith(device)
        results.append((out.item(), a.grad.cpu().numpy(), b.grad.cpu().numpy()))
    (o1, ga1, gb1), (o2, ga2, gb2) = results
    assert o1 == pytest.approx(o2, rel=1e-9)
    np.testing.assert_allclose(ga1, ga2, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gb1, gb2, rtol=1e-9, atol=1e-12)


def test_to_and_from_cuda_is_differentiable():
    x = lamina.randn(3, requires_grad=True)
    y = (x.cuda() * 2).cpu().sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0)
