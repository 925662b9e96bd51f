"""Op checker rows for lamina/ops/special.py and the activations added with it (issue 14),
merged into tests/test_ops.py's OPS and EXTREMES tables (see FAMILIES there)."""
import numpy as np

# the shapes and tail points of tests/test_ops.py (imported from there would be circular)
U = [((3, 4),), ((1, 5),), ((),), ((0, 3),), ((2, 3, 4),)]
B = [((3, 4), (3, 4)), ((3, 1), (4,)), ((), (2, 3)), ((2, 1, 3), (4, 1)), ((0, 3), (3,)), ((1,), ())]
POS = dict(low=0.2, high=2.0)
X = np.array([-1e4, -50.0, -20.0, 20.0, 50.0, 1e4])
EXTREME = dict(fd=False, atol64=np.finfo(np.float64).tiny, atol32=np.finfo(np.float32).tiny, rtol32=1e-5)


def F(m):
    return m.nn.functional


UNIT = dict(low=-0.9, high=0.9)  # inside the domain of asin, acos, atanh, erfinv
B2 = B[:4]  # binary shapes without the empty ones, where a helper needs values


def const(m, a, dtype=None):
    t = m.tensor(np.asarray(a))
    return t if dtype is None else t.to(dtype)


OPS = {
    # trigonometric and hyperbolic
    "tan": (lambda m, x: m.tan(x), U, dict(low=-1.2, high=1.2)),
    "asin": (lambda m, x: m.asin(x), U, UNIT),
    "acos": (lambda m, x: m.acos(x), U, UNIT),
    "atan": (lambda m, x: m.atan(x) + x.atan(), U, dict(low=-4, high=4)),
    "atan2": (lambda m, a, b: m.atan2(a, b), B, {}),
    "sinh": (lambda m, x: m.sinh(x), U, {}),
    "cosh": (lambda m, x: m.cosh(x), U, {}),
    "asinh": (lambda m, x: m.asinh(x * 3), U, {}),
    "acosh": (lambda m, x: m.acosh(x), U, dict(low=1.2, high=4)),
    "atanh": (lambda m, x: m.atanh(x), U, UNIT),
    "arcsin": (lambda m, x: m.arcsin(x), U[:2], UNIT),
    "arccos": (lambda m, x: m.arccos(x), U[:2], UNIT),
    "arctan": (lambda m, x: m.arctan(x), U[:2], {}),
    "arctan2": (lambda m, a, b: m.arctan2(a, b), B[:2], {}),
    "arcsinh": (lambda m, x: m.arcsinh(x), U[:2], {}),
    "arccosh": (lambda m, x: m.arccosh(x), U[:2], dict(low=1.2, high=4)),
    "arctanh": (lambda m, x: m.arctanh(x), U[:2], UNIT),
    "sinc": (lambda m, x: m.sinc(x * 2), U, {}),
    "sinc-zero": (lambda m, x: m.sinc(x), [((4,),)], dict(inputs=[np.array([0.0, 0.5, -1.0, 1e-3])], fd=False)),
    "deg2rad": (lambda m, x: m.deg2rad(x * 90) + m.deg2rad((x * 90).long()), U, {}),
    "rad2deg": (lambda m, x: m.rad2deg(x) + m.rad2deg((x * 3).long()), U, {}),
    # logs and exponentials
    "log2": (lambda m, x: m.log2(x), U, POS),
    "log10": (lambda m, x: m.log10(x) + x.log10(), U, POS),
    "exp2": (lambda m, x: m.exp2(x) + m.exp2((x * 3).long()), U, {}),
    "erf": (lambda m, x: m.erf(x * 2) + x.erf(), U, {}),
    "erf-int": (lambda m, x: m.erf((x * 2).long()), U[:1], dict(grad=False)),
    "erfc": (lambda m, x: m.erfc(x * 3), U, {}),
    "erfinv": (lambda m, x: m.erfinv(x), U, UNIT),
    "erfinv-edges": (lambda m, x: m.erfinv(x), [((7,),)],
                     dict(inputs=[np.array([-1.0, 1.0, 1.5, 0.0, -0.0, 1 - 1e-12, 1e-30])], grad=False)),
    "logaddexp": (lambda m, a, b: m.logaddexp(a, b), B, {}),
    "logaddexp-far": (lambda m, a, b: m.logaddexp(a, b), [((6,), (6,))],
                      dict(inputs=[X, X[::-1].copy()], **EXTREME)),
    "logaddexp2": (lambda m, a, b: m.logaddexp2(a, b), B, {}),
    "xlogy": (lambda m, a, b: m.xlogy(a, b) + m.xlogy(a, 2.5), B, dict(low=0.1)),
    "xlogy-zero": (lambda m, a, b: m.xlogy(a, b), [((4,), (4,))],
                   dict(inputs=[np.array([0.0, 0.0, 1.0, 2.0]), np.array([0.0, 2.0, 3.0, 0.5])], fd=False)),
    "float_power": (lambda m, a, b: m.float_power(a, b) + m.float_power(a, 2) + m.float_power(2.0, b), B, POS),
    # rounding and sign
    "trunc": (lambda m, x: m.trunc(x * 3) * x, U, {}),
    "fix": (lambda m, x: m.fix(x * 3) + x.fix(), U, {}),
    "trunc-int": (lambda m, x: m.trunc((x * 3).long()), U[:1], dict(grad=False)),
    "frac": (lambda m, x: m.frac(x * 3), U, {}),
    "fmod": (lambda m, a, b: m.fmod(a * 3, b) + m.fmod(a, 0.7), B, {}),
    "fmod-int": (lambda m, a, b: m.fmod((a * 9).long(), 4) + m.fmod((a * 9).long(), (b * 3).long() + 7), B[:2],
                 dict(grad=False)),
    "copysign": (lambda m, a, b: m.copysign(a, b) + m.copysign(a, -1.0), B, {}),
    "copysign-zero": (lambda m, a, b: m.copysign(a, b), [((4,), (4,))],
                      dict(inputs=[np.array([0.0, -0.0, 1.5, -2.0]), np.array([-0.0, 1.0, -0.0, 3.0])], fd=False)),
    "sgn": (lambda m, x: m.sgn(x) * x + x.sgn(), U, {}),
    "signbit": (lambda m, x: m.signbit(x), U, dict(grad=False)),
    "heaviside": (lambda m, x: m.heaviside(m.round(x), const(m, 0.5, x.dtype)), U, dict(grad=False)),
    "isposinf": (lambda m, x: m.isposinf(1 / m.round(x)), U, dict(grad=False)),
    "isneginf": (lambda m, x: m.isneginf(1 / m.round(x)) | x.long().isneginf(), U, dict(grad=False)),
    "isreal": (lambda m, x: m.isreal(x), U, dict(grad=False)),
    "nan_to_num": (lambda m, x: m.nan_to_num(m.log(x)) + m.nan_to_num(1 / m.round(x), nan=1.0, posinf=5.0, neginf=-4.0),
                   U, {}),
    # composites
    "hypot": (lambda m, a, b: m.hypot(a, b), B, {}),
    "lerp": (lambda m, a, b: m.lerp(a, b, 0.3) + m.lerp(a, b, 0.8) + a.lerp(b, m.sigmoid(b)), B, {}),
    "clamp_min": (lambda m, a, b: m.clamp_min(a, 0.2) + m.clamp_min(a, b) + a.clamp_min(b.sum()), B2, {}),
    "clamp_max": (lambda m, a, b: m.clamp_max(a, 0.2) + m.clamp_max(a, b) + a.clamp_max(b.sum()), B2, {}),
    "clamp_min-ties": (lambda m, a, b: m.clamp_min(a, b) + m.clamp_max(a, b), [((3,), (3,))],
                       dict(inputs=[np.array([1.0, 2.0, 0.0]), np.array([1.0, 1.0, 1.0])], fd=False)),
    "addcmul": (lambda m, a, b: m.addcmul(a, a, b) + m.addcmul(b, a, b, value=-0.5), B, {}),
    "addcdiv": (lambda m, a, b: m.addcdiv(a, a, b) + a.addcdiv(b, a, value=0.5), B, POS),
    "logit": (lambda m, x: m.logit(x) + m.logit(x, eps=0.2), U, dict(low=0.05, high=0.95)),
    "logit-edges": (lambda m, x: m.logit(x) + m.logit(x, eps=0.1), [((6,),)],
                    dict(inputs=[np.array([0.0, 0.05, 0.1, 0.5, 1.0, 1.5])], fd=False)),
    # activations (lamina.nn.functional)
    "hardsigmoid": (lambda m, x: F(m).hardsigmoid(x * 4), U, {}),
    "hardswish": (lambda m, x: F(m).hardswish(x * 4), U, {}),
    "hardtanh": (lambda m, x: F(m).hardtanh(x) + F(m).hardtanh(x, -0.5, 1.5), U, {}),
    "relu6": (lambda m, x: F(m).relu6(x * 5), U, {}),
    "threshold": (lambda m, x: F(m).threshold(x, 0.3, -2.0), U, {}),
    "softshrink": (lambda m, x: F(m).softshrink(x) + F(m).softshrink(x, 1.2), U, {}),
    "hardshrink": (lambda m, x: F(m).hardshrink(x) + F(m).hardshrink(x, lambd=1.2), U, {}),
    "kinks": (lambda m, x: (F(m).hardsigmoid(x), F(m).hardswish(x), F(m).hardtanh(x, -3.0, 3.0), F(m).relu6(x + 3),
                            F(m).threshold(x, 3.0, 0.5), F(m).softshrink(x, 3.0), F(m).hardshrink(x, 3.0),
                            F(m).celu(x, 2.0), F(m).selu(x), F(m).prelu(x, const(m, [0.2], x.dtype))),
              [((7,),)], dict(inputs=[np.array([-3.0, 3.0, 0.0, -4.0, 4.0, -1.0, 2.0])], fd=False)),
    "softsign": (lambda m, x: F(m).softsign(x * 3), U, {}),
    "tanhshrink": (lambda m, x: F(m).tanhshrink(x), U, {}),
    "celu": (lambda m, x: F(m).celu(x) + F(m).celu(x, alpha=0.5) + F(m).celu(x, alpha=0.7), U, {}),
    "selu": (lambda m, x: F(m).selu(x), U, {}),
    "mish": (lambda m, x: F(m).mish(x * 3), U, {}),
    "softmin": (lambda m, x: F(m).softmin(x, dim=-1) + F(m).softmin(x, 0), U[:3] + U[4:], {}),
    "prelu": (lambda m, x, w: F(m).prelu(x, w), [((2, 3, 4), (3,)), ((2, 3), (1,)), ((4,), (1,)), ((), (1,)),
                                                 ((2, 3, 2, 2), (3,)), ((2, 3), ())], {}),
    "glu": (lambda m, x: F(m).glu(x) + F(m).glu(x.transpose(0, -1), 0).transpose(0, -1), [((3, 4),), ((2, 3, 6),)], {}),
    "rrelu": (lambda m, x: F(m).rrelu(x) + F(m).rrelu(x, 0.2, 0.4, training=False), U, {}),
}

EXTREMES = {  # name: (fn(m, *inputs), inputs), far out in the tails (see test_ops.py)
    # not +-1e4: there torch's float32 gradient (x / (|x| + 1) composed, which cancels) is 1e-4 off
    # and ours (1 / (1 + |x|)^2) right; test_activations_more.py checks that point against float64
    "softsign": (lambda m, x: F(m).softsign(x), [X[1:5]]),
    "tanhshrink": (lambda m, x: F(m).tanhshrink(x), [X]),
    "celu": (lambda m, x: (F(m).celu(x), F(m).celu(x, alpha=3.0)), [X]),
    "selu": (lambda m, x: F(m).selu(x), [X]),
    "mish": (lambda m, x: F(m).mish(x), [X]),
    "softmin": (lambda m, x: F(m).softmin(x, dim=0), [X]),
    "glu": (lambda m, x: F(m).glu(x, dim=1), [np.stack([X, X[::-1]], 1)]),
}
AUDITED = list(EXTREMES)
NO_TAILS = {"hardsigmoid", "hardswish", "hardtanh", "relu6", "threshold", "softshrink", "hardshrink", "prelu",
            "rrelu"}  # piecewise linear (hardswish piecewise quadratic): nothing to overflow or underflow
