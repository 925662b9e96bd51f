"""Every exported op, one line each, through the shared checker (tests/helpers.py).

Each row is `name: (fn(m, *inputs), list of input-shape tuples, options)`, where `m` is
lamina or torch. `test_every_op_is_in_the_table` fails when an op is exported but missing.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import lamina
from helpers import check_op

U = [((3, 4),), ((1, 5),), ((),), ((0, 3),), ((2, 3, 4),)]  # unary shapes
B = [((3, 4), (3, 4)), ((3, 1), (4,)), ((), (2, 3)), ((2, 1, 3), (4, 1)), ((0, 3), (3,)), ((1,), ())]  # binary
R = [((3, 4),), ((2, 3, 4),), ((1, 4),), ((5,),)]  # reductions (non-empty)
IDX = np.array([[0, 2, 1], [1, 0, 0]])

POS = dict(low=0.2, high=2.0)


def F(m):
    return m.nn.functional


def const(m, a):
    return m.tensor(np.asarray(a))


OPS = {
    # arithmetic and elementwise math
    "add": (lambda m, a, b: m.add(a, b, alpha=0.5) + 1.5, B, {}),
    "sub": (lambda m, a, b: m.sub(a, b) - 2 * a, B, {}),
    "subtract": (lambda m, a, b: m.subtract(a, b), B[:2], {}),
    "mul": (lambda m, a, b: a * b * 3, B, {}),
    "multiply": (lambda m, a, b: m.multiply(a, b), B[:2], {}),
    "div": (lambda m, a, b: a / b + 1 / b, B, POS),
    "divide": (lambda m, a, b: m.divide(a, b), B[:2], POS),
    "true_divide": (lambda m, a, b: m.true_divide(a, b), B[:2], POS),
    "pow": (lambda m, a, b: m.pow(a, b) + a ** 2 + 2 ** b + a ** 0.5, B, POS),
    "neg": (lambda m, x: -m.neg(x), U, {}),
    "exp": (lambda m, x: m.exp(x), U, {}),
    "log": (lambda m, x: m.log(x), U, POS),
    "log1p": (lambda m, x: m.log1p(x), U, POS),
    "expm1": (lambda m, x: m.expm1(x), U, {}),
    "sqrt": (lambda m, x: m.sqrt(x), U, POS),
    "rsqrt": (lambda m, x: m.rsqrt(x), U, POS),
    "abs": (lambda m, x: m.abs(x) + abs(x), U, {}),
    "sign": (lambda m, x: m.sign(x) * x, U, {}),
    "sin": (lambda m, x: m.sin(x), U, {}),
    "cos": (lambda m, x: m.cos(x), U, {}),
    "tanh": (lambda m, x: m.tanh(x), U, {}),
    "sigmoid": (lambda m, x: m.sigmoid(x * 3), U, {}),
    "square": (lambda m, x: m.square(x), U[:2], {}),
    "reciprocal": (lambda m, x: m.reciprocal(x), U[:2], POS),
    "remainder": (lambda m, a, b: m.remainder(a * 3, b), B[:2], POS),
    "floor_divide": (lambda m, a, b: m.floor_divide(a * 5, b), B[:2], dict(grad=False, **POS)),
    "floor": (lambda m, x: m.floor(x * 3), U, dict(grad=False)),
    "ceil": (lambda m, x: m.ceil(x * 3), U, dict(grad=False)),
    "round": (lambda m, x: m.round(x * 3), U, dict(grad=False)),
    # activations
    "relu": (lambda m, x: F(m).relu(x), U, {}),
    "leaky_relu": (lambda m, x: F(m).leaky_relu(x, 0.1), U, {}),
    "elu": (lambda m, x: F(m).elu(x, alpha=1.3), U, {}),
    "gelu": (lambda m, x: F(m).gelu(x) + F(m).gelu(x, approximate="tanh"), U, {}),
    "silu": (lambda m, x: F(m).silu(x), U, {}),
    "softplus": (lambda m, x: F(m).softplus(x) + F(m).softplus(x * 8, beta=2, threshold=5), U, {}),
    "logsigmoid": (lambda m, x: F(m).logsigmoid(x * 3), U, {}),
    "softmax": (lambda m, x: m.softmax(x, dim=-1) + F(m).softmax(x, dim=0), U[:3] + U[4:], {}),
    "log_softmax": (lambda m, x: m.log_softmax(x, dim=-1) + F(m).log_softmax(x, 0), U[:3] + U[4:], {}),
    # selection
    "clamp": (lambda m, x: m.clamp(x, -0.5, 0.7) + m.clamp(x, min=0.1) + x.clamp(max=-0.3), U, {}),
    "clip": (lambda m, x: m.clip(x, -0.5, 0.7), U[:2], {}),
    "maximum": (lambda m, a, b: m.maximum(a, b), B, {}),
    "minimum": (lambda m, a, b: m.minimum(a, b), B, {}),
    "where": (lambda m, a, b: m.where(a > b, a, b * 2) + m.where(a > 0, a, 0.5), B, {}),
    # comparison and logic: forward only
    "eq": (lambda m, a, b: m.eq(a, b) | (a == a), B, dict(grad=False)),
    "ne": (lambda m, a, b: m.ne(a, b), B, dict(grad=False)),
    "not_equal": (lambda m, a, b: m.not_equal(a, b), B[:2], dict(grad=False)),
    "lt": (lambda m, a, b: m.lt(a, b) & (a < 1), B, dict(grad=False)),
    "less": (lambda m, a, b: m.less(a, b), B[:2], dict(grad=False)),
    "le": (lambda m, a, b: m.le(a, b), B, dict(grad=False)),
    "less_equal": (lambda m, a, b: m.less_equal(a, b), B[:2], dict(grad=False)),
    "gt": (lambda m, a, b: m.gt(a, b), B, dict(grad=False)),
    "greater": (lambda m, a, b: m.greater(a, b), B[:2], dict(grad=False)),
    "ge": (lambda m, a, b: m.ge(a, b) ^ (b >= 0), B, dict(grad=False)),
    "greater_equal": (lambda m, a, b: m.greater_equal(a, b), B[:2], dict(grad=False)),
    "logical_and": (lambda m, a, b: m.logical_and(a > 0, b > 0), B, dict(grad=False)),
    "logical_or": (lambda m, a, b: m.logical_or(a > 0, b > 0), B, dict(grad=False)),
    "logical_xor": (lambda m, a, b: m.logical_xor(a > 0, b > 0), B, dict(grad=False)),
    "logical_not": (lambda m, x: m.logical_not(x > 0) | ~(x > 1), U, dict(grad=False)),
    "bitwise_and": (lambda m, a, b: m.bitwise_and((a * 9).long(), (b * 9).long()), B[:2], dict(grad=False)),
    "bitwise_or": (lambda m, a, b: m.bitwise_or((a * 9).long(), (b * 9).long()), B[:2], dict(grad=False)),
    "isnan": (lambda m, x: m.isnan(m.log(x)), U, dict(grad=False)),
    "isinf": (lambda m, x: m.isinf(1 / (x * 0)), U, dict(grad=False, low=0.5)),
    "isfinite": (lambda m, x: m.isfinite(m.log(x)), U, dict(grad=False)),
    "isclose": (lambda m, a, b: m.isclose(a, a + b * 1e-9), B[:2], dict(grad=False)),
    "nonzero": (lambda m, x: m.nonzero(x > 0), U[:2] + U[3:], dict(grad=False)),
    "allclose": (lambda m, a, b: m.tensor(float(m.allclose(a, a + 1e-12))) + b.sum(), B[:2], {}),
    "equal": (lambda m, a, b: m.tensor(float(m.equal(a, a))) + b.sum(), B[:2], {}),
    # reductions
    "sum": (lambda m, x: m.sum(x) + x.sum(0).sum() + x.sum(-1, keepdim=True).mean(), R, {}),
    "mean": (lambda m, x: m.mean(x) + x.mean(0).sum() + x.mean(-1, keepdim=True).sum(), R, {}),
    "var": (lambda m, x: m.var(x) + x.var(-1, correction=0).sum() + x.var(0, keepdim=True).sum(), R[:2], {}),
    "std": (lambda m, x: m.std(x) + x.std(-1, unbiased=False).sum(), R, {}),
    "var_mean": (lambda m, x: m.var_mean(x, dim=-1), R, {}),
    "std_mean": (lambda m, x: m.std_mean(x, dim=-1), R, {}),
    "max": (lambda m, x: (m.max(x), *x.max(dim=-1), *x.max(0, keepdim=True)), R, {}),
    "min": (lambda m, x: (m.min(x), *x.min(dim=-1), *x.min(0, keepdim=True)), R, {}),
    "amax": (lambda m, x: m.amax(x, dim=-1) + x.amax(), R, {}),
    "amin": (lambda m, x: m.amin(x, dim=(0, -1)) + x.amin(), R[:3], {}),
    "argmax": (lambda m, x: (m.argmax(x), x.argmax(dim=-1), x.argmax(0, keepdim=True)), R, dict(grad=False)),
    "argmin": (lambda m, x: (m.argmin(x), x.argmin(dim=-1)), R, dict(grad=False)),
    "logsumexp": (lambda m, x: m.logsumexp(x, dim=-1) + x.logsumexp(dim=0).sum(), R, {}),
    "prod": (lambda m, x: m.prod(x) + x.prod(-1).sum() + x.prod(0, keepdim=True).sum(), R, {}),
    "cumsum": (lambda m, x: m.cumsum(x, dim=-1) * x, R, {}),
    "all": (lambda m, x: (m.all(x > -1), (x > 0).all(-1)), R, dict(grad=False)),
    "any": (lambda m, x: (m.any(x > 1), (x > 0).any(0)), R, dict(grad=False)),
    "count_nonzero": (lambda m, x: m.count_nonzero(x > 0, dim=-1), R, dict(grad=False)),
    # linear algebra
    "matmul": (lambda m, a, b: m.matmul(a, b),
               [((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 2)),
                ((2, 1, 3, 4), (5, 4, 2)), ((0, 4), (4, 3))], {}),
    "mm": (lambda m, a, b: m.mm(a, b), [((3, 4), (4, 5))], {}),
    "bmm": (lambda m, a, b: m.bmm(a, b), [((2, 3, 4), (2, 4, 5))], {}),
    "dot": (lambda m, a, b: m.dot(a, b), [((4,), (4,))], {}),
    "outer": (lambda m, a, b: m.outer(a, b), [((4,), (3,))], {}),
    "einsum": (lambda m, a, b: m.einsum("bij,bjk->bik", a, b) .sum(-1) + m.einsum("bij->b", a)[:, None]
               + m.einsum("...j,bjk->...k", a, b).sum(-1), [((2, 3, 4), (2, 4, 5))], {}),
    # shape
    "clone": (lambda m, x: m.clone(x) * 2 + x.clone().contiguous() + x.transpose(0, -1).contiguous().transpose(0, -1), U, {}),
    "reshape": (lambda m, x: m.reshape(x, (2, -1)) * x.reshape(2, 6).sum(), [((3, 4),), ((12,),)], {}),
    "view": (lambda m, x: x.view(4, 3), [((3, 4),)], {}),
    "view_as": (lambda m, x: x.view_as(x.t()), [((3, 4),)], {}),
    "reshape_as": (lambda m, x: x.reshape_as(x.t()), [((3, 4),)], {}),
    "flatten": (lambda m, x: (m.flatten(x), x.flatten(1)), [((2, 3, 4),), ((2, 0, 3),)], {}),
    "unflatten": (lambda m, x: x.unflatten(1, (2, 2)), [((3, 4),)], {}),
    "squeeze": (lambda m, x: (m.squeeze(x), x.squeeze(1), x.squeeze(0)), [((3, 1, 4),), ((1, 1, 4),)], {}),
    "unsqueeze": (lambda m, x: (m.unsqueeze(x, 0), x.unsqueeze(-1)), U, {}),
    "permute": (lambda m, x: m.permute(x, (2, 0, 1)) * 2, [((2, 3, 4),), ((0, 3, 1),)], {}),
    "transpose": (lambda m, x: m.transpose(x, 0, -1), [((2, 3, 4),), ((3, 4),)], {}),
    "swapaxes": (lambda m, x: m.swapaxes(x, 0, 1), [((2, 3, 4),)], {}),
    "t": (lambda m, x: m.t(x) * 3, [((3, 4),), ((4,),)], {}),
    "movedim": (lambda m, x: m.movedim(x, 0, -1), [((2, 3, 4),)], {}),
    "expand": (lambda m, x: x.expand(2, 3, 4) * 1.5, [((3, 1),), ((1, 4),), ((),)], {}),
    "expand_as": (lambda m, x: x.expand_as(m.zeros(2, 3, 4, dtype=x.dtype)), [((3, 1),)], {}),
    "broadcast_to": (lambda m, x: m.broadcast_to(x, (2, 3, 4)), [((3, 1),), ((4,),)], {}),
    "broadcast_tensors": (lambda m, a, b: m.broadcast_tensors(a, b), B[:4], {}),
    "repeat": (lambda m, x: x.repeat(2, 3) * 1.5, [((3, 4),), ((4,),)], {}),
    "tile": (lambda m, x: m.tile(x, (2, 1, 3)), [((3, 4),), ((4,),)], {}),
    "flip": (lambda m, x: m.flip(x, (0, -1)) * x, [((3, 4),), ((2, 3, 4),)], {}),
    "roll": (lambda m, x: m.roll(x, 2, 1) * x + x.roll(shifts=(1, -1), dims=(0, 1)), [((3, 4),)], {}),
    # indexing
    "getitem": (lambda m, x: (x[1], x[:, 1:3], x[None, ..., ::2], x[const(m, [0, 2, 2])], x[x > 0],
                              x[const(m, [1, 0]), const(m, [3, 3])], x[..., -1]), [((3, 4),)], {}),
    "index_select": (lambda m, x: m.index_select(x, 1, const(m, [0, 3, 3])), [((3, 4),)], {}),
    "gather": (lambda m, x: m.gather(x, 1, const(m, IDX)), [((2, 4),)], {}),
    "scatter": (lambda m, x, s: m.scatter(x, 1, const(m, [[0, 2, 1], [3, 0, 1]]), s), [((2, 4), (2, 3))], {}),
    "scatter_add": (lambda m, x, s: m.scatter_add(x, 1, const(m, IDX), s), [((2, 4), (2, 3))], {}),
    "masked_fill": (lambda m, x: m.masked_fill(x, x > 0.5, -1.0) * x, U[:2] + U[4:], {}),
    "masked_select": (lambda m, x: m.masked_select(x, x > 0), [((3, 4),)], {}),
    "take": (lambda m, x: m.take(x, const(m, [0, 5, 5])), [((3, 4),)], {}),
    "narrow": (lambda m, x: m.narrow(x, 1, 1, 2), [((3, 4),)], {}),
    "one_hot": (lambda m, x: F(m).one_hot((x * 2).long().clamp(0, 3), 4), [((3, 4),)], dict(grad=False, low=0)),
    # joining and padding
    "cat": (lambda m, a, b: m.cat([a, b, a], 0), [((2, 3), (4, 3)), ((0, 3), (2, 3))], {}),
    "concat": (lambda m, a, b: m.concat([a, b], 1), [((2, 3), (2, 1))], {}),
    "concatenate": (lambda m, a, b: m.concatenate([a, b], -1), [((2, 3), (2, 1))], {}),
    "stack": (lambda m, a, b: m.stack([a, b], -1), [((2, 3), (2, 3)), ((), ())], {}),
    "split": (lambda m, x: (*m.split(x, 2, 1), *x.split([1, 2], 0)), [((3, 5),)], {}),
    "chunk": (lambda m, x: m.chunk(x, 3, 1), [((2, 7),)], {}),
    "unbind": (lambda m, x: m.unbind(x, 1), [((2, 3),)], {}),
    "pad": (lambda m, x: (F(m).pad(x, (1, 2)), F(m).pad(x, (1, 2, 2, 0), value=0.5),
                          F(m).pad(x, (2, 1, 1, 2), mode="reflect"), F(m).pad(x, (3, 1, 0, 2), mode="replicate")),
            [((2, 3, 4),)], {}),
    "tril": (lambda m, x: m.tril(x) + x.tril(1), [((3, 4),), ((2, 4, 3),)], {}),
    "triu": (lambda m, x: m.triu(x, -1), [((3, 4),), ((2, 4, 3),)], {}),
}

# Newer op families keep their rows in their own table file (tests/ops_<family>.py), merged here.
# A family file may also hold EXTREMES rows and AUDITED names for the activations it adds.
FAMILIES = []
for _family in ("ops_special", "ops_sort", "ops_spatial", "ops_fixes", "ops_matrix"):
    try:
        FAMILIES.append(__import__(_family))
    except ModuleNotFoundError:
        continue
    OPS.update(FAMILIES[-1].OPS)

# Exported names that are not ops on tensors: creation, dtypes, grad modes and friends.
NOT_OPS = set()


def test_every_op_is_in_the_table():
    exported = set(lamina.ops.__all__)
    missing = sorted(exported - set(OPS))
    assert not missing, f"ops exported but not in the checker's table: {missing}"


CASES = [(name, i) for name, (_, shapes, _) in OPS.items() for i in range(len(shapes))]


@pytest.mark.parametrize("name,case", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_op(name, case):
    fn, shapes, opts = OPS[name]
    check_op(fn, shapes[case], **opts)


# ---- extremes: every activation and loss far out in its tails, against torch ----------------
# Forward and backward at +-20, +-50, +-1e4 in float32 and float64. The tolerances are relative:
# atol is the dtype's smallest normal number, so a tail value of 2e-9 cannot pass as 0 (nor 50 as
# 100). No finite differences here: the checks are against torch, which is what users compare with.
X = np.array([-1e4, -50.0, -20.0, 20.0, 50.0, 1e4])
LOGITS = np.stack([X, 0 * X, -X], 1)  # (6, 3): one huge, one zero and one tiny logit per row
CLOSE = np.stack([X, X + 1, X - 1], 1)  # (6, 3): large logits a unit apart
LABELS = np.array([0, 1, 2, 0, 1, 2])
EXTREME = dict(fd=False, atol64=np.finfo(np.float64).tiny, atol32=np.finfo(np.float32).tiny, rtol32=1e-5)


def bce_of_sigmoid(m, x, **kw):
    """BCE of sigmoid(x) against targets 1 and 0: the GAN discriminator's and generator's losses."""
    p = m.sigmoid(x)
    return tuple(F(m).binary_cross_entropy(p, t, **kw) for t in (m.ones_like(x), m.zeros_like(x)))


def bce_with_logits(m, x, **kw):
    return tuple(F(m).binary_cross_entropy_with_logits(x, t, **kw)
                 for t in (m.ones_like(x), m.zeros_like(x), m.full_like(x, 0.3)))


EXTREMES = {  # name: (fn(m, *inputs), inputs)
    "sigmoid": (lambda m, x: m.sigmoid(x), [X]),
    "logsigmoid": (lambda m, x: F(m).logsigmoid(x), [X]),
    "tanh": (lambda m, x: m.tanh(x), [X]),
    "softplus": (lambda m, x: (F(m).softplus(x), F(m).softplus(x, beta=2, threshold=5),
                               F(m).softplus(x, beta=0.5, threshold=50)), [X]),
    "silu": (lambda m, x: F(m).silu(x), [X]),
    "elu": (lambda m, x: (F(m).elu(x), F(m).elu(x, alpha=1.3)), [X]),
    "gelu": (lambda m, x: (F(m).gelu(x), F(m).gelu(x, approximate="tanh")), [X]),
    "softmax": (lambda m, x: (m.softmax(x, dim=1), F(m).softmax(x, dim=0)), [LOGITS]),
    "softmax-close": (lambda m, x: m.softmax(x, dim=1), [CLOSE]),
    "log_softmax": (lambda m, x: (m.log_softmax(x, dim=1), F(m).log_softmax(x, dim=0)), [LOGITS]),
    "log_softmax-close": (lambda m, x: m.log_softmax(x, dim=1), [CLOSE]),
    "binary_cross_entropy": (lambda m, x: bce_of_sigmoid(m, x, reduction="none"), [X]),
    "binary_cross_entropy-mean": (lambda m, x: bce_of_sigmoid(m, x), [X]),
    "binary_cross_entropy_with_logits": (lambda m, x: bce_with_logits(m, x, reduction="none"), [X]),
    "binary_cross_entropy_with_logits-pos_weight": (
        lambda m, x: bce_with_logits(m, x, reduction="none", pos_weight=m.full_like(x, 3.0)), [X]),
    "cross_entropy": (lambda m, x: F(m).cross_entropy(x, const(m, LABELS), reduction="none"), [LOGITS]),
    "cross_entropy-close": (lambda m, x: F(m).cross_entropy(x, const(m, LABELS), reduction="none"), [CLOSE]),
    "cross_entropy-rows": (lambda m, x: F(m).cross_entropy(x, const(m, LABELS[1:5]), reduction="none"),
                           [LOGITS[1:5]]),  # row maxima 20 and 50: the batch-max shift of _exp_shifted
    "cross_entropy-mean": (lambda m, x: F(m).cross_entropy(x, const(m, LABELS)), [LOGITS]),
    "cross_entropy-smoothing": (lambda m, x: F(m).cross_entropy(x, const(m, LABELS), reduction="none",
                                                                label_smoothing=0.1), [LOGITS]),
    "cross_entropy-probabilities": (lambda m, x: F(m).cross_entropy(x, m.softmax(x.flip(1), dim=1),
                                                                    reduction="none"), [LOGITS]),
    "nll_loss": (lambda m, x: F(m).nll_loss(m.log_softmax(x, dim=1), const(m, LABELS), reduction="none"),
                 [LOGITS]),
}

# The activations in lamina/ops/activation.py (and the elementwise ones that saturate) and the
# losses that take logits or probabilities: each must have a row above.
AUDITED = ["sigmoid", "logsigmoid", "tanh", "softplus", "silu", "elu", "gelu", "softmax", "log_softmax",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss"]
NO_TAILS = {"relu", "leaky_relu"}  # piecewise linear: nothing to overflow or underflow
for _mod in FAMILIES:
    EXTREMES.update(getattr(_mod, "EXTREMES", {}))
    AUDITED += getattr(_mod, "AUDITED", [])
    NO_TAILS |= set(getattr(_mod, "NO_TAILS", ()))


def test_every_activation_and_loss_is_in_the_extremes_table():
    from lamina.ops import activation

    defined = {n for n, f in vars(activation).items()
               if callable(f) and not n.startswith("_") and getattr(f, "__module__", "") == activation.__name__
               and not isinstance(f, type)}
    missing = sorted((defined - NO_TAILS) - set(AUDITED)) + [n for n in AUDITED if n not in EXTREMES]
    assert not missing, f"activations or losses without a row in EXTREMES: {missing}"


@pytest.mark.parametrize("name", EXTREMES)
def test_extremes(name):
    fn, inputs = EXTREMES[name]
    check_op(fn, None, inputs=inputs, **EXTREME)


# ---- hypothesis: random shapes for elementwise, broadcast and reduction ops ----------------
BINARY = ["add", "sub", "mul", "maximum", "minimum"]
UNARY = ["exp", "tanh", "sigmoid", "relu", "gelu", "softplus", "abs", "sin"]
REDUCE = ["sum", "mean", "amax", "logsumexp", "prod"]


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       name=st.sampled_from(BINARY))
def test_binary_random_shapes(shapes, name):
    fn = OPS[name][0]
    check_op(fn, shapes.input_shapes, fd_max=6)


@settings(max_examples=20, deadline=None)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3), name=st.sampled_from(UNARY))
def test_unary_random_shapes(shape, name):
    check_op(OPS[name][0], (shape,), fd_max=6)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3),
       name=st.sampled_from(REDUCE), keepdim=st.booleans())
def test_reduce_random_dims(data, shape, name, keepdim):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda m, x: getattr(m, name)(x, dim=dim, keepdim=keepdim) if name != "logsumexp"
             else m.logsumexp(x, dim, keepdim=keepdim), (shape,), fd_max=6)


def test_pure_numpy_fallbacks_match_scipy_kernels(monkeypatch):
    """Without SciPy (the `fast` extra) erf falls back to Python's math.erf: same values."""
    from lamina.ops import activation

    x = lamina.tensor(np.linspace(-30, 30, 101))
    fast = [lamina.sigmoid(x).numpy(), lamina.nn.functional.gelu(x).numpy(), lamina.nn.functional.silu(x).numpy()]
    monkeypatch.setattr(activation, "_scipy", [None])
    slow = [lamina.sigmoid(x).numpy(), lamina.nn.functional.gelu(x).numpy(), lamina.nn.functional.silu(x).numpy()]
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
