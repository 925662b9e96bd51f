"""In-place ops inside the graph (issue 14): each pattern against torch's values and gradients."""
import numpy as np
import pytest
import torch

import lamina

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
W = RNG.standard_normal((3, 4))


def run(m, fn):
    a = m.tensor(A.copy(), requires_grad=True)
    w = m.tensor(W.copy(), requires_grad=True)
    out = fn(m, a, w)
    (out * m.tensor(np.arange(out.numel(), dtype=np.float64).reshape(out.shape))).sum().backward()
    grads = [None if t.grad is None else t.grad.detach().numpy() for t in (a, w)]
    return out.detach().numpy(), grads


def resnet_add(m, a, w):
    out = a * 2
    out += w  # `out += identity`
    return m.relu(out)


def relu_inplace(m, a, w):
    x = a * w
    x.relu_()
    return x


def mul_by_grad_tensor(m, a, w):
    x = a * 1
    x.mul_(w)
    return x


def earlier_consumer(m, a, w):
    x = a * 2
    y = x + 1  # recorded before the change: its gradient must reach x's old value
    x.mul_(3)
    return y + x


def setitem_rows(m, a, w):
    buf = m.zeros(3, 4, dtype=a.dtype)  # a buffer that does not require grad, filled with ones that do
    for t in range(3):
        buf[t] = a[t] * w[t]
    return buf


def setitem_on_graph_tensor(m, a, w):
    x = a * 2
    x[0] = 5.0
    x[1, 1:3] = w[1, :2]
    x[:, 0] = x[:, 0] * 2  # reads the tensor it writes
    return x


def chain(m, a, w):
    x = a + 0
    x.add_(w, alpha=0.5).sub_(a).div_(w.abs() + 1).clamp_(-0.5, 0.5)
    x.masked_fill_(x > 0.4, 0.25)
    x.sigmoid_()  # last: torch refuses a later change to sigmoid's saved output (lamina keeps a copy)
    return x


def copy_and_fill(m, a, w):
    x = a * 1
    x.copy_(w * 3)
    y = a * 1
    y.fill_(2.0)
    z = a * 1
    z.zero_()
    return x + y * a + z


def cast_keeps_dtype(m, a, w):
    x = (a * 1).float()
    x += w  # float32 += float64 stays float32, as in torch
    return x.double()


def through_views(m, a, w):
    x = a * 2
    before = x.sum(0)  # a consumer of the whole tensor from before the changes
    x[:, 0] += w[:, 0]  # Python runs this as x[:, 0].add_(...) on a view, then x[:, 0] = view
    x[1].mul_(w[1])  # an in-place op on a view reaches its base
    x[0, 1:3].mul_(3).add_(w[0, :2])  # twice on the same view
    row = x[2]
    early = row * 1  # a consumer of the view from before its change
    row[1:].exp_()  # a view of a view (last: exp saves its output, which torch checks)
    return x * 2 + before + early.sum() + row.sum()


PATTERNS = [resnet_add, relu_inplace, mul_by_grad_tensor, earlier_consumer, setitem_rows,
            setitem_on_graph_tensor, chain, copy_and_fill, cast_keeps_dtype, through_views]


@pytest.mark.parametrize("fn", PATTERNS, ids=[f.__name__ for f in PATTERNS])
def test_inplace_in_graph_matches_torch(fn):
    ours, theirs = run(lamina, fn), run(torch, fn)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-6)
    for g, t in zip(ours[1], theirs[1]):
        assert (g is None) == (t is None)
        if g is not None:
            np.testing.assert_allclose(g, t, rtol=1e-6, atol=1e-6)


def test_saved_output_changed_in_place_still_raises():
    a = lamina.randn(3, requires_grad=True)
    x = a.exp()
    x.mul_(2)  # exp saved its output, which this overwrites: torch raises in backward too
    with pytest.raises(RuntimeError, match="Exp"):
        x.sum().backward()


def test_refused_where_torch_refuses_or_we_cannot_record():
    w = lamina.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="view .* of a leaf tensor"):
        w[0].mul_(2)
    x = w * 2
    with pytest.raises(RuntimeError, match="view"):
        (x * w[:, None]).t().mul_(3)  # views other than basic indexing are refused rather than got wrong
    with lamina.no_grad():
        w[0].mul_(0.0)  # under no_grad a view writes through to its base
    assert w[0].item() == 0.0


def test_hooks_and_versions_after_rebase():
    a = lamina.randn(3, requires_grad=True)
    x = a * 2
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))  # registered on the value before the change
    v = x._version
    x.add_(1)
    assert x._version == v + 1 and x.grad_fn is not None
    (x * 3).sum().backward()
    np.testing.assert_allclose(seen[0], 3.0)
    np.testing.assert_allclose(a.grad.numpy(), 6.0)
