"""Losses against torch.nn.functional and torch.nn: forward and gradients, every option."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import lamina
from helpers import check_op
from lamina.nn import losses as L

REDUCTIONS = ["none", "mean", "sum"]


def F(m):
    """The functional namespace of lamina (its losses module) or of torch."""
    return L if m is lamina else TF


def const(m, a):
    """A non-differentiable tensor (targets, weights, lengths) for lamina or torch."""
    return lamina.tensor(a) if m is lamina else torch.tensor(a)


def like(m, a, x):
    """A non-differentiable float tensor with x's dtype (torch wants weights in the input's dtype)."""
    return None if a is None else const(m, a).to(x.dtype)


def rng(seed=0):
    return np.random.default_rng(seed)


# ---- cross_entropy ---------------------------------------------------------------------------
CLASS_SHAPES = [(6, 5), (3, 4, 2, 3), (5,)]  # (N, C), (N, C, d1, d2), unbatched (C,)


def _targets(shape, r, ignore=False):
    tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    y = r.integers(0, shape[1] if len(shape) > 1 else shape[0], size=tshape)
    if ignore and y.ndim:
        y.reshape(-1)[::3] = -100  # every third target ignored
    return y


@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_class_indices(shape, reduction, weighted, ignore, smoothing):
    r = rng(1)
    C = shape[1] if len(shape) > 1 else shape[0]
    y = _targets(shape, r, ignore)
    w = r.uniform(0.5, 2.0, C) if weighted else None
    check_op(lambda m, x: F(m).cross_entropy(x, const(m, y), like(m, w, x),
                                             reduction=reduction, label_smoothing=smoothing), [shape])


def test_cross_entropy_ignore_index_inside_range():
    y = np.array([0, 2, 1, 2, 3])
    w = np.array([1.0, 2.0, 0.5, 3.0])
    check_op(lambda m, x: F(m).cross_entropy(x, const(m, y), like(m, w, x), ignore_index=2, label_smoothing=0.1),
             [(5, 4)])


@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 2, 3), (5,)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probabilities(shape, reduction, weighted, smoothing):
    r = rng(2)
    C = shape[1] if len(shape) > 1 else shape[0]
    x = r.uniform(-2, 2, shape)
    p = r.uniform(0, 1, shape)
    p = p / p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    w = r.uniform(0.5, 2.0, C) if weighted else None
    # the target is an input too: its gradient is checked against torch and finite differences
    check_op(lambda m, x, t: F(m).cross_entropy(x, t, like(m, w, x), reduction=reduction,
                                                label_smoothing=smoothing), None, inputs=[x, p])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_rows_far_below_the_batch_max(dtype):
    """(N, C) logits are shifted by the batch max; rows far below it fall back to their own max."""
    x = rng(15).uniform(-2, 2, (4, 6))
    x[0] += 900.0  # other rows sit ~900 below: exp(x - batch max) would underflow
    y = np.array([1, 0, 5, 3])
    check_op(lambda m, x: F(m).cross_entropy(x, const(m, y), reduction="none"), None, inputs=[x], fd=False)


def test_cross_entropy_float32_stays_float32():
    x = lamina.randn(8, 3, requires_grad=True)
    loss = L.cross_entropy(x, lamina.tensor(np.array([0, 1, 2, 0, 1, 2, 0, 1])))
    loss.backward()
    assert loss.dtype == lamina.float32 and x.grad.dtype == lamina.float32


def test_cross_entropy_all_ignored_mean_is_nan_like_torch():
    y = np.full(4, -100)
    x = np.zeros((4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = L.cross_entropy(lamina.tensor(x), lamina.tensor(y))
    b = TF.cross_entropy(torch.tensor(x), torch.tensor(y))
    assert np.isnan(a.item()) and np.isnan(b.item())


# ---- nll_loss --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
def test_nll_loss(shape, reduction, weighted, ignore):
    r = rng(3)
    C = shape[1] if len(shape) > 1 else shape[0]
    y = _targets(shape, r, ignore)
    w = r.uniform(0.5, 2.0, C) if weighted else None
    check_op(lambda m, x: F(m).nll_loss(x, const(m, y), like(m, w, x), reduction=reduction),
             [shape])


# ---- binary cross-entropy ----------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    r = rng(4)
    x, y = r.uniform(0.05, 0.95, (4, 3)), r.uniform(0, 1, (4, 3))
    w = r.uniform(0.5, 2.0, (4, 3)) if weighted else None
    check_op(lambda m, x, y: F(m).binary_cross_entropy(x, y, like(m, w, x), reduction=reduction),
             None, inputs=[x, y])


def test_binary_cross_entropy_saturated_input_has_finite_gradient():
    """A float32 sigmoid saturates at exactly 1.0: torch clamps the log at -100 and the gradient stays finite."""
    x = np.array([0.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 1.0])
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a, b = L.binary_cross_entropy(lx, lamina.tensor(y)), TF.binary_cross_entropy(tx, torch.tensor(y))
    a.backward()
    b.backward()
    np.testing.assert_allclose(a.item(), b.item())
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weight", [None, (3,), (2, 1, 3)])
def test_binary_cross_entropy_with_logits(reduction, weighted, pos_weight):
    r = rng(5)
    x, y = r.uniform(-4, 4, (2, 4, 3)), r.uniform(0, 1, (2, 4, 3))
    w = r.uniform(0.5, 2.0, (2, 4, 3)) if weighted else None
    pw = r.uniform(0.5, 3.0, pos_weight) if pos_weight else None  # broadcast against input
    check_op(lambda m, x, y: F(m).binary_cross_entropy_with_logits(
        x, y, like(m, w, x), reduction=reduction, pos_weight=like(m, pw, x)), None, inputs=[x, y])


def test_binary_cross_entropy_of_a_saturated_sigmoid():
    """Issue 13: sigmoid was 0.5 (1 + tanh(x / 2)), so in float32 sigmoid(-20) was 0, BCELoss(sigmoid(-50), 1)
    was 100 (the clamp of log(0)) instead of 50, and a GAN generator got a gradient of 0 instead of -1."""
    for x0, loss, grad in ((-50.0, 50.0, None), (-20.0, 20.0, -1.0)):
        x = lamina.tensor(np.float32(x0), requires_grad=True)
        xt = torch.tensor(np.float32(x0), requires_grad=True)
        out = L.BCELoss()(lamina.sigmoid(x), lamina.tensor(np.float32(1.0)))
        ref = tnn.BCELoss()(torch.sigmoid(xt), torch.tensor(np.float32(1.0)))
        out.backward(), ref.backward()
        assert out.item() == pytest.approx(loss, rel=1e-6) and out.item() == pytest.approx(ref.item(), rel=1e-6)
        assert x.grad.item() == pytest.approx(xt.grad.item(), rel=1e-5)
        if grad is not None:
            assert x.grad.item() == pytest.approx(grad, rel=1e-6)
    assert lamina.sigmoid(lamina.tensor(np.float32(-20.0))).item() == pytest.approx(2.0611537e-9, rel=1e-6)
    # the log is clamped at -100, as torch does: sigmoid(-1e4) is 0 in any dtype
    p = lamina.sigmoid(lamina.tensor(np.array([-1e4, 1e4])))
    np.testing.assert_array_equal(L.binary_cross_entropy(p, lamina.tensor(np.array([1.0, 0.0])), reduction="none")
                                  .numpy(), [100.0, 100.0])


def test_binary_cross_entropy_with_logits_is_stable_for_large_logits():
    x = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    y = np.array([1.0, 0.0, 0.5, 1.0, 0.0])
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a = L.binary_cross_entropy_with_logits(lx, lamina.tensor(y), reduction="none")
    b = TF.binary_cross_entropy_with_logits(tx, torch.tensor(y), reduction="none")
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy())
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), atol=1e-15)  # sigmoid(30) - 1 rounds either way


# ---- regression --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_losses(name, reduction, weighted):
    w = rng(6).uniform(0.5, 2.0, (4, 5)) if weighted else None
    kw = {} if w is None else {"weight": w}
    check_op(lambda m, x, y: getattr(F(m), name)(x, y, reduction=reduction,
                                                 **{k: like(m, v, x) for k, v in kw.items()}), [(4, 5), (4, 5)])


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss"])
def test_regression_losses_broadcast_target(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that the sizes differ
        check_op(lambda m, x, y: getattr(F(m), name)(x, y), [(4, 5), (5,)])


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.5])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_smooth_l1_loss(beta, reduction):
    check_op(lambda m, x, y: F(m).smooth_l1_loss(x, y, reduction=reduction, beta=beta), [(3, 7), (3, 7)])


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.5])
def test_huber_loss_delta(delta):
    check_op(lambda m, x, y: F(m).huber_loss(x, y, delta=delta), [(3, 7), (3, 7)])


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")  # torch's nudge towards 'batchmean'
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    r = rng(7)
    x = np.log(r.dirichlet(np.ones(5), size=4))
    t = r.dirichlet(np.ones(5), size=4)
    if log_target:
        t = np.log(r.dirichlet(np.ones(5), size=4))
    check_op(lambda m, x, t: F(m).kl_div(x, t, reduction=reduction, log_target=log_target), None, inputs=[x, t])


def test_kl_div_zero_target_contributes_zero():
    """0 log 0 = 0 as torch's xlogy (torch's gradient w.r.t. such a target is NaN; ours is not compared)."""
    r = rng(7)
    x, t = np.log(r.dirichlet(np.ones(5), size=4)), r.dirichlet(np.ones(5), size=4)
    t[0, 1] = 0.0
    check_op(lambda m, x: F(m).kl_div(x, const(m, t).to(x.dtype), reduction="batchmean"), None, inputs=[x])


# ---- similarity and metric learning --------------------------------------------------------------
@pytest.mark.parametrize("shapes,dim", [([(4, 6), (4, 6)], 1), ([(4, 6), (4, 6)], 0), ([(3, 4, 5), (4, 5)], -1),
                                        ([(2, 5, 3), (2, 5, 3)], 1)])
def test_cosine_similarity(shapes, dim):
    check_op(lambda m, a, b: F(m).cosine_similarity(a, b, dim=dim), shapes)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(p, keepdim):
    check_op(lambda m, a, b: F(m).pairwise_distance(a, b, p=p, keepdim=keepdim), [(4, 6), (4, 6)])


@pytest.mark.parametrize("shape", [(6, 4), (4,)])
@pytest.mark.parametrize("margin", [0.0, 0.3])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss(shape, margin, reduction):
    y = np.array([1, -1, 1, -1, -1, 1]) if len(shape) == 2 else np.array(-1)
    check_op(lambda m, a, b: F(m).cosine_embedding_loss(a, b, const(m, y), margin=margin, reduction=reduction),
             [shape, shape])


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_loss(p, swap, reduction):
    check_op(lambda m, a, b, c: F(m).triplet_margin_loss(a, b, c, margin=1.5, p=p, swap=swap, reduction=reduction),
             [(5, 4), (5, 4), (5, 4)])


# ---- ctc_loss ----------------------------------------------------------------------------------
def _ctc_case(seed, T=10, B=4, C=5, S=4):
    """Random lengths with a repeated label, an empty target and a full-length input."""
    r = rng(seed)
    il = np.array([T, T - 3, T - 1, 4][:B])
    tl = np.array([4, 0, 3, 2][:B])
    targets = r.integers(1, C, (B, S))
    targets[0, :3] = [2, 2, 3]  # a repeat needs a blank between the two 2s
    targets[2, :3] = [1, 1, 1]
    return r.uniform(-2, 2, (T, B, C)), targets, il, tl


def _ctc_fn(targets, il, tl, fmt, lengths_as, **kw):
    tl_ = tl
    if fmt == "concatenated":
        targets = np.concatenate([targets[b, :tl[b]] for b in range(len(tl))])

    def lens(m, a):
        return const(m, a) if lengths_as == "tensor" else tuple(int(v) for v in a)

    return lambda m, lp: F(m).ctc_loss(lp, const(m, targets), lens(m, il), lens(m, tl_), **kw)


@pytest.mark.parametrize("fmt", ["padded", "concatenated"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_gradient_wrt_log_probs(fmt, reduction, zero_infinity):
    """torch's gradient w.r.t. log_probs (exp(log_probs) - occupancy): compared directly, no finite differences."""
    x, targets, il, tl = _ctc_case(8)
    lp = torch.tensor(x).log_softmax(2).numpy()
    fn = _ctc_fn(targets, il, tl, fmt, "tensor", reduction=reduction, zero_infinity=zero_infinity)
    check_op(fn, None, inputs=[lp], fd=False)


@pytest.mark.parametrize("fmt", ["padded", "concatenated"])
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_ctc_loss_through_log_softmax(fmt, reduction):
    """Through log_softmax the gradient is the true one, so finite differences hold as well."""
    x, targets, il, tl = _ctc_case(9)
    fn = _ctc_fn(targets, il, tl, fmt, "list", reduction=reduction)
    check_op(lambda m, x: fn(m, x.log_softmax(2)), None, inputs=[x])


def test_ctc_loss_blank_not_zero_and_all_empty_targets():
    r = rng(10)
    x = r.uniform(-2, 2, (6, 3, 4))
    targets = np.zeros((3, 0), dtype=np.int64)
    check_op(lambda m, x: F(m).ctc_loss(x.log_softmax(2), const(m, targets), const(m, np.array([6, 2, 4])),
                                        const(m, np.array([0, 0, 0])), blank=3, reduction="sum"), None, inputs=[x])
    targets = r.integers(0, 3, (3, 3))
    check_op(lambda m, x: F(m).ctc_loss(x.log_softmax(2), const(m, targets), const(m, np.array([6, 5, 4])),
                                        const(m, np.array([3, 1, 2])), blank=3), None, inputs=[x])


def test_ctc_loss_unbatched():
    r = rng(11)
    x = r.uniform(-2, 2, (7, 4))
    t = np.array([1, 1, 2])
    for reduction in REDUCTIONS:
        check_op(lambda m, x: F(m).ctc_loss(x.log_softmax(1), const(m, t), const(m, np.array(7)),
                                            const(m, np.array(3)), reduction=reduction), None, inputs=[x])


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_impossible_alignment(zero_infinity):
    """Input too short for its target: an infinite loss (NaN gradient), or 0 with zero_infinity."""
    x, targets, il, tl = _ctc_case(12)
    il = np.array([3, 7, 9, 4])  # batch 0 needs 5 steps for labels 2, 2, 3, x
    lp = torch.tensor(x).log_softmax(2).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(_ctc_fn(targets, il, tl, "padded", "tensor", reduction="none", zero_infinity=zero_infinity),
                 None, inputs=[lp], fd=False)


def test_ctc_loss_module_and_larger_batch():
    r = rng(13)
    T, B, C, S = 30, 8, 12, 9
    x = r.uniform(-3, 3, (T, B, C))
    tl = r.integers(0, S + 1, B)
    il = r.integers(2 * S + 1, T + 1, B)
    targets = r.integers(1, C, (B, S))
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a = lamina.nn.CTCLoss()(lx.log_softmax(2), lamina.tensor(targets), lamina.tensor(il), lamina.tensor(tl))
    b = tnn.CTCLoss()(tx.log_softmax(2), torch.tensor(targets), torch.tensor(il), torch.tensor(tl))
    a.backward()
    b.backward()
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-10)
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), atol=1e-10)


# ---- modules ----------------------------------------------------------------------------------
def _module_cases():
    r = rng(14)
    w = r.uniform(0.5, 2.0, 4)
    x, y = r.uniform(-2, 2, (5, 4)), r.integers(0, 4, 5)
    p, q = r.uniform(0.1, 0.9, (5, 4)), r.uniform(0, 1, (5, 4))
    lp, t = np.log(r.dirichlet(np.ones(4), 5)), r.dirichlet(np.ones(4), 5)
    s = np.array([1, -1, 1, 1, -1])
    return [
        ("CrossEntropyLoss", dict(weight=w, ignore_index=1, label_smoothing=0.1), [x], [y]),
        ("CrossEntropyLoss", dict(reduction="sum"), [x], [y]),
        ("NLLLoss", dict(weight=w, reduction="none"), [lp], [y]),
        ("BCELoss", dict(weight=w), [p], [q]),
        ("BCEWithLogitsLoss", dict(weight=w, pos_weight=w[::-1].copy()), [x], [q]),
        ("MSELoss", dict(reduction="sum"), [x, q], []),
        ("L1Loss", {}, [x, q], []),
        ("SmoothL1Loss", dict(beta=0.5), [x, q], []),
        ("HuberLoss", dict(delta=0.7, reduction="none"), [x, q], []),
        ("KLDivLoss", dict(reduction="batchmean"), [lp], [t]),
        ("CosineSimilarity", dict(dim=1, eps=1e-6), [x, q], []),
        ("PairwiseDistance", dict(p=1.0), [x, q], []),
        ("CosineEmbeddingLoss", dict(margin=0.2), [x, q], [s]),
        ("TripletMarginLoss", dict(margin=0.5, p=1.0, swap=True), [x, q, p], []),
    ]


@pytest.mark.parametrize("name,kwargs,diff,fixed", _module_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_loss_modules(name, kwargs, diff, fixed):
    lk = {k: lamina.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    tk = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    lmod, tmod = getattr(lamina.nn, name)(**lk), getattr(tnn, name)(**tk)
    assert list(lmod.state_dict()) == list(tmod.state_dict())  # weight / pos_weight are buffers
    lx = [lamina.tensor(a, requires_grad=True) for a in diff]
    tx = [torch.tensor(a, requires_grad=True) for a in diff]
    a = lmod(*lx, *[lamina.tensor(f) for f in fixed])
    b = tmod(*tx, *[torch.tensor(f) for f in fixed])
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    a.sum().backward()
    b.sum().backward()
    for u, v in zip(lx, tx):
        np.testing.assert_allclose(u.grad.numpy(), v.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_legacy_size_average_and_reduce():
    x, y = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    for sa, rd in [(None, False), (False, None), (True, True)]:
        a = L.mse_loss(lamina.tensor(x), lamina.tensor(y), size_average=sa, reduce=rd)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            b = TF.mse_loss(torch.tensor(x), torch.tensor(y), size_average=sa, reduce=rd)
        np.testing.assert_allclose(a.numpy(), b.numpy())
    assert L.MSELoss(reduce=False).reduction == "none"


def test_module_reprs_and_exports():
    assert "reduction='sum'" in repr(L.L1Loss(reduction="sum"))
    assert set(L.__all__) <= set(dir(lamina.nn))
    for name in L.FUNCTIONS:
        assert callable(getattr(L, name)) and hasattr(TF, name)


# ---- errors ----------------------------------------------------------------------------------
def test_float_class_targets_say_class_indices_must_be_integers():
    x = lamina.randn(32, 10)
    msg = (r"cross_entropy: class indices must be integers \(int64\), got a float32 target of shape \(32,\) "
           r"for input of shape \(32, 10\): expected int64 of shape \(32,\); class probabilities \(soft targets\) "
           r"must be float with the input's shape \(32, 10\)")
    with pytest.raises(RuntimeError, match=msg):
        L.cross_entropy(x, lamina.zeros(32))
    with pytest.raises(RuntimeError, match=msg):
        L.CrossEntropyLoss()(x, np.zeros(32, dtype=np.float32))
    with pytest.raises(RuntimeError, match=r"cross_entropy: class indices must be integers .* got a float64 target "
                                           r"of shape \(4, 2, 3\) for input of shape \(4, 5, 2, 3\)"):
        L.cross_entropy(lamina.randn(4, 5, 2, 3), lamina.zeros(4, 2, 3, dtype=lamina.float64))
    with pytest.raises(RuntimeError, match=r"cross_entropy: class indices must be integers .* got a bool target"):
        L.cross_entropy(x, lamina.zeros(32, dtype=lamina.int64) > 0)
    # nll_loss takes no probabilities, so its message does not offer them
    with pytest.raises(RuntimeError, match=r"nll_loss: class indices must be integers \(int64\), got a float32 target "
                                           r"of shape \(32,\) for input of shape \(32, 10\): expected int64 of "
                                           r"shape \(32,\)$"):
        L.nll_loss(x, lamina.zeros(32, dtype=lamina.float32))
    L.cross_entropy(x, lamina.softmax(lamina.randn(32, 10), dim=1))  # a soft target of input's shape is fine


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("bad", [10, 11, -1, -101])
def test_class_target_out_of_range_is_a_clear_error(loss, bad):
    x = lamina.randn(4, 10)
    y = lamina.tensor(np.array([1, bad, 2, -100]))  # -100 is the default ignore_index: allowed
    with pytest.raises(IndexError, match=rf"{loss}: target class {bad} is out of range for input of shape "
                                         rf"\(4, 10\): expected classes in \[0, 10\) or ignore_index=-100"):
        getattr(L, loss)(x, y)
    with pytest.raises(IndexError, match=rf"{loss}: target class {bad} is out of range"):  # unbatched (C,)
        getattr(L, loss)(x[0], lamina.tensor(np.array(bad)))
    with pytest.raises(IndexError, match=rf"{loss}: target class {bad} is out of range .* ignore_index=3"):
        getattr(L, loss)(x, y, ignore_index=3)
    y_ignored = lamina.tensor(np.array([1, bad, 2, 0]))
    assert np.isfinite(getattr(L, loss)(x, y_ignored, ignore_index=bad).item())  # ignored: no error


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_losses_warn_when_target_broadcasts(name):
    x, y = lamina.randn(5, 1), lamina.randn(5)
    with pytest.warns(UserWarning, match=rf"{name}: target of shape \(5,\) differs from input of shape \(5, 1\); "
                                         rf"they broadcast to \(5, 5\)") as record:
        loss = getattr(L, name)(x, y)
    assert record[0].filename == __file__  # the warning points at the caller's line
    with pytest.warns(UserWarning, match=r"torch.Size\(\[5\]\)"):  # torch warns for the same call
        getattr(TF, name)(torch.tensor(x.numpy()), torch.tensor(y.numpy()))
    # the value is still torch's (broadcast, as warned), and same shapes give no warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(TF, name)(torch.tensor(x.numpy()), torch.tensor(y.numpy())).item()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(L, name)(x, y.reshape(5, 1))
        getattr(L, name)(x, 0.5)  # a Python number is a constant target, meant to broadcast
    module = {"mse_loss": L.MSELoss, "l1_loss": L.L1Loss, "smooth_l1_loss": L.SmoothL1Loss, "huber_loss": L.HuberLoss}
    with pytest.warns(UserWarning, match=rf"{name}: target of shape \(5,\) differs"):
        module[name]()(x, y)


def test_kl_div_mean_warns_as_torch_does():
    x, y = lamina.randn(3, 4).log_softmax(1), lamina.randn(3, 4).softmax(1)
    with pytest.warns(UserWarning, match=r"kl_div: reduction='mean' divides .* reduction='batchmean'"):
        L.kl_div(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for reduction in ("batchmean", "sum", "none"):
            L.kl_div(x, y, reduction=reduction)
        L.kl_div(x, y, size_average=True)  # the legacy arguments: torch does not warn either


def test_errors_name_the_loss_and_the_shapes():
    x = lamina.randn(32, 10)
    with pytest.raises(ValueError, match=r"cross_entropy: input of shape \(32, 10\) and target of shape \(31,\) "
                                         r"do not match: expected target \(32,\)"):
        L.cross_entropy(x, lamina.zeros(31, dtype=lamina.int64))
    with pytest.raises(IndexError, match=r"cross_entropy: target class 10 is out of range .*\[0, 10\)"):
        L.cross_entropy(x, lamina.full((32,), 10, dtype=lamina.int64))
    with pytest.raises(IndexError, match=r"nll_loss: target class -3 is out of range"):
        L.nll_loss(x, lamina.full((32,), -3, dtype=lamina.int64))
    with pytest.raises(ValueError, match=r"cross_entropy: weight of shape \(3,\) .* expected one weight per class"):
        L.cross_entropy(x, lamina.zeros(32, dtype=lamina.int64), weight=lamina.ones(3))
    with pytest.raises(RuntimeError, match=r"cross_entropy: input must be a floating point tensor"):
        L.cross_entropy(lamina.zeros(4, 3, dtype=lamina.int64), lamina.zeros(4, dtype=lamina.int64))
    with pytest.raises(ValueError, match=r"mse_loss: input of shape \(4, 3\) and target of shape \(5,\)"):
        L.mse_loss(lamina.randn(4, 3), lamina.randn(5))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input of shape \(4,\) and target of shape \(4, 1\)"):
        L.binary_cross_entropy(lamina.rand(4), lamina.rand(4, 1))
    with pytest.raises(ValueError, match=r"reduction must be one of"):
        L.l1_loss(x, x, reduction="avg")
    lp = lamina.randn(5, 2, 4).log_softmax(2)
    with pytest.raises(ValueError, match=r"ctc_loss: input_lengths must be in \[1, 5\]"):
        L.ctc_loss(lp, lamina.ones(2, 2, dtype=lamina.int64), [6, 5], [2, 2])
    with pytest.raises(ValueError, match=r"ctc_loss: concatenated targets of shape \(3,\) do not match"):
        L.ctc_loss(lp, lamina.ones(3, dtype=lamina.int64), [5, 5], [2, 2])
    with pytest.raises(IndexError, match=r"ctc_loss: target values must be class indices in \[0, 4\)"):
        L.ctc_loss(lp, lamina.full((2, 2), 4, dtype=lamina.int64), [5, 5], [2, 2])
    with pytest.raises(RuntimeError, match=r"ctc_loss: targets must be an integer tensor"):
        L.ctc_loss(lp, lamina.ones(2, 2), [5, 5], [2, 2])
