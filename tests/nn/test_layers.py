"""Basic layers (activation, linear, norm), nn.init, nn.functional's layer functions and
nn.summary, each against PyTorch with weights copied by state_dict key, in float64."""
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
from helpers import check_op

torch.set_num_threads(1)


def _load(lam, tmod):
    lam.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})


def compare(make_lam, make_torch, shape=None, x=None, train=True, steps=1, seed=0, atol=1e-10, grad=True):
    """Build both layers, copy torch's state into lamina, run `steps` forward+backward passes in
    float64 and compare outputs, input grads, parameter grads and buffers."""
    rng = np.random.default_rng(seed)
    lam, tmod = make_lam(), make_torch()
    tmod.double()
    lam.double()
    _load(lam, tmod)
    lam.train(train)
    tmod.train(train)
    for _ in range(steps):
        xs = x if x is not None else rng.standard_normal(shape)
        floating = np.asarray(xs).dtype.kind == "f"
        lx = lamina.tensor(xs, requires_grad=grad and floating)
        tx = torch.tensor(xs, requires_grad=grad and floating)
        lo, to = lam(lx), tmod(tx)
        assert lo.shape == tuple(to.shape)
        np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), atol=atol, rtol=1e-9, err_msg="forward")
        if not grad:
            continue
        g = rng.standard_normal(tuple(to.shape))
        to.backward(torch.tensor(g))
        (lo * lamina.tensor(g)).sum().backward()
        if floating:
            np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), atol=atol, rtol=1e-9, err_msg="input grad")
    tparams = dict(tmod.named_parameters())
    for name, p in lam.named_parameters():
        tg = tparams[name].grad
        if tg is None:
            assert p.grad is None or not np.any(p.grad.numpy()), name
        else:
            np.testing.assert_allclose(p.grad.numpy(), tg.numpy(), atol=atol, rtol=1e-9, err_msg=f"grad of {name}")
    tstate = tmod.state_dict()
    assert list(lam.state_dict()) == list(tstate)
    for name, b in lam.named_buffers():
        np.testing.assert_allclose(b.numpy(), tstate[name].numpy(), atol=atol, rtol=1e-9, err_msg=f"buffer {name}")
        assert str(b.dtype) == str(tstate[name].dtype).replace("torch.", ""), name
    return lam, tmod


# ---- each layer against torch's --------------------------------------------------------------
LAYERS = {
    "ReLU": (lambda m: m.ReLU(), (3, 5)),
    "LeakyReLU": (lambda m: m.LeakyReLU(0.2), (3, 5)),
    "GELU": (lambda m: m.GELU(), (3, 5)),
    "GELU-tanh": (lambda m: m.GELU(approximate="tanh"), (3, 5)),
    "SiLU": (lambda m: m.SiLU(), (3, 5)),
    "Tanh": (lambda m: m.Tanh(), (3, 5)),
    "Sigmoid": (lambda m: m.Sigmoid(), (3, 5)),
    "LogSigmoid": (lambda m: m.LogSigmoid(), (3, 5)),
    "Softmax": (lambda m: m.Softmax(dim=-1), (2, 3, 5)),
    "Softmax-dim0": (lambda m: m.Softmax(0), (4, 5)),
    "LogSoftmax": (lambda m: m.LogSoftmax(dim=1), (3, 5)),
    "ELU": (lambda m: m.ELU(alpha=0.7), (3, 5)),
    "Softplus": (lambda m: m.Softplus(beta=2.0, threshold=3.0), (3, 5)),
    "Linear": (lambda m: m.Linear(5, 4), (3, 5)),
    "Linear-3d": (lambda m: m.Linear(5, 4), (2, 3, 5)),
    "Linear-1d": (lambda m: m.Linear(5, 4), (5,)),
    "Linear-nobias": (lambda m: m.Linear(5, 4, bias=False), (3, 5)),
    "Identity": (lambda m: m.Identity(3, foo=1), (3, 5)),
    "Flatten": (lambda m: m.Flatten(), (2, 3, 4, 5)),
    "Flatten-range": (lambda m: m.Flatten(0, 2), (2, 3, 4, 5)),
    "Unflatten": (lambda m: m.Unflatten(1, (3, 4)), (2, 12, 5)),
    "Sequential": (lambda m: m.Sequential(m.Linear(5, 8), m.ReLU(), m.Linear(8, 3), m.LogSoftmax(-1)), (4, 5)),
    "Sequential-named": (lambda m: m.Sequential(OrderedDict(fc=m.Linear(5, 8), act=m.Tanh())), (4, 5)),
    "Dropout-eval": (lambda m: m.Dropout(0.5), (4, 5)),
    "LayerNorm": (lambda m: m.LayerNorm(5), (3, 4, 5)),
    "LayerNorm-2d": (lambda m: m.LayerNorm((4, 5), eps=1e-3), (3, 4, 5)),
    "LayerNorm-noaffine": (lambda m: m.LayerNorm(5, elementwise_affine=False), (3, 5)),
    "LayerNorm-nobias": (lambda m: m.LayerNorm(5, bias=False), (3, 5)),
    "GroupNorm": (lambda m: m.GroupNorm(2, 6), (3, 6, 4, 4)),
    "GroupNorm-1d": (lambda m: m.GroupNorm(3, 6, eps=1e-3), (3, 6, 7)),
    "GroupNorm-noaffine": (lambda m: m.GroupNorm(1, 4, affine=False), (2, 4, 3, 3)),
    "RMSNorm": (lambda m: m.RMSNorm(5), (3, 4, 5)),
    "RMSNorm-eps": (lambda m: m.RMSNorm((4, 5), eps=1e-4), (3, 4, 5)),
    "RMSNorm-noaffine": (lambda m: m.RMSNorm(5, elementwise_affine=False), (3, 5)),
    "BatchNorm1d": (lambda m: m.BatchNorm1d(5), (8, 5)),
    "BatchNorm1d-3d": (lambda m: m.BatchNorm1d(3, momentum=0.3), (4, 3, 6)),
    "BatchNorm2d": (lambda m: m.BatchNorm2d(3), (4, 3, 5, 5)),
    "BatchNorm2d-noaffine": (lambda m: m.BatchNorm2d(3, affine=False), (4, 3, 5, 5)),
    "BatchNorm2d-nostats": (lambda m: m.BatchNorm2d(3, track_running_stats=False), (4, 3, 5, 5)),
    "BatchNorm2d-cumulative": (lambda m: m.BatchNorm2d(3, momentum=None), (4, 3, 2, 2)),
    # over 512 KB, so the elementwise passes run in several row blocks, the last one short
    "BatchNorm2d-blocks": (lambda m: m.BatchNorm2d(8), (18, 8, 32, 32)),
    "BatchNorm2d-one": (lambda m: m.BatchNorm2d(3), (1, 3, 5, 4)),  # one sample: viewed (C, H*W)
    "BatchNorm2d-one-blocks": (lambda m: m.BatchNorm2d(8), (1, 8, 128, 128)),  # one sample, rows in blocks
}


def _perturb(tmod, seed=1):
    """Give affine parameters non-trivial values so that their effect is tested too."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in tmod.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=g, dtype=p.dtype))


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name):
    build, shape = LAYERS[name]

    def make_torch():
        t = build(torch.nn)
        _perturb(t)
        return t

    compare(lambda: build(nn), make_torch, shape, steps=3 if "BatchNorm" in name else 1, train="eval" not in name)


@pytest.mark.parametrize("name", [n for n in LAYERS if n.startswith("BatchNorm")])
def test_batchnorm_eval_uses_running_stats(name):
    build, shape = LAYERS[name]
    lam, tmod = compare(lambda: build(nn), lambda: build(torch.nn), shape, steps=4, seed=3)
    # now evaluate both with the statistics they accumulated, forward and backward
    rng = np.random.default_rng(5)
    lam.eval()
    tmod.eval()
    x = rng.standard_normal(shape) * 2 + 1
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo, to = lam(lx), tmod(tx)
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), atol=1e-10)
    g = rng.standard_normal(shape)
    to.backward(torch.tensor(g))
    (lo * lamina.tensor(g)).sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), atol=1e-10)
    if lam.affine:
        np.testing.assert_allclose(lam.weight.grad.numpy(), tmod.weight.grad.numpy(), rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(lam.bias.grad.numpy(), tmod.bias.grad.numpy(), rtol=1e-9, atol=1e-10)
    if lam.track_running_stats:
        assert int(lam.num_batches_tracked.item()) == 4
        before = lam.running_mean.numpy().copy()
        lam(lx)
        np.testing.assert_array_equal(lam.running_mean.numpy(), before)  # eval never updates them


def test_batchnorm_input_dims_and_single_value():
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(lamina.randn(2, 3, 4))
    with pytest.raises(ValueError, match="2D or 3D"):
        nn.BatchNorm1d(3)(lamina.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(lamina.randn(1, 3))
    bn = nn.BatchNorm1d(3).eval()
    assert bn(lamina.randn(1, 3)).shape == (1, 3)


def test_batchnorm_float32_gradients_with_a_large_mean():
    # backward forms sum(g * xhat) as rstd * (sum(g * x) - mean * sum(g)); that cancels as
    # mean/std grows, so check float32 against float64 where the mean is 100 stds away
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4, 12, 12)) + 100
    g = rng.standard_normal(x.shape)
    grads = {}
    for dt in (np.float32, np.float64):
        bn = nn.BatchNorm2d(4) if dt == np.float32 else nn.BatchNorm2d(4).double()
        lx = lamina.tensor(x.astype(dt), requires_grad=True)
        (bn(lx) * lamina.tensor(g.astype(dt))).sum().backward()
        grads[dt] = lx.grad.numpy(), bn.weight.grad.numpy()
    for got, want in zip(grads[np.float32], grads[np.float64]):
        assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()


def test_batchnorm_float32_keeps_dtypes():
    bn = nn.BatchNorm2d(4)
    x = lamina.randn(8, 4, 3, 3, requires_grad=True)
    y = bn(x)
    y.sum().backward()
    assert y.dtype == lamina.float32 and x.grad.dtype == lamina.float32 and bn.weight.grad.dtype == lamina.float32
    assert bn.running_mean.dtype == lamina.float32 and bn.num_batches_tracked.dtype == lamina.int64
    bn.double()
    assert bn.running_var.dtype == lamina.float64 and bn.num_batches_tracked.dtype == lamina.int64


# ---- Embedding --------------------------------------------------------------------------------
def test_embedding_matches_torch_with_padding_idx():
    idx = np.array([[0, 2, 1, 2], [4, 2, 0, 0]])
    lam, tmod = compare(lambda: nn.Embedding(6, 3, padding_idx=2), lambda: torch.nn.Embedding(6, 3, padding_idx=2),
                        x=idx)
    assert np.all(lam.weight.grad.numpy()[2] == 0)
    assert np.any(lam.weight.grad.numpy()[0] != 0)


@pytest.mark.parametrize("kw", [dict(max_norm=1.5), dict(max_norm=2.0, norm_type=1.0, padding_idx=1),
                                dict(scale_grad_by_freq=True), dict(max_norm=1.0, scale_grad_by_freq=True, padding_idx=0)])
def test_embedding_max_norm_and_scale_grad_by_freq_match_torch(kw):
    """max_norm rescales the looked-up rows of the weight in place (then the gradient flows
    through the rescaled table); scale_grad_by_freq divides by each index's count."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((7, 4)) * 1.5
    idx = np.array([[0, 2, 1, 2], [4, 2, 0, 6]])
    g = rng.standard_normal((2, 4, 4))
    lam, tm = nn.Embedding(7, 4, _weight=lamina.tensor(w), **kw), torch.nn.Embedding(7, 4, _weight=torch.tensor(w), **kw)
    lo, to = lam(lamina.tensor(idx)), tm(torch.tensor(idx))
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lam.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-12, atol=1e-12)
    (lo * lamina.tensor(g)).sum().backward()
    to.backward(torch.tensor(g))
    np.testing.assert_allclose(lam.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert repr(lam) == repr(tm)
    if "max_norm" in kw:  # rows 3 and 5 were not looked up: untouched
        np.testing.assert_array_equal(lam.weight.detach().numpy()[[3, 5]], w[[3, 5]])


def test_embedding_init_and_errors():
    lamina.manual_seed(0)
    e = nn.Embedding(1000, 64, padding_idx=-1)
    assert e.padding_idx == 999 and np.all(e.weight.detach().numpy()[999] == 0)
    w = e.weight.detach().numpy()[:999]
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    with pytest.raises(IndexError, match="out of range"):
        e(lamina.tensor([1000]))
    frozen = nn.Embedding.from_pretrained(lamina.randn(5, 2))
    assert not frozen.weight.requires_grad and frozen(lamina.tensor([1, 3])).shape == (2, 2)
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(5, 2, sparse=True)


def test_embedding_backward_accumulates_repeats():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((50, 8))
    idx = rng.integers(0, 50, (30, 7))
    lw = lamina.tensor(w, requires_grad=True)
    g = rng.standard_normal((30, 7, 8))
    (F.embedding(lamina.tensor(idx), lw) * lamina.tensor(g)).sum().backward()
    ref = np.zeros_like(w)
    np.add.at(ref, idx, g)
    np.testing.assert_allclose(lw.grad.numpy(), ref, atol=1e-12)


# ---- Dropout ----------------------------------------------------------------------------------
def test_dropout_statistics_scaling_and_eval():
    lamina.manual_seed(0)
    d = nn.Dropout(0.3)
    x = lamina.ones(200, 500, requires_grad=True)
    y = d(x).detach().numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    d(x).sum().backward()  # the gradient goes through the kept elements, scaled the same way
    gx = x.grad.numpy()
    assert np.all((gx == 0) | np.isclose(gx, 1 / 0.7)) and abs((gx != 0).mean() - 0.7) < 0.01
    d.eval()
    assert d(x) is x
    assert F.dropout(x, 0.0) is x and np.all(F.dropout(x, 1.0).detach().numpy() == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_is_seeded_by_manual_seed():
    x = lamina.ones(10, 10)
    lamina.manual_seed(7)
    a = F.dropout(x, 0.5).numpy()
    lamina.manual_seed(7)
    b = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout2d_zeroes_whole_channels():
    lamina.manual_seed(1)
    x = lamina.ones(16, 32, 5, 5)
    y = nn.Dropout2d(0.5)(x).numpy()
    per_channel = y.reshape(16, 32, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.35 < (per_channel[..., 0] == 0).mean() < 0.65
    assert nn.Dropout2d(0.5).eval()(x) is x


# ---- containers -------------------------------------------------------------------------------
def test_sequential_indexing_and_state_dict_keys():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    tseq = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    assert list(seq.state_dict()) == list(tseq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and seq[-1] is seq[2]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    assert len(seq[:2]) == 2 and list(seq[1:].state_dict()) == ["2.weight", "2.bias"]
    seq.append(nn.Softmax(-1))
    assert len(seq) == 4 and seq(lamina.randn(5, 3)).shape == (5, 2)
    with pytest.raises(IndexError):
        seq[4]


def test_modulelist_and_moduledict():
    class Net(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.layers = m.ModuleList([m.Linear(2, 3), m.Linear(3, 3)])
            self.heads = m.ModuleDict({"a": m.Linear(3, 1), "b": m.Linear(3, 2)})

    tnet = torch.nn.Module()
    tnet.layers = torch.nn.ModuleList([torch.nn.Linear(2, 3), torch.nn.Linear(3, 3)])
    tnet.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(3, 1), "b": torch.nn.Linear(3, 2)})
    net = Net(nn)
    assert list(net.state_dict()) == list(tnet.state_dict())
    net.layers.append(nn.Linear(3, 3))
    assert len(net.layers) == 3 and "layers.2.weight" in net.state_dict()
    net.layers.insert(0, nn.Identity())
    assert isinstance(net.layers[0], nn.Identity) and list(net.state_dict())[0] == "layers.1.weight"
    assert list(net.heads.keys()) == ["a", "b"] and "b" in net.heads and len(net.heads) == 2
    net.heads["c"] = nn.Linear(3, 4)
    assert net.heads["c"].out_features == 4 and "heads.c.bias" in net.state_dict()


# ---- state dicts ------------------------------------------------------------------------------
def test_load_state_dict_names_missing_unexpected_and_mismatched_keys():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    state = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    del state["0.bias"]
    state["3.weight"] = np.zeros((1, 1), np.float32)
    state["2.weight"] = np.zeros((3, 4), np.float32)
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(state)
    msg = str(e.value)
    assert "missing keys: 0.bias" in msg and "unexpected keys: 3.weight" in msg
    assert "2.weight" in msg and "(3, 4)" in msg and "(2, 4)" in msg
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    _load(net, tnet)
    assert net.state_dict()["1.num_batches_tracked"].dtype == lamina.int64
    np.testing.assert_array_equal(net[0].weight.detach().numpy(), tnet[0].weight.detach().numpy())


def test_state_dict_is_detached_like_torchs():
    """state_dict() used to hand out the parameters themselves, still requiring grad."""
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    state, tstate = net.state_dict(), tnet.state_dict()
    assert [v.requires_grad for v in state.values()] == [v.requires_grad for v in tstate.values()] == [False] * 7
    assert all(type(v) is lamina.Tensor and v.grad_fn is None for v in state.values())
    assert state["0.weight"]._data is net[0].weight._data  # the same memory, as torch
    net[0].weight.data[0, 0] = 7.0
    assert state["0.weight"].data[0, 0] == 7.0
    state["0.weight"].numpy()  # no "requires grad" refusal
    net.load_state_dict({k: v * 2 for k, v in state.items()})  # loading still reaches the parameters
    assert net[0].weight.requires_grad and net[0].weight.data[0, 0] == 14.0


# ---- summary ----------------------------------------------------------------------------------
def test_summary_prints_shapes_and_counts(capsys):
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))
    model.train()
    text = nn.summary(model, (2, 1, 28, 28))
    printed = capsys.readouterr().out
    assert text in printed
    assert "(2, 784)" in text and "(2, 128)" in text and "(2, 10)" in text
    assert "100,480" in text and "1,290" in text and "256" in text
    assert "Total params: 102,026" in text
    assert model.training and int(model[2].num_batches_tracked.item()) == 0  # left as found


# ---- init -------------------------------------------------------------------------------------
def test_calculate_gain_and_fans():
    for args in [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
                 ("leaky_relu", 0.2), ("selu",)]:
        assert nn.init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))
    with pytest.raises(ValueError):
        nn.init.calculate_gain("nope")
    w = lamina.empty(8, 4, 3, 3)
    assert nn.init._calculate_fan_in_and_fan_out(w) == (36, 72)
    with pytest.raises(ValueError, match="fewer than 2"):
        nn.init.xavier_uniform_(lamina.empty(5))


def _check_uniform(a, bound):
    assert a.min() >= -bound and a.max() <= bound
    assert a.max() > 0.95 * bound and a.min() < -0.95 * bound
    assert abs(a.std() - bound / math.sqrt(3)) < 0.03 * bound


def test_init_functions_statistics():
    lamina.manual_seed(0)
    w = lamina.empty(256, 128, 3)  # fan_in 384, fan_out 768
    fan_in, fan_out = 384, 768
    _check_uniform(nn.init.kaiming_uniform_(w, a=math.sqrt(5)).numpy(), 1 / math.sqrt(fan_in))
    _check_uniform(nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu").numpy(),
                   math.sqrt(6 / fan_out))
    _check_uniform(nn.init.xavier_uniform_(w, gain=2.0).numpy(), 2 * math.sqrt(6 / (fan_in + fan_out)))
    _check_uniform(nn.init.uniform_(w, -0.3, 0.3).numpy(), 0.3)
    for fn, std in [(lambda: nn.init.kaiming_normal_(w), math.sqrt(2 / fan_in)),
                    (lambda: nn.init.xavier_normal_(w), math.sqrt(2 / (fan_in + fan_out))),
                    (lambda: nn.init.normal_(w, 1.5, 0.2), 0.2)]:
        a = fn().numpy()
        assert abs(a.std() - std) < 0.02 * std
    assert abs(w.numpy().mean() - 1.5) < 0.01
    t = nn.init.trunc_normal_(w, mean=0.1, std=1.0, a=-0.5, b=1.0).numpy()
    assert t.min() >= -0.5 and t.max() <= 1.0 and t.min() < -0.49 and t.max() > 0.99
    ref = torch.nn.init.trunc_normal_(torch.empty(256, 128, 3, dtype=torch.float64), 0.1, 1.0, -0.5, 1.0)
    assert abs(t.mean() - ref.mean().item()) < 0.01 and abs(t.std() - ref.std().item()) < 0.01
    assert np.all(nn.init.constant_(w, 0.25).numpy() == 0.25)
    assert np.all(nn.init.ones_(w).numpy() == 1) and np.all(nn.init.zeros_(w).numpy() == 0)
    assert w.shape == (256, 128, 3) and w.dtype == lamina.float32


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (4, 3, 2, 2)])
def test_orthogonal(shape):
    w = nn.init.orthogonal_(lamina.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, 4 * np.eye(min(rows, cols)), atol=1e-5)


def test_init_is_seeded_works_on_parameters_and_takes_a_generator():
    p = nn.Parameter(lamina.empty(3, 4))
    lamina.manual_seed(3)
    a = nn.init.normal_(p).detach().numpy().copy()
    lamina.manual_seed(3)
    np.testing.assert_array_equal(nn.init.normal_(p).detach().numpy(), a)
    assert p.requires_grad and p.grad is None
    g1, g2 = lamina.Generator().manual_seed(1), lamina.Generator().manual_seed(1)
    np.testing.assert_array_equal(nn.init.uniform_(lamina.empty(5), generator=g1).numpy(),
                                  nn.init.uniform_(lamina.empty(5), generator=g2).numpy())


def test_default_layer_init_has_torch_bounds():
    lamina.manual_seed(0)
    lin = nn.Linear(200, 300)
    bound = 1 / math.sqrt(200)
    _check_uniform(lin.weight.detach().numpy(), bound)
    assert np.abs(lin.bias.detach().numpy()).max() <= bound and lin.bias.detach().numpy().std() > 0.5 * bound / math.sqrt(3)
    assert lin.weight.shape == (300, 200) and lin.weight.dtype == lamina.float32
    assert lin.weight.requires_grad and lin.bias.requires_grad
    bn, ln, gn, rms = nn.BatchNorm2d(4), nn.LayerNorm((2, 3)), nn.GroupNorm(2, 4), nn.RMSNorm(3)
    for m in (bn, ln, gn, rms):
        assert np.all(m.weight.detach().numpy() == 1)
    for m in (bn, ln, gn):
        assert np.all(m.bias.detach().numpy() == 0)
    assert np.all(bn.running_var.numpy() == 1) and np.all(bn.running_mean.numpy() == 0)
    assert nn.Linear(3, 2, dtype=lamina.float64).weight.dtype == lamina.float64


# ---- the functional forms through the op checker --------------------------------------------------
def Fm(m):
    """lamina's or torch's functional namespace."""
    return m.nn.functional


def _bn_train(m, x, w, b):
    return Fm(m).batch_norm(x, None, None, w, b, training=True)


FUNCTIONAL = {
    "linear": (lambda m, x, w, b: Fm(m).linear(x, w, b) + Fm(m).linear(x, w), [(4, 3), (5, 3), (5,)]),
    "linear-3d": (lambda m, x, w: Fm(m).linear(x, w), [(2, 4, 3), (5, 3)]),
    "layer_norm": (lambda m, x, w, b: Fm(m).layer_norm(x, (4,), w, b), [(3, 2, 4), (4,), (4,)]),
    "layer_norm-2d": (lambda m, x, w: Fm(m).layer_norm(x, (2, 4), w, eps=1e-3), [(3, 2, 4), (2, 4)]),
    "layer_norm-plain": (lambda m, x: Fm(m).layer_norm(x, (6,)), [(5, 6)]),
    "batch_norm": (_bn_train, [(4, 3, 2, 2), (3,), (3,)]),
    "batch_norm-2d": (_bn_train, [(6, 3), (3,), (3,)]),
    "batch_norm-eval": (lambda m, x, rm, rv, w, b: Fm(m).batch_norm(x, rm.detach(), rv.detach().abs() + 0.5, w, b),
                        [(4, 3, 5), (3,), (3,), (3,), (3,)]),
    "group_norm": (lambda m, x, w, b: Fm(m).group_norm(x, 2, w, b), [(3, 4, 2, 3), (4,), (4,)]),
    "rms_norm": (lambda m, x, w: Fm(m).rms_norm(x, (4,), w) + Fm(m).rms_norm(x, (3, 4), eps=1e-3),
                 [(2, 3, 4), (4,)]),
    "normalize": (lambda m, x: Fm(m).normalize(x) + Fm(m).normalize(x, p=3.0, dim=-1), [(3, 4, 2)]),
}


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_functional(name):
    fn, shapes = FUNCTIONAL[name]
    check_op(fn, shapes, fd_max=12)


def test_functional_embedding():
    idx = np.array([[1, 3, 1], [0, 2, 3]])
    # the padding row's gradient is zero by design, which finite differences would dispute
    check_op(lambda m, w: Fm(m).embedding(m.tensor(idx), w, padding_idx=3), [(4, 5)], fd=False)
    check_op(lambda m, w: Fm(m).embedding(m.tensor(idx), w), [(4, 5)])


def test_functional_errors_name_the_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"linear: input of shape \(2, 3\) and weight of shape \(4, 5\)"):
        F.linear(lamina.randn(2, 3), lamina.randn(4, 5))
    with pytest.raises(RuntimeError, match="layer_norm"):
        F.layer_norm(lamina.randn(2, 3), (4,))
    with pytest.raises(RuntimeError, match="group_norm"):
        F.group_norm(lamina.randn(2, 6, 3), 4)
