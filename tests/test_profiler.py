"""lamina.profile(): per-op counts, times and bytes, and it leaves nothing behind."""
import lamina
from lamina.autograd import Function


def test_profile_counts_ops_and_times_forward_and_backward():
    x = lamina.randn(8, 4, requires_grad=True)
    w = lamina.randn(4, 3, requires_grad=True)
    with lamina.profile() as prof:
        for _ in range(3):
            (x @ w).tanh().sum().backward()
    for op in ("MatMul", "Tanh", "Sum"):
        assert prof.stats[op].calls == 3
        assert prof.stats[op].forward_s > 0 and prof.stats[op].backward_s > 0
    assert prof.stats["MatMul"].forward_bytes == 3 * 8 * 3 * 4  # three (8, 3) float32 outputs
    assert prof.stats["MatMul"].backward_bytes == 3 * (8 * 4 + 4 * 3) * 4  # grads of x and w
    assert prof.dtypes == {"float32"}
    text = str(prof)
    assert "MatMul" in text and "fwd ms" in text


def test_profile_restores_apply_and_costs_nothing_after():
    before = Function.__dict__["apply"]
    with lamina.profile():
        lamina.ones(2) * 2
    assert Function.__dict__["apply"] is before
    assert lamina.autograd._profiler[0] is None
