"""Attention and Transformer layers against PyTorch, in float64 with weights copied by key."""
import math

import numpy as np
import pytest
import torch

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
from helpers import check_op

torch.set_num_threads(1)
RNG = np.random.default_rng(0)


# ---- helpers ----------------------------------------------------------------------------------
def sdpa(m, q, k, v, **kw):
    if m is lamina:
        return F.scaled_dot_product_attention(q, k, v, **kw)
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, **kw)


def twin(tmod, lmod):
    """Copy the torch module's weights into the lamina one by state_dict key, both float64."""
    tmod.double()
    lmod.double()
    sd = tmod.state_dict()
    assert list(sd.keys()) == list(lmod.state_dict().keys()) or set(sd) == set(lmod.state_dict())
    lmod.load_state_dict({k: v.detach().numpy() for k, v in sd.items()})
    return tmod, lmod


def inputs(*shapes):
    """The same random float64 data as lamina and torch leaves that require grad."""
    arrays = [RNG.standard_normal(s) for s in shapes]
    return [lamina.tensor(a, requires_grad=True) for a in arrays], [torch.tensor(a, requires_grad=True) for a in arrays]


def close(a, b, what, atol=1e-9):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy()
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=atol, err_msg=what)


def compare(tmod, lmod, louts, touts, lins, tins):
    """Outputs, then gradients of a random projection of them w.r.t. inputs and parameters."""
    louts = [o for o in louts if o is not None]
    touts = [o for o in touts if o is not None]
    assert len(louts) == len(touts)
    for i, (a, b) in enumerate(zip(louts, touts)):
        close(a, b, f"output {i}")
    gs = [RNG.standard_normal(tuple(b.shape)) for b in touts]
    torch.autograd.backward(touts, [torch.tensor(g) for g in gs])
    loss = None
    for a, g in zip(louts, gs):
        term = (a * lamina.tensor(g)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    for i, (a, b) in enumerate(zip(lins, tins)):
        if b.grad is not None:
            close(a.grad, b.grad, f"grad of input {i}")
    lparams = dict(lmod.named_parameters())
    for name, p in tmod.named_parameters():
        if p.grad is not None:
            assert lparams[name].grad is not None, f"{name}: no gradient in lamina"
            close(lparams[name].grad, p.grad, f"grad of {name}")


# ---- scaled_dot_product_attention -------------------------------------------------------------
QKV = [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)]


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}], ids=["plain", "causal", "scale"])
def test_sdpa(kw):
    check_op(lambda m, q, k, v: sdpa(m, q, k, v, **kw), QKV)


def test_sdpa_broadcast_and_unbatched():
    check_op(lambda m, q, k, v: sdpa(m, q, k, v), [(2, 1, 4, 5), (3, 6, 5), (1, 3, 6, 7)])
    check_op(lambda m, q, k, v: sdpa(m, q, k, v, is_causal=True), [(4, 5), (4, 5), (4, 3)])


def test_sdpa_bool_mask_with_a_fully_masked_row():
    mask = RNG.random((4, 6)) > 0.3
    mask[1] = False  # this query may attend nothing: PyTorch gives it zero output
    check_op(lambda m, q, k, v: sdpa(m, q, k, v, attn_mask=m.tensor(mask)), QKV)


def test_sdpa_float_mask_gets_a_gradient():
    check_op(lambda m, q, k, v, a: sdpa(m, q, k, v, attn_mask=a), QKV + [(3, 1, 6)])


def test_sdpa_refuses_a_mask_with_is_causal_as_torch():
    mask = RNG.random((4, 6)) > 0.3
    lq, tq = inputs(*QKV)
    with pytest.raises(RuntimeError):
        sdpa(torch, *tq, attn_mask=torch.tensor(mask), is_causal=True)
    with pytest.raises(RuntimeError, match="attn_mask or is_causal"):
        sdpa(lamina, *lq, attn_mask=lamina.tensor(mask), is_causal=True)


def test_sdpa_score_shaped_float_mask_gradient_and_gqa():
    rng = np.random.default_rng(5)
    q, k, m = rng.standard_normal((2, 4, 3, 8)), rng.standard_normal((2, 2, 3, 8)), rng.standard_normal((2, 4, 3, 3))
    grads = []
    for mod in (lamina, torch):
        ts = [mod.tensor(a, requires_grad=True) for a in (q, k, m)]
        out = mod.nn.functional.scaled_dot_product_attention(ts[0], ts[1], ts[1] * 2, attn_mask=ts[2], enable_gqa=True)
        (out * out).sum().backward()
        grads.append([out.detach().numpy()] + [t.grad.numpy() for t in ts])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_sdpa_dropout_is_seeded_and_matches_the_composed_form():
    q, k, v = [lamina.tensor(RNG.standard_normal(s)) for s in QKV]
    lamina.manual_seed(3)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    lamina.manual_seed(3)
    keep = (lamina.rand(2, 3, 4, 6, dtype=lamina.float64) >= 0.4).to(lamina.float64) / 0.6
    ref = (F.softmax(q @ k.transpose(-1, -2) / math.sqrt(5), dim=-1) * keep) @ v
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-12)
    # and the backward agrees with finite differences under the same draw
    def f(m, q, k, v):
        if m is torch:  # torch's draw differs: compare torch's dropout-free form with p -> keep
            return sdpa(m, q, k, v)
        lamina.manual_seed(3)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
    check_op(f, QKV)


def test_sdpa_errors():
    q, k, v = lamina.randn(2, 4, 5), lamina.randn(2, 6, 5), lamina.randn(2, 6, 7)
    with pytest.raises(RuntimeError, match=r"query of shape \(2, 4, 5\) and key of shape \(2, 6, 3\).*5 != 3"):
        F.scaled_dot_product_attention(q, lamina.randn(2, 6, 3), v)
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \(4, 5\) does not broadcast to \(..., L, S\) = "
                                           r"\(2, 4, 6\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=lamina.ones(4, 5, dtype=lamina.bool))
    with pytest.raises(RuntimeError, match="different sequence lengths: 6 != 5"):
        F.scaled_dot_product_attention(q, k, lamina.randn(2, 5, 7))


# ---- MultiheadAttention -----------------------------------------------------------------------
def mha_pair(E=8, H=2, **kw):
    torch.manual_seed(0)
    return twin(torch.nn.MultiheadAttention(E, H, **kw), nn.MultiheadAttention(E, H, **kw))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_mha_self_attention(batch_first, need_weights, average):
    tm, lm = mha_pair(batch_first=batch_first)
    shape = (3, 5, 8) if batch_first else (5, 3, 8)
    (lx,), (tx,) = inputs(shape)
    lo = lm(lx, lx, lx, need_weights=need_weights, average_attn_weights=average)
    to = tm(tx, tx, tx, need_weights=need_weights, average_attn_weights=average)
    compare(tm, lm, lo, to, [lx], [tx])


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_kdim_vdim_with_masks(batch_first):
    tm, lm = mha_pair(kdim=6, vdim=7, batch_first=batch_first)
    N, L, S = 3, 4, 5
    shapes = [(N, L, 8), (N, S, 6), (N, S, 7)] if batch_first else [(L, N, 8), (S, N, 6), (S, N, 7)]
    lins, tins = inputs(*shapes)
    kpm = RNG.random((N, S)) < 0.3
    kpm[:, 0] = False
    am = RNG.random((L, S)) < 0.3
    am[:, 1] = False
    kw = lambda m: dict(key_padding_mask=m.tensor(kpm), attn_mask=m.tensor(am), average_attn_weights=False)  # noqa
    compare(tm, lm, lm(*lins, **kw(lamina)), tm(*tins, **kw(torch)), lins, tins)


def test_mha_float_3d_attn_mask_and_float_padding_mask():
    tm, lm = mha_pair(batch_first=True)
    N, L, S = 2, 4, 6
    lins, tins = inputs((N, L, 8), (N, S, 8), (N, S, 8))
    am = RNG.standard_normal((N * 2, L, S))
    kpm = np.where(RNG.random((N, S)) < 0.3, -1e4, 0.0)
    kw = lambda m: dict(key_padding_mask=m.tensor(kpm), attn_mask=m.tensor(am), need_weights=False)  # noqa
    compare(tm, lm, lm(*lins, **kw(lamina)), tm(*tins, **kw(torch)), lins, tins)


def test_mha_bool_3d_mask_no_bias_unbatched():
    tm, lm = mha_pair(bias=False)
    lins, tins = inputs((4, 8), (6, 8), (6, 8))
    am = RNG.random((2, 4, 6)) < 0.3
    am[..., 0] = False
    kw = lambda m: dict(attn_mask=m.tensor(am))  # noqa
    compare(tm, lm, lm(*lins, **kw(lamina)), tm(*tins, **kw(torch)), lins, tins)


def test_mha_is_causal_and_eval_dropout():
    tm, lm = mha_pair(dropout=0.3, batch_first=True)
    tm.eval(), lm.eval()
    (lx,), (tx,) = inputs((2, 5, 8))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5).double()
    lo = lm(lx, lx, lx, is_causal=True, need_weights=False)
    to = tm(tx, tx, tx, attn_mask=mask, is_causal=True, need_weights=False)
    compare(tm, lm, lo, to, [lx], [tx])


def test_mha_init_and_keys_match_torch():
    lm = nn.MultiheadAttention(16, 4, kdim=6, vdim=7)
    tm = torch.nn.MultiheadAttention(16, 4, kdim=6, vdim=7)
    assert list(lm.state_dict().keys()) == list(tm.state_dict().keys())
    assert not lm.in_proj_bias.detach().numpy().any() and not lm.out_proj.bias.detach().numpy().any()
    bound = math.sqrt(6 / (16 + 6))  # xavier_uniform_ on k_proj_weight (16, 6)
    w = lm.k_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.5 * bound


def test_mha_kv_cache_decoding_equals_full_sequence():
    lm = nn.MultiheadAttention(8, 2, batch_first=True).double()
    x = lamina.tensor(RNG.standard_normal((2, 7, 8)))
    with lamina.no_grad():
        full, _ = lm(x, x, x, is_causal=True, need_weights=False)
        cache = nn.KVCache()
        prefix, _ = lm(x[:, :3], x[:, :3], x[:, :3], is_causal=True, need_weights=False, cache=cache)  # prefill
        steps = [prefix]
        for t in range(3, 7):
            xt = x[:, t:t + 1]
            steps.append(lm(xt, xt, xt, is_causal=True, need_weights=False, cache=cache)[0])
    assert len(cache) == 7
    np.testing.assert_allclose(lamina.cat(steps, dim=1).numpy(), full.numpy(), atol=1e-12)


def test_mha_errors_name_the_module_and_shapes():
    lm = nn.MultiheadAttention(8, 2, batch_first=True)
    x = lamina.randn(2, 5, 8)
    kv = lamina.randn(2, 6, 8)
    with pytest.raises(RuntimeError, match=r"MultiheadAttention: attn_mask of shape \(5, 7\) does not match "
                                           r"\(L, S\) = \(5, 6\)"):
        lm(x, kv, kv, attn_mask=lamina.zeros(5, 7))
    with pytest.raises(RuntimeError, match=r"MultiheadAttention: attn_mask of shape \(2, 5, 6\) does not match "
                                           r"\(N\*num_heads, L, S\) = \(4, 5, 6\)"):
        lm(x, kv, kv, attn_mask=lamina.zeros(2, 5, 6))
    with pytest.raises(RuntimeError, match=r"MultiheadAttention: key_padding_mask of shape \(2, 5\) does not match "
                                           r"\(N, S\) = \(2, 6\)"):
        lm(x, kv, kv, key_padding_mask=lamina.zeros(2, 5, dtype=lamina.bool))
    with pytest.raises(RuntimeError, match=r"MultiheadAttention: expected query of 3 dims \(N, L, E\) or 2 dims "
                                           r"\(L, E\), got shape \(1, 2, 5, 8\)"):
        lm(x[None], x[None], x[None])
    with pytest.raises(RuntimeError, match=r"MultiheadAttention: query of shape \(2, 5, 7\) has embedding size 7 "
                                           r"but the module expects embed_dim=8"):
        lm(lamina.randn(2, 5, 7), kv, kv)
    with pytest.raises(ValueError, match="embed_dim 8 is not divisible by num_heads 3"):
        nn.MultiheadAttention(8, 3)


# ---- Transformer layers -----------------------------------------------------------------------
def layer_pair(cls_name, **kw):
    torch.manual_seed(0)
    tl = getattr(torch.nn, cls_name)(8, 2, dim_feedforward=16, **kw)
    ll = getattr(nn, cls_name)(8, 2, dim_feedforward=16, **kw)
    return twin(tl, ll)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer(norm_first, activation):
    tl, ll = layer_pair("TransformerEncoderLayer", dropout=0.0, activation=activation, norm_first=norm_first,
                        batch_first=True)
    (lx,), (tx,) = inputs((3, 5, 8))
    kpm = RNG.random((3, 5)) < 0.3
    kpm[:, 0] = False
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5).double()
    lo = ll(lx, src_mask=lamina.tensor(mask.numpy()), src_key_padding_mask=lamina.tensor(kpm))
    to = tl(tx, src_mask=mask, src_key_padding_mask=torch.tensor(kpm))
    compare(tl, ll, [lo], [to], [lx], [tx])


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_layer_in_eval_mode(norm_first, activation):
    tl, ll = layer_pair("TransformerDecoderLayer", dropout=0.2, activation=activation, norm_first=norm_first)
    tl.eval(), ll.eval()
    lins, tins = inputs((5, 3, 8), (6, 3, 8))  # (T, N, E) and memory (S, N, E)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5).double()
    mkpm = RNG.random((3, 6)) < 0.3
    mkpm[:, 0] = False
    lo = ll(*lins, tgt_mask=nn.causal_mask(5, dtype=lamina.float64), memory_key_padding_mask=lamina.tensor(mkpm))
    to = tl(*tins, tgt_mask=mask, memory_key_padding_mask=torch.tensor(mkpm))
    compare(tl, ll, [lo], [to], lins, tins)


def test_transformer_stack_matches_torch():
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0,
              batch_first=True)
    torch.manual_seed(0)
    tm, lm = twin(torch.nn.Transformer(**kw), nn.Transformer(**kw))
    assert list(tm.state_dict().keys()) == list(lm.state_dict().keys())
    lins, tins = inputs((2, 6, 8), (2, 5, 8))
    lo = lm(*lins, tgt_mask=nn.Transformer.generate_square_subsequent_mask(5, dtype=lamina.float64))
    to = tm(*tins, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(5).double())
    compare(tm, lm, [lo], [to], lins, tins)


def test_encoder_layers_are_independent_copies():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), num_layers=2)
    a, b = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert a is not b and a._data is not b._data
    assert len(list(enc.parameters())) == 2 * len(list(nn.TransformerEncoderLayer(8, 2, 16).parameters()))


def test_dropout_is_active_in_training():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, batch_first=True)
    x = lamina.randn(2, 5, 8)
    assert not np.allclose(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())


# ---- positional encodings and masks -------------------------------------------------------------
def test_causal_mask_and_square_subsequent_mask():
    np.testing.assert_array_equal(nn.causal_mask(4).numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    m = nn.causal_mask(2, 4).numpy()  # the last two of four positions
    np.testing.assert_array_equal(np.isinf(m), [[False, False, False, True], [False, False, False, False]])


def test_sinusoidal_positional_encoding():
    pe = nn.SinusoidalPositionalEncoding(6, max_len=10)
    x = lamina.zeros(2, 4, 6)
    out = pe(x, offset=3).numpy()
    pos, i = 5, 2  # position 3 + 2, dims 2i and 2i+1
    np.testing.assert_allclose(out[0, 2, 2 * i], math.sin(pos / 10000 ** (2 * i / 6)), rtol=1e-6)
    np.testing.assert_allclose(out[1, 2, 2 * i + 1], math.cos(pos / 10000 ** (2 * i / 6)), rtol=1e-6)
    assert "pe" not in pe.state_dict()
    with pytest.raises(RuntimeError, match="positions up to 12 requested but max_len is 10"):
        pe(lamina.zeros(1, 12, 6))


def test_learned_positional_embedding_gets_gradients():
    lpe = nn.LearnedPositionalEmbedding(10, 4, batch_first=False)
    x = lamina.zeros(3, 2, 4)  # (T, N, E)
    lpe(x, offset=1).sum().backward()
    g = lpe.weight.grad.numpy()
    assert (g[1:4] == 2).all() and (g[0] == 0).all() and (g[4:] == 0).all()


def test_rotary_embedding_is_relative_and_norm_preserving():
    rope = nn.RotaryEmbedding(8, max_len=32)
    q = lamina.tensor(RNG.standard_normal((1, 8)))
    k = lamina.tensor(RNG.standard_normal((1, 8)))
    def score(m, n):
        return float((rope(q, offset=m) * rope(k, offset=n)).sum())
    assert abs(score(3, 1) - score(12, 10)) < 1e-5 and abs(score(3, 1) - score(5, 1)) > 1e-4
    np.testing.assert_allclose(np.linalg.norm(rope(q, offset=7).numpy()), np.linalg.norm(q.numpy()), rtol=1e-6)
    # the first half of the features rotates with the second half: (x1, x2) -> (x1 c - x2 s, x2 c + x1 s)
    x = lamina.tensor(RNG.standard_normal((2, 3, 8)))
    cos, sin = rope.cos[:3].numpy(), rope.sin[:3].numpy()
    x1, x2 = x.numpy()[..., :4], x.numpy()[..., 4:]
    ref = np.concatenate([x1 * cos[:, :4] - x2 * sin[:, :4], x2 * cos[:, 4:] + x1 * sin[:, 4:]], -1)
    np.testing.assert_allclose(rope(x).numpy(), ref, rtol=1e-6)


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kw", [dict(add_bias_kv=True), dict(add_zero_attn=True), dict(add_bias_kv=True, add_zero_attn=True)])
def test_mha_bias_kv_and_zero_attn_match_torch(kw, batch_first):
    """The appended learned (bias_k, bias_v) and zero key/value, with both masks padded so
    that they are never masked: outputs, weights and every gradient as torch, keys in order."""
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first, **kw).double()
    lm = lamina.nn.MultiheadAttention(8, 2, batch_first=batch_first, **kw).double()
    assert list(lm.state_dict()) == list(tm.state_dict())
    lm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 8) if batch_first else (5, 3, 8))
    kpm = np.zeros((3, 5), bool)
    kpm[0, 3:] = True
    am = np.triu(np.full((5, 5), -np.inf), 1)
    tx, lx = torch.tensor(x, requires_grad=True), lamina.tensor(x, requires_grad=True)
    to, tw = tm(tx, tx, tx, key_padding_mask=torch.tensor(kpm), attn_mask=torch.tensor(am))
    lo, lw = lm(lx, lx, lx, key_padding_mask=lamina.tensor(kpm), attn_mask=lamina.tensor(am))
    g = rng.standard_normal(tuple(to.shape))
    to.backward(torch.tensor(g))
    (lo * lamina.tensor(g)).sum().backward()
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(lw.detach().numpy(), tw.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    lparams = dict(lm.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(lparams[name].grad.numpy(), p.grad.numpy(), atol=1e-12, err_msg=name)
    if "add_bias_kv" in kw:
        with pytest.raises(RuntimeError, match="KV cache"):
            lm(lx, lx, lx, cache=lamina.nn.KVCache())
