"""Tensor basics: creation, dtypes and PyTorch's promotion rules, conversion, seeding, repr."""
import numpy as np
import pytest
import torch

import lamina


def tdt(t):
    return str(t.dtype).replace("torch.", "")


def test_attributes_and_methods():
    x = lamina.arange(6).reshape(2, 3)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size() == (2, 3) and x.size(1) == 3
    assert x.numel() == 6 and x.dtype == lamina.int64 and str(x.device) == "cpu"
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2)
    assert lamina.tensor(3.5).item() == 3.5
    assert isinstance(x.numpy(), np.ndarray)


@pytest.mark.parametrize("make", [
    lambda m: m.zeros(2, 3), lambda m: m.ones((2, 3)), lambda m: m.full((2, 2), 7), lambda m: m.full((2,), 1.5),
    lambda m: m.empty(2, 3).zero_(), lambda m: m.arange(5), lambda m: m.arange(0, 1, 0.25), lambda m: m.arange(1.0, 4),
    lambda m: m.linspace(0, 1, 5), lambda m: m.eye(3), lambda m: m.eye(2, 4), lambda m: m.tensor([1, 2]),
    lambda m: m.tensor([1.0, 2]), lambda m: m.tensor(True), lambda m: m.tensor([[1, 2]], dtype=m.float64),
    lambda m: m.zeros_like(m.ones(2, dtype=m.int32)), lambda m: m.ones_like(m.zeros(3)),
    lambda m: m.full_like(m.zeros(2), 3), lambda m: m.tensor(np.arange(3, dtype=np.int32)),
    lambda m: m.tensor(np.ones(2, dtype=np.float64)), lambda m: m.as_tensor([1.5]),
    lambda m: m.from_numpy(np.zeros(2, np.float16)),
])
def test_creation_matches_torch(make):
    a, b = make(lamina), make(torch)
    assert a.shape == tuple(b.shape) and str(a.dtype) == tdt(b)
    np.testing.assert_allclose(a.numpy(), b.numpy())


def test_random_creation_shapes_dtypes_and_ranges():
    lamina.manual_seed(0)
    assert lamina.rand(2, 3).dtype == lamina.float32
    r = lamina.rand(1000)
    assert 0 <= r.numpy().min() and r.numpy().max() < 1
    n = lamina.randn(10000)
    assert abs(n.numpy().mean()) < 0.05 and abs(n.numpy().std() - 1) < 0.05
    i = lamina.randint(3, 7, (100,))
    assert i.dtype == lamina.int64 and i.numpy().min() >= 3 and i.numpy().max() < 7
    p = lamina.randperm(10)
    assert sorted(p.tolist()) == list(range(10))
    assert lamina.randn_like(lamina.zeros(2, dtype=lamina.float64)).dtype == lamina.float64
    assert lamina.rand_like(lamina.zeros(3)).shape == (3,)
    assert lamina.randint_like(lamina.zeros(4), 5).shape == (4,)


def test_manual_seed_and_generator_reproduce():
    lamina.manual_seed(42)
    a = lamina.randn(5)
    lamina.manual_seed(42)
    b = lamina.randn(5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    g1, g2 = lamina.Generator().manual_seed(7), lamina.Generator().manual_seed(7)
    np.testing.assert_array_equal(lamina.rand(4, generator=g1).numpy(), lamina.rand(4, generator=g2).numpy())
    state = g1.get_state()
    x = lamina.rand(3, generator=g1)
    g1.set_state(state)
    np.testing.assert_array_equal(x.numpy(), lamina.rand(3, generator=g1).numpy())


# PyTorch's promotion: category bool < int < float decides first; 0-d tensors and Python
# scalars only decide when they lift the category.
PROMOTION = [
    (lambda m: m.tensor([1, 2]) + 2.5),
    (lambda m: m.tensor([1, 2]) * 2),
    (lambda m: m.tensor([1, 2], dtype=m.int32) + m.tensor([1, 2])),
    (lambda m: m.tensor([1.0], dtype=m.float16) + m.tensor([1, 2])),
    (lambda m: m.tensor([1.0], dtype=m.float32) + m.tensor([1.0], dtype=m.float64)),
    (lambda m: m.tensor([1.0], dtype=m.float32) + m.tensor(1.0, dtype=m.float64)),
    (lambda m: m.tensor([1, 2], dtype=m.int32) + m.tensor(1.0, dtype=m.float64)),
    (lambda m: m.tensor([1, 2], dtype=m.int32) + m.tensor(5)),
    (lambda m: m.tensor([True, False]) + 1),
    (lambda m: m.tensor([True, False]) + m.tensor([1.5])),
    (lambda m: m.tensor([1, 2]) / 2),
    (lambda m: m.tensor([1, 2]) / m.tensor([2, 4])),
    (lambda m: m.tensor([1.0], dtype=m.float16) * 3.0),
    (lambda m: 2.0 ** m.tensor([1, 2])),
    (lambda m: m.tensor([1, 2]).float().sum()),
    (lambda m: m.tensor([1, 2], dtype=m.int32).sum()),
    (lambda m: m.tensor([True, True]).sum()),
    (lambda m: m.exp(m.tensor([1, 2]))),
    (lambda m: m.tensor([1, 2]) > 1.5),
    (lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2]), 0.5)),
    (lambda m: m.cat([m.tensor([1, 2]), m.tensor([1.0])])),
]


@pytest.mark.parametrize("expr", PROMOTION)
def test_dtype_promotion_matches_torch(expr):
    a, b = expr(lamina), expr(torch)
    assert str(a.dtype) == tdt(b)
    np.testing.assert_allclose(a.numpy().astype(np.float64), b.numpy().astype(np.float64), rtol=1e-3)


def test_conversion_and_copies():
    x = lamina.tensor([1.5, -2.5])
    assert x.double().dtype == lamina.float64 and x.long().dtype == lamina.int64 and x.half().dtype == lamina.float16
    assert x.to(lamina.float64).dtype == lamina.float64 and x.to("cpu") is x
    assert x.to(lamina.zeros(1, dtype=lamina.float64)).dtype == lamina.float64
    c = x.clone()
    c.data[0] = 9
    assert x.data[0] == 1.5
    nc = lamina.arange(6.0).reshape(2, 3).T
    assert not nc.is_contiguous() and nc.contiguous().is_contiguous()
    w = lamina.tensor([1.0, 2.0], requires_grad=True)
    (w.double() * 3).sum().backward()  # a cast is differentiable and comes back in the leaf's dtype
    assert w.grad.dtype == lamina.float32
    np.testing.assert_allclose(w.grad.numpy(), 3.0)


def test_tensor_of_ndarray_keeps_dtype_and_copies():
    a = np.arange(3, dtype=np.int16)
    t = lamina.tensor(a)
    assert t.dtype == lamina.int16
    a[0] = 5
    assert t.tolist()[0] == 0
    f = lamina.from_numpy(a)
    a[1] = 7
    assert f.tolist()[1] == 7


def test_repr_is_readable():
    assert repr(lamina.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(lamina.tensor([1, 2])) == "tensor([1, 2])"
    assert "requires_grad=True" in repr(lamina.zeros(2, requires_grad=True))
    assert "dtype=float64" in repr(lamina.zeros(2, dtype=lamina.float64))
    assert "grad_fn=<MulBackward>" in repr(lamina.zeros(2, requires_grad=True) * 2)


def test_inplace_ops_and_version_counter():
    x = lamina.zeros(3)
    v = x._version
    x.add_(1).mul_(3).sub_(lamina.ones(3))
    x += 1
    assert x.tolist() == [3.0, 3.0, 3.0] and x._version == v + 4
    x[1] = 7
    x.zero_()
    x.copy_(lamina.tensor([1.0, 2.0, 3.0]))
    assert x.tolist() == [1.0, 2.0, 3.0]
    x.fill_(2)
    assert x.tolist() == [2.0, 2.0, 2.0]


def test_slots_keep_tensors_small():
    with pytest.raises(AttributeError):
        lamina.zeros(1).something = 1


def test_tensor_of_numpy_scalar_is_a_0d_array_of_its_dtype():
    for value, dtype in ((np.float64(3.5), lamina.float64), (np.int32(3), lamina.int32), (np.float32(1), lamina.float32)):
        t = lamina.tensor(value)
        assert isinstance(t._data, np.ndarray) and t.shape == () and t.dtype == dtype
        assert str(t.dtype) == str(torch.tensor(value).dtype).replace("torch.", "")
