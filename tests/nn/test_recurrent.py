"""RNN, LSTM, GRU and their cells against PyTorch with copied weights, in float64: outputs,
final states, and gradients w.r.t. the input, the initial states and every parameter; with
variable lengths (packed sequences and the `lengths` keyword); errors; and token sampling."""
import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as trnn

import lamina
import lamina.nn.utils.rnn as lrnn
from lamina import nn
from lamina.models.sampling import sample_next

I, H, B, T = 5, 4, 3, 6


def _pair(cls_name, **kw):
    """A torch module and a lamina module of the same class, float64, torch's weights copied."""
    torch.manual_seed(0)
    tmod = getattr(torch.nn, cls_name)(**kw).double()
    lmod = getattr(nn, cls_name)(**kw).double()
    assert list(lmod.state_dict()) == list(tmod.state_dict())
    lmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})
    return tmod, lmod


def _leaf(m, a):
    return (torch.tensor(a, requires_grad=True) if m is torch else lamina.tensor(a, requires_grad=True))


def _np(t):
    return t.detach().numpy()


def _backward(outs, rng_seed=1):
    """A random weighted sum of every output, so each output's gradient is checked."""
    rng = np.random.default_rng(rng_seed)
    total = 0
    for o in outs:
        w = rng.standard_normal(tuple(o.shape))
        total = total + (o * (torch.tensor(w) if isinstance(o, torch.Tensor) else lamina.tensor(w))).sum()
    total.backward()


def _compare(tmod, lmod, run, arrays):
    """run(m, module, *leaves) -> list of outputs; compares outputs and all gradients."""
    res = {}
    for m, mod in ((torch, tmod), (lamina, lmod)):
        leaves = [_leaf(m, a) if a is not None else None for a in arrays]
        outs = run(m, mod, *leaves)
        _backward(outs)
        res[m] = (outs, leaves, dict(mod.named_parameters()))
    (to, tl, tp), (lo, ll, lp) = res[torch], res[lamina]
    assert len(to) == len(lo)
    for a, b in zip(lo, to):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-9, atol=1e-10)
    for a, b in zip(ll, tl):
        if a is not None:
            np.testing.assert_allclose(_np(a.grad), _np(b.grad), rtol=1e-8, atol=1e-10, err_msg="input grad")
    assert set(lp) == set(tp)
    for k in tp:
        np.testing.assert_allclose(_np(lp[k].grad), _np(tp[k].grad), rtol=1e-8, atol=1e-10, err_msg=k)


def _flat(out):
    """(output, h_n) or (output, (h_n, c_n)) -> [output, h_n(, c_n)]."""
    o, h = out
    return [o] + (list(h) if isinstance(h, tuple) else [h])


CONFIGS = [  # num_layers, bidirectional, batch_first, bias, with initial state
    (1, False, False, True, False),
    (2, True, False, True, True),
    (2, False, True, False, True),
    (1, True, True, True, False),
    (2, True, True, False, False),
]


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers,bidir,batch_first,bias,with_hx", CONFIGS)
def test_layer_matches_torch(cls, layers, bidir, batch_first, bias, with_hx):
    tmod, lmod = _pair(cls, input_size=I, hidden_size=H, num_layers=layers, bidirectional=bidir,
                       batch_first=batch_first, bias=bias)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I))
    S = layers * (2 if bidir else 1)
    h0 = rng.standard_normal((S, B, H)) if with_hx else None
    c0 = rng.standard_normal((S, B, H)) if with_hx and cls == "LSTM" else None

    def run(m, mod, x, h0, c0):
        hx = None if h0 is None else (h0, c0) if cls == "LSTM" else h0
        return _flat(mod(x, hx))

    _compare(tmod, lmod, run, [x, h0, c0])


def test_relu_rnn_and_eval_dropout():
    for kw in (dict(nonlinearity="relu", num_layers=2, bidirectional=True), dict(num_layers=3, dropout=0.5)):
        tmod, lmod = _pair("RNN", input_size=I, hidden_size=H, **kw)
        tmod.eval(), lmod.eval()
        x = np.random.default_rng(2).standard_normal((T, B, I))
        _compare(tmod, lmod, lambda m, mod, x: _flat(mod(x)), [x])


def test_lstm_dropout_eval_and_train():
    tmod, lmod = _pair("LSTM", input_size=I, hidden_size=H, num_layers=2, dropout=0.3)
    tmod.eval(), lmod.eval()
    x = np.random.default_rng(3).standard_normal((T, B, I))
    _compare(tmod, lmod, lambda m, mod, x: _flat(mod(x)), [x])
    lmod.train()
    xt = lamina.tensor(x)
    lamina.manual_seed(0)
    a = _np(lmod(xt)[0])
    lamina.manual_seed(0)
    b = _np(lmod(xt)[0])
    np.testing.assert_array_equal(a, b)  # the default generator drives the dropout masks
    assert not np.allclose(a, _np(lmod.eval()(xt)[0]))


def test_unbatched_input():
    for cls in ("GRU", "LSTM"):
        tmod, lmod = _pair(cls, input_size=I, hidden_size=H, num_layers=2, bidirectional=True)
        x = np.random.default_rng(4).standard_normal((T, I))
        _compare(tmod, lmod, lambda m, mod, x: _flat(mod(x)), [x])


def test_float32_stays_float32():
    torch.manual_seed(0)
    tmod = torch.nn.LSTM(I, H, num_layers=2, bidirectional=True)
    lmod = nn.LSTM(I, H, num_layers=2, bidirectional=True)
    lmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})
    x = np.random.default_rng(5).standard_normal((T, B, I)).astype(np.float32)
    lx = lamina.tensor(x, requires_grad=True)
    out, (h, c) = lmod(lx)
    (out.sum() + c.sum()).backward()
    assert out.dtype == h.dtype == lx.grad.dtype == lmod.weight_hh_l1.grad.dtype == np.float32
    tout, _ = tmod(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), _np(tout), rtol=1e-4, atol=1e-5)


def test_init_bounds_and_names():
    lstm = nn.LSTM(3, 16, num_layers=2, bidirectional=True, bias=True)
    assert [k for k, _ in lstm.named_parameters()][:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert lstm.weight_ih_l1_reverse.shape == (64, 32)
    for p in lstm.parameters():
        assert np.abs(_np(p)).max() <= 0.25


# ---- variable lengths ---------------------------------------------------------------------

LENGTHS = [([6, 4, 4, 1], True), ([3, 6, 1, 5], False)]


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("lengths,enforce_sorted", LENGTHS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_sequence_matches_torch(cls, lengths, enforce_sorted, batch_first):
    tmod, lmod = _pair(cls, input_size=I, hidden_size=H, num_layers=2, bidirectional=True, batch_first=batch_first)
    rng = np.random.default_rng(6)
    nb = len(lengths)
    x = rng.standard_normal((nb, T, I) if batch_first else (T, nb, I))
    h0 = rng.standard_normal((4, nb, H))
    c0 = rng.standard_normal((4, nb, H)) if cls == "LSTM" else None

    def run(m, mod, x, h0, c0):
        U = trnn if m is torch else lrnn
        packed = U.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
        out, hn = mod(packed, (h0, c0) if cls == "LSTM" else h0)
        padded, lens = U.pad_packed_sequence(out, batch_first=batch_first, total_length=T)
        assert list(lens.numpy()) == lengths
        return [padded] + (list(hn) if cls == "LSTM" else [hn])

    _compare(tmod, lmod, run, [x, h0, c0])


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_lengths_keyword_matches_packed(cls):
    tmod, lmod = _pair(cls, input_size=I, hidden_size=H, num_layers=2, bidirectional=True)
    lengths = [3, 6, 1, 5]
    x = np.random.default_rng(7).standard_normal((T, 4, I))

    def run(m, mod, x):
        if m is torch:
            out, hn = mod(trnn.pack_padded_sequence(x, lengths, enforce_sorted=False))
            out = trnn.pad_packed_sequence(out, total_length=T)[0]
        else:
            out, hn = mod(x, lengths=lamina.tensor(lengths))
        return [out] + (list(hn) if cls == "LSTM" else [hn])

    _compare(tmod, lmod, run, [x])


def test_padding_never_changes_real_steps():
    lstm = nn.LSTM(I, H, bidirectional=True).double().requires_grad_(False)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((T, 2, I))
    lengths = [4, 6]
    noisy = x.copy()
    noisy[4:, 0] = 100 * rng.standard_normal((T - 4, I))
    a, (ha, _) = lstm(lamina.tensor(x), lengths=lengths)
    b, (hb, _) = lstm(lamina.tensor(noisy), lengths=lengths)
    np.testing.assert_allclose(a.numpy(), b.numpy())
    np.testing.assert_allclose(ha.numpy(), hb.numpy())
    assert np.all(a.numpy()[4:, 0] == 0)
    # sequence 0 alone, unpadded, gives the same outputs and final states
    alone, (h1, _) = lstm(lamina.tensor(x[:4, :1]))
    np.testing.assert_allclose(a.numpy()[:4, :1], alone.numpy(), atol=1e-12)
    np.testing.assert_allclose(ha.numpy()[:, :1], h1.numpy(), atol=1e-12)


def test_packed_data_and_pad_sequence():
    x = np.random.default_rng(9).standard_normal((T, 3, 2))
    lengths = [2, 6, 4]
    tp = trnn.pack_padded_sequence(torch.tensor(x), lengths, enforce_sorted=False)
    lp = lrnn.pack_padded_sequence(lamina.tensor(x), lengths, enforce_sorted=False)
    np.testing.assert_allclose(lp.data.numpy(), tp.data.numpy())
    np.testing.assert_array_equal(lp.batch_sizes.numpy(), tp.batch_sizes.numpy())
    np.testing.assert_array_equal(lp.sorted_indices.numpy(), tp.sorted_indices.numpy())
    padded, _ = lrnn.pad_packed_sequence(lp, batch_first=True, padding_value=-1.0)
    tpadded, _ = trnn.pad_packed_sequence(tp, batch_first=True, padding_value=-1.0)
    np.testing.assert_allclose(padded.numpy(), tpadded.numpy())
    seqs = [np.random.default_rng(k).standard_normal((n, 2)) for k, n in enumerate([3, 5, 1])]
    for bf in (False, True):
        a = lrnn.pad_sequence([lamina.tensor(s) for s in seqs], batch_first=bf, padding_value=7.0)
        b = trnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=bf, padding_value=7.0)
        np.testing.assert_allclose(a.numpy(), b.numpy())
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        lrnn.pack_padded_sequence(lamina.tensor(x), lengths)


# ---- cells --------------------------------------------------------------------------------

@pytest.mark.parametrize("cls,kw", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
                                    ("GRUCell", {}), ("GRUCell", {"bias": False}), ("LSTMCell", {"bias": False})])
def test_cells_match_torch(cls, kw):
    tmod, lmod = _pair(cls, input_size=I, hidden_size=H, **kw)
    rng = np.random.default_rng(10)
    x = rng.standard_normal((B, I))
    h = rng.standard_normal((B, H))
    c = rng.standard_normal((B, H))
    lstm = cls == "LSTMCell"

    def run(m, mod, x, h, c):  # two steps: the second one starts from the first one's state
        s = mod(x, (h, c) if lstm else h)
        s = mod(x * 0.5, s)
        return list(s) if lstm else [s]

    _compare(tmod, lmod, run, [x, h, c if lstm else None])
    # unbatched, no state
    _compare(tmod, lmod, lambda m, mod, x: list(mod(x)) if lstm else [mod(x)], [x[0]])


# ---- errors -------------------------------------------------------------------------------

def test_errors_name_module_and_shapes():
    lstm = nn.LSTM(10, 256, num_layers=2)
    with pytest.raises(RuntimeError, match=r"LSTM: expected input of 2 or 3 dims \(T, B, input_size\) or "
                                           r"\(B, T, input_size\) with batch_first=True, got shape \(4,\)"):
        lstm(lamina.zeros(4))
    with pytest.raises(RuntimeError, match=r"LSTM: expected input_size 10 .* got shape \(5, 8, 7\)"):
        lstm(lamina.zeros(5, 8, 7))
    with pytest.raises(RuntimeError, match=r"LSTM: expected h_0 of shape \(2, 8, 256\), got \(1, 8, 256\)"):
        lstm(lamina.zeros(5, 8, 10), (lamina.zeros(1, 8, 256), lamina.zeros(2, 8, 256)))
    with pytest.raises(RuntimeError, match=r"GRU: expected h_0 of shape \(2, 3, 4\), got \(2, 3, 5\)"):
        nn.GRU(2, 4, bidirectional=True)(lamina.zeros(5, 3, 2), lamina.zeros(2, 3, 5))
    with pytest.raises(RuntimeError, match=r"LSTM: expected lengths of shape \(8,\)"):
        lstm(lamina.zeros(5, 8, 10), lengths=[5, 4])
    with pytest.raises(RuntimeError, match=r"GRUCell: expected input_size 3 .* got shape \(2, 4\)"):
        nn.GRUCell(3, 4)(lamina.zeros(2, 4))


# ---- sampling -----------------------------------------------------------------------------

def test_sample_next():
    logits = lamina.tensor(np.log(np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]])))
    np.testing.assert_array_equal(sample_next(logits, temperature=0).numpy(), [1, 0])
    g = lamina.Generator().manual_seed(0)
    # top_k=1 is greedy whatever the temperature
    for _ in range(5):
        np.testing.assert_array_equal(sample_next(logits, temperature=2.0, top_k=1, generator=g).numpy(), [1, 0])
    # top_p keeps the most likely tokens until their mass reaches p
    draws = np.stack([sample_next(logits, top_p=0.5, generator=g).numpy() for _ in range(100)])
    assert set(draws[:, 0].tolist()) == {1} and set(draws[:, 1].tolist()) == {0}
    draws = np.stack([sample_next(logits, top_p=0.7, generator=g).numpy() for _ in range(200)])
    assert set(draws[:, 0].tolist()) == {1, 2} and set(draws[:, 1].tolist()) == {0, 2}
    # top_k=2 never draws the least likely token; plain sampling follows the probabilities
    draws = np.stack([sample_next(logits, top_k=2, generator=g).numpy() for _ in range(200)])
    assert 0 not in set(draws[:, 0]) and 1 not in set(draws[:, 1])
    big = lamina.tensor(np.log(np.array([[0.2, 0.8]])))
    freq = np.mean([sample_next(big, generator=g).item() for _ in range(2000)])
    assert abs(freq - 0.8) < 0.04
    ids = sample_next(lamina.tensor(np.zeros(4)), generator=g)
    assert ids.shape == () and ids.dtype == np.int64
    a = sample_next(logits, generator=lamina.Generator().manual_seed(1)).numpy()
    b = sample_next(logits, generator=lamina.Generator().manual_seed(1)).numpy()
    np.testing.assert_array_equal(a, b)


# ---- the char-LSTM language model -----------------------------------------------------------

def test_char_lstm_generate_carries_state():
    from lamina.models import CharLSTM, CharLSTMConfig

    lamina.manual_seed(0)
    model = CharLSTM(CharLSTMConfig(vocab_size=11, embed_dim=6, hidden_size=8, num_layers=2))
    prompt = lamina.tensor(np.array([[1, 2, 3], [4, 5, 6]]))
    out = model.generate(prompt, 5, temperature=0)
    assert out.shape == (2, 8)
    np.testing.assert_array_equal(out.numpy()[:, :3], prompt.numpy())
    seq = prompt
    with lamina.no_grad():  # greedy decoding by rerunning the whole sequence each time agrees
        for _ in range(5):
            logits, _ = model(seq)
            seq = lamina.cat([seq, logits[:, -1].argmax(-1).reshape(-1, 1)], 1)
    np.testing.assert_array_equal(out.numpy(), seq.numpy())
    logits, (h, c) = model(prompt)
    assert logits.shape == (2, 3, 11) and h.shape == c.shape == (2, 2, 8)


@pytest.mark.parametrize("layers,bidir,batch_first,bias,with_hx", CONFIGS)
def test_lstm_proj_size_matches_torch(layers, bidir, batch_first, bias, with_hx):
    """proj_size: h_t = W_hr (o * tanh(c_t)), so outputs and h_n have proj_size features while
    c_n keeps hidden_size; weight_hr_l{k} sits after the biases, as in PyTorch's state_dict."""
    P = 3
    tmod, lmod = _pair("LSTM", input_size=I, hidden_size=H, num_layers=layers, bidirectional=bidir,
                       batch_first=batch_first, bias=bias, proj_size=P)
    assert repr(lmod) == repr(tmod)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I))
    S = layers * (2 if bidir else 1)
    h0 = rng.standard_normal((S, B, P)) if with_hx else None
    c0 = rng.standard_normal((S, B, H)) if with_hx else None

    def run(m, mod, x, h0, c0):
        return _flat(mod(x, None if h0 is None else (h0, c0)))

    _compare(tmod, lmod, run, [x, h0, c0])


@pytest.mark.parametrize("lengths,enforce_sorted", LENGTHS)
def test_lstm_proj_size_packed_matches_torch(lengths, enforce_sorted):
    tmod, lmod = _pair("LSTM", input_size=I, hidden_size=H, num_layers=2, bidirectional=True, proj_size=2)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((T, len(lengths), I))

    def run(m, mod, x):
        U = trnn if m is torch else lrnn
        out, (hn, cn) = mod(U.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted))
        return [U.pad_packed_sequence(out, total_length=T)[0], hn, cn]

    _compare(tmod, lmod, run, [x])


def test_proj_size_errors():
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=-1)


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_saturated_gates_match_torch(cls):
    # The gates' sigmoid was 0.5 * tanh(a / 2) + 0.5, exactly 0 below about -17 in float32;
    # inputs scaled up push the pre-activations to +-50 and beyond.
    tmod, lmod = _pair(cls, input_size=3, hidden_size=4, batch_first=True)
    tmod, lmod = tmod.float(), lmod.float()  # float32, where the old form underflowed
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32) * 40
    lt, tt = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo, to = lmod(lt)[0], tmod(tt)[0]
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-6)
    lo.sum().backward()
    to.sum().backward()
    # relative, with no absolute floor: a gradient of 1e-9 through a saturated gate must not be 0
    np.testing.assert_allclose(lt.grad.numpy(), tt.grad.numpy(), rtol=1e-3, atol=0)
