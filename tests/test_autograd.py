"""The autograd engine: graph recording, the walk, freeing, hooks, grad modes and its errors."""
import gc
import subprocess
import sys

import numpy as np
import pytest

import lamina


def test_leaf_grad_is_none_until_computed():
    x = lamina.randn(3, requires_grad=True)
    assert x.grad is None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0)


def test_gradients_accumulate():
    x = lamina.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 5.0)


def test_shared_gradient_arrays_are_not_aliased_into_each_other():
    a, b = lamina.ones(3, requires_grad=True), lamina.ones(3, requires_grad=True)
    (a + b).sum().backward()
    (a * 1).sum().backward()  # accumulating into a must not change b
    np.testing.assert_allclose(a.grad.numpy(), 2.0)
    np.testing.assert_allclose(b.grad.numpy(), 1.0)


def test_no_graph_when_nothing_requires_grad_or_under_no_grad():
    x = lamina.randn(3)
    assert (x * 2).grad_fn is None
    w = lamina.randn(3, requires_grad=True)
    with lamina.no_grad():
        y = w * 2
    assert y.grad_fn is None and not y.requires_grad
    assert (w * 2).grad_fn is not None


def test_grad_mode_decorators_and_set_grad_enabled():
    w = lamina.randn(2, requires_grad=True)

    @lamina.no_grad()
    def f():
        return w * 2

    @lamina.enable_grad()
    def g():
        return w * 2

    assert not f().requires_grad
    with lamina.no_grad():
        assert g().requires_grad
    with lamina.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert lamina.is_grad_enabled()
    lamina.set_grad_enabled(False)
    assert not lamina.is_grad_enabled()
    lamina.set_grad_enabled(True)


def test_ten_thousand_op_chain_backpropagates():
    x = lamina.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert abs(x.grad.item() - 1.0001 ** 10_000) < 1e-2


def test_diamond_graph_sums_both_paths():
    x = lamina.tensor([2.0], requires_grad=True)
    a = x * 3
    y = a * a + a  # dy/dx = (2a + 1) * 3
    y.sum().backward()
    assert x.grad.item() == pytest.approx((2 * 6 + 1) * 3)


def test_retain_grad_and_hooks():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)  # a hook on a leaf can replace its gradient
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.detach().numpy())
    np.testing.assert_allclose(seen[0], 2 * h.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), 10 * 3 * 2 * h.detach().numpy())


def test_autograd_grad_returns_and_leaves_dot_grad_alone():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = lamina.tensor([3.0], requires_grad=True)
    (gx, gy) = lamina.autograd.grad((x * x).sum() * y, [x, y])
    np.testing.assert_allclose(gx.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(gy.numpy(), [5.0])
    assert x.grad is None and y.grad is None
    (g,) = lamina.autograd.grad(x * 2, x, grad_outputs=lamina.ones(2))
    np.testing.assert_allclose(g.numpy(), [2.0, 2.0])


def test_retain_graph_allows_a_second_backward():
    x = lamina.tensor([1.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(4 * np.e)


def test_backward_with_explicit_gradient():
    x = lamina.randn(2, 3, requires_grad=True)
    (x * 2).backward(lamina.ones(2, 3))
    np.testing.assert_allclose(x.grad.numpy(), 2.0)


def test_detach_and_requires_grad_():
    x = lamina.randn(3, requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    z = lamina.zeros(3).requires_grad_()
    assert z.requires_grad and z.is_leaf


# ---- errors (issue 2, point 6): each message names the op, the shapes and what was expected ----
def test_error_shape_mismatch():
    with pytest.raises(RuntimeError, match=r"add: inputs of shapes \(3, 4\) and \(4, 3\) are incompatible"):
        lamina.zeros(3, 4) + lamina.zeros(4, 3)
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(32, 784\) and \(512, 10\) do not align: 784 != 512"):
        lamina.zeros(32, 784) @ lamina.zeros(512, 10)


def test_error_backward_of_non_scalar():
    x = lamina.randn(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward: grad can be implicitly created only for scalar outputs.*\(2, 3\)"):
        (x * 2).backward()


def test_error_second_backward_through_freed_graph():
    x = lamina.randn(3, requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"backward through the graph a second time \(through Sum\).*retain_graph=True"):
        y.backward()


def test_error_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match=r"backward: tensor of shape \(\) does not require grad"):
        lamina.ones(3).sum().backward()


def test_error_index_out_of_range():
    x = lamina.zeros(3, 4)
    with pytest.raises(IndexError, match=r"getitem: index 5 is out of range for dim 1 of size 4 \(tensor shape \(3, 4\)\)"):
        x[:, 5]
    with pytest.raises(IndexError, match=r"getitem: index 7 is out of range for dim 0 of size 3"):
        x[lamina.tensor([0, 7])]


def test_error_inplace_change_to_saved_tensor():
    x = lamina.randn(3, requires_grad=True)
    y = x * 2
    z = (y * y).sum()  # Mul saves y
    with lamina.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match=r"backward: a tensor of shape \(3,\) saved by Mul was modified in place"):
        z.backward()


def test_inplace_change_of_an_input_whose_value_is_not_needed_is_fine():
    x = lamina.randn(3, requires_grad=True)
    y = x * 2
    z = (y + 1).sum()  # Add never reads y's value
    with lamina.no_grad():
        y.mul_(3)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0)


def test_error_inplace_on_leaf_that_requires_grad():
    w = lamina.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add_: in-place op on a leaf tensor that requires grad"):
        w.add_(1)
    with lamina.no_grad():
        w.add_(1)  # allowed, as an optimiser does


def test_error_requires_grad_on_integers():
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients, got int64"):
        lamina.tensor([1, 2], requires_grad=True)


# ---- memory --------------------------------------------------------------------------------
def _live_tensors():
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, lamina.Tensor))


def test_graphs_are_freed_after_backward():
    w = lamina.randn(16, 8, requires_grad=True)
    b = lamina.zeros(8, requires_grad=True)
    x = lamina.randn(32, 16)

    def step():
        h = (x @ w + b).tanh()
        loss = (h * h).mean()
        loss.backward()
        with lamina.no_grad():
            w.sub_(w.grad * 0.01)
            b.sub_(b.grad * 0.01)
        w.grad = b.grad = None

    for _ in range(20):
        step()
    before = _live_tensors()
    for _ in range(1000):
        step()
    assert _live_tensors() <= before


def test_saved_arrays_are_released_after_backward():
    x = lamina.randn(4, requires_grad=True)
    y = x.exp()
    ctx = y.grad_fn
    y.sum().backward()
    assert not hasattr(ctx, "y") and not hasattr(ctx, "inputs")


def test_import_lamina_does_not_import_torch():
    code = "import sys, lamina, lamina.nn, lamina.nn.functional; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
