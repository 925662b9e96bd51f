"""The activation layers of issue 14 against torch's (forward, backward, PReLU's weight
gradient, repr, bad arguments), and what the op table cannot say about lamina/ops/special.py:
the NumPy erf kernels against mpmath, dtypes of integer inputs, and the errors."""
import numpy as np
import pytest
import torch

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
from test_layers import _perturb, compare

LAYERS = {  # name: (build(m) with m = lamina.nn or torch.nn, input shape)
    "PReLU": (lambda m: m.PReLU(), (3, 5)),
    "PReLU-channels": (lambda m: m.PReLU(3, init=0.1), (2, 3, 4)),
    "PReLU-images": (lambda m: m.PReLU(3), (2, 3, 4, 4)),
    "PReLU-1d": (lambda m: m.PReLU(), (5,)),
    "ReLU6": (lambda m: m.ReLU6(), (3, 5)),
    "Hardtanh": (lambda m: m.Hardtanh(-0.5, 1.5), (3, 5)),
    "Hardswish": (lambda m: m.Hardswish(), (3, 5)),
    "Hardsigmoid": (lambda m: m.Hardsigmoid(), (3, 5)),
    "Mish": (lambda m: m.Mish(), (3, 5)),
    "SELU": (lambda m: m.SELU(), (3, 5)),
    # torch's CELU backward takes 1/alpha in float32 precision (4e-8 off at alpha=0.7); 0.5 is exact
    "CELU": (lambda m: m.CELU(alpha=0.5), (3, 5)),
    "Softsign": (lambda m: m.Softsign(), (3, 5)),
    "Softmin": (lambda m: m.Softmin(dim=1), (3, 5)),
    "Softmin-nodim": (lambda m: m.Softmin(), (2, 3, 5)),
    "Tanhshrink": (lambda m: m.Tanhshrink(), (3, 5)),
    "Softshrink": (lambda m: m.Softshrink(0.3), (3, 5)),
    "Hardshrink": (lambda m: m.Hardshrink(), (3, 5)),
    "Threshold": (lambda m: m.Threshold(0.1, -3.0), (3, 5)),
    "GLU": (lambda m: m.GLU(), (3, 6)),
    "GLU-dim": (lambda m: m.GLU(dim=0), (4, 3)),
    "LogSigmoid": (lambda m: m.LogSigmoid(), (3, 5)),
    "RReLU-eval": (lambda m: m.RReLU(0.1, 0.3), (3, 5)),
    "Softmax2d": (lambda m: m.Softmax2d(), (2, 3, 4, 4)),
    "Softmax2d-3d": (lambda m: m.Softmax2d(), (3, 4, 4)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name):
    build, shape = LAYERS[name]

    def make_torch():
        t = build(torch.nn)
        _perturb(t)  # PReLU's slopes away from their init, so that each channel's gradient is its own
        return t

    # torch's Hardsigmoid backward multiplies by 1/6 rounded to float32 (3e-8 off in float64); ours is exact
    atol = 1e-7 if name == "Hardsigmoid" else 1e-10
    compare(lambda: build(nn), make_torch, shape, train="eval" not in name, atol=atol)


REPRS = [lambda m: m.PReLU(3), lambda m: m.ReLU6(), lambda m: m.ReLU6(True), lambda m: m.Hardtanh(),
         lambda m: m.Hardtanh(0.0, 2.0, inplace=True), lambda m: m.Hardswish(True), lambda m: m.Hardsigmoid(),
         lambda m: m.Mish(True), lambda m: m.SELU(), lambda m: m.CELU(0.5, True), lambda m: m.Softsign(),
         lambda m: m.Softmin(1), lambda m: m.Tanhshrink(), lambda m: m.Softshrink(), lambda m: m.Hardshrink(0.25),
         lambda m: m.Threshold(0.1, 20), lambda m: m.Threshold(0.1, 20.0, True), lambda m: m.GLU(),
         lambda m: m.RReLU(), lambda m: m.RReLU(0.1, 0.2, True), lambda m: m.Softmax2d(), lambda m: m.LogSigmoid()]


@pytest.mark.parametrize("i", range(len(REPRS)))
def test_repr_matches_torch(i):
    assert repr(REPRS[i](nn)) == repr(REPRS[i](torch.nn))


def test_prelu_weight_init_dtype_and_gradient():
    m = nn.PReLU(4, init=0.3, dtype=lamina.float64)
    assert m.weight.shape == (4,) and m.weight.dtype == lamina.float64 and np.all(m.weight.detach().numpy() == 0.3)
    xn = np.linspace(-2, 2, 24).reshape(2, 4, 3)
    m(lamina.tensor(xn)).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), np.minimum(xn, 0).sum(axis=(0, 2)))  # sum of x where x <= 0
    assert list(m.state_dict()) == ["weight"]


def test_rrelu_training_draws_slopes_in_range_per_element_seeded():
    x = lamina.tensor(-np.ones((200, 50)), requires_grad=True)
    m = nn.RReLU(0.1, 0.3)
    lamina.manual_seed(3)
    y = m(x)
    slopes = -y.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and len(np.unique(slopes)) > 1000
    assert abs(slopes.mean() - 0.2) < 0.005
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes)  # the gradient is each element's slope
    lamina.manual_seed(3)
    np.testing.assert_array_equal(-m(x).detach().numpy(), slopes)
    pos = lamina.tensor([1.0, 2.0])
    np.testing.assert_array_equal(m(pos).numpy(), [1.0, 2.0])
    m.eval()
    np.testing.assert_allclose(m(x).detach().numpy(), -0.2)


@pytest.mark.parametrize("make,error,words", [
    (lambda: nn.Hardtanh(1.0, -1.0), ValueError, "Hardtanh: min_val (1.0) cannot be greater"),
    (lambda: F.hardtanh(lamina.ones(3), 1.0, -1.0), ValueError, "hardtanh: min_val"),
    (lambda: nn.Softshrink(-0.5), ValueError, "Softshrink: lambd must be >= 0"),
    (lambda: F.softshrink(lamina.ones(3), -1.0), ValueError, "softshrink: lambd must be >= 0"),
    (lambda: nn.CELU(0.0), ValueError, "CELU: alpha cannot be 0"),
    (lambda: F.celu(lamina.ones(3), 0.0), ValueError, "celu: alpha cannot be 0"),
    (lambda: nn.PReLU(0), ValueError, "PReLU: num_parameters must be a positive int"),
    (lambda: nn.PReLU(3)(lamina.ones(2, 4)), RuntimeError, "prelu: weight has 3 parameters but the input"),
    (lambda: F.prelu(lamina.ones(2, 3), lamina.ones(1, 3)), RuntimeError, "prelu: expected weight to be a scalar"),
    (lambda: nn.Softmax2d()(lamina.ones(3, 4)), ValueError, "Softmax2d: expected a 3-D or 4-D input, got 2-D"),
    (lambda: nn.GLU()(lamina.ones(2, 3)), RuntimeError, "glu: halving dimension must be even, but dimension 1 is size 3"),
    (lambda: F.glu(lamina.tensor(1.0)), RuntimeError, "glu: does not support 0-d"),
    (lambda: F.glu(lamina.ones(2, 4), 2), IndexError, "glu: dim 2 is out of range"),
    (lambda: nn.RReLU(0.5, 0.1)(lamina.ones(2)), ValueError, "rrelu: the lower bound (0.5) should be"),
    (lambda: F.softmin(lamina.ones(2, 3)), TypeError, "softmax: dim must be given"),
])
def test_bad_arguments_get_one_clear_error(make, error, words):
    with pytest.raises(error) as e:
        make()
    assert str(e.value).startswith(words), str(e.value)


def test_softsign_gradient_is_exact_in_the_tails():
    """torch composes x / (|x| + 1), whose float32 gradient at 1e4 cancels to 1e-4 relative;
    ours is 1 / (1 + |x|)^2 directly, right in float32 too."""
    x = np.array([-1e4, -50.0, 20.0, 1e4])
    for dt in (lamina.float32, lamina.float64):
        t = lamina.tensor(x, dtype=dt, requires_grad=True)
        F.softsign(t).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), 1 / (1 + np.abs(x)) ** 2, rtol=2e-7 if dt == lamina.float32 else 1e-15)


# ---- lamina/ops/special.py beyond the op table ---------------------------------------------------
@pytest.fixture
def no_scipy(monkeypatch):
    """The pure NumPy kernels, as without the `fast` extra."""
    from lamina.ops import activation

    monkeypatch.setattr(activation, "_scipy", [None])


def test_numpy_erf_kernels_are_accurate_to_float64(no_scipy):
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-1, 1, 300), rng.uniform(-7, 7, 600), rng.uniform(-27, 27, 200),
                        10.0 ** rng.uniform(-300, 0, 50), [0.0, 1.0, -1.0, 3.0, -3.0, 6.0, 27.0]])
    y = np.concatenate([rng.uniform(-1, 1, 500), 1 - 10.0 ** rng.uniform(-15.5, -0.5, 200), 10.0 ** rng.uniform(-300, -1, 50)])
    got = {f: getattr(lamina, f)(lamina.tensor(v)).numpy() for f, v in (("erf", x), ("erfc", x), ("erfinv", y))}
    for f, v, tol in (("erf", x, 1.5e-15), ("erfc", x, 6e-15), ("erfinv", y, 3e-15)):
        exact = np.array([float(getattr(mp, f)(mp.mpf(t))) for t in v])
        rel = np.abs(got[f] - exact) / np.where(exact == 0, 1, np.abs(exact))
        assert rel.max() <= tol, (f, v[rel.argmax()], rel.max())


def test_numpy_erf_kernels_match_scipy_and_edges(no_scipy):
    import scipy.special as sp

    x = np.concatenate([np.linspace(-30, 30, 2001), [np.inf, -np.inf, np.nan, -0.0]])
    y = np.concatenate([np.linspace(-1, 1, 2001), [1.5, -2.0, np.nan, -0.0]])
    for f, v in (("erf", x), ("erfc", x), ("erfinv", y)):
        for dt in (np.float64, np.float32):
            out = getattr(lamina, f)(lamina.tensor(v.astype(dt))).numpy()
            assert out.dtype == dt
            np.testing.assert_allclose(out, getattr(sp, f)(v.astype(dt)), rtol=1e-13 if dt == np.float64 else 1e-6,
                                       atol=1e-300, err_msg=f)  # SciPy flushes erfc's subnormal tail to 0
            assert np.signbit(out[-1]) == (f != "erfc")  # erf(-0.0) and erfinv(-0.0) are -0.0
    big = lamina.tensor(np.linspace(-4, 4, 100_003))  # more than one block of the kernel
    np.testing.assert_allclose(lamina.erf(big).numpy(), sp.erf(big.numpy()), rtol=1e-14)
    # (SciPy's erfc is the less exact of the two far out: 1.4e-14 off near x = 11, ours 7e-16)


@pytest.mark.parametrize("name", ["tan", "asin", "atan", "sinh", "asinh", "log2", "log10", "exp2", "erf", "erfc", "erfinv",
                                  "sinc", "deg2rad", "rad2deg", "logit"])
def test_integer_inputs_give_float32(name):
    x = [0, 1, 2]
    lo, to = getattr(lamina, name)(lamina.tensor(x)), getattr(torch, name)(torch.tensor(x))
    assert lo.dtype == lamina.float32 and to.dtype == torch.float32
    np.testing.assert_allclose(lo.numpy(), to.numpy(), rtol=1e-6)


def test_integer_valued_ops_keep_integers_and_others_promote():
    i = lamina.tensor([-3, 4, 7])
    ti = torch.tensor([-3, 4, 7])
    for fn in (lambda m, x: m.trunc(x), lambda m, x: m.fix(x), lambda m, x: m.sgn(x), lambda m, x: m.fmod(x, 3),
               lambda m, x: m.fmod(x, 2.5), lambda m, x: m.copysign(x, -1), lambda m, x: m.nan_to_num(x),
               lambda m, x: m.clamp_min(x, 0), lambda m, x: m.clamp_max(x, 0.5), lambda m, x: m.xlogy(x, x),
               lambda m, x: m.float_power(x, 2), lambda m, x: m.atan2(x, x), lambda m, x: m.addcmul(x, x, x, value=2),
               lambda m, x: m.heaviside(x, m.tensor(5)), lambda m, x: m.isposinf(x), lambda m, x: m.signbit(x)):
        lo, to = fn(lamina, i), fn(torch, ti)
        assert str(lo.dtype) == str(to.dtype).replace("torch.", ""), (lo.dtype, to.dtype)
        np.testing.assert_allclose(lo.numpy(), to.numpy(), rtol=1e-6)


def test_special_errors_and_torch_behaviours():
    with pytest.raises(RuntimeError, match="^fmod: integer division by zero"):
        lamina.fmod(lamina.tensor([1, 2]), 0)
    with pytest.raises(RuntimeError, match="^addcdiv: integer tensor1 and tensor2"):
        lamina.addcdiv(lamina.tensor([1.0]), lamina.tensor([1]), lamina.tensor([2]))
    with pytest.raises(TypeError, match="^frac: expected a floating point tensor"):
        lamina.frac(lamina.tensor([1, 2]))
    with pytest.raises(TypeError, match="^heaviside: values must be a Tensor"):
        lamina.heaviside(lamina.tensor([1.0]), 0.5)
    with pytest.raises(RuntimeError, match="^heaviside: input and values must have the same dtype"):
        lamina.heaviside(lamina.tensor([1.0]), lamina.tensor(0.5, dtype=lamina.float64))
    with pytest.raises(TypeError, match="^lerp: weight must be a number or a Tensor"):
        lamina.lerp(lamina.ones(2), lamina.zeros(2), "half")
    with pytest.raises(TypeError, match="^clamp_min: the bound must be"):
        lamina.clamp_min(lamina.ones(2), None)
    x = lamina.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="^heaviside: the derivative is not implemented"):
        lamina.heaviside(x, lamina.tensor(0.5)).sum().backward()  # as torch: no silent zero gradient
    # trunc and sgn have a zero gradient, not none: the graph stays connected
    (lamina.trunc(x) + x.sgn()).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)
    # float_power computes in float64 and hands float32 gradients back
    y = lamina.tensor([1.5, 2.0], requires_grad=True)
    z = lamina.float_power(y, 3)
    assert z.dtype == lamina.float64
    z.sum().backward()
    assert y.grad.dtype == lamina.float32
    np.testing.assert_allclose(y.grad.numpy(), 3 * np.array([1.5, 2.0]) ** 2)
    # the Tensor methods
    t = lamina.tensor([0.25, 0.5])
    np.testing.assert_allclose(t.lerp(lamina.ones(2), 0.5).numpy(), [0.625, 0.75])
    np.testing.assert_allclose(t.logit().numpy(), [np.log(1 / 3), 0.0], atol=1e-7)
    np.testing.assert_allclose(t.arctanh().numpy(), np.arctanh([0.25, 0.5]), rtol=1e-6)
