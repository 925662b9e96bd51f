"""The GPT model: same outputs and gradients as the PyTorch reference in benchmarks/gpt.py,
GPT-2's initialisation, and cached decoding equal to the full sequence."""
import math

import numpy as np
import pytest
import torch

import lamina
from lamina.models.gpt import GPT, GPTConfig

from gpt import torch_gpt  # benchmarks/gpt.py: the same architecture in PyTorch

SMALL = dict(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=8, dropout=0.0, bias=True)
RNG = np.random.default_rng(0)


def tokens(B, T, V=11):
    return lamina.tensor(RNG.integers(0, V, (B, T)))


@pytest.mark.parametrize("tie_weights,bias", [(True, True), (False, False)])
def test_matches_the_torch_reference_in_float64(tie_weights, bias):
    cfg = dict(SMALL, tie_weights=tie_weights, bias=bias)
    torch.manual_seed(0)
    tm = torch_gpt(**cfg).double()
    lm = GPT(GPTConfig(**cfg)).double()
    assert list(lm.state_dict().keys()) == list(tm.state_dict().keys())
    lm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    idx, tgt = RNG.integers(0, 11, (3, 9)), RNG.integers(0, 11, (3, 9))
    llog, lloss = lm(lamina.tensor(idx), lamina.tensor(tgt))
    tlog, tloss = tm(torch.tensor(idx), torch.tensor(tgt))
    np.testing.assert_allclose(llog.detach().numpy(), tlog.detach().numpy(), atol=1e-10)
    assert abs(lloss.item() - tloss.item()) < 1e-10
    lloss.backward()
    tloss.backward()
    lgrads = dict(lm.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(lgrads[name].grad.numpy(), p.grad.numpy(), atol=1e-10, err_msg=name)


def test_forward_shapes_loss_and_parameter_count():
    model = GPT(GPTConfig())  # the tiny-shakespeare config: 4 layers, 4 heads, width 128, context 64
    assert 0.75e6 < model.num_parameters() < 0.85e6
    logits, loss = model(tokens(2, 64, 65))
    assert logits.shape == (2, 64, 65) and loss is None
    _, loss = model(tokens(2, 10, 65), tokens(2, 10, 65))
    assert abs(loss.item() - math.log(65)) < 0.1  # an untrained model is close to uniform


def test_gpt2_initialisation():
    model = GPT(GPTConfig(n_layer=8, n_embd=256))
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    assert abs(sd["transformer.h.0.mlp.c_fc.weight"].std() - 0.02) < 0.002
    assert abs(sd["transformer.h.0.attn.c_proj.weight"].std() - 0.02 / math.sqrt(16)) < 0.001
    assert not sd["transformer.h.0.attn.c_attn.bias"].any()
    assert model.lm_head.weight is model.transformer.wte.weight
    assert (sd["transformer.ln_f.weight"] == 1).all()


def test_cached_decoding_equals_the_full_sequence():
    model = GPT(GPTConfig(**SMALL)).double()
    idx = tokens(2, 12)
    with lamina.no_grad():
        full, _ = model(idx)
        cache = model.new_cache()
        parts = [model(idx[:, :5], cache=cache)[0]]  # prefill 5, then one token at a time
        parts += [model(idx[:, t:t + 1], cache=cache)[0] for t in range(5, 9)]
        parts.append(model(idx[:, 9:], cache=cache)[0])  # then a chunk of 3 at once
    np.testing.assert_allclose(lamina.cat(parts, dim=1).numpy(), full.numpy(), atol=1e-12)


def test_greedy_generation_equals_uncached_argmax():
    model = GPT(GPTConfig(**SMALL)).double()
    idx = tokens(2, 3)
    out = model.generate(idx, 10, temperature=0.0)
    ref = idx
    with lamina.no_grad():
        for _ in range(10):
            nxt = model(ref)[0][:, -1].numpy().argmax(-1)
            ref = lamina.cat([ref, lamina.tensor(nxt[:, None])], dim=1)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert model.training  # generate restores the mode


def test_sampling_past_the_context_window():
    model = GPT(GPTConfig(**SMALL))
    g = lamina.Generator().manual_seed(0)
    out = model.generate(tokens(1, 4), 40, temperature=0.8, top_k=5, top_p=0.9, generator=g)
    assert out.shape == (1, 44) and out.dtype == lamina.int64
    assert 0 <= out.numpy().min() and out.numpy().max() < 11


def test_errors_name_the_model_and_shapes():
    model = GPT(GPTConfig(**SMALL))
    with pytest.raises(RuntimeError, match=r"GPT: 0 cached \+ 17 new positions \(idx shape \(1, 17\)\) exceed "
                                           r"block_size 16"):
        model(tokens(1, 17))
    with pytest.raises(RuntimeError, match=r"GPT: expected idx of shape \(B, T\), got shape \(5,\)"):
        model(lamina.tensor(np.arange(5)))
    with pytest.raises(ValueError, match="n_embd 10 is not divisible by n_head 4"):
        GPT(GPTConfig(n_embd=10, n_head=4))
